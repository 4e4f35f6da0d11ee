package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/freeport"
)

// fakeDA answers rawsave like dadns, refusing one zone, and checks that
// every request is what DirectAdmin sends.
func fakeDA(t *testing.T, zones []*benchZone, refuse string) *httptest.Server {
	texts := map[string]string{}
	for _, z := range zones {
		texts[z.name] = z.text()
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		q := r.URL.Query()
		body, _ := io.ReadAll(r.Body)
		switch {
		case r.Proto != "HTTP/1.0" || r.Method != "POST" || r.URL.Path != "/CMD_API_DNS_ADMIN":
			t.Errorf("request %s %s %s, want DirectAdmin's HTTP/1.0 POST", r.Proto, r.Method, r.URL.Path)
		case !ok || user != "bench" || pass != "pw":
			t.Errorf("auth %q/%q, want bench/pw", user, pass)
		case q.Get("action") != "rawsave" || q.Get("hostname") != daHostname || q.Get("username") != daUsername:
			t.Errorf("query %q", r.URL.RawQuery)
		case string(body) != texts[q.Get("domain")]:
			t.Errorf("zone %s: body is not the zone's text", q.Get("domain"))
		}
		if q.Get("domain") == refuse {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, "error=1&text=line%203%3A%20bad%20record")
			return
		}
		fmt.Fprint(w, "error=0&text=Zone%20saved")
	}))
}

func TestPushAllCountsAcksAndRefusals(t *testing.T) {
	zones := generateZones(2, 40)
	srv := fakeDA(t, zones, zones[5].name)
	defer srv.Close()
	da := newDAClient(strings.TrimPrefix(srv.URL, "http://"), "bench", "pw")
	acked := make(chan int, len(zones))
	st := pushAll(context.Background(), da, zones, 4, acked)
	got := map[int]bool{}
	for i := range acked {
		got[i] = true
	}
	if len(got) != len(zones)-1 || got[5] {
		t.Fatalf("acked %d zones (zone 5 among them: %t), want all %d but zone 5", len(got), got[5], len(zones)-1)
	}
	if st.refused != 1 || st.failed != 0 || len(st.latency) != len(zones)-1 || len(st.ackedAt) != len(zones)-1 {
		t.Fatalf("refused %d, failed %d, latencies %d, acks %d", st.refused, st.failed, len(st.latency), len(st.ackedAt))
	}
	if len(st.firstErrs) != 1 || !strings.Contains(st.firstErrs[0].Error(), "HTTP 400: error=1 text=line 3: bad record") {
		t.Fatalf("refusal reported as %v", st.firstErrs)
	}
	if !st.last.After(st.start) {
		t.Fatal("last reply not after the first push")
	}
}

func TestCheckReply(t *testing.T) {
	for _, tc := range []struct {
		status int
		body   string
		ok     bool
	}{
		{200, "error=0&text=Zone%20saved", true},
		{200, "error=1&text=nope", false},
		{400, "error=1&text=bad", false},
		{401, "", false},
		{500, "error=0", false},
	} {
		if err := checkReply("op", tc.status, tc.body); (err == nil) != tc.ok {
			t.Errorf("HTTP %d %q: err %v, want ok %t", tc.status, tc.body, err, tc.ok)
		}
	}
}

func TestPushAllWithoutServerCountsNoReply(t *testing.T) {
	var pp freeport.Picker
	port, err := pp.Next() // nothing listens there
	if err != nil {
		t.Fatal(err)
	}
	zones := generateZones(2, 3)
	acked := make(chan int, len(zones))
	st := pushAll(context.Background(), newDAClient(loopback(port), "bench", "pw"), zones, 2, acked)
	if st.failed != 3 || st.refused != 0 || len(st.latency) != 0 {
		t.Fatalf("failed %d, refused %d, accepted %d; want 3 failed", st.failed, st.refused, len(st.latency))
	}
	if _, open := <-acked; open {
		t.Fatal("a zone was acknowledged without a server")
	}
}
