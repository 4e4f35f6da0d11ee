package api

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/push"
)

const (
	hostA = "da1.hostco.example"
	hostB = "da2.hostco.example"
)

func TestLoginTest(t *testing.T) {
	h := newHarness(t, nil)
	code, v := h.do("GET", "/CMD_API_LOGIN_TEST", "")
	if code != 200 || v.Get("error") != "0" || v.Get("text") != "Login OK" {
		t.Fatalf("HTTP %d %v", code, v)
	}
}

func TestExistsVariants(t *testing.T) {
	for _, ownerCheck := range []bool{true, false} {
		t.Run(fmt.Sprintf("owner_check=%v", ownerCheck), func(t *testing.T) {
			h := newHarness(t, func(o *Options, _ *push.Options) { o.SubdomainOwnerCheck = ownerCheck })
			h.push("example.net", hostA, "alice", sample(t, "example.net"))
			h.push("shop.example.net", hostB, "bob", sample(t, "shop.example.net"))
			parentReply := map[bool]url.Values{
				true:  {"error": {"0"}, "exists": {"3"}, "hostname": {hostB}, "username": {"bob"}},
				false: {"error": {"0"}, "exists": {"2"}, "details": {"Parent Domain exists on " + hostB}},
			}[ownerCheck]
			cases := []struct {
				query string
				want  url.Values
			}{
				{"domain=nothere.example", url.Values{"error": {"0"}, "exists": {"0"}}},
				{"domain=example.net", url.Values{"error": {"0"}, "exists": {"1"}, "details": {"Domain exists on " + hostA}}},
				{"domain=EXAMPLE.NET.", url.Values{"error": {"0"}, "exists": {"1"}, "details": {"Domain exists on " + hostA}}},
				{"domain=a.b.shop.example.net", url.Values{"error": {"0"}, "exists": {"0"}}},
				{"domain=a.b.shop.example.net&check_for_parent_domain=0", url.Values{"error": {"0"}, "exists": {"0"}}},
				{"domain=a.b.shop.example.net&check_for_parent_domain=false", url.Values{"error": {"0"}, "exists": {"0"}}},
				{"domain=a.b.shop.example.net&check_for_parent_domain=", url.Values{"error": {"0"}, "exists": {"0"}}},
				{"domain=a.b.shop.example.net&check_for_parent_domain=true", parentReply},
				{"domain=shop.example.net&check_for_parent_domain=1", url.Values{"error": {"0"}, "exists": {"1"}, "details": {"Domain exists on " + hostB}}},
			}
			for _, c := range cases {
				code, got := h.do("GET", "/CMD_API_DNS_ADMIN?action=exists&"+c.query, "")
				if code != 200 || got.Encode() != c.want.Encode() {
					t.Errorf("%s: HTTP %d %v, want %v", c.query, code, got, c.want)
				}
			}
			// The nearest ancestor wins: a.example.net → example.net.
			_, got := h.do("GET", "/CMD_API_DNS_ADMIN?action=exists&domain=a.example.net&check_for_parent_domain=yes", "")
			if ownerCheck && (got.Get("exists") != "3" || got.Get("hostname") != hostA || got.Get("username") != "alice") {
				t.Errorf("a.example.net: %v", got)
			}
		})
	}
}

func TestOwnershipTransfer(t *testing.T) {
	h := newHarness(t, nil)
	h.push("example.org", hostA, "alice", sample(t, "example.org"))
	h.push("example.org", hostB, "carol", sample(t, "example.org"))
	z, _ := h.get("example.org")
	if z.OwnerHost != hostB || z.OwnerUser != "carol" || z.Version != 2 {
		t.Fatalf("after transfer: owner %s/%s version %d", z.OwnerHost, z.OwnerUser, z.Version)
	}
	// A push without username from the same owner keeps the known user.
	h.push("example.org", strings.ToUpper(hostB), "", sample(t, "example.org"))
	z, _ = h.get("example.org")
	if z.OwnerUser != "carol" {
		t.Fatalf("username lost: %q", z.OwnerUser)
	}
	// The old server's delete is refused quietly.
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN", "action=delete&cluster=yes&hostname="+hostA+"&select0=example.org")
	if code != 200 || v.Get("error") != "0" {
		t.Fatalf("HTTP %d %v", code, v)
	}
	if _, ok := h.get("example.org"); !ok {
		t.Fatal("delete from the previous owner removed the zone")
	}
}

func TestDeleteGuardAndAliases(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *push.Options) {
		p.Owners = push.NewOwners(map[string][]string{hostA: {"198.51.100.7"}})
	})
	h.push("example.org", hostA, "alice", sample(t, "example.org"))
	before := h.changed
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN", "action=delete&hostname="+hostB+"&select0=example.org")
	if code != 200 || v.Get("error") != "0" {
		t.Fatalf("HTTP %d %v", code, v)
	}
	if _, ok := h.get("example.org"); !ok || h.changed != before {
		t.Fatal("delete from a foreign server changed the zone")
	}
	// The same server under its alias may delete.
	h.do("POST", "/CMD_API_DNS_ADMIN", "action=delete&hostname=198.51.100.7&select0=example.org")
	if _, ok := h.get("example.org"); ok {
		t.Fatal("delete through an alias of the owner was refused")
	}
	// Deleting an unknown zone is a no-op that still answers error=0.
	code, v = h.do("POST", "/CMD_API_DNS_ADMIN", "action=delete&hostname="+hostA+"&select0=never.example")
	if code != 200 || v.Get("error") != "0" {
		t.Fatalf("HTTP %d %v", code, v)
	}
}

func TestMultiZoneDelete(t *testing.T) {
	h := newHarness(t, nil)
	for _, d := range []string{"a.example", "b.example", "c.example", "d.example"} {
		h.push(d, hostA, "u", minimalZone(d, 1))
	}
	// DA's shape: form body, no Content-Type, no query string.
	req, _ := http.NewRequest("POST", h.srv.URL+"/CMD_API_DNS_ADMIN",
		strings.NewReader("action=delete&cluster=yes&hostname="+hostA+"&select0=a.example&select1=b.example&select2=C.EXAMPLE."))
	req.SetBasicAuth(testUser, testPass)
	req.Header.Del("Content-Type")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("HTTP %d", resp.StatusCode)
	}
	for _, d := range []string{"a.example", "b.example", "c.example"} {
		if _, ok := h.get(d); ok {
			t.Errorf("%s not deleted", d)
		}
	}
	if _, ok := h.get("d.example"); !ok {
		t.Error("d.example deleted without being named")
	}
	// The domain= form other clients send, with a form Content-Type.
	code, _ := h.do("POST", "/CMD_API_DNS_ADMIN?action=delete&domain=d.example&hostname="+hostA, "")
	if _, ok := h.get("d.example"); ok || code != 200 {
		t.Errorf("delete by domain=: HTTP %d, still present %v", code, ok)
	}
}

func TestDeleteWithInvalidNameChangesNothing(t *testing.T) {
	h := newHarness(t, nil)
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN", "action=delete&hostname="+hostA+"&select0=a.example&select1=../etc")
	if code != 400 || v.Get("error") != "1" {
		t.Fatalf("HTTP %d %v", code, v)
	}
	if _, ok := h.get("a.example"); !ok {
		t.Fatal("a refused delete removed a zone")
	}
}

func TestProbe(t *testing.T) {
	h := newHarness(t, nil)
	for _, body := range []string{"", "cluster=yes", "not a form; at all"} {
		code, v := h.do("POST", "/CMD_API_DNS_ADMIN", body)
		if code != 200 || v.Get("error") != "0" || v.Get("text") != "OK" {
			t.Errorf("probe %q: HTTP %d %v", body, code, v)
		}
	}
	if n, _ := h.st.CountLive(t.Context()); n != 0 || h.changed != 0 {
		t.Fatalf("probe changed state: %d zones, %d changes", n, h.changed)
	}
}

func TestUnknownActionAndPath(t *testing.T) {
	h := newHarness(t, nil)
	code, v := h.do("GET", "/CMD_API_DNS_ADMIN?action=explode&domain=a.example", "")
	if code != 400 || v.Get("error") != "1" || !strings.Contains(v.Get("text"), "explode") {
		t.Errorf("unknown action: HTTP %d %v", code, v)
	}
	code, v = h.do("GET", "/CMD_API_SOMETHING", "")
	if code != 404 || v.Get("error") != "1" {
		t.Errorf("unknown path: HTTP %d %v", code, v)
	}
}

func TestAuthFailures(t *testing.T) {
	h := newHarness(t, nil)
	cases := []struct{ name, user, pass string }{
		{"none", "", ""},
		{"wrong user", "admin", testPass},
		{"wrong password", testUser, "nope"},
		{"password prefix", testUser, testPass[:4]},
		{"password longer", testUser, testPass + "x"},
	}
	for _, c := range cases {
		for _, target := range []string{"/CMD_API_LOGIN_TEST", "/CMD_API_DNS_ADMIN?action=exists&domain=a.example", "/nothing"} {
			code, v := h.doAuth("GET", target, "", c.user, c.pass)
			if code != 401 || v.Get("error") != "1" {
				t.Errorf("%s %s: HTTP %d %v", c.name, target, code, v)
			}
			if strings.Contains(v.Get("text"), "password") || strings.Contains(v.Get("text"), "user") {
				t.Errorf("%s: 401 reveals detail: %q", c.name, v.Get("text"))
			}
		}
	}
	code, _ := h.doAuth("POST", "/CMD_API_DNS_ADMIN?action=rawsave&domain=a.example&hostname=x", minimalZone("a.example", 1), testUser, "bad")
	if _, ok := h.get("a.example"); ok || code != 401 {
		t.Fatal("an unauthenticated push was stored")
	}
}

func TestRefusedDomainNames(t *testing.T) {
	h := newHarness(t, nil)
	bad := []string{
		"", "../etc", "..", "a..b", ".example.com", "/abs", `a\b`, `a"; include "/etc/passwd`,
		"a b.example", "a'b.example", "a\x00b.example", "a\r\nb.example", "a\tb.example",
		strings.Repeat("a", 64) + ".example", strings.Repeat("abcdefghi.", 30) + "example",
		"bücher.example", ".",
	}
	for _, d := range bad {
		for _, action := range []string{"exists", "rawsave", "delete"} {
			q := url.Values{"action": {action}, "domain": {d}, "hostname": {hostA}}
			code, v := h.do("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), minimalZone("a.example", 1))
			if code != 400 || v.Get("error") != "1" || v.Get("text") == "" {
				t.Errorf("%s %q: HTTP %d %v", action, d, code, v)
			}
		}
	}
	if n, _ := h.st.CountLive(t.Context()); n != 0 {
		t.Fatalf("%d zones stored from refused names", n)
	}
}

func TestRefusedZonesLeaveStoredZoneUntouched(t *testing.T) {
	h := newHarness(t, nil)
	good := minimalZone("a.example", 5)
	h.push("a.example", hostA, "u", good)
	before, _ := h.get("a.example")
	soa := "@ IN SOA ns1.a.example. hostmaster.a.example. 6 3600 3600 1209600 86400\n"
	cases := []struct {
		name, text string
		want       []string // substrings of the error text
	}{
		{"no SOA", "$TTL 3600\n@ IN NS ns1.a.example.\n", []string{"SOA"}},
		{"two SOA", soa + strings.Replace(soa, " 6 ", " 7 ", 1) + "@ IN NS ns1.a.example.\n", []string{"SOA"}},
		{"no NS", "$TTL 60\n" + soa + "www IN A 192.0.2.1\n", []string{"NS"}},
		{"CNAME at apex", "$TTL 60\n" + soa + "@ IN NS ns1.a.example.\n@ IN CNAME other.example.\n", []string{"line 4", "CNAME"}},
		{"CNAME and other data", "$TTL 60\n" + soa + "@ IN NS ns1.a.example.\nwww IN CNAME x.example.\nwww IN A 192.0.2.1\n", []string{"CNAME"}},
		{"syntax error", "$TTL 60\n" + soa + "@ IN NS ns1.a.example.\nwww IN A 999.1.1.1\n", []string{"line 4"}},
		{"two problems", "$TTL 60\n" + soa + "@ IN NS ns1.a.example.\nwww IN A 999.1.1.1\nftp IN AAAA nope\n", []string{"line 4", "line 5"}},
		{"origin outside", "$TTL 60\n" + soa + "@ IN NS ns1.a.example.\n$ORIGIN evil.example.\nwww IN A 192.0.2.1\n", []string{"line 4", "ORIGIN"}},
		{"long TXT", "$TTL 60\n" + soa + "@ IN NS ns1.a.example.\n@ IN TXT \"" + strings.Repeat("x", 256) + "\"\n", []string{"line 4"}},
		{"empty", "", []string{"SOA"}},
		{"binary", "\x00\x01\x02\xff\xfe", nil},
	}
	for _, c := range cases {
		code, v := h.do("POST", "/CMD_API_DNS_ADMIN?action=rawsave&domain=a.example&hostname="+hostB, c.text)
		if code != 400 || v.Get("error") != "1" {
			t.Errorf("%s: HTTP %d %v", c.name, code, v)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(v.Get("text"), w) {
				t.Errorf("%s: error text %q lacks %q", c.name, v.Get("text"), w)
			}
		}
	}
	after, _ := h.get("a.example")
	if after != before {
		t.Fatalf("refused pushes changed the stored zone:\nbefore %+v\nafter  %+v", before, after)
	}
}

func TestSampleZonesAccepted(t *testing.T) {
	h := newHarness(t, nil)
	for _, name := range []string{"example.org", "example.net", "shop.example.net", "secure.example", "2.0.192.in-addr.arpa"} {
		h.push(name, hostA, "u", sample(t, name))
		z, ok := h.get(name)
		if !ok || z.Canonical == "" || z.Serial == 0 {
			t.Errorf("%s: stored %+v", name, z)
		}
		if name == "secure.example" && strings.Contains(z.Canonical, "INCLUDE") {
			t.Errorf("secure.example: $INCLUDE reached the canonical text")
		}
	}
}

func TestOversizeBody(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *push.Options) { o.MaxBodyBytes = 1024 })
	big := minimalZone("a.example", 1) + strings.Repeat("; padding comment\n", 100)
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN?action=rawsave&domain=a.example&hostname="+hostA, big)
	if code != 413 || v.Get("error") != "1" {
		t.Fatalf("HTTP %d %v", code, v)
	}
	// Also when the client sends no Content-Length (chunked).
	req, _ := http.NewRequest("POST", h.srv.URL+"/CMD_API_DNS_ADMIN?action=rawsave&domain=a.example&hostname="+hostA, io.MultiReader(strings.NewReader(big)))
	req.SetBasicAuth(testUser, testPass)
	req.ContentLength = -1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 413 {
		t.Fatalf("chunked oversize: HTTP %d", resp.StatusCode)
	}
	if _, ok := h.get("a.example"); ok {
		t.Fatal("oversize push stored")
	}
}

func TestZoneLimit(t *testing.T) {
	h := newHarness(t, func(_ *Options, p *push.Options) { p.MaxZones = 2 })
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	h.push("b.example", hostA, "u", minimalZone("b.example", 1))
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN?action=rawsave&domain=c.example&hostname="+hostA, minimalZone("c.example", 1))
	if code == 200 || v.Get("error") != "1" || !strings.Contains(v.Get("text"), "max_zones") {
		t.Fatalf("HTTP %d %v", code, v)
	}
	// Updating a held zone is still fine at the limit.
	h.push("a.example", hostA, "u", minimalZone("a.example", 2))
}

// TestHTTP10EmptyUserAgent speaks DA's dialect on a raw connection.
func TestHTTP10EmptyUserAgent(t *testing.T) {
	h := newHarness(t, nil)
	zoneText := minimalZone("raw.example", 1)
	conn, err := net.Dial("tcp", strings.TrimPrefix(h.srv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := "POST /CMD_API_DNS_ADMIN?action=rawsave&domain=raw.example&hostname=" + hostA + " HTTP/1.0\r\n" +
		"Authorization: Basic ZGE6czNjcmV0LXBhc3M=\r\nUser-Agent: \r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(zoneText)) + zoneText
	if _, err := io.WriteString(conn, req); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(string(body), "error=0") {
		t.Fatalf("HTTP %d %q", resp.StatusCode, body)
	}
	if _, ok := h.get("raw.example"); !ok {
		t.Fatal("zone not stored")
	}
}

func TestReplyEncoding(t *testing.T) {
	got := encodeReply([]kv{{"error", "0"}, {"details", "Domain exists on a b&c=d"}})
	if got != "error=0&details=Domain%20exists%20on%20a%20b%26c%3Dd" {
		t.Fatalf("got %q", got)
	}
}

// TestDeleteWithoutHostnameRefused: DirectAdmin always names the deleting
// server; a delete without hostname (empty or blank) is refused with
// error=1 and a reason, and no zone changes, whoever owns it.
func TestDeleteWithoutHostnameRefused(t *testing.T) {
	h := newHarness(t, nil)
	h.push("a.example", hostA, "u", minimalZone("a.example", 1))
	h.push("b.example", "", "u", minimalZone("b.example", 1)) // stored without owner
	before := h.changed
	for _, body := range []string{
		"action=delete&cluster=yes&select0=a.example",
		"action=delete&hostname=&select0=a.example&select1=b.example",
		"action=delete&hostname=%20&select0=b.example",
	} {
		code, v := h.do("POST", "/CMD_API_DNS_ADMIN", body)
		if code != 400 || v.Get("error") != "1" || !strings.Contains(v.Get("text"), "hostname") {
			t.Errorf("%s: HTTP %d %v", body, code, v)
		}
	}
	code, v := h.do("POST", "/CMD_API_DNS_ADMIN?action=delete&domain=a.example", "")
	if code != 400 || v.Get("error") != "1" {
		t.Errorf("domain= form without hostname: HTTP %d %v", code, v)
	}
	for _, d := range []string{"a.example", "b.example"} {
		if _, ok := h.get(d); !ok {
			t.Errorf("%s deleted by a delete without hostname", d)
		}
	}
	if h.changed != before {
		t.Error("a refused delete woke the backends")
	}
}

// TestDuplicateRawsaveAcknowledgedUnchanged: DirectAdmin saves a new
// domain more than once; the repeats answer error=0 and change nothing.
func TestDuplicateRawsaveAcknowledgedUnchanged(t *testing.T) {
	h := newHarness(t, nil)
	text := sample(t, "example.org")
	h.push("example.org", hostA, "alice", text)
	first, _ := h.get("example.org")
	wakes := h.changed
	for range 3 {
		h.push("example.org", hostA, "alice", text)
	}
	h.push("example.org", hostA, "", text) // username missing: the stored one stands
	if z, _ := h.get("example.org"); z.Version != first.Version || !z.Updated.Equal(first.Updated) || h.changed != wakes {
		t.Fatalf("duplicate saves changed the zone: version %d → %d, wake-ups %d → %d", first.Version, z.Version, wakes, h.changed)
	}
	h.push("example.org", hostB, "carol", text) // a migration with the same content
	if z, _ := h.get("example.org"); z.Version != first.Version+1 || z.OwnerHost != hostB || h.changed != wakes+1 {
		t.Fatalf("transfer with identical content: %+v (wake-ups %d)", z, h.changed)
	}
}
