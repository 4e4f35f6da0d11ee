package corednsmysql

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// planned is one zone ready to be written.
type planned struct {
	z    *zone.Zone // the projection (Stored); nil when unpacked from held
	name zone.Name
	hash string // the projection's canonical hash
	rows []row
	lim  limits // the column limits rows were checked against
}

// Apply writes each zone's rows, replacing its previous rows as a diff
// in the same transaction, many zones per transaction. A zone whose rows
// the plugin could not serve fails alone, permanently; a database error
// fails the zones of the transactions not committed.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	lim, err := b.prepare(ctx)
	if err != nil {
		return err
	}
	plans, errs := b.plan(zones, lim, b.takeAudited())
	b.ahead.Reset()
	b.remember(zones, plans)
	for _, chunk := range chunks(plans, b.opt.TxRows) {
		_, _, err := b.applyTx(ctx, chunk)
		if noTable(err) {
			// Dropped since the schema was checked: check (create) again.
			b.failed()
			if _, err = b.prepare(ctx); err == nil {
				_, _, err = b.applyTx(ctx, chunk)
			}
		}
		if err != nil {
			b.failed()
			errs = append(errs, failAll(chunk, err)...)
			continue
		}
		b.hold(chunk)
	}
	return errors.Join(errs...)
}

// plan projects and checks every zone; the failures are permanent.
func (b *Backend) plan(zones []*zone.Zone, lim limits, audited map[string]planned) ([]planned, []error) {
	var plans []planned
	var errs []error
	for _, z := range zones {
		if p, ok := audited[z.Hash()]; ok && p.lim == lim && p.name == z.Name {
			plans = append(plans, p)
			continue
		}
		s, err := Stored(z)
		var rows []row
		if err == nil {
			rows, err = rowsOf(s, lim)
		}
		if err != nil {
			errs = append(errs, &backend.ZoneError{Zone: z.Name, Err: backend.Permanent(fmt.Errorf("coredns_mysql: apply %s: %w", z.Name, err))})
			continue
		}
		plans = append(plans, planned{z: s, name: s.Name, hash: s.Hash(), rows: rows, lim: lim})
	}
	return plans, errs
}

// takeAudited returns and forgets what AuditZone prepared.
func (b *Backend) takeAudited() map[string]planned {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.audit
	b.audit = map[string]planned{}
	return a
}

// remember notes which pushed hashes stand for a different stored hash.
func (b *Backend) remember(zones []*zone.Zone, plans []planned) {
	byName := make(map[zone.Name]planned, len(plans))
	for _, p := range plans {
		byName[p.name] = p
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, z := range zones {
		p, ok := byName[z.Name]
		switch {
		case ok && p.z != z:
			b.signed[z.Name] = projHash{full: z.Hash(), stored: p.hash}
		case ok:
			delete(b.signed, z.Name)
		}
	}
}

// hold records the rows of committed zones: Verify compares with them and
// Repair restores them.
func (b *Backend) hold(chunk []planned) {
	names := make([]zone.Name, len(chunk))
	b.mu.Lock()
	keepRows := b.desired == nil
	for i, p := range chunk {
		b.held[p.name] = holdOf(p, keepRows)
		delete(b.gone, p.name)
		names[i] = p.name
	}
	b.mu.Unlock()
	b.ahead.Written(names)
}

// chunks splits plans into groups of about maxRows rows, whole zones each.
func chunks(plans []planned, maxRows int) [][]planned {
	var out [][]planned
	start, rows := 0, 0
	for i, p := range plans {
		if i > start && rows+len(p.rows) > maxRows {
			out = append(out, plans[start:i])
			start, rows = i, 0
		}
		rows += len(p.rows)
	}
	if start < len(plans) {
		out = append(out, plans[start:])
	}
	return out
}

func failAll(chunk []planned, err error) []error {
	out := make([]error, len(chunk))
	for i, p := range chunk {
		out[i] = &backend.ZoneError{Zone: p.name, Err: fmt.Errorf("coredns_mysql: apply %s: %w", p.name, err)}
	}
	return out
}

// applyTx writes one group of zones in one transaction and returns the
// rows deleted and inserted.
func (b *Backend) applyTx(ctx context.Context, chunk []planned) (del, ins int, err error) {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	names := make([]string, len(chunk))
	for i, p := range chunk {
		names[i] = p.name.FQDN()
	}
	ids, err := b.zoneIDs(ctx, tx, names, true)
	if err != nil {
		return 0, 0, err
	}
	have, err := b.readRows(ctx, tx, ids)
	if err != nil {
		return 0, 0, err
	}
	rows := 0
	for _, p := range chunk {
		rows += len(p.rows)
	}
	d := diff{ins: make([]insert, 0, rows)}
	for _, p := range chunk {
		id := ids[p.name.FQDN()]
		d.add(id, p.rows, have[id])
	}
	del, ins = len(d.del), len(d.ins)
	if d.empty() {
		return 0, 0, tx.Commit()
	}
	if err := b.writeDiff(ctx, tx, &d); err != nil {
		return 0, 0, err
	}
	return del, ins, tx.Commit()
}
