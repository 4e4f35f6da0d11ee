package app

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store/sqlite"
)

// writeDirectdnsonlyDB writes a directdnsonly SQLite database (its domains
// table) holding rows (domain, hostname or "" for NULL, username, zone text
// or "" for NULL).
func writeDirectdnsonlyDB(t *testing.T, path string, rows [][4]string) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE domains (id INTEGER NOT NULL PRIMARY KEY, domain VARCHAR(255) UNIQUE,
		hostname VARCHAR(255), username VARCHAR(255), zone_data TEXT, zone_updated_at DATETIME)`); err != nil {
		t.Fatal(err)
	}
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		var host, text any
		if r[1] != "" {
			host = r[1]
		}
		if r[3] != "" {
			text = r[3]
		}
		if _, err := tx.Exec(`INSERT INTO domains (domain, hostname, username, zone_data, zone_updated_at) VALUES (?, ?, ?, ?, ?)`,
			r[0], host, r[2], text, "2026-01-01 00:00:00.000000"); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestImportDirectdnsonlyIntoRunningServer imports a directdnsonly database
// through a running dadns: the valid zones are served by the builtin, their
// owners kept (a delete from the owning DA server works, from another is
// refused), the rest reported; a second run changes nothing.
func TestImportDirectdnsonlyIntoRunningServer(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	dbPath := filepath.Join(dir, "directdnsonly.db")
	writeDirectdnsonlyDB(t, dbPath, [][4]string{
		{"IMP-A.example", "da1.example", "alice2", e2eZone("imp-a.example", 10)},
		{"Imp-A.Example", "da1.example", "alice", e2eZone("imp-a.example", 11)},
		{"imp-b.example.", "da2.example", "bob", e2eZone("imp-b.example", 12)},
		{"imp-nohost.example", "", "carol", e2eZone("imp-nohost.example", 13)},
		{"imp-notext.example", "da1.example", "dave", ""},
		{"imp-bad.example", "da1.example", "erin", "$TTL 60\n@ IN SOA ns1 h ( 1 2 3 4 5 )\nwww IN A 300.1.1.1\n"},
	})
	t.Setenv("DADNS_APP_AUTH_PASSWORD", e2ePass)
	code, out, errs := runMain(t, "--config", n.cfgPath, "import", "directdnsonly", "--db", dbPath)
	if code != 3 {
		t.Fatalf("import: exit %d (want 3: some rows not imported)\n%s%s", code, out, errs)
	}
	for _, want := range []string{"through the running server's admin API", `imported\s+3\n`, `missing-text\s+1\n`,
		`refused\s+1\n`, `duplicate\s+1\n`, `refused imp-bad.example .*line 3`} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	waitSOASerial(t, n.dnsAddr, "imp-a.example", 11)
	waitSOASerial(t, n.dnsAddr, "imp-b.example", 12)
	waitSOASerial(t, n.dnsAddr, "imp-nohost.example", 13)

	// Owners kept: da2 cannot delete da1's zone; da1 can.
	code2, v, err := n.request("POST", "/CMD_API_DNS_ADMIN", "action=delete&cluster=yes&hostname=da2.example&select0=imp-a.example")
	if err != nil || code2 != 200 {
		t.Fatalf("foreign delete: %d %v %v", code2, v, err)
	}
	waitSOASerial(t, n.dnsAddr, "imp-a.example", 11)
	if code, out, _ := runMain(t, "--config", n.cfgPath, "zones", "show", "imp-a.example"); code != 0 || !strings.Contains(out, "da1.example (user alice)") {
		t.Fatalf("after a foreign delete the zone must be held by da1/alice: %d\n%s", code, out)
	}

	// Idempotent: a second run imports nothing.
	code, out, errs = runMain(t, "--config", n.cfgPath, "import", "directdnsonly", "--db", dbPath, "--json")
	if code != 3 || !strings.Contains(out, `"unchanged": 3`) || strings.Contains(out, `"imported":`) {
		t.Fatalf("second import: exit %d\n%s%s", code, out, errs)
	}

	code2, v, err = n.request("POST", "/CMD_API_DNS_ADMIN", "action=delete&cluster=yes&hostname=da1.example&select0=imp-a.example")
	if err != nil || code2 != 200 || v.Get("error") != "0" {
		t.Fatalf("owner's delete: %d %v %v", code2, v, err)
	}
	waitRefused(t, n.dnsAddr, "imp-a.example")
}

// TestImportZoneDirWhileStopped imports a zone directory straight into the
// store of a stopped dadns, which serves the zones once started.
func TestImportZoneDirWhileStopped(t *testing.T) {
	dir := t.TempDir()
	zdir := filepath.Join(dir, "zones")
	if err := os.MkdirAll(zdir, 0o700); err != nil {
		t.Fatal(err)
	}
	names := []string{"dir-a.example", "dir-b.example"}
	for i, z := range names {
		if err := os.WriteFile(filepath.Join(zdir, z+".db"), []byte(e2eZone(z, 20+i)), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	conf := filepath.Join(dir, "named.conf.local")
	if err := os.WriteFile(conf, []byte(`zone "dir-a.example" { type master; file "dir-a.example.db"; };
zone "dir-b.example" { type master; file "dir-b.example.db"; };
`), 0o600); err != nil {
		t.Fatal(err)
	}
	httpPort, dnsPort := freePorts(t)
	cfgPath := filepath.Join(dir, "app.yml")
	cfg := fmt.Sprintf("data_dir: %s\napp:\n  auth_username: da\n  listen_address: 127.0.0.1\n  listen_port: %d\n", filepath.Join(dir, "data"), httpPort)
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DADNS_APP_AUTH_PASSWORD", e2ePass)
	code, out, errs := runMain(t, "--config", cfgPath, "import", "zones", zdir, "--named-conf", conf, "--owner", "da1.example", "--dry-run")
	if code != 0 || !regexp.MustCompile(`would-import\s+2\n`).MatchString(out) || !strings.Contains(out, "directly on the store") {
		t.Fatalf("dry run: %d\n%s%s", code, out, errs)
	}
	code, out, errs = runMain(t, "--config", cfgPath, "import", "zones", zdir, "--named-conf", conf, "--owner", "da1.example")
	if code != 0 || !regexp.MustCompile(`imported\s+2\n`).MatchString(out) || !strings.Contains(out, "directly on the store") {
		t.Fatalf("import: %d\n%s%s", code, out, errs)
	}
	n := startNode(t, dir, httpPort, dnsPort)
	waitSOASerial(t, n.dnsAddr, "dir-a.example", 20)
	waitSOASerial(t, n.dnsAddr, "dir-b.example", 21)
	code, out, _ = runMain(t, "--config", n.cfgPath, "zones", "show", "dir-b.example")
	if code != 0 || !strings.Contains(out, "da1.example") {
		t.Fatalf("owner not kept: %d\n%s", code, out)
	}
}

// TestImportTenThousandZones imports 10,000 zones from a directdnsonly
// database directly into a store and prints how long it took.
func TestImportTenThousandZones(t *testing.T) {
	if testing.Short() {
		t.Skip("-short")
	}
	dir := t.TempDir()
	const count = 10000
	rows := make([][4]string, count)
	for i := range rows {
		z := fmt.Sprintf("bulk%05d.example", i)
		rows[i] = [4]string{z, "da1.example", "u", e2eZone(z, 7)}
	}
	dbPath := filepath.Join(dir, "directdnsonly.db")
	writeDirectdnsonlyDB(t, dbPath, rows)
	cfgPath := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, out, errs := runMain(t, "--config", cfgPath, "import", "directdnsonly", "--db", dbPath, "--direct")
	elapsed := time.Since(start)
	if code != 0 || !regexp.MustCompile(fmt.Sprintf(`imported\s+%d\n`, count)).MatchString(out) {
		t.Fatalf("import: %d\n%s%s", code, out, errs)
	}
	t.Logf("imported %d zones directly on the store in %.1f s (%.0f zones/s)", count, elapsed.Seconds(), count/elapsed.Seconds())
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "data", "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if n, err := st.CountLive(context.Background()); err != nil || n != count {
		t.Fatalf("store holds %d zones (%v), want %d", n, err, count)
	}
}
