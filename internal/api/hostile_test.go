package api

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/store"
)

// The tests here extend api_test.go's refusals with hostile input: each is
// answered with a 4xx and error=1 and leaves the store exactly as it was.
// Every test prints how many inputs it tried.

// snapshot is what the store holds, compared before and after hostile input.
func (h *harness) snapshot() map[string]store.Zone {
	h.t.Helper()
	all, err := h.st.List(h.t.Context())
	if err != nil {
		h.t.Fatal(err)
	}
	out := map[string]store.Zone{}
	for _, z := range all {
		full, _ := h.get(z.Name)
		out[z.Name] = full
	}
	return out
}

// unchanged fails the test unless the store still holds exactly before and
// no change reached the dispatcher.
func (h *harness) unchanged(before map[string]store.Zone, changed int) {
	h.t.Helper()
	after := h.snapshot()
	if len(after) != len(before) {
		h.t.Fatalf("store holds %d zones, held %d before the hostile input", len(after), len(before))
	}
	for name, z := range before {
		if a := after[name]; a != z {
			h.t.Fatalf("zone %s changed: serial %d→%d, version %d→%d, hash %.12s→%.12s",
				name, z.Serial, a.Serial, z.Version, a.Version, z.Hash, a.Hash)
		}
	}
	if h.changed != changed {
		h.t.Fatalf("hostile input woke the dispatcher %d times", h.changed-changed)
	}
}

// status sends an authenticated request and returns only its status code
// (the admin API answers JSON, not DA's form encoding).
func (h *harness) status(method, target string) int {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+target, nil)
	if err != nil {
		h.t.Fatal(err)
	}
	req.SetBasicAuth(testUser, testPass)
	resp, err := h.srv.Client().Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// refused fails unless a reply is a 4xx carrying error=1 and a text.
func refused(t *testing.T, what string, code int, v url.Values) {
	t.Helper()
	if code < 400 || code > 499 || v.Get("error") != "1" || v.Get("text") == "" {
		t.Errorf("%s: HTTP %d %v, want a 4xx with error=1 and a reason", what, code, v)
	}
}

func TestHostileDomainNames(t *testing.T) {
	h := newHarness(t, nil)
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	before, changed := h.snapshot(), h.changed
	bad := []string{
		"../etc", "../../etc/passwd", "a.example/../../etc", "/abs", "/etc/passwd", `C:\windows`,
		`a"; include "/etc/passwd`, `a.example"; };`, "a.example;rm -rf /", "$(reboot).example",
		"a`id`.example", "a|b.example", "a&b.example", "a=b.example", "a%00.example", "a.example\x00.evil",
		"\x00", "a.example\r\nX-Injected: 1", "a\rb.example", "a\nb.example", "a\x7fb.example",
		strings.Repeat("a", 300), strings.Repeat("a.", 150), strings.Repeat("x", 63) + "." + strings.Repeat("y", 200),
		"bücher.example", "пример.example", "a\u202eb.example", "\xff\xfe.example", "example.com\xc0\xae",
		"*.example", "a..example", "..",
	}
	tried := 0
	for _, d := range bad {
		for _, action := range []string{"exists", "rawsave", "delete"} {
			q := url.Values{"action": {action}, "domain": {d}, "hostname": {hostA}}
			code, v := h.do("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), minimalZone("a.example", 2))
			refused(t, fmt.Sprintf("%s %q", action, d), code, v)
			tried++
		}
		// DA's delete form, the name in select1 beside a valid one.
		body := url.Values{"action": {"delete"}, "hostname": {hostA}, "select0": {"a.example"}, "select1": {d}}
		code, v := h.do("POST", "/CMD_API_DNS_ADMIN", body.Encode())
		refused(t, fmt.Sprintf("delete select1 %q", d), code, v)
		// The admin API takes names from the path.
		code = h.status("GET", "/api/v1/zones/"+url.PathEscape(d))
		if code != http.StatusBadRequest && code != http.StatusNotFound {
			t.Errorf("admin GET %q: HTTP %d", d, code)
		}
		tried += 2
	}
	h.unchanged(before, changed)
	t.Logf("hostile domain names: %d requests refused", tried)
	fmt.Printf("hostile: domain names tried %d, refused %d\n", tried, tried)
}

// TestHostileMethods: DirectAdmin sends GET and POST only. Other methods
// change nothing, whatever their parameters say.
func TestHostileMethods(t *testing.T) {
	h := newHarness(t, nil)
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	before, changed := h.snapshot(), h.changed
	targets := []string{
		"/CMD_API_DNS_ADMIN?action=rawsave&domain=a.example&hostname=" + hostA,
		"/CMD_API_DNS_ADMIN?action=delete&select0=a.example&hostname=" + hostA,
		"/CMD_API_DNS_ADMIN?action=rawsave&domain=b.example&hostname=" + hostA,
	}
	tried := 0
	for _, m := range []string{"PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "PROPFIND", "CONNECTX"} {
		for _, target := range targets {
			code, v := h.do(m, target, minimalZone("a.example", 9))
			refused(t, m+" "+target, code, v)
			tried++
		}
	}
	// A GET cannot carry a zone: a GET rawsave stores nothing.
	code, v := h.do("GET", targets[2], "")
	refused(t, "GET rawsave", code, v)
	h.unchanged(before, changed)
	fmt.Printf("hostile: methods tried %d, refused %d\n", tried+1, tried+1)
}

// countingReader produces n bytes of zone-looking filler lazily and counts
// how many were read, so a test can tell the server stopped reading early.
type countingReader struct {
	left int64
	read atomic.Int64
}

func (r *countingReader) Read(p []byte) (int, error) {
	if r.left <= 0 {
		return 0, io.EOF
	}
	n := int64(len(p))
	n = min(n, r.left)
	for i := range p[:n] {
		p[i] = "www IN A 192.0.2.1\n"[(r.read.Load()+int64(i))%19]
	}
	r.left -= n
	r.read.Add(n)
	return int(n), nil
}

// TestHugeBodiesRefusedUnread streams 100 MB bodies, with and without a
// Content-Length: the server answers 413 after reading at most a little
// past its limit, and stores nothing.
func TestHugeBodiesRefusedUnread(t *testing.T) {
	h := newHarness(t, nil) // default limit, 4 MiB
	before, changed := h.snapshot(), h.changed
	const size = 100 << 20
	for _, chunked := range []bool{false, true} {
		body := &countingReader{left: size}
		req, _ := http.NewRequest("POST", h.srv.URL+"/CMD_API_DNS_ADMIN?action=rawsave&domain=big.example&hostname="+hostA, body)
		req.SetBasicAuth(testUser, testPass)
		req.ContentLength = size
		if chunked {
			req.ContentLength = -1
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			// The server may close while the client still writes; the
			// reply is then lost, but the byte count below still holds.
			t.Logf("chunked=%v: %v", chunked, err)
		} else {
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			v, _ := url.ParseQuery(string(raw))
			if resp.StatusCode != http.StatusRequestEntityTooLarge || v.Get("error") != "1" {
				t.Errorf("chunked=%v: HTTP %d %q, want 413 error=1", chunked, resp.StatusCode, raw)
			}
		}
		if got := body.read.Load(); got > 3*DefaultMaxBodyBytes {
			t.Errorf("chunked=%v: the client got to send %d bytes of a 100 MB body; the server kept reading", chunked, got)
		} else {
			t.Logf("chunked=%v: %d of %d bytes sent before the refusal", chunked, got, size)
		}
	}
	h.unchanged(before, changed)
	fmt.Printf("hostile: 100 MB bodies tried 2, refused 2\n")
}

// TestHostileZoneBodies sends bodies built to be expensive or confusing;
// each is refused with a reason, quickly enough that the test's bounded
// run notices nothing, and the stored zone stays as it was.
func TestHostileZoneBodies(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *push.Options) { o.MaxBodyBytes = 64 << 20 })
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	before, changed := h.snapshot(), h.changed
	head := "$TTL 3600\n@ IN SOA ns1.a.example. hostmaster.a.example. 2 3600 3600 1209600 86400\n@ IN NS ns1.a.example.\n"
	million := []byte(head)
	for i := range 1_000_000 {
		million = append(million, 'h')
		million = strconv.AppendInt(million, int64(i), 10)
		million = append(million, " IN A 192.0.2.1\n"...)
	}
	cases := []struct {
		name, body string
		want       string // substring of the reason, when it is predictable
	}{
		{"a million records", string(million), "more than 50000 records"},
		{"$GENERATE storm", head + strings.Repeat("$GENERATE 1-65535 g$ A 192.0.2.1\n", 200), "more than 50000 records"},
		{"$GENERATE huge range", head + "$GENERATE 0-4294967295 g$ A 192.0.2.1\n", ""},
		{"$GENERATE bad modifier", head + "$GENERATE 1-10 g${0,99999999999,x} A 192.0.2.1\n", ""},
		{"unbalanced parentheses", head + "www IN A ( 192.0.2.1\n" + strings.Repeat("x IN A 192.0.2.1\n", 1000), ""},
		{"binary", "\x00\x01\x02\x03\xff\xfe\xfd" + strings.Repeat("\x00", 10000), ""},
		{"invalid UTF-8 owner", head + "\xff\xfe IN A 192.0.2.1\n", ""},
		{"invalid UTF-8 type", head + "www IN \xc0\xaf 192.0.2.1\n", ""},
		{"NUL inside a record", head + "www IN A 192.0\x00.2.1\n", ""},
		{"only comments", strings.Repeat("; nothing here\n", 10000), "SOA"},
		{"SOA of another zone", strings.Replace(head, "@ IN SOA", "evil.example. IN SOA", 1), ""},
		{"$ORIGIN elsewhere", head + "$ORIGIN example.com.\nwww IN A 192.0.2.1\n", "ORIGIN"},
		{"very long line", head + "www IN TXT \"" + strings.Repeat("y", 1<<20) + "\"\n", ""},
		{"100k labels deep", head + strings.Repeat("a.", 100000) + " IN A 192.0.2.1\n", ""},
	}
	for _, c := range cases {
		start := time.Now()
		code, v := h.do("POST", "/CMD_API_DNS_ADMIN?action=rawsave&domain=a.example&hostname="+hostA, c.body)
		refused(t, c.name, code, v)
		if c.want != "" && !strings.Contains(v.Get("text"), c.want) {
			t.Errorf("%s: reason %q lacks %q", c.name, v.Get("text"), c.want)
		}
		if len(v.Get("text")) > 8192 {
			t.Errorf("%s: a reason of %d bytes; DirectAdmin shows it to a person", c.name, len(v.Get("text")))
		}
		t.Logf("%-24s %8d bytes refused in %v: %.120s", c.name, len(c.body), time.Since(start).Round(time.Millisecond), v.Get("text"))
	}
	h.unchanged(before, changed)
	fmt.Printf("hostile: zone bodies tried %d, refused %d\n", len(cases), len(cases))
}

// TestNestedParenthesesAreCheap: BIND 9.18 accepts nested parentheses
// (named-checkzone loads `www IN TXT ((("x")))`), and so does dadns; a
// hundred thousand levels cost no more than reading them, and mean the
// same as one.
func TestNestedParenthesesAreCheap(t *testing.T) {
	h := newHarness(t, nil)
	deep := strings.Repeat("(", 100000) + "\"x\"" + strings.Repeat(")", 100000)
	h.push("a.example", hostA, "u", minimalZone("a.example", 1)+"txt IN TXT "+deep+"\n")
	z, _ := h.get("a.example")
	if !strings.Contains(z.Canonical, "txt.a.example.\t3600\tIN\tTXT\t\"x\"\n") {
		t.Fatalf("nested parentheses changed the record's meaning:\n%.400s", z.Canonical)
	}
}

// TestForeignRecordsNeverStored: records for other zones inside a pushed
// zone are dropped (with a warning), as the README says, so they can never
// shadow or create another zone.
func TestForeignRecordsNeverStored(t *testing.T) {
	h := newHarness(t, nil)
	body := minimalZone("a.example", 3) + "victim.example. IN A 203.0.113.66\nwww.victim.example. 60 IN A 203.0.113.66\nexample. IN NS evil.example.\n"
	h.push("a.example", hostA, "u", body)
	z, _ := h.get("a.example")
	if strings.Contains(z.Canonical, "victim") || strings.Contains(z.Canonical, "evil") {
		t.Fatalf("foreign records reached the stored zone:\n%s", z.Canonical)
	}
	for _, name := range []string{"victim.example", "example"} {
		if _, ok := h.get(name); ok {
			t.Fatalf("zone %s created by another zone's push", name)
		}
	}
}

// TestSQLMetacharactersStoredVerbatim: zone data is never part of SQL text.
func TestSQLMetacharactersStoredVerbatim(t *testing.T) {
	h := newHarness(t, nil)
	txts := []string{`'; DROP TABLE zones; --`, `\" OR 1=1 --`, `Robert'); DELETE FROM zones;--`, `%_*?\\`, "`; SELECT 1`"}
	body := minimalZone("sql.example", 4)
	for i, s := range txts {
		body += fmt.Sprintf("t%d IN TXT \"%s\"\n", i, s)
	}
	h.push("sql.example", hostA, "o'brien\"; --", body)
	z, ok := h.get("sql.example")
	if !ok || z.Original != body || z.OwnerUser != "o'brien\"; --" {
		t.Fatalf("stored %+v", z)
	}
	for _, s := range txts {
		if !strings.Contains(z.Canonical, s) {
			t.Errorf("canonical text lacks %q", s)
		}
	}
	if n, _ := h.st.CountLive(t.Context()); n != 1 {
		t.Fatalf("%d zones live after the push", n)
	}
}
