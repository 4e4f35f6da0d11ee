package powerdns

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/syncbuf"
	"github.com/dadns/dadns/internal/zone"
)

// TestSchemaCreatedAsPowerDNSDefinesIt checks every table of PowerDNS's
// schema.mysql.sql exists after first use, with its indexes.
func TestSchemaCreatedAsPowerDNSDefinesIt(t *testing.T) {
	f := newFixture(t)
	if _, err := f.b.Zones(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	for _, table := range []string{"domains", "records", "supermasters", "comments", "domainmetadata", "cryptokeys", "tsigkeys"} {
		if n := f.count(t, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?", table); n != 1 {
			t.Errorf("table %s missing", table)
		}
	}
	for _, idx := range []string{"name_index", "catalog_idx", "nametype_index", "domain_id", "ordername", "domainmetadata_idx", "domainidindex", "namealgoindex"} {
		if n := f.count(t, "SELECT COUNT(*) FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() AND INDEX_NAME = ?", idx); n == 0 {
			t.Errorf("index %s missing", idx)
		}
	}
}

// TestIncompatibleSchemaRefused checks that tables dadns cannot write are
// reported with every difference, and left as they were.
func TestIncompatibleSchemaRefused(t *testing.T) {
	f := newFixture(t)
	f.exec(t,
		`CREATE TABLE domains (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, type VARCHAR(8) NOT NULL, KEY (name)) ENGINE=MyISAM`,
		`CREATE TABLE records (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, domain_id INT, name VARCHAR(255), type VARCHAR(10),
  content VARCHAR(64000), ttl VARCHAR(10), prio INT, disabled TINYINT(1), auth TINYINT(1), extra INT NOT NULL) ENGINE=InnoDB`)
	before := f.showCreate(t)
	err := f.b.Apply(testCtx(t), []*zone.Zone{backendtest.Zone(t, "s.example", 1)})
	if !errors.Is(err, ErrSchema) || errors.Is(err, backend.ErrPermanent) {
		t.Fatalf("Apply = %v, want a (retryable) schema error", err)
	}
	for _, w := range []string{"domains.name holds 100 characters", "domains.account is missing", "records.ordername is missing",
		"records.ttl is varchar", "records.extra is NOT NULL without a default", "table domains uses engine MyISAM",
		"domains.name has no UNIQUE index"} {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not say %q:\n%v", w, err)
		}
	}
	if after := f.showCreate(t); after != before {
		t.Fatalf("tables changed:\n%s\nwas\n%s", after, before)
	}
}

func (f *fixture) showCreate(t *testing.T) string {
	t.Helper()
	var out strings.Builder
	for _, table := range []string{"domains", "records"} {
		var name, create string
		if err := f.root.QueryRow("SHOW CREATE TABLE "+table).Scan(&name, &create); err == nil {
			out.WriteString(create + "\n")
		}
	}
	return out.String()
}

// TestOtherAccountsLeftAlone puts a zone of another account (and one with
// no account) beside dadns's: dadns neither lists, overwrites nor deletes
// them, and says why it does not write the same name.
func TestOtherAccountsLeftAlone(t *testing.T) {
	f := newFixture(t)
	if _, err := f.b.Zones(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	f.exec(t,
		"INSERT INTO domains (name, type, account) VALUES ('theirs.example', 'NATIVE', 'admin'), ('plain.example', 'MASTER', NULL)",
		"INSERT INTO records (domain_id, name, type, content, ttl) SELECT id, name, 'A', '192.0.2.9', 60 FROM domains")
	ours := backendtest.Zone(t, "ours.example", 1)
	theirs := backendtest.Zone(t, "theirs.example", 1)
	err := f.b.Apply(testCtx(t), []*zone.Zone{ours, theirs})
	named, rest := backend.PerZone(err)
	if rest != nil || len(named) != 1 || !errors.Is(named["theirs.example"], ErrForeign) || errors.Is(err, backend.ErrPermanent) {
		t.Fatalf("Apply = %v; want only theirs.example refused (retryable)", err)
	}
	names, err := f.b.Zones(testCtx(t))
	if err != nil || len(names) != 1 || names[0] != "ours.example" {
		t.Fatalf("Zones() = %v, %v", names, err)
	}
	if _, err := f.b.Zone(testCtx(t), "theirs.example"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Zone(theirs) = %v", err)
	}
	if err := f.b.Delete(testCtx(t), []zone.Name{"theirs.example", "plain.example", "ours.example"}); err != nil {
		t.Fatal(err)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM records"); n != 2 {
		t.Fatalf("%d records rows left, want the 2 of the other zones", n)
	}
	if n := f.count(t, "SELECT COUNT(*) FROM domains"); n != 2 {
		t.Fatalf("%d domains left, want 2", n)
	}
}

// TestApplyIsADiff checks that re-applying writes nothing, that a change
// touches only the rows that changed, and that the zone keeps its id.
func TestApplyIsADiff(t *testing.T) {
	f := newFixture(t)
	z1 := backendtest.Zone(t, "diff.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z1}); err != nil {
		t.Fatal(err)
	}
	maxID := func() int { return f.count(t, "SELECT MAX(id) FROM records") }
	rows := func() int { return f.count(t, "SELECT COUNT(*) FROM records") }
	before, n := maxID(), rows()
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z1}); err != nil {
		t.Fatal(err)
	}
	if maxID() != before {
		t.Fatal("re-applying the same zone wrote rows")
	}
	z2 := backendtest.Zone(t, "diff.example", 2) // SOA serial and one TXT change
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z2}); err != nil {
		t.Fatal(err)
	}
	if got := maxID() - before; got != 2 || rows() != n {
		t.Fatalf("%d rows inserted (now %d rows, was %d), want 2 (SOA and serial TXT)", got, rows(), n)
	}
	if id := f.count(t, "SELECT MAX(id) FROM domains"); id != 1 {
		t.Fatalf("domain id %d after re-applies, want 1", id)
	}
	if s := f.count(t, "SELECT COUNT(*) FROM records WHERE type = 'SOA' AND content LIKE '% 2 3600 3600 1209600 86400'"); s != 1 {
		t.Fatal("the SOA row does not hold the pushed serial")
	}
}

// TestDriftFoundByVerifyRepairedByApply tampers with the rows (an extra
// row, a changed row, a disabled row, a wrong auth flag, a lost ENT
// marker): Verify reports it without writing, and the next Apply of the
// same zone puts the rows back, says so in the log, and keeps the ids of
// the rows that were right.
func TestDriftFoundByVerifyRepairedByApply(t *testing.T) {
	var logs syncbuf.Buffer
	f := newFixtureOn(t, server(t), Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	z := backendtest.Zone(t, "drift.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	want := f.rows(t, "drift.example")
	f.exec(t,
		"INSERT INTO records (domain_id, name, type, content, ttl, prio, auth) SELECT id, 'evil.drift.example', 'A', '203.0.113.1', 60, 0, 1 FROM domains",
		"UPDATE records SET content = '198.51.100.7' WHERE name = 'mail.drift.example' AND type = 'A'",
		"UPDATE records SET disabled = 1 WHERE name = 'sip.drift.example'",
		"UPDATE records SET auth = 0 WHERE name = 'ns1.drift.example'",
		"DELETE FROM records WHERE type IS NULL")
	tampered := f.rows(t, "drift.example")
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("Verify on drifted rows = %v, want a mismatch", err)
	}
	if d := diffLines(f.rows(t, "drift.example"), tampered); d != "" {
		t.Fatalf("Verify wrote:\n%s", d)
	}
	soaID := f.count(t, "SELECT id FROM records WHERE type = 'SOA'")
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	if d := diffLines(f.rows(t, "drift.example"), want); d != "" {
		t.Fatalf("rows after the re-apply:\n%s", d)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatal(err)
	}
	if id := f.count(t, "SELECT id FROM records WHERE type = 'SOA'"); id != soaID {
		t.Fatalf("the untouched SOA row was rewritten (id %d, was %d)", id, soaID)
	}
	if !strings.Contains(logs.String(), "drifted") || !strings.Contains(logs.String(), "zone=drift.example") {
		t.Fatalf("no drift log line:\n%s", logs.String())
	}
}

// TestVerifyAsksPowerDNS checks Verify fails, within its timeout, when
// the PowerDNS at verify_address does not serve the pushed serial.
func TestVerifyAsksPowerDNS(t *testing.T) {
	other := newFixture(t)
	p := other.pdns(t) // reads another database: never the zone
	f := newFixtureOn(t, server(t), Options{VerifyAddress: p.Addr, VerifyTimeout: time.Second})
	z := backendtest.Zone(t, "v.example", 1)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	err := f.b.Verify(testCtx(t), z.Name, z.Hash())
	if !errors.Is(err, backend.ErrMismatch) || !strings.Contains(err.Error(), p.Addr) {
		t.Fatalf("Verify = %v, want a mismatch at %s", err, p.Addr)
	}
	if err := other.b.Apply(testCtx(t), []*zone.Zone{backendtest.Zone(t, "v.example", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Verify(testCtx(t), z.Name, z.Hash()); err != nil {
		t.Fatalf("Verify once PowerDNS serves the serial: %v", err)
	}
}

// TestOutageThenRecovery stops the database: calls and the probe fail (not
// permanently), and the same backend works again once it is back.
func TestOutageThenRecovery(t *testing.T) {
	srv := mariadbtest.Start(t)
	f := newFixtureOn(t, srv, Options{Timeout: 2 * time.Second})
	z1, z2 := backendtest.Zone(t, "up.example", 1), backendtest.Zone(t, "up.example", 2)
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z1}); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Probe(testCtx(t)); err != nil {
		t.Fatal(err)
	}
	srv.Stop()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := f.b.Probe(ctx); err == nil {
		t.Fatal("Probe succeeded with the database down")
	}
	err := f.b.Apply(ctx, []*zone.Zone{z2})
	if err == nil || errors.Is(err, backend.ErrPermanent) || ctx.Err() != nil {
		t.Fatalf("Apply with the database down = %v (ctx %v)", err, ctx.Err())
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := f.b.Apply(testCtx(t), []*zone.Zone{z2}); err != nil {
		t.Fatalf("Apply after restart: %v", err)
	}
	if err := f.b.Verify(testCtx(t), z2.Name, z2.Hash()); err != nil {
		t.Fatal(err)
	}
}
