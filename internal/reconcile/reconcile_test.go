package reconcile_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/config"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/reconcile"
	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
	"github.com/dadns/dadns/internal/testutil/fakeda"
	"github.com/dadns/dadns/internal/zone"
)

// node is a real store and push service, as dadns runs them.
type node struct {
	t   *testing.T
	st  store.Store
	svc *push.Service
}

func newNode(t *testing.T) *node {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := push.New(push.Options{Store: st, Logger: quiet()})
	return &node{t: t, st: st, svc: svc}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// push stores a zone as DA host would push it.
func (n *node) push(name string, serial uint32, host string) {
	n.t.Helper()
	if _, err := n.svc.Save(context.Background(), zone.Name(name), []byte(fakeda.Zone(name, serial)), host, "u"); err != nil {
		n.t.Fatal(err)
	}
}

func (n *node) get(name string) (store.Zone, bool) {
	n.t.Helper()
	z, err := n.st.Get(context.Background(), name)
	if errors.Is(err, store.ErrNotFound) {
		return z, false
	}
	if err != nil {
		n.t.Fatal(err)
	}
	return z, true
}

func (n *node) live() []store.Zone {
	n.t.Helper()
	zs, err := n.st.List(context.Background())
	if err != nil {
		n.t.Fatal(err)
	}
	return zs
}

// server configures da under hostname (which must reach it: 127.0.0.1 or
// localhost).
func server(da *fakeda.Server, hostname string, aliases ...string) config.DirectAdminServer {
	return config.DirectAdminServer{Hostname: hostname, Port: da.Port, Username: "admin", Password: "secret", Aliases: aliases,
		DNSAddress: da.DNSAddr()}
}

func (n *node) reconciler(servers ...config.DirectAdminServer) *reconcile.Reconciler {
	return reconcile.New(context.Background(), reconcile.Options{
		Store: n.st, Push: n.svc, Servers: servers, VerifySSL: true, IPP: 3,
		MaxDeleteFraction: 0.1, Backends: []string{"builtin"}, Timeout: 2 * time.Second, Logger: quiet(),
		DNSTimeout: time.Second, // generous: a busy machine must not turn an answer into a fallback
	})
}

func runOnce(t *testing.T, r *reconcile.Reconciler, dry bool) (reconcile.Report, reconcile.Plan) {
	t.Helper()
	rep, p, err := r.RunOnce(context.Background(), dry)
	if err != nil {
		t.Fatal(err)
	}
	return rep, p
}

// fillBoth puts n zones on da (as local domains) and on the node, owned by host.
func fillBoth(n *node, da *fakeda.Server, count int, host string) {
	for i := range count {
		name := fmt.Sprintf("site%d.example", i)
		da.AddLocal(name, "user", fakeda.Zone(name, 1))
		n.push(name, 1, host)
	}
}

func TestMissedPushRecovered(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	n.push("stale.example", 1, "127.0.0.1")
	da.AddLocal("stale.example", "alice", fakeda.Zone("stale.example", 2))
	da.AddLocal("new.example", "bob", fakeda.Zone("new.example", 7))
	r := n.reconciler(server(da, "127.0.0.1"))
	rep, _ := runOnce(t, r, false)
	if rep.Applied[reconcile.Fetch] != 2 || rep.Failed != 0 {
		t.Fatalf("report %+v", rep)
	}
	if z, ok := n.get("stale.example"); !ok || z.Serial != 2 || z.OwnerUser != "alice" {
		t.Fatalf("stale zone after the pass: %+v", z)
	}
	z, ok := n.get("new.example")
	if !ok || z.Serial != 7 || z.OwnerHost != "127.0.0.1" || z.OwnerUser != "bob" || z.Original != fakeda.Zone("new.example", 7) {
		t.Fatalf("missed zone after the pass: %+v", z)
	}
	// A second pass has nothing left to do.
	if rep, p := runOnce(t, r, false); len(p.Actions) != 0 || rep.Applied[reconcile.Fetch] != 0 {
		t.Fatalf("second pass planned %v", p.Actions)
	}
}

func TestDeletedHereRefetched(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 2, "127.0.0.1")
	if out, err := n.svc.DeleteAny(context.Background(), "site1.example"); err != nil || out != push.Deleted {
		t.Fatalf("operator delete = %v, %v", out, err)
	}
	runOnce(t, n.reconciler(server(da, "127.0.0.1")), false)
	if _, ok := n.get("site1.example"); !ok {
		t.Fatal("a zone DA still has was not fetched again")
	}
}

func TestOrphanDeleted(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 10, "127.0.0.1")
	n.push("gone.example", 1, "127.0.0.1")
	rep, _ := runOnce(t, n.reconciler(server(da, "127.0.0.1")), false)
	if _, ok := n.get("gone.example"); ok || rep.Applied[reconcile.Delete] != 1 {
		t.Fatalf("orphan not deleted: %+v", rep)
	}
	if len(n.live()) != 10 {
		t.Fatalf("%d zones left, want 10", len(n.live()))
	}
}

// TestUncertainAnswersDeleteNothing: a server that cannot be reached or
// answers anything unexpected deletes nothing, even though its (failed)
// answer holds none of the node's zones. This is the Python
// directdnsonly's critical bug (an unreachable DA server makes all its
// zones orphans), which dadns does not have.
func TestUncertainAnswersDeleteNothing(t *testing.T) {
	cases := []struct {
		name  string
		fault fakeda.Fault
		down  bool
	}{
		{name: "unreachable (python directdnsonly bug)", down: true},
		{name: "html answer", fault: fakeda.HTML},
		{name: "failed page 2", fault: fakeda.FailPage2},
		{name: "redirect loop", fault: fakeda.RedirectLoop},
		{name: "timeout", fault: fakeda.Hang},
		{name: "owners error", fault: fakeda.OwnersError},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			n := newNode(t)
			da := fakeda.Start(t, fakeda.Options{})
			fillBoth(n, da, 4, "127.0.0.1")
			for i := range 8 { // on the node only: orphans if DA's answer were believed
				n.push(fmt.Sprintf("orphan%d.example", i), 1, "127.0.0.1")
			}
			da.SetFault(tc.fault)
			r := reconcile.New(context.Background(), reconcile.Options{
				Store: n.st, Push: n.svc, Servers: []config.DirectAdminServer{server(da, "127.0.0.1")},
				IPP: 3, MaxDeleteFraction: 1, Timeout: 300 * time.Millisecond, Logger: quiet()})
			if tc.down {
				da.Close()
			}
			rep, p := runOnce(t, r, false)
			if len(n.live()) != 12 || p.Count(reconcile.Delete) != 0 || rep.Applied[reconcile.Delete] != 0 {
				t.Fatalf("zones deleted on an uncertain answer: %d left, plan %v", len(n.live()), p.Actions)
			}
			if rep.Unreachable != 1 || rep.Servers[0].Complete || rep.Servers[0].Error == "" {
				t.Fatalf("server not reported unknown: %+v", rep.Servers)
			}
		})
	}
}

func TestOtherServerUnknownWithholdsDeletes(t *testing.T) {
	n := newNode(t)
	da1 := fakeda.Start(t, fakeda.Options{})
	da2 := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da1, 10, "127.0.0.1")
	n.push("gone.example", 1, "127.0.0.1")
	da2.SetFault(fakeda.HTML)
	rep, _ := runOnce(t, n.reconciler(server(da1, "127.0.0.1"), server(da2, "localhost")), false)
	if _, ok := n.get("gone.example"); !ok || rep.DeletesWithheld != 1 {
		t.Fatalf("delete not withheld while another server is unknown: %+v", rep)
	}
}

func TestDeletionLimitStopsMassDelete(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 20, "127.0.0.1")
	for i := range 10 {
		da.Remove(fmt.Sprintf("site%d.example", i))
	}
	rep, p := runOnce(t, n.reconciler(server(da, "127.0.0.1")), false)
	if len(n.live()) != 20 || rep.Applied[reconcile.Delete] != 0 {
		t.Fatalf("mass delete went through: %d zones left", len(n.live()))
	}
	if rep.DeleteRefusal == "" || rep.DeletesWithheld != 10 || p.DeleteRefusal != rep.DeleteRefusal {
		t.Fatalf("refusal not reported: %+v", rep)
	}
}

func TestDryRunChangesNothing(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 10, "127.0.0.1")
	n.push("gone.example", 1, "127.0.0.1")
	n.push("old.example", 1, "")
	da.AddLocal("old.example", "x", fakeda.Zone("old.example", 1))
	da.AddLocal("site0.example", "user", fakeda.Zone("site0.example", 5))
	da.AddLocal("missing.example", "user", fakeda.Zone("missing.example", 1))
	before := n.live()
	rep, p := runOnce(t, n.reconciler(server(da, "127.0.0.1")), true)
	after := n.live()
	if fmt.Sprint(before) != fmt.Sprint(after) {
		t.Fatalf("dry run changed the store:\n%v\n%v", before, after)
	}
	want := map[reconcile.Kind]int{reconcile.Fetch: 2, reconcile.Delete: 1, reconcile.Backfill: 1}
	for k, c := range want {
		if p.Count(k) != c || rep.Planned[k] != c || rep.Applied[k] != 0 {
			t.Errorf("%s: planned %d (report %d), applied %d; want %d planned, 0 applied", k, p.Count(k), rep.Planned[k], rep.Applied[k], c)
		}
	}
	if !rep.DryRun {
		t.Error("report not marked dry-run")
	}
}

func TestAliases(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	for i := range 10 {
		name := fmt.Sprintf("site%d.example", i)
		da.AddLocal(name, "user", fakeda.Zone(name, 1))
		n.push(name, 1, "DA1.Example.NET") // pushed under an alias
	}
	n.push("gone.example", 1, "da1.example.net")
	rep, p := runOnce(t, n.reconciler(server(da, "127.0.0.1", "da1.example.net")), false)
	if p.Count(reconcile.Migrate) != 0 || p.Count(reconcile.Fetch) != 0 {
		t.Fatalf("an alias was taken for another server: %v", p.Actions)
	}
	if _, ok := n.get("gone.example"); ok || rep.Applied[reconcile.Delete] != 1 {
		t.Fatalf("orphan owned under an alias not deleted: %+v", rep)
	}
}

func TestUnconfiguredOwnerUntouched(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 10, "127.0.0.1")
	n.push("theirs.example", 1, "da9.example.org")
	n.push("listed.example", 1, "da9.example.org")
	da.AddLocal("listed.example", "x", fakeda.Zone("listed.example", 9))
	rep, p := runOnce(t, n.reconciler(server(da, "127.0.0.1")), false)
	for _, name := range []string{"theirs.example", "listed.example"} {
		z, ok := n.get(name)
		if !ok || z.Version != 1 || z.OwnerHost != "da9.example.org" {
			t.Fatalf("%s touched: %+v", name, z)
		}
	}
	if rep.Untouched != 2 || len(p.Actions) != 0 {
		t.Fatalf("untouched %d, actions %v", rep.Untouched, p.Actions)
	}
}

func TestMigrationAndBackfill(t *testing.T) {
	n := newNode(t)
	da1 := fakeda.Start(t, fakeda.Options{})
	da2 := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da1, 3, "127.0.0.1")
	n.push("moved.example", 3, "127.0.0.1")
	da1.AddForeign("moved.example", fakeda.Zone("moved.example", 3)) // da2 pushes it back into da1's DNS
	da2.AddLocal("moved.example", "carol", fakeda.Zone("moved.example", 3))
	n.push("noowner.example", 1, "")
	da2.AddLocal("noowner.example", "dave", fakeda.Zone("noowner.example", 1))
	rep, _ := runOnce(t, n.reconciler(server(da1, "127.0.0.1"), server(da2, "localhost")), false)
	if z, _ := n.get("moved.example"); z.OwnerHost != "localhost" || z.OwnerUser != "carol" {
		t.Fatalf("migration: %+v", z)
	}
	if z, _ := n.get("noowner.example"); z.OwnerHost != "localhost" || z.OwnerUser != "dave" {
		t.Fatalf("backfill: %+v", z)
	}
	if rep.Applied[reconcile.Migrate] != 1 || rep.Applied[reconcile.Backfill] != 1 {
		t.Fatalf("report %+v", rep)
	}
}

func TestReportKeptAndPersisted(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	da.AddLocal("a.example", "u", fakeda.Zone("a.example", 1))
	r := n.reconciler(server(da, "127.0.0.1"))
	if !r.Last().Started.IsZero() {
		t.Fatal("report before the first pass")
	}
	rep, _ := runOnce(t, r, false)
	if got := r.Last(); got.Applied[reconcile.Fetch] != 1 || got.Polled != 1 || got.Finished.Before(got.Started) {
		t.Fatalf("Last = %+v", got)
	}
	again := n.reconciler(server(da, "127.0.0.1")) // as after a restart
	got := again.Last()
	if !got.Started.Equal(rep.Started) || got.Applied[reconcile.Fetch] != 1 || len(got.Backends) != 1 || got.Backends[0].Behind != 1 {
		t.Fatalf("persisted report = %+v", got)
	}
	dry, _ := runOnce(t, again, true)
	if rec := again.Recent(); len(rec) != 2 || !rec[0].DryRun || !rec[0].Started.Equal(dry.Started) || !rec[1].Started.Equal(rep.Started) {
		t.Fatalf("Recent = %+v", rec)
	}
}

func TestRunTimedPasses(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	da.AddLocal("a.example", "u", fakeda.Zone("a.example", 1))
	ctx, cancel := context.WithCancel(context.Background())
	r := reconcile.New(ctx, reconcile.Options{Store: n.st, Push: n.svc, Servers: []config.DirectAdminServer{server(da, "127.0.0.1")},
		DryRun: true, Interval: time.Millisecond, Logger: quiet()})
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	for deadline := time.Now().Add(30 * time.Second); r.Last().Finished.IsZero(); {
		if time.Now().After(deadline) {
			cancel()
			t.Fatal("no timed pass finished in 30 s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return within 30 s of its context's end")
	}
	if last := r.Last(); !last.DryRun || last.Planned[reconcile.Fetch] != 1 {
		t.Fatalf("timed dry-run pass: %+v", last)
	}
	if _, ok := n.get("a.example"); ok {
		t.Fatal("dry_run timed pass stored a zone")
	}
}

// TestDeleteConfirmedWithTheText: a zone the listing lacks but whose text
// DA still serves (a listing that shifted between pages) is not deleted.
func TestDeleteConfirmedWithTheText(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 20, "127.0.0.1")
	da.Unlist("site4.example")
	n.push("gone.example", 1, "127.0.0.1")
	rep, p := runOnce(t, n.reconciler(server(da, "127.0.0.1")), false)
	if p.Count(reconcile.Delete) != 2 {
		t.Fatalf("plan %v: want both zones the listing lacks planned as deletes", p.Actions)
	}
	if _, ok := n.get("site4.example"); !ok || rep.Skipped != 1 {
		t.Fatalf("a zone DA still serves was deleted: report %+v", rep)
	}
	if _, ok := n.get("gone.example"); ok || rep.Applied[reconcile.Delete] != 1 {
		t.Fatalf("the real orphan was not deleted: report %+v", rep)
	}
}

// streaming is a store with EachLive, walking List's rows one at a time.
type streaming struct {
	store.Store
	walks int
}

func (s *streaming) EachLive(ctx context.Context, fn func(store.Zone) error) error {
	s.walks++
	zs, err := s.Store.List(ctx)
	if err != nil {
		return err
	}
	for _, z := range zs {
		if err := fn(z); err != nil {
			return err
		}
	}
	return nil
}

// TestStreamingStore: a store that streams its live zones (LiveStreamer)
// is read that way, with the same outcome as through List.
func TestStreamingStore(t *testing.T) {
	n := newNode(t)
	da := fakeda.Start(t, fakeda.Options{})
	fillBoth(n, da, 20, "127.0.0.1")
	da.AddLocal("site3.example", "user", fakeda.Zone("site3.example", 4))
	n.push("gone.example", 1, "127.0.0.1")
	st := &streaming{Store: n.st}
	r := reconcile.New(context.Background(), reconcile.Options{
		Store: st, Push: n.svc, Servers: []config.DirectAdminServer{server(da, "127.0.0.1")}, IPP: 3,
		MaxDeleteFraction: 0.1, Timeout: 2 * time.Second, Logger: quiet()})
	rep, _ := runOnce(t, r, false)
	if st.walks != 1 || rep.Applied[reconcile.Fetch] != 1 || rep.Applied[reconcile.Delete] != 1 || rep.Servers[0].Held != 20 {
		t.Fatalf("walks %d, report %+v", st.walks, rep)
	}
	if z, _ := n.get("site3.example"); z.Serial != 4 {
		t.Fatalf("not repaired: %+v", z)
	}
}
