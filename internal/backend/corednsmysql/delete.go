package corednsmysql

import (
	"context"
	"fmt"

	"github.com/dadns/dadns/internal/zone"
)

// Delete removes the zones' records, then their zones rows, in one
// transaction per group of names (the foreign key has no cascade).
func (b *Backend) Delete(ctx context.Context, names []zone.Name) error {
	if _, err := b.prepare(ctx); err != nil {
		return err
	}
	for part := range batches(names, maxArgs) {
		err := b.deleteTx(ctx, part)
		if noTable(err) {
			// Dropped since the schema was checked: the zones are gone.
			b.failed()
			err = nil
		}
		if err != nil {
			b.failed()
			return fmt.Errorf("coredns_mysql: delete %d zones (%s...): %w", len(part), part[0], err)
		}
		b.forget(part)
	}
	return nil
}

// forget records deleted zones: no longer held, and gone (Repair removes
// them should they come back).
func (b *Backend) forget(names []zone.Name) {
	b.ahead.Forget(names)
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, n := range names {
		delete(b.signed, n)
		delete(b.held, n)
		b.gone[n] = true
	}
}

func (b *Backend) deleteTx(ctx context.Context, names []zone.Name) error {
	fqdns := make([]string, len(names))
	for i, n := range names {
		fqdns[i] = n.FQDN()
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	ids, err := b.zoneIDs(ctx, tx, fqdns, false)
	if err != nil || len(ids) == 0 {
		return err
	}
	list := make([]any, 0, len(ids))
	for _, id := range ids {
		list = append(list, id)
	}
	in := "(" + repeat("?", len(list)) + ")"
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+b.rt+" WHERE zone_id IN "+in, list...); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM "+b.zt+" WHERE id IN "+in, list...); err != nil {
		return err
	}
	return tx.Commit()
}
