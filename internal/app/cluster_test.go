package app

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/mysql"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestClusterStatus: /status's cluster section lists every node, a node
// that stopped heartbeating as not alive, each node's local backends, and
// the shared backends once.
func TestClusterStatus(t *testing.T) {
	ctx := context.Background()
	srv := mariadbtest.Start(t)
	dsn := srv.DSN(srv.NewDatabase(t))
	past := time.Now().Add(-10 * time.Minute)
	old, err := mysql.Open(ctx, dsn, mysql.Options{Now: func() time.Time { return past }})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
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
