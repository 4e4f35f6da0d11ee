package corednstest

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/backend/corednsmysql"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
	"github.com/dadns/dadns/internal/zone"
)

// TestRepoPins: the image pins a CoreDNS release and a release of the
// plugin (a tag the proxy and checksum database keep), not a bare commit.
func TestRepoPins(t *testing.T) {
	src, err := RepoSource()
	if err != nil {
		t.Fatal(err)
	}
	release := regexp.MustCompile(`^v\d+\.\d+\.\d+$`)
	if !release.MatchString(src.Pins.CoreDNS) || !release.MatchString(src.Pins.MySQLPlugin) {
		t.Fatalf("pins %+v: want release tags vX.Y.Z", src.Pins)
	}
	if _, err := ReadPins([]byte("FROM scratch\nARG COREDNS_VERSION=v1.15.0\n")); err == nil {
		t.Fatal("a Dockerfile without MYSQL_PLUGIN_VERSION read as pinned")
	}
}

// TestClassify sorts the go command's failures: the proxy unreachable or
// refusing (skip), a version it does not have (the pin rotted), anything
// else (the build broke).
func TestClassify(t *testing.T) {
	cases := []struct {
		out  string
		want error
	}{
		{"go: github.com/cybercinch/coredns_mysql_extend@v0.2.4: reading https://proxy.golang.org/github.com/cybercinch/coredns_mysql_extend/@v/v0.2.4.info: 403 Forbidden\n\tserver response: This module version is not available.", ErrUnavailable},
		{"go: github.com/coredns/coredns@v1.15.0: Get \"https://proxy.golang.org/...\": dial tcp: lookup proxy.golang.org: no such host", ErrUnavailable},
		{"go: github.com/cybercinch/coredns_mysql_extend@c1a603b02610efdc4d4074531238395fdb306bda: invalid version: unknown revision c1a603b02610", ErrNoSuchVersion},
		{"go: github.com/cybercinch/coredns_mysql_extend@v9.9.9: reading https://proxy.golang.org/...: 404 Not Found", ErrNoSuchVersion},
		{"./main.go:12:2: undefined: dnsserver.Directives", nil},
	}
	for _, c := range cases {
		err := classify("go get", []byte(c.out), errors.New("exit status 1"))
		if c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%q: %v, want %v", c.out, err, c.want)
		}
		if c.want == nil && (errors.Is(err, ErrUnavailable) || errors.Is(err, ErrNoSuchVersion) || err == nil) {
			t.Errorf("%q: %v, want a build failure", c.out, err)
		}
	}
}

// TestBuildFromPin builds CoreDNS with the plugin exactly as the image
// pins them, so a pin that stops building fails here.
func TestBuildFromPin(t *testing.T) {
	bin := Build(t)
	src, _ := RepoSource()
	out, err := exec.Command(bin, "-version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "CoreDNS-"+strings.TrimPrefix(src.Pins.CoreDNS, "v")) {
		t.Fatalf("coredns -version: %v\n%s", err, out)
	}
	again := Build(t) // from the cache
	if again != bin {
		t.Fatalf("second build at %s, first at %s", again, bin)
	}
}

// TestServesRowsDadnsWrote: dadns's coredns_mysql backend writes a zone,
// and the CoreDNS of the image answers from those rows, authoritatively.
func TestServesRowsDadnsWrote(t *testing.T) {
	Build(t) // skip before starting MariaDB when CoreDNS cannot be built
	srv := mariadbtest.Start(t)
	db := srv.NewDatabase(t)
	b, err := corednsmysql.New(corednsmysql.Options{Host: srv.Host, Port: srv.Port, Database: db,
		Username: mariadbtest.User, Password: srv.Password, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	z, err := zone.Parse("rows.example", []byte("$TTL 300\n@ IN SOA ns1 hostmaster 7 3600 600 86400 300\n@ IN NS ns1\nns1 IN A 192.0.2.53\nwww IN A 192.0.2.80\n"), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(t.Context(), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	port := freeDNSPort(t)
	cd := Start(t, fmt.Sprintf("%s:%s@tcp(%s)/%s", mariadbtest.User, srv.Password, srv.Addr(), db), port)

	q := new(dns.Msg)
	q.SetQuestion("www.rows.example.", dns.TypeA)
	var last string
	for deadline := time.Now().Add(30 * time.Second); ; {
		r, _, err := new(dns.Client).Exchange(q, cd.Addr)
		if err == nil && r.Rcode == dns.RcodeSuccess && len(r.Answer) == 1 {
			a, ok := r.Answer[0].(*dns.A)
			if !ok || a.A.String() != "192.0.2.80" || !r.Authoritative {
				t.Fatalf("answer %v", r)
			}
			return
		}
		last = fmt.Sprint(r, err)
		if time.Now().After(deadline) {
			t.Fatalf("no answer from the rows in 30 s; last %s\n%s", last, cd.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// freeDNSPort returns a loopback port free for both UDP and TCP.
func freeDNSPort(t *testing.T) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err == nil {
			l.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}
