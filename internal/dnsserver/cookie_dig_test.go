package dnsserver

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// needTool returns the path of a client binary, skipping the test when
// it is missing (failing it under CI=true).
func needTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing and CI=true", name)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

var (
	cookieRE = regexp.MustCompile(`(?i); COOKIE: ([0-9a-f]+)`)
	statusRE = regexp.MustCompile(`status: ([A-Z]+)`)
)

// digCookie runs dig (or kdig) with +cookie[=cookie] and returns the
// status and the COOKIE the server sent.
func digCookie(t *testing.T, tool string, port int, cookie string) (status, got string) {
	t.Helper()
	arg := "+cookie"
	if cookie != "" {
		arg += "=" + cookie
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	args := []string{"@127.0.0.1", "-p", fmt.Sprint(port), arg, "+nobadcookie", "+norec", "+tries=1", "+timeout=2", "www.example.test.", "A"}
	if strings.HasSuffix(tool, "kdig") {
		args = []string{"@127.0.0.1", "-p", fmt.Sprint(port), arg, "+norec", "+retry=0", "+timeout=2", "www.example.test.", "A"}
	}
	out, err := exec.CommandContext(ctx, tool, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", tool, err, out)
	}
	if os.Getenv("DIG_DEBUG") != "" {
		t.Logf("%s", out)
	}
	if m := statusRE.FindSubmatch(out); m != nil {
		status = string(m[1])
	}
	if m := cookieRE.FindSubmatch(out); m != nil {
		got = strings.ToLower(string(m[1])) // kdig prints upper case
	}
	return status, got
}

// TestCookieRoundTripDig: dig +cookie gets a 24-byte cookie back; sent
// again with dig +cookie=<client+server>, that server cookie is accepted.
// RRL (1 answer a second, slip 1) shows it: a client with only a client
// cookie is answered BADCOOKIE once over the rate, one with the server
// cookie every time.
func TestCookieRoundTripDig(t *testing.T) {
	for _, name := range []string{"dig", "kdig"} {
		t.Run(name, func(t *testing.T) {
			tool := needTool(t, name)
			s := New(Options{Logger: quietLogger(), Cookies: &CookieOptions{}, RRL: &RRLOptions{ResponsesPerSecond: 1, Slip: 1, Window: 30}})
			s.Apply([]*Zone{mustZone(t, "example.test.", "$TTL 300\n@ SOA ns.example.test. h.example.test. 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.250\nwww A 192.0.2.2\n")}, nil)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			udp, _, err := s.Listen(ctx, "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			port := udp.(*net.UDPAddr).Port
			status, full := digCookie(t, tool, port, "")
			if status != "NOERROR" || len(full) != 48 {
				t.Fatalf("first query: status %s, cookie %q (want client+server, 48 hex digits)", status, full)
			}
			client := full[:16]
			badcookie := 0
			for range 4 {
				if st, _ := digCookie(t, tool, port, client); st == "BADCOOKIE" {
					badcookie++
				}
			}
			if badcookie == 0 {
				t.Fatal("client cookie only, over the rate: no BADCOOKIE")
			}
			for i := range 6 {
				st, back := digCookie(t, tool, port, full)
				if st != "NOERROR" || back[:16] != client {
					t.Fatalf("query %d with the server cookie: status %s, cookie %q", i, st, back)
				}
			}
			st, _ := s.RRLStats()
			t.Logf("%s: cookie %s; BADCOOKIE %d of 4 without the server cookie, 6/6 answered with it; rrl %+v", name, full, badcookie, st)
		})
	}
}
