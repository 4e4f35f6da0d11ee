package powerdns

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Zone reads the zone's rows back and rebuilds the zone PowerDNS serves
// from them (the projection of what was pushed: see Stored).
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	if _, err := b.prepare(ctx); err != nil {
		return nil, err
	}
	rows, err := b.zoneRows(ctx, name)
	if err != nil {
		return nil, err
	}
	z, err := served(name, rows)
	if err != nil {
		return nil, fmt.Errorf("powerdns: read %s: %w: %w", name, backend.ErrMismatch, err)
	}
	return z, nil
}

// zoneRows returns the rows of dadns's zone, or ErrNotFound when dadns
// has no domain of that name.
func (b *Backend) zoneRows(ctx context.Context, name zone.Name) ([]stored, error) {
	q := "SELECT d.id, " + rowColumns + " FROM domains d LEFT JOIN records r ON r.domain_id = d.id WHERE d.name = ? AND d.account = ?"
	rows, err := b.db.QueryContext(ctx, q, name.String(), b.opt.Account)
	if err != nil {
		b.failed()
		return nil, fmt.Errorf("powerdns: read %s: %w", name, err)
	}
	defer rows.Close()
	var out []stored
	found := false
	for rows.Next() {
		found = true
		var did int64
		s, ok, err := scanJoined(rows, &did)
		if err != nil {
			return nil, fmt.Errorf("powerdns: read %s: %w", name, err)
		}
		if ok {
			out = append(out, s)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("powerdns: read %s: %w", name, err)
	}
	if !found {
		return nil, fmt.Errorf("powerdns: read %s: %w", name, backend.ErrNotFound)
	}
	return out, nil
}

// scanJoined reads the columns dest then rowColumns of a domain LEFT
// JOIN records: ok is false for a domain without rows. NULL columns
// read as PowerDNS takes them.
func scanJoined(rows *sql.Rows, dest ...any) (s stored, ok bool, err error) {
	var id, zid, ttl, prio, disabled, auth sql.NullInt64
	var rname, typ, content sql.NullString
	if err := rows.Scan(append(dest, &id, &zid, &rname, &typ, &content, &ttl, &prio, &disabled, &auth)...); err != nil {
		return s, false, err
	}
	if !id.Valid {
		return s, false, nil
	}
	s = stored{id: id.Int64, disabled: disabled.Int64,
		row: row{name: rname.String, typ: typ.String, content: content.String, ttl: ttl.Int64, prio: prio.Int64, auth: 1}}
	if auth.Valid {
		s.auth = auth.Int64
	}
	if !ttl.Valid {
		s.ttl = -1
	}
	return s, true, nil
}

// served rebuilds the zone from the rows PowerDNS serves (disabled = 0).
// Rows it would serve wrongly, twice, outside the zone or beside a
// differing TTL are errors.
func served(name zone.Name, rows []stored) (*zone.Zone, error) {
	var recs []zone.Record
	for _, s := range rows {
		if s.disabled != 0 || s.typ == "" { // disabled, or an empty non-terminal's marker
			continue
		}
		if s.name != name.String() && !strings.HasSuffix(s.name, "."+name.String()) {
			return nil, fmt.Errorf("row %d: name %q is outside the zone", s.id, s.name)
		}
		r, err := record(s.row)
		if err != nil {
			return nil, fmt.Errorf("row %d: %w", s.id, err)
		}
		recs = append(recs, r)
	}
	z, err := zone.Build(name, recs, zone.Limits{MaxRecords: len(recs) + 1})
	if err != nil {
		return nil, fmt.Errorf("the rows do not make a valid zone: %w", err)
	}
	if len(z.Records) != len(recs) {
		return nil, fmt.Errorf("%d rows serve %d distinct records (duplicates or RRsets with several TTLs)", len(recs), len(z.Records))
	}
	want := make(map[string]bool, len(z.Records))
	for _, r := range z.Records {
		want[r.String()] = true
	}
	for _, r := range recs {
		if !want[r.String()] {
			return nil, fmt.Errorf("row %s %s is served differently than it reads (TTL differs within its RRset)", r.Name, r.Type)
		}
	}
	return z, nil
}

// Zones lists dadns's domains (those of its account), skipping names
// that are not valid zone names.
func (b *Backend) Zones(ctx context.Context) ([]zone.Name, error) {
	if _, err := b.prepare(ctx); err != nil {
		return nil, err
	}
	rows, err := b.db.QueryContext(ctx, "SELECT name FROM domains WHERE account = ?", b.opt.Account)
	if err != nil {
		b.failed()
		return nil, fmt.Errorf("powerdns: list zones: %w", err)
	}
	defer rows.Close()
	var out []zone.Name
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("powerdns: list zones: %w", err)
		}
		if n, err := zone.ParseName(s); err == nil && n.String() == s {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("powerdns: list zones: %w", err)
	}
	return out, nil
}
