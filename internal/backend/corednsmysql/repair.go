package corednsmysql

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/zone"
)

// Repair implements backend.Repairer: the dispatcher runs it between
// batches, never beside an Apply or Delete of this backend. It finds and
// fixes, with one warning per repair:
//
//   - zones written since dadns started whose rows drifted (rows added,
//     changed, hidden, duplicated or removed behind dadns's back, or the
//     zone's zones row removed): their rows are rewritten as Apply writes
//     them, as a diff in one transaction, the zone keeping its id;
//   - zones dadns deleted since it started that are back in the zones
//     table: removed again;
//   - records rows whose zone_id has no zones row (left by a writer on
//     tables without the foreign key dadns creates): removed.
//
// Zones written before dadns started are not compared row by row (dadns
// does not keep their rows): Repair only reports, once per change, those
// whose rows the plugin would serve wrongly (hidden or duplicated rows,
// rows that make no valid zone); their next apply rewrites any drift.
func (b *Backend) Repair(ctx context.Context) error {
	held, gone := b.repairState()
	present, err := b.tablesPresent(ctx)
	if err != nil {
		return fmt.Errorf("coredns_mysql: repair: %w", err)
	}
	if present == 0 && len(held) == 0 {
		return nil // nothing written, nothing to repair
	}
	if present < 2 {
		b.failed() // dropped behind dadns's back: create them again
	}
	if _, err := b.prepare(ctx); err != nil {
		return fmt.Errorf("coredns_mysql: repair: %w", err)
	}
	var errs []error
	if err := b.repairHeld(ctx, held); err != nil {
		errs = append(errs, err)
	}
	if err := b.repairGone(ctx, gone); err != nil {
		errs = append(errs, err)
	}
	if err := b.repairOrphans(ctx); err != nil {
		errs = append(errs, err)
	}
	if err := b.reportUnheld(ctx, held); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		b.failed()
	}
	return errors.Join(errs...)
}

// repairState copies what Repair compares with.
func (b *Backend) repairState() (map[zone.Name]heldZone, []zone.Name) {
	b.mu.Lock()
	defer b.mu.Unlock()
	gone := slices.Sorted(maps.Keys(b.gone))
	return maps.Clone(b.held), gone
}

// tablesPresent counts which of the two tables exist (read only).
func (b *Backend) tablesPresent(ctx context.Context) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM information_schema.TABLES
WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME IN (?, ?)`, b.opt.ZonesTable, b.opt.RecordsTable).Scan(&n)
	return n, err
}

// repairHeld compares every zone written since start with its rows, a
// batch of zones per read: their digests first, then the rows of those
// whose digest differs; it rewrites those that drifted. A zone whose
// rows are no longer known (the stored zone changed since, see
// plannedOf) is left to its next apply.
func (b *Backend) repairHeld(ctx context.Context, held map[zone.Name]heldZone) error {
	names := slices.Sorted(maps.Keys(held))
	for part := range batches(names, maxArgs) {
		same, err := b.sameRowsMany(ctx, part)
		if err != nil {
			return fmt.Errorf("coredns_mysql: repair: read digests: %w", err)
		}
		var check []zone.Name
		var fqdns []string
		for _, n := range part {
			if !same[n] {
				check = append(check, n)
				fqdns = append(fqdns, n.FQDN())
			}
		}
		if len(check) == 0 {
			continue
		}
		ids, err := b.zoneIDs(ctx, b.db, fqdns, false)
		if err != nil {
			return fmt.Errorf("coredns_mysql: repair: read zones: %w", err)
		}
		have, err := b.readRows(ctx, b.db, ids)
		if err != nil {
			return fmt.Errorf("coredns_mysql: repair: read rows: %w", err)
		}
		for _, n := range check {
			p, known, err := b.plannedOf(ctx, n, held[n])
			if err != nil {
				return fmt.Errorf("coredns_mysql: repair %s: %w", n, err)
			}
			if !known {
				continue
			}
			id, ok := ids[n.FQDN()]
			what := "the zones row is missing"
			if ok {
				what = drifted(p, have[id])
			}
			if what == "" {
				continue
			}
			del, ins, err := b.applyTx(ctx, []planned{p})
			if err != nil {
				return fmt.Errorf("coredns_mysql: repair %s: %w", n, err)
			}
			b.log.Warn("coredns_mysql rows drifted from the applied zone; repaired",
				"zone", n.String(), "drift", what, "deleted_rows", del, "inserted_rows", ins)
		}
	}
	return nil
}

// repairGone removes the zones dadns deleted that are back, and forgets
// those that are still absent (so gone stays small).
func (b *Backend) repairGone(ctx context.Context, gone []zone.Name) error {
	if len(gone) == 0 {
		return nil
	}
	fqdns := make([]string, len(gone))
	for i, n := range gone {
		fqdns[i] = n.FQDN()
	}
	ids, err := b.zoneIDs(ctx, b.db, fqdns, false)
	if err != nil {
		return fmt.Errorf("coredns_mysql: repair: read zones: %w", err)
	}
	var back, absent []zone.Name
	for _, n := range gone {
		if _, ok := ids[n.FQDN()]; ok {
			back = append(back, n)
		} else {
			absent = append(absent, n)
		}
	}
	for _, n := range back {
		if err := b.deleteTx(ctx, []zone.Name{n}); err != nil {
			return fmt.Errorf("coredns_mysql: repair: delete %s: %w", n, err)
		}
		b.log.Warn("coredns_mysql zone deleted by dadns is back in the database; removed", "zone", n.String())
	}
	b.mu.Lock()
	for _, n := range absent {
		delete(b.gone, n)
	}
	b.mu.Unlock()
	return nil
}

// repairOrphans removes records rows whose zone_id names no zones row:
// the plugin never serves them and no zone owns them.
func (b *Backend) repairOrphans(ctx context.Context) error {
	rows, err := b.db.QueryContext(ctx, "SELECT r.zone_id, COUNT(*) FROM "+b.rt+" r LEFT JOIN "+b.zt+
		" z ON z.id = r.zone_id WHERE z.id IS NULL GROUP BY r.zone_id")
	if err != nil {
		return fmt.Errorf("coredns_mysql: repair: read orphan rows: %w", err)
	}
	type orphan struct{ zoneID, rows int64 }
	var found []orphan
	for rows.Next() {
		var o orphan
		if err := rows.Scan(&o.zoneID, &o.rows); err != nil {
			rows.Close()
			return fmt.Errorf("coredns_mysql: repair: read orphan rows: %w", err)
		}
		found = append(found, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("coredns_mysql: repair: read orphan rows: %w", err)
	}
	for _, o := range found {
		// The join again: a zones row created meanwhile keeps its rows.
		res, err := b.db.ExecContext(ctx, "DELETE r FROM "+b.rt+" r LEFT JOIN "+b.zt+
			" z ON z.id = r.zone_id WHERE r.zone_id = ? AND z.id IS NULL", o.zoneID)
		if err != nil {
			return fmt.Errorf("coredns_mysql: repair: delete orphan rows of zone_id %d: %w", o.zoneID, err)
		}
		n, _ := res.RowsAffected()
		b.log.Warn("coredns_mysql records rows without a zones row; removed", "zone_id", o.zoneID, "deleted_rows", n)
	}
	return nil
}

// reportUnheld checks the zones not written since start, a batch per
// read, and warns about each whose rows do not rebuild into a valid zone,
// once per change of what is wrong.
func (b *Backend) reportUnheld(ctx context.Context, held map[zone.Name]heldZone) error {
	all, err := b.Zones(ctx)
	if err != nil {
		return fmt.Errorf("coredns_mysql: repair: %w", err)
	}
	var names []string
	for _, n := range all {
		if _, ok := held[n]; !ok {
			names = append(names, n.FQDN())
		}
	}
	seen := map[zone.Name]string{}
	for part := range batches(names, maxArgs) {
		ids, err := b.zoneIDs(ctx, b.db, part, false)
		if err != nil {
			return fmt.Errorf("coredns_mysql: repair: read zones: %w", err)
		}
		have, err := b.readRows(ctx, b.db, ids)
		if err != nil {
			return fmt.Errorf("coredns_mysql: repair: read rows: %w", err)
		}
		for fqdn, id := range ids {
			n, ok := zoneName(fqdn)
			if !ok {
				continue
			}
			if what := unheldDrift(n, have[id]); what != "" {
				seen[n] = what
			}
		}
	}
	b.mu.Lock()
	last := b.reported
	b.reported = seen
	b.mu.Unlock()
	for _, n := range slices.Sorted(maps.Keys(seen)) {
		if last[n] != seen[n] {
			b.log.Warn("coredns_mysql rows of a zone not written since dadns started are served wrongly; not repaired (its next apply rewrites them)",
				"zone", n.String(), "drift", seen[n])
		}
	}
	return nil
}

// unheldDrift says what is certainly not dadns's in a zone's rows without
// knowing what it wrote: rows it never writes (online other than 1) and
// rows that do not rebuild into the zone they read as.
func unheldDrift(n zone.Name, rows []stored) string {
	var parts []string
	var hidden []string
	for _, r := range rows {
		if r.online != 1 {
			hidden = append(hidden, r.label())
		}
	}
	if len(hidden) > 0 {
		slices.Sort(hidden)
		parts = append(parts, fmt.Sprintf("%d rows hidden (online is not 1) (%s)", len(hidden), strings.Join(hidden[:min(3, len(hidden))], ", ")))
	}
	if _, err := served(n, rows); err != nil {
		parts = append(parts, err.Error())
	}
	return strings.Join(parts, "; ")
}
