package corednsmysql

import (
	"context"
	"database/sql"
	"strconv"
	"strings"
)

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// Statement sizes: well under MariaDB's default max_allowed_packet (16 MiB).
const (
	maxArgs      = 1000    // names or ids per IN list
	maxInsert    = 1000    // rows per INSERT
	maxStmtBytes = 1 << 20 // bytes of values per INSERT
)

// zoneIDs maps each name (absolute, lower-case) to its zones row id. With
// create, missing rows are inserted; existing ids are never changed (the
// plugin caches them).
func (b *Backend) zoneIDs(ctx context.Context, q querier, names []string, create bool) (map[string]int64, error) {
	ids, err := b.selectZoneIDs(ctx, q, names)
	if err != nil || !create {
		return ids, err
	}
	var missing []string
	for _, n := range names {
		if _, ok := ids[n]; !ok {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return ids, nil
	}
	for part := range batches(missing, maxArgs) {
		query := "INSERT INTO " + b.zt + " (zone_name) VALUES " + repeat("(?)", len(part))
		if _, err := q.ExecContext(ctx, query, anys(part)...); err != nil {
			return nil, err
		}
	}
	added, err := b.selectZoneIDs(ctx, q, missing)
	for n, id := range added {
		ids[n] = id
	}
	return ids, err
}

func (b *Backend) selectZoneIDs(ctx context.Context, q querier, names []string) (map[string]int64, error) {
	ids := make(map[string]int64, len(names))
	for part := range batches(names, maxArgs) {
		rows, err := q.QueryContext(ctx, "SELECT id, zone_name FROM "+b.zt+" WHERE zone_name IN ("+repeat("?", len(part))+")", anys(part)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			ids[strings.ToLower(name)] = id
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// readRows returns every records row of the given zone ids, by zone id.
func (b *Backend) readRows(ctx context.Context, q querier, ids map[string]int64) (map[int64][]stored, error) {
	list := make([]int64, 0, len(ids))
	for _, id := range ids {
		list = append(list, id)
	}
	out := make(map[int64][]stored, len(list))
	for part := range batches(list, maxArgs) {
		rows, err := q.QueryContext(ctx, "SELECT id, zone_id, hostname, type, data, ttl, online FROM "+b.rt+
			" WHERE zone_id IN ("+repeat("?", len(part))+")", anys(part)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var s stored
			var zid int64
			if err := rows.Scan(&s.id, &zid, &s.host, &s.typ, &s.data, &s.ttl, &s.online); err != nil {
				rows.Close()
				return nil, err
			}
			out[zid] = append(out[zid], s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// writeDiff deletes and inserts rows, in bounded statements.
func (b *Backend) writeDiff(ctx context.Context, q querier, d *diff) error {
	for part := range batches(d.del, maxArgs) {
		if _, err := q.ExecContext(ctx, "DELETE FROM "+b.rt+" WHERE id IN ("+repeat("?", len(part))+")", anys(part)...); err != nil {
			return err
		}
	}
	for len(d.ins) > 0 {
		n, size := 0, 0
		for n < len(d.ins) && n < maxInsert && size < maxStmtBytes {
			size += len(d.ins[n].host) + len(d.ins[n].data) + 40
			n++
		}
		if err := b.insertRows(ctx, q, d.ins[:n]); err != nil {
			return err
		}
		d.ins = d.ins[n:]
	}
	return nil
}

func (b *Backend) insertRows(ctx context.Context, q querier, ins []insert) error {
	// The integers are written into the statement, only the text is
	// passed as arguments: fewer values for the driver to convert.
	args := make([]any, 0, 3*len(ins))
	query := make([]byte, 0, 100+40*len(ins))
	query = append(query, "INSERT INTO "+b.rt+" (zone_id, hostname, type, data, ttl, online) VALUES "...)
	for i, r := range ins {
		if i > 0 {
			query = append(query, ", "...)
		}
		query = append(query, '(')
		query = strconv.AppendInt(query, r.zoneID, 10)
		query = append(query, ", ?, ?, ?, "...)
		query = strconv.AppendInt(query, r.ttl, 10)
		query = append(query, ", 1)"...)
		args = append(args, r.host, r.typ, r.data)
	}
	_, err := q.ExecContext(ctx, string(query), args...)
	return err
}

// batches yields s in consecutive parts of at most n elements.
func batches[T any](s []T, n int) func(func([]T) bool) {
	return func(yield func([]T) bool) {
		for len(s) > 0 {
			k := min(n, len(s))
			if !yield(s[:k]) {
				return
			}
			s = s[k:]
		}
	}
}

// repeat joins n copies of item with ", ".
func repeat(item string, n int) string {
	var sb strings.Builder
	sb.Grow(n * (len(item) + 2))
	for i := range n {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(item)
	}
	return sb.String()
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}
