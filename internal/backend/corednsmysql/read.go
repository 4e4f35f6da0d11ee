package corednsmysql

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/go-sql-driver/mysql"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Zone reads the zone's rows back and rebuilds the zone the plugin serves
// from them (the projection of what was pushed: see Stored). It only
// reads: without the tables, the zone is not found.
func (b *Backend) Zone(ctx context.Context, name zone.Name) (*zone.Zone, error) {
	rows, err := b.zoneRows(ctx, name)
	if err != nil {
		return nil, err
	}
	z, err := served(name, rows)
	if err != nil {
		return nil, fmt.Errorf("coredns_mysql: read %s: %w: %w", name, backend.ErrMismatch, err)
	}
	return z, nil
}

// zoneRows returns the zone's records rows, or ErrNotFound without a
// zones row.
func (b *Backend) zoneRows(ctx context.Context, name zone.Name) ([]stored, error) {
	q := "SELECT z.id, r.id, r.hostname, r.type, r.data, r.ttl, r.online FROM " + b.zt + " z LEFT JOIN " + b.rt +
		" r ON r.zone_id = z.id WHERE z.zone_name = ?"
	rows, err := b.db.QueryContext(ctx, q, name.FQDN())
	if noTable(err) {
		return nil, fmt.Errorf("coredns_mysql: read %s: %w (%w)", name, backend.ErrNotFound, err)
	}
	if err != nil {
		b.failed()
		return nil, fmt.Errorf("coredns_mysql: read %s: %w", name, err)
	}
	defer rows.Close()
	var out []stored
	found := false
	for rows.Next() {
		found = true
		var zid int64
		var id, ttl, online sql.NullInt64
		var host, typ, data sql.NullString
		if err := rows.Scan(&zid, &id, &host, &typ, &data, &ttl, &online); err != nil {
			return nil, fmt.Errorf("coredns_mysql: read %s: %w", name, err)
		}
		if id.Valid {
			out = append(out, stored{id: id.Int64, online: online.Int64,
				row: row{host: host.String, typ: typ.String, data: data.String, ttl: ttl.Int64}})
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coredns_mysql: read %s: %w", name, err)
	}
	if !found {
		return nil, fmt.Errorf("coredns_mysql: read %s: %w", name, backend.ErrNotFound)
	}
	return out, nil
}

// served rebuilds the zone from the rows the plugin serves (online != 0).
// Rows it would serve wrongly, twice or beside a differing TTL are errors.
func served(name zone.Name, rows []stored) (*zone.Zone, error) {
	apex := name.FQDN()
	var recs []zone.Record
	for _, s := range rows {
		if s.online == 0 {
			continue
		}
		r, err := record(apex, s.row)
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

// Zones lists the zones with a zones row, skipping rows whose name the
// plugin never serves (not lower-case and absolute). It only reads:
// without the tables, there is no zone.
func (b *Backend) Zones(ctx context.Context) ([]zone.Name, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	rows, err := b.db.QueryContext(ctx, "SELECT zone_name FROM "+b.zt)
	if noTable(err) {
		return nil, nil
	}
	if err != nil {
		b.failed()
		return nil, fmt.Errorf("coredns_mysql: list zones: %w", err)
	}
	defer rows.Close()
	var out []zone.Name
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, fmt.Errorf("coredns_mysql: list zones: %w", err)
		}
		if n, ok := zoneName(s); ok {
			out = append(out, n)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("coredns_mysql: list zones: %w", err)
	}
	return out, nil
}

// noTable reports MariaDB's "table doesn't exist" (error 1146).
func noTable(err error) bool {
	var me *mysql.MySQLError
	return errors.As(err, &me) && me.Number == 1146
}

func zoneName(s string) (zone.Name, bool) {
	if !strings.HasSuffix(s, ".") || s != strings.ToLower(s) {
		return "", false
	}
	n, err := zone.ParseName(strings.TrimSuffix(s, "."))
	return n, err == nil && n.FQDN() == s
}
