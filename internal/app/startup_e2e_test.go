package app

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/knottest"
)

// startupZones is how many zones TestBuiltinAnswersWhileKnotStartHangs
// holds.
const startupZones = 300

// TestBuiltinAnswersWhileKnotStartHangs restarts a dadns holding zones in
// the builtin, a knot backend and a coredns_mysql backend whose server is
// unreachable, with knot's start-up hung: the knotc it runs does not
// return (as with a knotd that accepts on its control socket but does not
// answer) until the test lets it. Every held zone must be answered by the
// builtin while that knotc is still waiting, no question about a held
// zone answered REFUSED at any moment; once knotc answers again, dadns
// finishes starting and a zone pushed then reaches both the builtin and
// knotd.
func TestBuiltinAnswersWhileKnotStartHangs(t *testing.T) {
	r := newKnotRig(t)
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	_, deadPort := freePorts(t) // nothing listens there: the unreachable MySQL server
	gate := filepath.Join(dir, "knotc.gate")
	entered := filepath.Join(dir, "knotc.entered")
	knotc := filepath.Join(dir, "knotc")
	script := fmt.Sprintf(`#!/bin/sh
# knotc that does not answer while the gate file exists, then the real one.
if [ -e '%[1]s' ]; then
	echo $$ >> '%[2]s'
	while [ -e '%[1]s' ]; do sleep 0.05; done
fi
exec '%[3]s' "$@"
`, gate, entered, knottest.KnotcPath)
	if err := os.WriteFile(knotc, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort) +
		strings.Replace(r.backendYAML(), "knotc_path: "+knottest.KnotcPath, "knotc_path: "+knotc, 1) +
		fmt.Sprintf("    mysql:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %d\n      database: dns\n"+
			"      username: dadns\n      password: unused\n      timeout_seconds: 1\n", deadPort)
	dnsAddr := fmt.Sprintf("127.0.0.1:%d", dnsPort)

	n1 := startNodeWith(t, dir, httpPort, backends)
	want := pushZones(t, n1, "held", startupZones, 2026120601)
	names := sortedNames(want)
	// knot holds them too: its start-up then has zones to give knotd, and
	// runs knotc to find which it lacks.
	waitAllServed(t, "knotd", r.knot.Addr, names, 2026120601, 90*time.Second)
	waitAllServed(t, "builtin", dnsAddr, names, 2026120601, 30*time.Second)
	n1.kill()

	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	q := startAsker(dnsAddr, names)
	defer q.stop()
	start := time.Now()
	n2 := launchNode(t, dir, httpPort, backends, "", "http", http.DefaultClient)
	n2.dnsAddr = dnsAddr
	waitAllServed(t, "restarted builtin", dnsAddr, names, 2026120601, 60*time.Second)
	servedIn := time.Since(start)

	// Knot's start was still waiting on knotc when the builtin had every
	// zone: the knotc it ran is alive (exec kills it when its deadline
	// passes, and it leaves the loop only once the gate is gone).
	pid := waitingKnotc(t, entered)
	if pid == 0 {
		t.Fatalf("knot's start-up never ran knotc: the test hung nothing (%s)", n2.out)
	}
	if err := syscall.Kill(pid, 0); err != nil {
		t.Errorf("every held zone was served only after knot's start-up knotc (pid %d) had ended (%v): the builtin waited for knot", pid, err)
	}
	if err := os.Remove(gate); err != nil {
		t.Fatal(err)
	}
	n2.waitAPI(60 * time.Second)
	t.Logf("%d zones served by the builtin %.2fs after start while knot's start-up was hung; API up %.2fs after start",
		startupZones, servedIn.Seconds(), time.Since(start).Seconds())

	pushZone(t, n2, "after.example", e2eZone("after.example", 2026120602))
	waitAllServed(t, "builtin", dnsAddr, []string{"after.example"}, 2026120602, 30*time.Second)
	waitAllServed(t, "knotd", r.knot.Addr, []string{"after.example"}, 2026120602, 60*time.Second)

	q.stop()
	asked, answered, refused, _, example := q.result()
	t.Logf("%d questions asked while restarting, %d answered, %d REFUSED", asked, answered, refused)
	if refused > 0 {
		t.Errorf("%d questions about held zones answered REFUSED during the restart, e.g. %s", refused, example)
	}
	if answered == 0 {
		t.Errorf("no question answered during the restart: the test saw nothing")
	}
}

// waitAllServed waits until the server at addr answers every name's SOA
// with serial, at most within.
func waitAllServed(t *testing.T, what, addr string, names []string, serial uint32, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		missing := unserved(addr, names, serial)
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: %d of %d zones not served with serial %d after %v, e.g. %s", what, len(missing), len(names), serial, within, missing[0])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitingKnotc returns the pid of the first knotc run that found the gate
// closed (0 if none did).
func waitingKnotc(t *testing.T, entered string) int {
	t.Helper()
	b, err := os.ReadFile(entered)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	pid, err := strconv.Atoi(strings.TrimSpace(first))
	if err != nil {
		t.Fatalf("knotc pid file: %q: %v", b, err)
	}
	return pid
}
