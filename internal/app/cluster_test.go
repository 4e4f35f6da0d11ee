package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/mysql"
	storenode "github.com/dadns/dadns/internal/store/node"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestClusterStatus: /status's cluster section lists every node, a node
// that stopped heartbeating as not alive, each node's local backends, and
// the shared backends once.
func TestClusterStatus(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	old := openInPast(t, dsn)
	if err := old.Heartbeat(ctx, store.Node{ID: "gone", Version: "v0"}); err != nil {
		t.Fatal(err)
	}

	cfg := config.Default()
	cfg.App.NodeID = "here"
	cfg.Datastore = config.DatastoreConfig{Type: "mysql", DSN: dsn, ClaimLeaseSeconds: 60}
	cfg.DNS.Backends["sql"] = config.Backend{Name: "sql", Type: config.TypeCoreDNSMySQL, Enabled: true}
	raw, err := openStore(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	st, cl := joinCluster(cfg, raw)
	if cl == nil {
		t.Fatal("a mysql store did not join a cluster")
	}
	if _, ok := st.(store.Operator); !ok {
		t.Fatal("the node's store lost the operator pages' queries (the UI would be off)")
	}
	if _, err := st.Put(ctx, store.Zone{Name: "example.com", Canonical: e2eZone("example.com", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := st.Forget(ctx, []string{"builtin", "sql"}); err != nil {
		t.Fatal(err)
	}
	hb, cancel := context.WithCancel(ctx)
	go cl.heartbeat(hb, slog.New(slog.DiscardHandler))
	defer cancel()
	deadline := time.Now().Add(10 * time.Second)
	var doc clusterDoc
	for {
		got, err := cl.status(ctx)
		if err != nil {
			t.Fatal(err)
		}
		doc = got.(clusterDoc)
		if len(doc.Nodes) == 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	text, _ := json.Marshal(doc)
	if len(doc.Nodes) != 2 || doc.Nodes[0].ID != "gone" || doc.Nodes[0].Alive || doc.Nodes[1].ID != "here" ||
		!doc.Nodes[1].Alive || !doc.Nodes[1].Self || doc.Nodes[1].Version != Version {
		t.Fatalf("nodes: %s", text)
	}
	if b, ok := doc.Nodes[1].Backends["builtin"]; !ok || b.Behind != 1 {
		t.Fatalf("this node's builtin: %s", text)
	}
	if _, ok := doc.Nodes[1].Backends["sql"]; ok {
		t.Fatalf("a shared backend listed as local: %s", text)
	}
	if s, ok := doc.Shared["sql"]; !ok || s.Behind != 1 || !strings.Contains(string(text), `"shared_backends"`) {
		t.Fatalf("shared backends: %s", text)
	}
}

// TestNodeCommand: `dadns node list` shows a dead and a live node; `node
// forget` refuses the live one, removes the dead one with its local state,
// its claim and its lease, and /status's cluster section no longer lists it.
func TestNodeCommand(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	old := openInPast(t, dsn)
	gone := storenode.Bind(old, old, storenode.Options{ID: "gone", Shared: func(b string) bool { return b == "sql" }})
	if _, err := gone.Put(ctx, store.Zone{Name: "example.com", Canonical: e2eZone("example.com", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := gone.Forget(ctx, []string{"builtin", "sql"}); err != nil {
		t.Fatal(err)
	}
	if w, _, err := gone.Due(ctx, "sql", 10); err != nil || len(w) != 1 {
		t.Fatalf("gone's claim: %v, %v", w, err)
	}
	if ok, err := old.AcquireLease(ctx, "reconcile", "gone", time.Hour); err != nil || !ok {
		t.Fatalf("gone's lease: %v, %v", ok, err)
	}
	if err := old.Heartbeat(ctx, store.Node{ID: "gone", Version: "v0"}); err != nil {
		t.Fatal(err)
	}
	live, err := mysql.Open(ctx, dsn, mysql.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	if err := live.Heartbeat(ctx, store.Node{ID: "here", Version: Version}); err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "app.yml")
	text := fmt.Sprintf("data_dir: %s\napp:\n  node_id: here\ndatastore:\n  type: mysql\n  dsn: %q\n", dir, dsn)
	if err := os.WriteFile(cfgPath, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) (int, string) {
		var out bytes.Buffer
		code := Main(ctx, append(args, "--config", cfgPath), &out, &out)
		return code, out.String()
	}
	if code, out := run("node", "list"); code != 0 || !regexp.MustCompile(`(?m)^gone +dead +`).MatchString(out) ||
		!regexp.MustCompile(`(?m)^here \(this host\) +alive +`).MatchString(out) {
		t.Fatalf("node list: %d\n%s", code, out)
	}
	if code, out := run("node", "forget", "here"); code != 1 || !strings.Contains(out, "node here is alive") {
		t.Fatalf("forget a live node: %d %s", code, out)
	}
	want := "forgot node gone: 1 local backends (1 zone states) dropped, 1 claims and 1 leases released"
	if code, out := run("node", "forget", "gone"); code != 0 || !strings.Contains(out, want) {
		t.Fatalf("forget the dead node: %d %s", code, out)
	}
	if code, out := run("node", "forget", "gone"); code != 1 || !strings.Contains(out, `knows no node "gone"`) {
		t.Fatalf("forget it again: %d %s", code, out)
	}
	if ok, err := live.AcquireLease(ctx, "reconcile", "here", time.Minute); err != nil || !ok {
		t.Fatalf("the forgotten node's lease was kept: %v, %v", ok, err)
	}
	if w, _, err := live.Claim(ctx, "sql", "here", time.Minute, 10); err != nil || len(w) != 1 {
		t.Fatalf("the forgotten node's claim was kept: %v, %v", w, err)
	}
	if code, out := run("node", "forget", "here", "--force"); code != 0 || !strings.Contains(out, "forgot node here") {
		t.Fatalf("forget a live node with --force: %d %s", code, out)
	}
	if code, out := run("node", "list"); code != 0 || strings.Contains(out, "gone") || strings.Contains(out, "here") {
		t.Fatalf("node list after forgetting both: %d\n%s", code, out)
	}

	cfg := config.Default()
	cfg.App.NodeID = "here"
	cfg.Datastore = config.DatastoreConfig{Type: "mysql", DSN: dsn, ClaimLeaseSeconds: 60}
	_, cl := joinCluster(cfg, live)
	doc, err := cl.status(ctx)
	if err != nil || len(doc.(clusterDoc).Nodes) != 0 {
		t.Fatalf("/status cluster after forgetting: %+v, %v", doc, err)
	}

	lite := filepath.Join(dir, "lite.yml")
	if err := os.WriteFile(lite, []byte(fmt.Sprintf("data_dir: %s\n", dir)), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if code := Main(ctx, []string{"node", "list", "--config", lite}, &out, &out); code != 1 || !strings.Contains(out.String(), "no cluster") {
		t.Fatalf("node list on SQLite: %d %s", code, out.String())
	}
}

// openInPast opens the store at dsn with a clock ten minutes behind (a
// node whose heartbeats stopped long ago), closed when the test ends.
func openInPast(t *testing.T, dsn string) *mysql.Store {
	t.Helper()
	past := time.Now().Add(-10 * time.Minute)
	s, err := mysql.Open(context.Background(), dsn, mysql.Options{Now: func() time.Time { return past }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
