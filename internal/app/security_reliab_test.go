package app

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// bigZone is a valid zone of about 30 KB (extra A records).
func bigZone(name string, serial int) string {
	var b strings.Builder
	b.WriteString(e2eZone(name, serial))
	for i := range 1000 {
		fmt.Fprintf(&b, "h%d\t3600\tIN\tA\t192.0.2.%d\n", i, i%250+1)
	}
	return b.String()
}

// daRequest sends one authenticated DA request and returns status and the
// decoded reply.
func daRequest(t *testing.T, c *http.Client, baseURL, method, target, body string) (int, url.Values) {
	t.Helper()
	req, err := http.NewRequest(method, baseURL+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("da", e2ePass)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	v, _ := url.ParseQuery(string(raw))
	return resp.StatusCode, v
}

func rawsaveTarget(name string) string {
	return "/CMD_API_DNS_ADMIN?" + url.Values{"action": {"rawsave"}, "domain": {name}, "hostname": {"da1.example"}}.Encode()
}

// TestFullStoreRefusesPushes fills a node whose database is capped at
// 1 MB (datastore.max_size_mb), as a full disk would: the push that does
// not fit is answered error=1 (HTTP 503, which DirectAdmin shows) and is
// neither stored nor served; every push acknowledged before stays served,
// and reads (exists) keep working.
func TestFullStoreRefusesPushes(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	n := startNodeApp(t, dir, httpPort, backends, "datastore:\n  max_size_mb: 1\n", "http", http.DefaultClient)
	dnsAddr := fmt.Sprintf("127.0.0.1:%d", dnsPort)
	c := daClient()
	var acked []string
	refusedN := 0
	for i := 0; i < 200 && refusedN < 5; i++ {
		name := fmt.Sprintf("f%d.full.example", i)
		code, v := daRequest(t, c, n.httpURL, "POST", rawsaveTarget(name), bigZone(name, 100+i))
		if code == 200 && v.Get("error") == "0" {
			if refusedN > 0 {
				t.Fatalf("%s acknowledged after the store was full", name)
			}
			acked = append(acked, name)
			continue
		}
		refusedN++
		if code != http.StatusServiceUnavailable || v.Get("error") != "1" || !strings.Contains(v.Get("text"), "not saved") {
			t.Fatalf("%s on a full store: HTTP %d %v, want 503 error=1 saying it was not saved", name, code, v)
		}
		if code, _ := daRequest(t, c, n.httpURL, "GET", "/CMD_API_DNS_ADMIN?action=exists&domain="+name, ""); code != 200 {
			t.Fatalf("exists on a full store: HTTP %d", code)
		}
		if v := zoneStatus(t, c, n.httpURL, name); v != http.StatusNotFound {
			t.Fatalf("refused zone %s: admin API HTTP %d, want 404", name, v)
		}
		waitRefused(t, dnsAddr, name)
	}
	if refusedN == 0 || len(acked) == 0 {
		t.Fatalf("acknowledged %d, refused %d: the cap never bit", len(acked), refusedN)
	}
	for i, name := range acked {
		waitSOASerial(t, dnsAddr, name, uint32(100+i))
	}
	summary := fmt.Sprintf("full: pushes sent %d, acknowledged %d (all served), refused with error=1 %d (none stored or served)",
		len(acked)+refusedN, len(acked), refusedN)
	t.Log(summary)
	fmt.Println(summary)
}

// zoneStatus returns the admin API's status code for GET /api/v1/zones/NAME.
func zoneStatus(t *testing.T, c *http.Client, baseURL, name string) int {
	t.Helper()
	req, _ := http.NewRequest("GET", baseURL+"/api/v1/zones/"+name, nil)
	req.SetBasicAuth("da", e2ePass)
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// slowConn opens a connection and sends the start of a request, then
// stalls (or drips one byte at a time, which must not help).
func slowConn(t *testing.T, addr, start string, drip bool) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	if _, err := io.WriteString(conn, start); err != nil {
		t.Fatal(err)
	}
	if drip {
		go func() {
			for range 300 {
				if _, err := conn.Write([]byte("X")); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}()
	}
	return conn
}

// cutOff reports whether the server ended a slow connection: it closed it,
// or answered an error; false when it was still holding it after 30 s (a
// bound far past the 1–2 s timeouts, not a timing assertion).
func cutOff(conn net.Conn) (bool, string) {
	_ = conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	var ne net.Error
	switch {
	case err == nil:
		resp.Body.Close()
		return resp.StatusCode >= 400, resp.Status
	case errors.As(err, &ne) && ne.Timeout():
		return false, "still open"
	default:
		return true, err.Error() // EOF or reset: closed by the server
	}
}

// TestSlowClientsAreCutOff holds slow-loris connections (headers never
// finished, dripped, or a body that stalls) against a node with short
// app.read_header_timeout_seconds / app.read_timeout_seconds: a normal push
// still gets through meanwhile, and the server ends every slow connection
// by itself; the stalled push is not stored.
func TestSlowClientsAreCutOff(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	n := startNodeApp(t, dir, httpPort, backends, "  read_header_timeout_seconds: 1\n  read_timeout_seconds: 2\n", "http", http.DefaultClient)
	addr := strings.TrimPrefix(n.httpURL, "http://")
	auth := "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("da:"+e2ePass)) + "\r\n"
	body := e2eZone("slow.example", 5)
	var conns []net.Conn
	for i := range 30 {
		switch i % 3 {
		case 0: // headers never finished
			conns = append(conns, slowConn(t, addr, "POST /CMD_API_DNS_ADMIN HTTP/1.1\r\nHost: x\r\n", false))
		case 1: // headers dripped a byte at a time
			conns = append(conns, slowConn(t, addr, "GET /CMD_API_LOGIN_TEST HTTP/1.1\r\nHost: x\r\nX-Drip: ", true))
		case 2: // a push whose body stalls half-way
			start := "POST " + rawsaveTarget("slow.example") + " HTTP/1.1\r\nHost: x\r\n" + auth +
				fmt.Sprintf("Content-Length: %d\r\n\r\n", len(body)) + body[:len(body)/2]
			conns = append(conns, slowConn(t, addr, start, false))
		}
	}
	c := daClient()
	code, v := daRequest(t, c, n.httpURL, "POST", rawsaveTarget("fast.example"), e2eZone("fast.example", 9))
	if code != 200 || v.Get("error") != "0" {
		t.Fatalf("a push while slow clients hold connections: HTTP %d %v", code, v)
	}
	for i, conn := range conns {
		if ok, how := cutOff(conn); !ok {
			t.Fatalf("slow connection %d (kind %d) not cut off: %s", i, i%3, how)
		}
	}
	if s := zoneStatus(t, c, n.httpURL, "slow.example"); s != http.StatusNotFound {
		t.Fatalf("the stalled push was stored: admin API HTTP %d", s)
	}
	summary := fmt.Sprintf("slowloris: slow connections %d, cut off by the server %d; concurrent push acknowledged", len(conns), len(conns))
	t.Log(summary)
	fmt.Println(summary)
}

// TestCredentialsNeverLogged runs a node at debug level and sends it
// right and wrong DirectAdmin and admin credentials until it refuses the
// client (429): the refusals are logged, but no password, tried or real,
// appears in its output or in any reply.
func TestCredentialsNeverLogged(t *testing.T) {
	const adminPass = "Adm1n-Secret-Pw-77"
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 127.0.0.1:%d\n", dnsPort)
	n := startNodeApp(t, dir, httpPort, backends,
		"  admin_username: ops\n  admin_password: "+adminPass+"\nlog_level: debug\n", "http", http.DefaultClient)
	c := daClient()
	secrets := []string{e2ePass, adminPass}
	var replies strings.Builder
	send := func(method, target, user, pass, body string) int {
		req, _ := http.NewRequest(method, n.httpURL+target, strings.NewReader(body))
		req.SetBasicAuth(user, pass)
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		replies.Write(raw)
		for k, vs := range resp.Header {
			replies.WriteString(k + ": " + strings.Join(vs, ",") + "\n")
		}
		return resp.StatusCode
	}
	// Accepted requests with the real credentials.
	if code := send("GET", "/CMD_API_LOGIN_TEST", "da", e2ePass, ""); code != 200 {
		t.Fatalf("login test: HTTP %d", code)
	}
	if code := send("POST", rawsaveTarget("cred.example"), "da", e2ePass, e2eZone("cred.example", 3)); code != 200 {
		t.Fatalf("push: HTTP %d", code)
	}
	if code := send("GET", "/status", "ops", adminPass, ""); code != 200 {
		t.Fatalf("status with the admin credentials: HTTP %d", code)
	}
	// Failures until the limiter refuses this address.
	tried, got429 := 0, false
	for i := 0; i < 40 && !got429; i++ {
		guess := fmt.Sprintf("guess-%02d-Zq9x", i)
		secrets = append(secrets, guess)
		var code int
		switch i % 4 {
		case 0:
			code = send("GET", "/CMD_API_LOGIN_TEST", "da", guess, "")
		case 1:
			code = send("POST", rawsaveTarget("cred.example"), guess, e2ePass, e2eZone("cred.example", 4)) // password right, user wrong
		case 2:
			code = send("GET", "/status", "ops", guess, "")
		case 3:
			code = send("GET", "/status", "da", e2ePass, "") // DA credentials on an admin endpoint
		}
		tried++
		switch code {
		case http.StatusUnauthorized:
		case http.StatusTooManyRequests:
			got429 = true
		default:
			t.Fatalf("wrong credentials %d: HTTP %d", i, code)
		}
	}
	if !got429 {
		t.Fatalf("%d failed logins from one address, never refused with 429", tried)
	}
	if code := send("GET", "/CMD_API_LOGIN_TEST", "da", e2ePass, ""); code != http.StatusTooManyRequests {
		t.Fatalf("right credentials from a refused address: HTTP %d, want 429", code)
	}
	n.kill()
	out := n.out.String()
	for _, want := range []string{"authentication failed", "now refused", "too many failed logins"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, s := range secrets {
		for _, form := range []string{s, base64.StdEncoding.EncodeToString([]byte("da:" + s)), url.QueryEscape(s)} {
			if strings.Contains(out, form) {
				t.Errorf("the log contains a password (%q)", form)
			}
			if strings.Contains(replies.String(), form) {
				t.Errorf("a reply contains a password (%q)", form)
			}
		}
	}
	if dataDirLeaks(t, dir, e2ePass) {
		t.Error("the configured password was written to the data directory")
	}
	summary := fmt.Sprintf("auth: wrong logins tried %d, refused 401 then 429; log lines %d, passwords found in logs or replies 0",
		tried, strings.Count(out, "\n"))
	t.Log(summary)
	fmt.Println(summary)
}

// dataDirLeaks reports whether a file in the node's data directory other
// than the database holds secret.
func dataDirLeaks(t *testing.T, dir, secret string) bool {
	t.Helper()
	entries, err := os.ReadDir(dir + "/data")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "dadns.db") || e.IsDir() {
			continue
		}
		b, err := os.ReadFile(dir + "/data/" + e.Name())
		if err == nil && strings.Contains(string(b), secret) {
			return true
		}
	}
	return false
}

// TestSQLMetacharactersServedVerbatim pushes TXT data full of SQL syntax:
// it is stored and served byte for byte, and nothing else changes.
func TestSQLMetacharactersServedVerbatim(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	n := startNode(t, dir, httpPort, dnsPort)
	txts := []struct{ literal, value string }{
		{`"'; DROP TABLE zones; --"`, `'; DROP TABLE zones; --`},
		{`"\" OR \"1\"=\"1"`, `" OR "1"="1`},
		{`"Robert'); DELETE FROM zones WHERE ('1'='1"`, `Robert'); DELETE FROM zones WHERE ('1'='1`},
		{`"%_ LIKE '%' ESCAPE '\\'"`, `%_ LIKE '%' ESCAPE '\'`},
		{`"0x00; UPDATE backend_state SET state='applied'"`, `0x00; UPDATE backend_state SET state='applied'`},
	}
	body := e2eZone("sql.example", 11)
	for i, x := range txts {
		body += fmt.Sprintf("t%d\t3600\tIN\tTXT\t%s\n", i, x.literal)
	}
	c := daClient()
	if code, v := daRequest(t, c, n.httpURL, "POST", rawsaveTarget("sql.example"), body); code != 200 || v.Get("error") != "0" {
		t.Fatalf("push: HTTP %d %v", code, v)
	}
	waitSOASerial(t, n.dnsAddr, "sql.example", 11)
	for i, x := range txts {
		m := new(dns.Msg)
		m.SetQuestion(fmt.Sprintf("t%d.sql.example.", i), dns.TypeTXT)
		r, err := dns.Exchange(m, n.dnsAddr)
		if err != nil || len(r.Answer) != 1 {
			t.Fatalf("TXT t%d: %v %v", i, r, err)
		}
		// miekg/dns keeps TXT strings in presentation form (\" and \\
		// escaped, as written in the zone); the wire carries the value.
		if got := r.Answer[0].(*dns.TXT).Txt; len(got) != 1 || got[0] != x.literal[1:len(x.literal)-1] {
			t.Errorf("TXT t%d served %q, pushed %s", i, got, x.literal)
		}
		wire, err := r.Pack()
		if err != nil || !bytes.Contains(wire, append([]byte{byte(len(x.value))}, x.value...)) {
			t.Errorf("TXT t%d: the reply does not carry the string %q byte for byte", i, x.value)
		}
	}
	live := liveZones(t, c, n.httpURL)
	if len(live) != 1 || live["sql.example"] != 11 {
		t.Fatalf("zones after the push: %v", live)
	}
	n.kill()
	checkStoredTexts(t, dir, live, func(string, uint32) string { return body })
	fmt.Printf("sql: TXT strings with SQL syntax pushed %d, served verbatim %d\n", len(txts), len(txts))
}
