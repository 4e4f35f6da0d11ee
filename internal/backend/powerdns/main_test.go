package powerdns

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/pdnstest"
)

// shared is one mariadbd for the package's tests; each test gets its own
// database on it. Nil when MariaDB is not installed.
var shared *mariadbtest.Server

func TestMain(m *testing.M) {
	code := func() int {
		if mariadbtest.Available() != nil {
			return m.Run() // tests skip, or fail under CI=true
		}
		dir, err := os.MkdirTemp("", "powerdns-test")
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer os.RemoveAll(dir)
		if shared, err = mariadbtest.Launch(dir); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		defer shared.Close()
		return m.Run()
	}()
	os.Exit(code)
}

// fixture is a backend on a fresh database, with root access to its rows.
type fixture struct {
	b    *Backend
	db   string
	root *sql.DB
	srv  *mariadbtest.Server
	opt  Options
}

func server(t testing.TB) *mariadbtest.Server {
	t.Helper()
	mariadbtest.Require(t)
	if shared == nil {
		t.Fatal("shared MariaDB server did not start")
	}
	return shared
}

func newFixture(t testing.TB) *fixture {
	t.Helper()
	return newFixtureOn(t, server(t), Options{})
}

// newFixtureOn makes a backend on a fresh database of srv; opt's
// connection fields are filled in.
func newFixtureOn(t testing.TB, srv *mariadbtest.Server, opt Options) *fixture {
	t.Helper()
	name := srv.NewDatabase(t)
	opt.Host, opt.Port, opt.Database = srv.Host, srv.Port, name
	opt.Username, opt.Password = mariadbtest.User, srv.Password
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if opt.Timeout == 0 {
		opt.Timeout = 5 * time.Second
	}
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &fixture{b: b, db: name, root: srv.Root(t, name), srv: srv, opt: opt}
}

// pdns starts a pdns_server reading the fixture's database (whose tables
// must exist: apply something first, or call f.b.prepare).
func (f *fixture) pdns(t testing.TB, settings ...string) *pdnstest.Server {
	t.Helper()
	if _, err := f.b.prepare(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	return pdnstest.Start(t, pdnstest.Options{DB: pdnstest.DB{Host: f.srv.Host, Port: f.srv.Port, Name: f.db,
		User: mariadbtest.User, Password: f.srv.Password}, Settings: settings})
}

func testCtx(t testing.TB) context.Context {
	c, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return c
}

// exec runs statements as root.
func (f *fixture) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		if _, err := f.root.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// rows returns the records rows of zone (no trailing dot) as
// "name|type|content|ttl|prio|disabled|auth|ordername" lines, sorted.
func (f *fixture) rows(t *testing.T, zoneName string) []string {
	t.Helper()
	q := `SELECT r.name, COALESCE(r.type, 'NULL'), COALESCE(r.content, 'NULL'), COALESCE(r.ttl, -1), COALESCE(r.prio, -1), r.disabled, r.auth, COALESCE(r.ordername, 'NULL')
FROM records r JOIN domains d ON d.id = r.domain_id WHERE d.name = ?`
	rs, err := f.root.Query(q, zoneName)
	if err != nil {
		t.Fatal(err)
	}
	defer rs.Close()
	var out []string
	for rs.Next() {
		var n, ty, c, ord string
		var ttl, prio, dis, auth int64
		if err := rs.Scan(&n, &ty, &c, &ttl, &prio, &dis, &auth, &ord); err != nil {
			t.Fatal(err)
		}
		out = append(out, fmt.Sprintf("%s|%s|%s|%d|%d|%d|%d|%s", n, ty, c, ttl, prio, dis, auth, ord))
	}
	sort.Strings(out)
	return out
}

// count runs a COUNT(*) query as root.
func (f *fixture) count(t *testing.T, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.root.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func diffLines(got, want []string) string {
	g, w := map[string]bool{}, map[string]bool{}
	for _, s := range got {
		g[s] = true
	}
	for _, s := range want {
		w[s] = true
	}
	var b strings.Builder
	for _, s := range want {
		if !g[s] {
			fmt.Fprintf(&b, "missing: %s\n", s)
		}
	}
	for _, s := range got {
		if !w[s] {
			fmt.Fprintf(&b, "extra:   %s\n", s)
		}
	}
	if b.Len() == 0 && len(got) != len(want) {
		fmt.Fprintf(&b, "%d rows, want %d (duplicates)\n", len(got), len(want))
	}
	return b.String()
}
