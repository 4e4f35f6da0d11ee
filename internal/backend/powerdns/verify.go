package powerdns

import (
	"context"
	"errors"
	"fmt"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/mysqldb"
	"github.com/dadns/dadns/internal/zone"
)

// Verify reads the zone's rows back and compares them with what was
// written for the pushed hash: the rows of the last Apply as a multiset
// (auth and prio included; read for many of that Apply's zones in one
// query, see mysqldb.ReadAhead), or else the canonical hash of the zone rebuilt
// from them. With a verify address, PowerDNS itself must then serve the
// pushed SOA serial. Verify only reads: rows changed behind dadns's back
// make it fail with ErrMismatch, and the dispatcher's next Apply of the
// zone rewrites them (a diff), saying so in the log.
func (b *Backend) Verify(ctx context.Context, name zone.Name, hash string) error {
	want, proj := b.wanted(name, hash)
	if err := b.verifyRows(ctx, name, want, proj); err != nil {
		return err
	}
	if b.opt.VerifyAddress == "" || proj == nil {
		return nil
	}
	return b.verifyServed(ctx, name, proj.z.Serial)
}

func (b *Backend) verifyRows(ctx context.Context, name zone.Name, want string, proj *planned) error {
	if proj != nil {
		if same, known := b.ahead.Take(name, func(names []zone.Name) (map[zone.Name]bool, error) {
			return b.sameRowsMany(ctx, names)
		}); known && same {
			return nil
		}
		same, err := b.sameRows(ctx, *proj)
		if err != nil {
			return fmt.Errorf("powerdns: verify %s: %w", name, err)
		}
		if same {
			return nil
		}
	}
	got, err := b.Zone(ctx, name)
	switch {
	case err != nil:
		return fmt.Errorf("powerdns: verify %s: %w", name, err)
	case proj != nil:
		return fmt.Errorf("powerdns: verify %s: %w (the rows differ from those written: changed behind dadns's back; the next apply rewrites them)",
			name, backend.ErrMismatch)
	case got.Hash() != want:
		return fmt.Errorf("powerdns: verify %s: %w (rows give %.12s, want %.12s)", name, backend.ErrMismatch, got.Hash(), want)
	}
	return nil
}

// wanted returns the hash the rows should give for the pushed hash, and
// the zone's planned rows when it is one of the last Apply.
func (b *Backend) wanted(name zone.Name, hash string) (string, *planned) {
	b.mu.Lock()
	defer b.mu.Unlock()
	want := hash
	if s, ok := b.signed[name]; ok && s.full == hash {
		want = s.stored
	}
	if p, ok := b.recent[name]; ok && p.z.Hash() == want {
		return want, &p
	}
	return want, nil
}

// sameRows reports whether the enabled rows are exactly the rows of proj,
// as a multiset (auth and prio included): then the zone rebuilt from them
// is proj, without the cost of parsing it again.
func (b *Backend) sameRows(ctx context.Context, proj planned) (bool, error) {
	have, err := b.zoneRows(ctx, proj.z.Name)
	if errors.Is(err, backend.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	var d diff
	d.add(0, proj.rows, have)
	return d.empty(), nil
}

// sameRowsMany reads the digests of the rows of zones of the last Apply
// in one query and reports, for each, whether its rows are exactly the
// rows written, enabled (as sameRows does, but for a chance of 2^-64:
// see mysqldb.Digest). A zone not found, found twice, no longer of the
// last Apply or with a row that cannot be digested is reported as
// differing (then read alone).
func (b *Backend) sameRowsMany(ctx context.Context, names []zone.Name) (map[zone.Name]bool, error) {
	plans := make(map[string]planned, len(names))
	args := make([]any, 0, len(names)+1)
	b.mu.Lock()
	for _, n := range names {
		if p, ok := b.recent[n]; ok {
			plans[p.name()] = p
			args = append(args, p.name())
		}
	}
	b.mu.Unlock()
	out := make(map[zone.Name]bool, len(plans))
	if len(args) == 0 {
		return out, nil
	}
	q := "SELECT d.name, " + digestColumns + " FROM domains d LEFT JOIN records r ON r.domain_id = d.id WHERE d.name IN (" +
		repeat("?", len(args)) + ") AND d.account = ? GROUP BY d.id, d.name"
	rows, err := b.db.QueryContext(ctx, q, append(args, b.opt.Account)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have, twice, err := mysqldb.ScanDigests(rows)
	if err != nil {
		return nil, err
	}
	var r mysqldb.DigestRow
	for name, p := range plans {
		got, found := have[name]
		if !found || twice[name] {
			continue
		}
		want, ok := digest(&r, p.rows)
		out[p.z.Name] = ok && got == want
	}
	return out, nil
}

// digestColumns selects the digest of a domain's records rows, each as
// read back (NULL as PowerDNS takes it) with its disabled flag.
var digestColumns = mysqldb.DigestSQL("r.id IS NOT NULL", "IFNULL(r.name, '')", "IFNULL(r.type, '')", "IFNULL(r.content, '')",
	"IFNULL(r.ttl, -1)", "IFNULL(r.prio, 0)", "IFNULL(r.auth, 1)", "IFNULL(r.disabled, 0)")

// digest is the digest of rows written enabled (digestColumns's fields);
// ok is false when a row cannot be digested reliably.
func digest(r *mysqldb.DigestRow, rows []row) (d mysqldb.Digest, ok bool) {
	ok = true
	for _, w := range rows {
		r.Str(w.name)
		r.Str(w.typ)
		r.Str(w.content)
		r.Int(w.ttl)
		r.Int(w.prio)
		r.Int(w.auth)
		r.Int(0)
		ok = r.End(&d) && ok
	}
	return d, ok
}
