package app

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/testutil/slowproxy"
)

// TestSlowBackendDoesNotHoldOthers puts one coredns_mysql instance behind a
// proxy that delays every packet: the builtin backend serves a burst while
// the slow one is still behind, and the slow one converges once its link
// is fast again, with no operator action.
func TestSlowBackendDoesNotHoldOthers(t *testing.T) {
	mariadbtest.Require(t)
	dc := startDC(t, "slow_dc")
	proxy := slowproxy.Start(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(dc.srv.Port)), 250*time.Millisecond)
	_, port, _ := net.SplitHostPort(proxy.Addr())
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n"+
		"    slow_dc:\n      type: coredns_mysql\n      host: 127.0.0.1\n      port: %s\n      database: dns\n"+
		"      username: %s\n      password: %s\n      timeout_seconds: 60\n",
		dnsPort, port, mariadbtest.User, dc.srv.Password)
	n := startNodeWith(t, t.TempDir(), httpPort, backends)
	n.dnsAddr = fmt.Sprintf("127.0.0.1:%d", dnsPort)

	want := pushZones(t, n, "slow", 40, 2026050505)
	for name, serial := range want {
		waitSOASerial(t, n.dnsAddr, name, uint32(serial))
	}
	// builtin serves the whole burst; the delayed backend is still behind.
	// builtin's applied marks are recorded after it serves (they ride the
	// next write, see internal/store/sqlite), so its status may lag a moment.
	servedAt := time.Now()
	for b := backendState(t, n, "builtin"); b.Applied != len(want) || b.Behind != 0; b = backendState(t, n, "builtin") {
		if time.Since(servedAt) > 10*time.Second {
			t.Fatalf("builtin served all %d zones but its status still says %+v after 10s", len(want), b)
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Logf("builtin's status showed every zone applied %s after it served the last", time.Since(servedAt).Round(time.Millisecond))
	st := backendState(t, n, "slow_dc")
	have, err := dc.serials() // fails while the backend has not created its tables yet
	t.Logf("when builtin served all %d zones: slow backend applied %d, behind %d; %d zones in its database (%v)",
		len(want), st.Applied, st.Behind+st.Failing, countSerial(have, 2026050505), err)
	if st.Applied >= len(want) {
		t.Fatalf("the slow backend was not behind when builtin had served everything: %+v", st)
	}
	proxy.SetDelay(0)
	dc.waitConverged(t, want, 90*time.Second)
}

type backendCounts struct {
	Applied int `json:"applied"`
	Behind  int `json:"behind"`
	Failing int `json:"failing"`
}

// backendState reads one backend's counts from /status.
func backendState(t *testing.T, n *node, name string) backendCounts {
	t.Helper()
	req, _ := http.NewRequest("GET", n.httpURL+"/status", nil)
	req.SetBasicAuth("da", e2ePass)
	resp, err := n.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	var doc struct {
		Backends map[string]backendCounts `json:"backends"`
	}
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("status: %v\n%s", err, body)
	}
	b, ok := doc.Backends[name]
	if !ok {
		t.Fatalf("status has no backend %s:\n%s", name, body)
	}
	return b
}
