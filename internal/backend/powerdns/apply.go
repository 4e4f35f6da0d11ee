package powerdns

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// planned is one zone ready to be written.
type planned struct {
	z    *zone.Zone // the projection (Stored)
	rows []row
	lim  limits // the column limits rows were checked against
}

// name is the zone's domains.name.
func (p planned) name() string { return p.z.Name.String() }

// ErrForeign reports a zone that exists in the database under another
// account: dadns leaves it alone. Retryable: once an operator removes or
// re-marks that domain, the next retry writes the zone.
var ErrForeign = errors.New("the domain exists in the database under another account")

// Apply writes each zone's rows, replacing its previous rows as a diff
// in the same transaction, many zones per transaction. A zone PowerDNS
// could not serve as pushed fails alone, permanently; a database error
// fails the zones of the transactions not committed.
func (b *Backend) Apply(ctx context.Context, zones []*zone.Zone) error {
	lim, err := b.prepare(ctx)
	if err != nil {
		return err
	}
	plans, errs := b.plan(zones, lim, b.takeAudited())
	b.remember(zones, plans)
	for _, chunk := range chunks(plans, b.opt.TxRows) {
		foreign, _, _, err := b.applyTx(ctx, chunk)
		if err != nil {
			b.failed()
			errs = append(errs, failAll(chunk, err)...)
			continue
		}
		b.written(chunk, foreign)
		for name, account := range foreign {
			errs = append(errs, &backend.ZoneError{Zone: zone.Name(name),
				Err: fmt.Errorf("powerdns: apply %s: %w (account %q, not %q)", name, ErrForeign, account, b.opt.Account)})
		}
	}
	return errors.Join(errs...)
}

// plan projects and checks every zone; the failures are permanent.
func (b *Backend) plan(zones []*zone.Zone, lim limits, audited map[string]planned) ([]planned, []error) {
	var plans []planned
	var errs []error
	for _, z := range zones {
		if p, ok := audited[z.Hash()]; ok && p.lim == lim && p.z.Name == z.Name {
			plans = append(plans, p)
			continue
		}
		p, err := planZone(z, lim)
		if err != nil {
			errs = append(errs, &backend.ZoneError{Zone: z.Name, Err: backend.Permanent(fmt.Errorf("powerdns: apply %s: %w", z.Name, err))})
			continue
		}
		plans = append(plans, p)
	}
	return plans, errs
}

func planZone(z *zone.Zone, lim limits) (planned, error) {
	s, err := Stored(z)
	if err != nil {
		return planned{}, err
	}
	rows, err := rowsOf(s, lim)
	if err != nil {
		return planned{}, err
	}
	return planned{z: s, rows: rows, lim: lim}, nil
}

// takeAudited returns and forgets what AuditZone prepared.
func (b *Backend) takeAudited() map[string]planned {
	b.mu.Lock()
	defer b.mu.Unlock()
	a := b.audit
	b.audit = map[string]planned{}
	return a
}

// remember keeps the batch's projections for Verify, and which pushed
// hashes stand for a different stored hash.
func (b *Backend) remember(zones []*zone.Zone, plans []planned) {
	byName := make(map[zone.Name]planned, len(plans))
	for _, p := range plans {
		byName[p.z.Name] = p
	}
	b.ahead.Reset()
	b.mu.Lock()
	defer b.mu.Unlock()
	b.recent = byName
	for _, z := range zones {
		p, ok := byName[z.Name]
		switch {
		case ok && p.z != z:
			b.signed[z.Name] = projHash{full: z.Hash(), stored: p.z.Hash()}
		case ok:
			delete(b.signed, z.Name)
		}
	}
}

// written notes the zones of a committed chunk (not those another
// account holds) for Verify to read back together.
func (b *Backend) written(chunk []planned, foreign map[string]string) {
	names := make([]zone.Name, 0, len(chunk))
	for _, p := range chunk {
		if _, theirs := foreign[p.name()]; !theirs {
			names = append(names, p.z.Name)
		}
	}
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
		out[i] = &backend.ZoneError{Zone: p.z.Name, Err: fmt.Errorf("powerdns: apply %s: %w", p.z.Name, err)}
	}
	return out
}

// applyTx writes one group of zones in one transaction. It returns the
// zones left alone because another account holds them, and the rows
// deleted and inserted.
func (b *Backend) applyTx(ctx context.Context, chunk []planned) (foreign map[string]string, del, ins int, err error) {
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, 0, err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it is a no-op
	names := make([]string, len(chunk))
	for i, p := range chunk {
		names[i] = p.name()
	}
	doms, err := b.domainIDs(ctx, tx, names, true)
	if err != nil {
		return nil, 0, 0, err
	}
	if err := b.fixTypes(ctx, tx, doms.ids); err != nil {
		return nil, 0, 0, err
	}
	have, err := b.readRows(ctx, tx, doms.ids)
	if err != nil {
		return nil, 0, 0, err
	}
	rows := 0
	for _, p := range chunk {
		rows += len(p.rows)
	}
	d := diff{ins: make([]insert, 0, rows)}
	for _, p := range chunk {
		if id, ok := doms.ids[p.name()]; ok {
			del, ins := len(d.del), len(d.ins)
			d.add(id, p.rows, have[id])
			b.noteDrift(p, have[id], len(d.del)-del, len(d.ins)-ins)
		}
	}
	del, ins = len(d.del), len(d.ins)
	if !d.empty() {
		if err := b.writeDiff(ctx, tx, &d); err != nil {
			return nil, 0, 0, err
		}
	}
	return doms.foreign, del, ins, tx.Commit()
}

// noteDrift logs a zone whose rows changed although its SOA row (and so,
// as DirectAdmin pushes, its serial) did not: rows someone else added,
// changed, disabled or removed, now rewritten.
func (b *Backend) noteDrift(p planned, have []stored, del, ins int) {
	if del == 0 && ins == 0 {
		return
	}
	var soa row
	for _, r := range p.rows {
		if r.typ == "SOA" {
			soa = r
		}
	}
	for _, h := range have {
		if h.disabled == 0 && h.typ == "SOA" && h.row == soa {
			b.log.Warn("powerdns rows drifted from the applied zone; repaired",
				"zone", p.z.Name.String(), "deleted_rows", del, "inserted_rows", ins)
			return
		}
	}
}

// fixTypes makes dadns's domains NATIVE again if someone changed them
// (a MASTER or SLAVE domain would be served differently or transferred).
func (b *Backend) fixTypes(ctx context.Context, q querier, ids map[string]int64) error {
	list := make([]int64, 0, len(ids))
	for _, id := range ids {
		list = append(list, id)
	}
	for part := range batches(list, maxArgs) {
		_, err := q.ExecContext(ctx, "UPDATE domains SET type = 'NATIVE', master = NULL WHERE id IN ("+repeat("?", len(part))+
			") AND (type <> 'NATIVE' OR master IS NOT NULL)", anys(part)...)
		if err != nil {
			return err
		}
	}
	return nil
}
