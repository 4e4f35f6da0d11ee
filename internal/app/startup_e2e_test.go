package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// startupZones is how many zones TestBuiltinAnswersWhileKnotStartHangs
// holds.
const startupZones = 300

// TestBuiltinAnswersWhileKnotStartHangs restarts a dadns holding zones in
// the builtin, a knot backend and a coredns_mysql backend whose server is
// unreachable, with knot's start-up hung: its control connection is
// accepted but not answered (as by a knotd that accepts on its control
// socket but does not answer) until the test lets it through. Every held
// zone must be answered by the builtin while that call is still waiting,
// no question about a held zone answered REFUSED at any moment; once the
// control socket answers again, dadns finishes starting and a zone pushed
// then reaches both the builtin and knotd.
func TestBuiltinAnswersWhileKnotStartHangs(t *testing.T) {
	r := newKnotRig(t)
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	_, deadPort := freePorts(t) // nothing listens there: the unreachable MySQL server
	gate := newCtlGate(t, r.knot.Socket)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort) +
		strings.Replace(r.backendYAML(), "knot_socket: "+r.knot.Socket, "knot_socket: "+gate.socket, 1) +
		fmt.Sprintf("    mysql:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %d\n      database: dns\n"+
			"      username: dadns\n      password: unused\n      timeout_seconds: 1\n", deadPort)
	dnsAddr := fmt.Sprintf("127.0.0.1:%d", dnsPort)

	n1 := startNodeWith(t, dir, httpPort, backends)
	want := pushZones(t, n1, "held", startupZones, 2026120601)
	names := sortedNames(want)
	// knot holds them too: its start-up then has zones to give knotd, and
	// asks knotd (conf-read) which it lacks.
	waitAllServed(t, "knotd", r.knot.Addr, names, 2026120601, 90*time.Second)
	waitAllServed(t, "builtin", dnsAddr, names, 2026120601, 30*time.Second)
	n1.kill()

	gate.close()
	q := startAsker(dnsAddr, names)
	defer q.stop()
	start := time.Now()
	n2 := launchNode(t, dir, httpPort, backends, "", "http", http.DefaultClient)
	n2.dnsAddr = dnsAddr
	waitAllServed(t, "restarted builtin", dnsAddr, names, 2026120601, 60*time.Second)
	servedIn := time.Since(start)

	// Knot's start was still waiting on its control connection when the
	// builtin had every zone (the connection ends when its deadline
	// passes, or once the gate opens).
	entered, waiting := gate.counts()
	if entered == 0 {
		t.Fatalf("knot's start-up never reached knotd's control socket: the test hung nothing (%s)", n2.out)
	}
	if waiting == 0 {
		t.Errorf("every held zone was served only after knot's start-up control call had ended: the builtin waited for knot")
	}
	gate.open()
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

// ctlGate stands in front of knotd's control socket: while closed it
// accepts connections and holds them unanswered; open, it passes every
// held and later connection through to knotd.
type ctlGate struct {
	socket, target string
	mu             sync.Mutex
	shut           chan struct{} // closed when the gate opens
	entered        int           // connections accepted while closed
	waiting        int           // of those, still held
}

func newCtlGate(t *testing.T, target string) *ctlGate {
	t.Helper()
	dir, err := os.MkdirTemp("", "kgate") // a socket path is short
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	g := &ctlGate{socket: filepath.Join(dir, "ctl.sock"), target: target, shut: make(chan struct{})}
	close(g.shut) // open until close
	l, err := net.Listen("unix", g.socket)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go g.serve(c)
		}
	}()
	return g
}

func (g *ctlGate) close() {
	g.mu.Lock()
	g.shut = make(chan struct{})
	g.mu.Unlock()
}

func (g *ctlGate) open() {
	g.mu.Lock()
	close(g.shut)
	g.mu.Unlock()
}

func (g *ctlGate) counts() (entered, waiting int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.entered, g.waiting
}

func (g *ctlGate) serve(c net.Conn) {
	defer c.Close()
	// What the client sends is read at once (so that its going away is
	// seen) and kept until it can be passed on.
	chunks := make(chan []byte, 1024)
	gone := make(chan struct{})
	go func() {
		defer close(chunks)
		defer close(gone)
		for {
			b := make([]byte, 64<<10)
			n, err := c.Read(b)
			if n > 0 {
				chunks <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	g.mu.Lock()
	shut := g.shut
	held := false
	select {
	case <-shut:
	default:
		held = true
		g.entered++
		g.waiting++
	}
	g.mu.Unlock()
	if held {
		select {
		case <-shut:
		case <-gone:
		}
		g.mu.Lock()
		g.waiting--
		g.mu.Unlock()
	}
	k, err := net.Dial("unix", g.target)
	if err != nil {
		return
	}
	defer k.Close()
	go func() {
		for b := range chunks {
			if _, err := k.Write(b); err != nil {
				break
			}
		}
		_ = k.(*net.UnixConn).CloseWrite()
	}()
	_, _ = io.Copy(c, k)
}
