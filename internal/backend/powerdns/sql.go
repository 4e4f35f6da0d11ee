package powerdns

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

// domains is what the domains table says about a set of names.
type domains struct {
	ids     map[string]int64  // dadns's domains: name → id
	foreign map[string]string // domains of another account: name → account
}

// domainIDs looks the names (lower-case, no trailing dot) up. With
// create, missing domains are inserted as NATIVE zones of the account;
// existing ids are never changed (PowerDNS's caches and replicas key on
// them), and a domain of another account is left alone.
func (b *Backend) domainIDs(ctx context.Context, q querier, names []string, create bool) (domains, error) {
	d, err := b.selectDomains(ctx, q, names)
	if err != nil || !create {
		return d, err
	}
	var missing []string
	for _, n := range names {
		_, ours := d.ids[n]
		_, other := d.foreign[n]
		if !ours && !other {
			missing = append(missing, n)
		}
	}
	if len(missing) == 0 {
		return d, nil
	}
	for part := range batches(missing, maxArgs) {
		args := make([]any, 0, 2*len(part))
		for _, n := range part {
			args = append(args, n, b.opt.Account)
		}
		query := "INSERT INTO domains (name, type, account) VALUES " + repeat("(?, 'NATIVE', ?)", len(part))
		if _, err := q.ExecContext(ctx, query, args...); err != nil {
			return domains{}, err
		}
	}
	added, err := b.selectDomains(ctx, q, missing)
	for n, id := range added.ids {
		d.ids[n] = id
	}
	return d, err
}

func (b *Backend) selectDomains(ctx context.Context, q querier, names []string) (domains, error) {
	d := domains{ids: make(map[string]int64, len(names)), foreign: map[string]string{}}
	for part := range batches(names, maxArgs) {
		rows, err := q.QueryContext(ctx, "SELECT id, name, account FROM domains WHERE name IN ("+repeat("?", len(part))+")", anys(part)...)
		if err != nil {
			return domains{}, err
		}
		for rows.Next() {
			var id int64
			var name string
			var account sql.NullString
			if err := rows.Scan(&id, &name, &account); err != nil {
				rows.Close()
				return domains{}, err
			}
			name = strings.ToLower(name)
			if account.Valid && account.String == b.opt.Account {
				d.ids[name] = id
			} else {
				d.foreign[name] = account.String
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return domains{}, err
		}
	}
	return d, nil
}

// stored is a records row as read back.
type stored struct {
	id       int64
	disabled int64
	row
}

const rowColumns = "r.id, r.domain_id, r.name, r.type, r.content, r.ttl, r.prio, r.disabled, r.auth"

// scanRow reads rowColumns; NULL columns read as PowerDNS takes them.
func scanRow(rows *sql.Rows) (int64, stored, error) {
	var s stored
	var zid int64
	var name, typ, content sql.NullString
	var ttl, prio, disabled, auth sql.NullInt64
	if err := rows.Scan(&s.id, &zid, &name, &typ, &content, &ttl, &prio, &disabled, &auth); err != nil {
		return 0, s, err
	}
	s.name, s.typ, s.content = name.String, typ.String, content.String
	s.ttl, s.prio, s.disabled = ttl.Int64, prio.Int64, disabled.Int64
	s.auth = 1
	if auth.Valid {
		s.auth = auth.Int64
	}
	if !ttl.Valid {
		s.ttl = -1 // PowerDNS's default-ttl: never what dadns writes
	}
	return zid, s, nil
}

// readRows returns every records row of the given domain ids, by id.
func (b *Backend) readRows(ctx context.Context, q querier, ids map[string]int64) (map[int64][]stored, error) {
	list := make([]int64, 0, len(ids))
	for _, id := range ids {
		list = append(list, id)
	}
	out := make(map[int64][]stored, len(list))
	for part := range batches(list, maxArgs) {
		rows, err := q.QueryContext(ctx, "SELECT "+rowColumns+" FROM records r WHERE r.domain_id IN ("+repeat("?", len(part))+")", anys(part)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			zid, s, err := scanRow(rows)
			if err != nil {
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
		if _, err := q.ExecContext(ctx, "DELETE FROM records WHERE id IN ("+repeat("?", len(part))+")", anys(part)...); err != nil {
			return err
		}
	}
	for len(d.ins) > 0 {
		n, size := 0, 0
		for n < len(d.ins) && n < maxInsert && size < maxStmtBytes {
			size += len(d.ins[n].name) + len(d.ins[n].content) + 60
			n++
		}
		if err := insertRows(ctx, q, d.ins[:n]); err != nil {
			return err
		}
		d.ins = d.ins[n:]
	}
	return nil
}

func insertRows(ctx context.Context, q querier, ins []insert) error {
	// The integers are written into the statement, only the text is
	// passed as arguments: fewer values for the driver to convert.
	args := make([]any, 0, 3*len(ins))
	query := make([]byte, 0, 100+60*len(ins))
	query = append(query, "INSERT INTO records (domain_id, name, type, content, ttl, prio, disabled, ordername, auth) VALUES "...)
	for i, r := range ins {
		if i > 0 {
			query = append(query, ", "...)
		}
		query = append(query, '(')
		query = strconv.AppendInt(query, r.domainID, 10)
		if r.typ == "" { // an empty non-terminal: NULL type, content, ttl and prio
			query = append(query, ", ?, NULL, NULL, NULL, NULL, 0, NULL, "...)
			args = append(args, r.name)
		} else {
			query = append(query, ", ?, ?, ?, "...)
			query = strconv.AppendInt(query, r.ttl, 10)
			query = append(query, ", "...)
			query = strconv.AppendInt(query, r.prio, 10)
			query = append(query, ", 0, NULL, "...)
			args = append(args, r.name, r.typ, r.content)
		}
		query = strconv.AppendInt(query, r.auth, 10)
		query = append(query, ')')
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
