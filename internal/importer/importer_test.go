package importer

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// zoneText is a small valid zone with the given serial and address.
func zoneText(origin string, serial int, addr string) string {
	return fmt.Sprintf(`$TTL 3600
@	IN	SOA	ns1.%[1]s.	hostmaster.%[1]s. ( %[2]d 3600 600 1209600 300 )
@	IN	NS	ns1.%[1]s.
ns1	IN	A	192.0.2.1
www	IN	A	%[3]s
`, origin, serial, addr)
}

// ddoSchema is directdnsonly's domains table (its SQLAlchemy model).
const ddoSchemaSQLite = `CREATE TABLE domains (
	id INTEGER NOT NULL PRIMARY KEY,
	domain VARCHAR(255) UNIQUE,
	hostname VARCHAR(255),
	username VARCHAR(255),
	zone_data TEXT,
	zone_updated_at DATETIME)`

const ddoSchemaMySQL = `CREATE TABLE domains (
	id INTEGER NOT NULL AUTO_INCREMENT PRIMARY KEY,
	domain VARCHAR(255) UNIQUE,
	hostname VARCHAR(255),
	username VARCHAR(255),
	zone_data TEXT,
	zone_updated_at DATETIME)`

// ddoRow is one row of directdnsonly's domains table; nil pointers are NULL.
type ddoRow struct {
	domain          string
	hostname        *string
	username        string
	zoneData        *string
	zoneUpdatedAtTS *string
}

func sp(s string) *string { return &s }

// awkwardRows are the rows every import test starts from. MySQL's unique
// index is case-insensitive, so the case duplicate there differs by the
// trailing dot instead.
func awkwardRows(mysql bool) []ddoRow {
	dupName := "Dup.Example"
	if mysql {
		dupName = "dup.example."
	}
	return []ddoRow{
		{domain: "Mixed.Example", hostname: sp("da1.example.net"), username: "alice", zoneData: sp(zoneText("mixed.example", 2026010101, "192.0.2.10")), zoneUpdatedAtTS: sp("2026-01-01 10:00:00.000000")},
		{domain: "dot.example.", hostname: sp("da1.example.net"), username: "bob", zoneData: sp(zoneText("dot.example", 2026010101, "192.0.2.11")), zoneUpdatedAtTS: sp("2026-01-01 10:00:00")},
		{domain: "nohost.example", hostname: nil, username: "carol", zoneData: sp(zoneText("nohost.example", 1, "192.0.2.12"))},
		{domain: "notext.example", hostname: sp("da2.example.net"), username: "dave", zoneData: nil},
		{domain: "bad.example", hostname: sp("da1.example.net"), username: "erin", zoneData: sp("$TTL 60\n@ IN SOA ns1 host ( 1 2 3 4 5 )\nwww IN A 999.1.1.1\n")},
		{domain: "dup.example", hostname: sp("da1.example.net"), username: "old", zoneData: sp(zoneText("dup.example", 1, "192.0.2.13")), zoneUpdatedAtTS: sp("2025-01-01 00:00:00")},
		{domain: dupName, hostname: sp("da2.example.net"), username: "new", zoneData: sp(zoneText("dup.example", 2, "192.0.2.14")), zoneUpdatedAtTS: sp("2026-02-01 00:00:00")},
		{domain: "bad/name", hostname: sp("da1.example.net"), username: "mallory", zoneData: sp(zoneText("x.example", 1, "192.0.2.15"))},
	}
}

func insertRows(t *testing.T, db *sql.DB, rows []ddoRow) {
	t.Helper()
	for _, r := range rows {
		if _, err := db.Exec(`INSERT INTO domains (domain, hostname, username, zone_data, zone_updated_at) VALUES (?, ?, ?, ?, ?)`,
			r.domain, r.hostname, r.username, r.zoneData, r.zoneUpdatedAtTS); err != nil {
			t.Fatalf("insert %s: %v", r.domain, err)
		}
	}
}

// makeSQLiteDDO writes a directdnsonly SQLite database and returns its path.
func makeSQLiteDDO(t *testing.T, rows []ddoRow) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "directdnsonly.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(ddoSchemaSQLite); err != nil {
		t.Fatal(err)
	}
	insertRows(t, db, rows)
	return path
}

type env struct {
	st  store.Store
	svc *push.Service
	tgt PushTarget
}

func newEnv(t *testing.T) *env {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := push.New(push.Options{Store: st, Owners: push.NewOwners(nil)})
	return &env{st: st, svc: svc, tgt: PushTarget{Push: svc, Store: st}}
}

func byZone(t *testing.T, results []Result) map[string][]Result {
	t.Helper()
	out := map[string][]Result{}
	for _, r := range results {
		out[r.Zone] = append(out[r.Zone], r)
	}
	return out
}

func wantOutcome(t *testing.T, got map[string][]Result, zone string, want ...Outcome) {
	t.Helper()
	rs := got[zone]
	if len(rs) != len(want) {
		t.Fatalf("%s: %d results %+v, want outcomes %v", zone, len(rs), rs, want)
	}
	for i, w := range want {
		if rs[i].Outcome != w {
			t.Errorf("%s result %d: outcome %s (%s), want %s", zone, i, rs[i].Outcome, rs[i].Reason, w)
		}
	}
}

// checkAwkwardImport runs the import of awkwardRows twice and checks every
// outcome, the stored owners and idempotence.
func checkAwkwardImport(t *testing.T, db *sql.DB) {
	ctx := context.Background()
	entries, err := ReadDirectdnsonly(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 8 {
		t.Fatalf("read %d entries, want 8", len(entries))
	}
	e := newEnv(t)

	dry, err := Run(ctx, e.tgt, entries, Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := Summary(dry)[WouldImport]; n != 4 {
		t.Errorf("dry run: %d would-import, want 4: %+v", n, dry)
	}
	if live, _ := e.st.CountLive(ctx); live != 0 {
		t.Fatalf("dry run stored %d zones", live)
	}

	res, err := Run(ctx, e.tgt, entries, Options{})
	if err != nil {
		t.Fatal(err)
	}
	got := byZone(t, res)
	wantOutcome(t, got, "mixed.example", Imported)
	wantOutcome(t, got, "dot.example", Imported)
	wantOutcome(t, got, "nohost.example", Imported)
	wantOutcome(t, got, "notext.example", MissingText)
	wantOutcome(t, got, "bad.example", Refused)
	wantOutcome(t, got, "dup.example", Duplicate, Imported)
	wantOutcome(t, got, "bad/name", Refused)
	if r := got["bad.example"][0]; !strings.Contains(r.Reason, "line 3") {
		t.Errorf("refusal reason lacks the line: %q", r.Reason)
	}

	live, err := e.st.Live(ctx, []string{"mixed.example", "dot.example", "nohost.example", "dup.example", "notext.example", "bad.example"})
	if err != nil {
		t.Fatal(err)
	}
	if len(live) != 4 {
		t.Fatalf("stored %d zones, want 4: %v", len(live), live)
	}
	if z := live["mixed.example"]; z.OwnerHost != "da1.example.net" || z.OwnerUser != "alice" || z.Serial != 2026010101 {
		t.Errorf("mixed.example stored as %+v", z)
	}
	if z := live["dup.example"]; z.OwnerHost != "da2.example.net" || z.OwnerUser != "new" || z.Serial != 2 {
		t.Errorf("dup.example: the newer row must win, stored %+v", z)
	}
	if z := live["nohost.example"]; z.OwnerHost != "" {
		t.Errorf("nohost.example owner %q, want none", z.OwnerHost)
	}

	again, err := Run(ctx, e.tgt, entries, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n := Summary(again)[Imported]; n != 0 {
		t.Errorf("second run imported %d zones, want 0 (idempotent): %+v", n, again)
	}
	if n := Summary(again)[Unchanged]; n != 4 {
		t.Errorf("second run: %d unchanged, want 4", n)
	}
	after, err := e.st.Live(ctx, []string{"mixed.example"})
	if err != nil {
		t.Fatal(err)
	}
	if after["mixed.example"].Version != live["mixed.example"].Version {
		t.Errorf("second run changed the version %d → %d", live["mixed.example"].Version, after["mixed.example"].Version)
	}
}

func TestImportDirectdnsonlySQLite(t *testing.T) {
	path := makeSQLiteDDO(t, awkwardRows(false))
	db, err := OpenDirectdnsonlySQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAwkwardImport(t, db)
}

func TestImportDirectdnsonlyMySQL(t *testing.T) {
	srv := mariadbtest.Start(t)
	name := srv.NewDatabase(t)
	root := srv.Root(t, name)
	if _, err := root.Exec(ddoSchemaMySQL); err != nil {
		t.Fatal(err)
	}
	insertRows(t, root, awkwardRows(true))
	dsn := fmt.Sprintf("%s:%s@tcp(%s)/%s", mariadbtest.User, srv.Password, srv.Addr(), name)
	db, err := OpenDirectdnsonlyMySQL(dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkAwkwardImport(t, db)
}

func TestImportNeverOverwritesNewerSerial(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if _, err := e.svc.Save(ctx, "keep.example", []byte(zoneText("keep.example", 2026050101, "192.0.2.50")), "da1.example.net", "u"); err != nil {
		t.Fatal(err)
	}
	old := zoneText("keep.example", 2026010101, "192.0.2.1")
	entries := []Entry{{Name: "keep.example", Host: "da1.example.net", User: "u", Text: &old, Source: "test"}}
	res, err := Run(ctx, e.tgt, entries, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != Newer || res[0].HeldSerial != 2026050101 {
		t.Fatalf("got %+v, want kept-newer with held serial", res[0])
	}
	z, _ := e.st.Live(ctx, []string{"keep.example"})
	if z["keep.example"].Serial != 2026050101 {
		t.Fatalf("held zone overwritten: %+v", z["keep.example"])
	}
	res, err = Run(ctx, e.tgt, entries, Options{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res[0].Outcome != Imported {
		t.Fatalf("--force: got %+v", res[0])
	}
	z, _ = e.st.Live(ctx, []string{"keep.example"})
	if z["keep.example"].Serial != 2026010101 {
		t.Fatalf("--force did not overwrite: %+v", z["keep.example"])
	}
}

func TestImportNotADirectdnsonlyDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "other.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE zones (name TEXT)"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	ro, err := OpenDirectdnsonlySQLite(path)
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	if _, err := ReadDirectdnsonly(context.Background(), ro); err == nil || !strings.Contains(err.Error(), "directdnsonly") {
		t.Fatalf("want a clear error, got %v", err)
	}
	if _, err := OpenDirectdnsonlySQLite(filepath.Join(t.TempDir(), "missing.db")); err == nil {
		t.Fatal("a missing file must be an error")
	}
}

func TestImportZoneDir(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	entries, notes, err := ReadZoneDir("testdata/zones", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 5 || len(notes) != 0 {
		t.Fatalf("entries %d notes %v", len(entries), notes)
	}
	res, err := Run(ctx, e.tgt, entries, Options{Owner: "da1.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	if n := Summary(res)[Imported]; n != 5 {
		t.Fatalf("imported %d of 5: %+v", n, res)
	}
	z, _ := e.st.Live(ctx, []string{"example.org", "2.0.192.in-addr.arpa"})
	if len(z) != 2 || z["example.org"].OwnerHost != "da1.example.net" {
		t.Fatalf("stored %+v", z)
	}
	again, err := Run(ctx, e.tgt, entries, Options{Owner: "da1.example.net"})
	if err != nil {
		t.Fatal(err)
	}
	if n := Summary(again)[Unchanged]; n != 5 {
		t.Fatalf("second run: %+v", again)
	}
}

func TestImportNamedConfAndNSDConf(t *testing.T) {
	dir := t.TempDir()
	abs, _ := filepath.Abs("testdata/zones/example.org.db")
	named := `// zones dadns should learn
options { directory "/var/cache/bind"; };
/* a block
   comment */
zone "example.org" IN { type master; file "` + abs + `"; allow-update { none; }; };
zone "example.net" { type primary; file "example.net.db"; };
zone "sec.example" { type secondary; primaries { 192.0.2.1; }; file "sec.db"; };
view "v" { zone "2.0.192.in-addr.arpa" { file "2.0.192.in-addr.arpa.db"; }; };
include "/etc/bind/other.conf";
`
	conf := filepath.Join(dir, "named.conf")
	if err := os.WriteFile(conf, []byte(named), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, notes, err := ReadZoneDir("testdata/zones", conf)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Text == nil {
			t.Errorf("%s: no text", e.Name)
		}
		got = append(got, e.Name)
	}
	if strings.Join(got, ",") != "example.org,example.net,2.0.192.in-addr.arpa" {
		t.Errorf("zones %v", got)
	}
	if len(notes) != 2 {
		t.Errorf("notes %v: want the secondary and the include", notes)
	}

	nsd := "server:\n  ip-address: 127.0.0.1\nzone:\n  name: \"example.net\"\n  zonefile: \"example.net.db\"\n# comment\nzone:\n  name: shop.example.net\n  zonefile: shop.example.net.db\n"
	nconf := filepath.Join(dir, "nsd.conf")
	if err := os.WriteFile(nconf, []byte(nsd), 0o600); err != nil {
		t.Fatal(err)
	}
	entries, _, err = ReadZoneDir("testdata/zones", nconf)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[1].Name != "shop.example.net" || entries[1].Text == nil {
		t.Fatalf("nsd.conf entries %+v", entries)
	}
}
