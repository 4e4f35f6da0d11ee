package powerdns

import (
	"context"
	"fmt"

	"github.com/dadns/dadns/internal/zone"
)

// Delete removes dadns's zones of these names with everything PowerDNS
// keeps per domain (records, metadata, keys, comments), then their domains
// rows, in one transaction per group of names. Absent zones and zones of
// other accounts are left as they are.
func (b *Backend) Delete(ctx context.Context, names []zone.Name) error {
	if _, err := b.prepare(ctx); err != nil {
		return err
	}
	b.forget(names)
	for part := range batches(names, maxArgs) {
		if err := b.deleteTx(ctx, part); err != nil {
			b.failed()
			return fmt.Errorf("powerdns: delete %d zones (%s...): %w", len(part), part[0], err)
		}
	}
	return nil
}

func (b *Backend) forget(names []zone.Name) {
	b.ahead.Forget(names)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range names {
		delete(b.signed, n)
		delete(b.recent, n)
	}
}

func (b *Backend) deleteTx(ctx context.Context, names []zone.Name) error {
	list := make([]string, len(names))
	for i, n := range names {
		list[i] = n.String()
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	doms, err := b.domainIDs(ctx, tx, list, false)
	if err != nil || len(doms.ids) == 0 {
		return err
	}
	ids := make([]any, 0, len(doms.ids))
	for _, id := range doms.ids {
		ids = append(ids, id)
	}
	in := "(" + repeat("?", len(ids)) + ")"
	for _, t := range []string{"records", "domainmetadata", "cryptokeys", "comments"} {
		if _, err := tx.ExecContext(ctx, "DELETE FROM "+t+" WHERE domain_id IN "+in, ids...); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM domains WHERE id IN "+in, ids...); err != nil {
		return err
	}
	return tx.Commit()
}
