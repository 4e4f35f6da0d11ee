package corednsmysql

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// Verify reads the zone's rows back and checks that they are the rows
// Apply wrote for the pushed hash (for the zones of the last Apply, many
// per query as digests: see mysqldb.ReadAhead and sameRowsMany) (or, for a zone it did not write since
// dadns started, that the zone rebuilt from them has the hash). It only
// reads: rows that drifted are reported as backend.ErrMismatch saying
// what differs, and left for the dispatcher's next apply (which rewrites
// the zone's rows as a diff) or for Repair.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	want, h := b.wanted(name, hash)
	if h != nil {
		if same, known := b.ahead.Take(name, func(names []zone.Name) (map[zone.Name]bool, error) {
			return b.sameRowsMany(ctx, names)
		}); known && same {
			return nil
		}
		if !h.kept {
			// Its digest alone first: the rows are rebuilt only to
			// say what differs.
			same, err := b.sameRowsMany(ctx, []zone.Name{name})
			if err != nil {
				return fmt.Errorf("coredns_mysql: verify %s: %w", name, err)
			}
			if same[name] {
				return nil
			}
		}
		proj, ok, err := b.plannedOf(ctx, name, *h)
		if err != nil {
			return fmt.Errorf("coredns_mysql: verify %s: %w", name, err)
		}
		if ok {
			have, err := b.zoneRows(ctx, name)
			if errors.Is(err, backend.ErrNotFound) {
				return fmt.Errorf("coredns_mysql: verify %s: %w: the zone has no zones row (%d rows missing)", name, backend.ErrMismatch, len(proj.rows))
			}
			if err != nil {
				return fmt.Errorf("coredns_mysql: verify %s: %w", name, err)
			}
			if what := drifted(proj, have); what != "" {
				return fmt.Errorf("coredns_mysql: verify %s: %w: %s", name, backend.ErrMismatch, what)
			}
			return nil
		}
		// The stored zone moved on: compare the zone the rows give.
	}
	got, err := b.Zone(ctx, name)
	if err != nil {
		return fmt.Errorf("coredns_mysql: verify %s: %w", name, err)
	}
	if got.Hash() != want {
		return fmt.Errorf("coredns_mysql: verify %s: %w (rows give %.12s, want %.12s)", name, backend.ErrMismatch, got.Hash(), want)
	}
	return nil
}

// wanted returns the hash the rows should give for the pushed hash, and
// what held keeps of the rows Apply wrote for it when it did since dadns
// started.
func (b *Backend) wanted(name zone.Name, hash string) (string, *heldZone) {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := hash
	if s, ok := b.signed[name]; ok && s.full == hash {
		want = s.stored
	}
	if p, ok := b.held[name]; ok && p.hash == want {
		return want, &p
	}
	return want, nil
}

// drifted says how the rows a zone has differ from the rows p wrote, or
// "" when they are the same, or serve the same zone (rows rewritten in an
// equivalent form, or a schema that changes what it stores).
func drifted(p planned, have []stored) string {
	what := describe(p.rows, have)
	if what == "" {
		return ""
	}
	if z, err := served(p.name, have); err == nil && z.Hash() == p.hash {
		return ""
	}
	return what
}

// describe says how the rows a zone has differ from the rows it should
// have (empty when they are the same multiset, all online): rows nobody
// asked for, rows missing, rows hidden (online other than 1) and rows
// duplicated, with a few owner/type examples each (never record data).
func describe(want []row, have []stored) string {
	need := make(map[row]int, len(want))
	for _, w := range want {
		need[w]++
	}
	wanted := make(map[row]bool, len(need))
	for k := range need {
		wanted[k] = true
	}
	var extra, hidden, dup, missing []string
	for _, h := range have {
		k := h.row
		switch {
		case h.online == 1 && need[k] > 0:
			need[k]--
		case h.online != 1:
			hidden = append(hidden, h.label())
		case wanted[k]:
			dup = append(dup, h.label())
		default:
			extra = append(extra, h.label())
		}
	}
	for _, w := range want {
		if need[w] > 0 {
			need[w]--
			missing = append(missing, w.label())
		}
	}
	var parts []string
	for _, c := range []struct {
		what   string
		labels []string
	}{{"not written by dadns", extra}, {"missing", missing}, {"hidden (online is not 1)", hidden}, {"duplicated", dup}} {
		if len(c.labels) == 0 {
			continue
		}
		slices.Sort(c.labels)
		ex := c.labels[:min(3, len(c.labels))]
		more := ""
		if len(c.labels) > len(ex) {
			more = ", ..."
		}
		parts = append(parts, fmt.Sprintf("%d rows %s (%s%s)", len(c.labels), c.what, strings.Join(ex, ", "), more))
	}
	return strings.Join(parts, "; ")
}

// label names a row by owner and type, for messages.
func (r row) label() string { return r.host + " " + r.typ }

// sameRowsMany reads the digests of the rows of the given zones in one
// query and reports, for each, whether its rows are exactly those Apply
// wrote, online (as describe finding nothing, but for a chance of 2^-64:
// see mysqldb.Digest). A zone not found, found twice, not written since
// start or with a row that cannot be digested is reported as differing
// (then read alone).
func (b *Backend) sameRowsMany(ctx context.Context, names []zone.Name) (map[zone.Name]bool, error) {
	plans := make(map[zone.Name]heldZone, len(names))
	args := make([]any, 0, len(names))
	b.mu.Lock()
	for _, n := range names {
		if h, ok := b.held[n]; ok {
			plans[n] = h
			args = append(args, n.FQDN())
		}
	}
	b.mu.Unlock()
	out := make(map[zone.Name]bool, len(plans))
	if len(args) == 0 {
		return out, nil
	}
	q := "SELECT z.zone_name, " + digestColumns + " FROM " + b.zt + " z LEFT JOIN " + b.rt +
		" r ON r.zone_id = z.id WHERE z.zone_name IN (" + repeat("?", len(args)) + ") GROUP BY z.id, z.zone_name"
	rows, err := b.db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have, twice, err := mysqldb.ScanDigests(rows)
	if err != nil {
		return nil, err
	}
	for n, h := range plans {
		got, found := have[n.FQDN()]
		if !found || twice[n.FQDN()] {
			continue
		}
		out[n] = h.sure && got == h.digest
	}
	return out, nil
}

// digestColumns selects the digest of a zone's records rows, each as
// read back (NULL as zoneRows takes it) with its online flag.
var digestColumns = mysqldb.DigestSQL("r.id IS NOT NULL", "IFNULL(r.hostname, '')", "IFNULL(r.type, '')", "IFNULL(r.data, '')",
	"IFNULL(r.ttl, 0)", "IFNULL(r.online, 0)")

// digest is the digest of rows written online (digestColumns's fields);
// ok is false when a row cannot be digested reliably.
func digest(r *mysqldb.DigestRow, rows []row) (d mysqldb.Digest, ok bool) {
	ok = true
	for _, w := range rows {
		r.Str(w.host)
		r.Str(w.typ)
		r.Str(w.data)
		r.Int(w.ttl)
		r.Int(1)
		ok = r.End(&d) && ok
	}
	return d, ok
}
