package app

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/fakeda"
	"github.com/dadns/dadns/internal/zone"
)

// seedStore pushes zones into the node's database as DA would have.
func seedStore(t *testing.T, path string, zones map[string]uint32, host string) {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := push.New(push.Options{Store: st})
	for name, serial := range zones {
		if _, err := svc.Save(ctx, zone.Name(name), []byte(fakeda.Zone(name, serial)), host, "u"); err != nil {
			t.Fatal(err)
		}
	}
}

func liveNames(t *testing.T, path string) string {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path, sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	zs, err := st.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, z := range zs {
		out = append(out, fmt.Sprintf("%s@%d", z.Name, z.Serial))
	}
	return strings.Join(out, " ")
}

// TestReconcileCommand runs `dadns reconcile --dry-run`, then the real
// pass, against a fake DirectAdmin; the password comes from DADNS_ env.
func TestReconcileCommand(t *testing.T) {
	da := fakeda.Start(t, fakeda.Options{Password: "da-secret", Username: "admin"})
	dir := t.TempDir()
	db := filepath.Join(dir, "data", "dadns.db")
	common := map[string]uint32{}
	for i := range 10 {
		name := fmt.Sprintf("site%d.example", i)
		common[name] = 1
		da.AddLocal(name, "user", fakeda.Zone(name, 1))
	}
	seedStore(t, db, common, "127.0.0.1")
	seedStore(t, db, map[string]uint32{"gone.example": 1, "stale.example": 1}, "127.0.0.1")
	da.AddLocal("stale.example", "user", fakeda.Zone("stale.example", 2))
	da.AddLocal("missing.example", "user", fakeda.Zone("missing.example", 3))
	cfg := fmt.Sprintf("data_dir: %s\nreconciliation:\n  ipp: 5\n  directadmin_servers:\n    - {hostname: 127.0.0.1, port: %d, username: admin, ssl: false, dns_address: \"%s\"}\n",
		filepath.Join(dir, "data"), da.Port, da.DNSAddr())
	cfgPath := filepath.Join(dir, "app.yml")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("DADNS_RECONCILIATION_DIRECTADMIN_SERVERS_0_PASSWORD", "da-secret")
	before := liveNames(t, db)

	code, out, errs := runMain(t, "--config", cfgPath, "reconcile", "--dry-run")
	if code != 0 {
		t.Fatalf("dry run exit %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"fetch    missing.example from 127.0.0.1", "fetch    stale.example", "delete   gone.example", "dry run: nothing changed"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry-run output lacks %q:\n%s", want, out)
		}
	}
	if after := liveNames(t, db); after != before {
		t.Fatalf("dry run changed the store:\n%s\n%s", before, after)
	}
	if strings.Contains(out+errs, "da-secret") {
		t.Fatal("the DA password was printed")
	}

	code, out, errs = runMain(t, "--config", cfgPath, "reconcile")
	if code != 0 || !strings.Contains(out, "done: 2 fetched, 0 migrated, 0 backfilled, 1 deleted") {
		t.Fatalf("pass exit %d\n%s\n%s", code, out, errs)
	}
	got := liveNames(t, db)
	if strings.Contains(got, "gone.example") || !strings.Contains(got, "missing.example@3") || !strings.Contains(got, "stale.example@2") {
		t.Fatalf("store after the pass: %s", got)
	}
	// The serials were asked of DA's DNS (the configured dns_address).
	if udp, tcp := da.DNSQueries(); udp+tcp == 0 {
		t.Fatal("no SOA question reached the fake DA's DNS server")
	}
}

func TestReconcileCommandUsage(t *testing.T) {
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "app.yml")
	os.WriteFile(cfgPath, []byte("data_dir: "+filepath.Join(dir, "data")+"\n"), 0o600)
	if code, _, errs := runMain(t, "--config", cfgPath, "reconcile"); code != 1 || !strings.Contains(errs, "no reconciliation.directadmin_servers") {
		t.Fatalf("without servers: %d %q", code, errs)
	}
	if code, _, _ := runMain(t, "--config", cfgPath, "reconcile", "--bogus"); code != 2 {
		t.Fatalf("bad flag: exit %d", code)
	}
}
