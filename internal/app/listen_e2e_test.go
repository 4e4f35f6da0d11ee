package app

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// TestShippedListenAddress runs dadns with the builtin on the shipped
// wildcard address (0.0.0.0, as deploy/systemd and deploy/docker) and a
// test port: a pushed zone is answered over UDP from exactly the address
// asked, 127.0.0.1 (an address of the host, which gets a socket of its
// own) and 127.0.0.2 (no interface has it: the wildcard socket answers),
// and over TCP; after a SIGKILL and a restart on the same port it is
// answered again.
func TestShippedListenAddress(t *testing.T) {
	dir := t.TempDir()
	httpPort, dnsPort := freePorts(t)
	backends := fmt.Sprintf("    builtin:\n      type: builtin\n      listen: 0.0.0.0:%d\n", dnsPort)
	for round := range 2 {
		n := startNodeWith(t, dir, httpPort, backends)
		name := "shipped.example"
		serial := 2026120600 + round
		q := url.Values{"action": {"rawsave"}, "domain": {name}, "hostname": {"da1.example"}}
		code, v, err := n.request("POST", "/CMD_API_DNS_ADMIN?"+q.Encode(), e2eZone(name, serial))
		if err != nil || code != 200 || v.Get("error") != "0" {
			t.Fatalf("round %d: push: %d %v %v", round, code, v, err)
		}
		waitSOASerial(t, net.JoinHostPort("127.0.0.1", strconv.Itoa(dnsPort)), name, uint32(serial))
		for _, host := range []string{"127.0.0.1", "127.0.0.2"} {
			askSerialFrom(t, host, dnsPort, name, uint32(serial))
		}
		c := &dns.Client{Net: "tcp", Timeout: 5 * time.Second}
		if got, err := askSOA(c, net.JoinHostPort("127.0.0.2", strconv.Itoa(dnsPort)), name); err != nil || got != uint32(serial) {
			t.Fatalf("round %d: over TCP on 127.0.0.2: serial %d, %v", round, got, err)
		}
		n.kill() // its output is complete once it has exited
		if !strings.Contains(n.out.String(), "UDP port also bound on the host's addresses") {
			t.Errorf("round %d: no address sockets logged:\n%s", round, n.out.String())
		}
	}
}

// askSerialFrom asks host:port for name's SOA over UDP from an
// unconnected socket on another loopback address, and checks that the
// reply comes from exactly host:port with serial.
func askSerialFrom(t *testing.T, host string, port int, name string, serial uint32) {
	t.Helper()
	local := net.IPv4(127, 0, 0, 3)
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: local})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), dns.TypeSOA)
	pkt, err := m.Pack()
	if err != nil {
		t.Fatal(err)
	}
	to := &net.UDPAddr{IP: net.ParseIP(host), Port: port}
	if _, err := c.WriteToUDP(pkt, to); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, from, err := c.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("ask %s: %v", to, err)
	}
	if !from.IP.Equal(to.IP) || from.Port != port {
		t.Fatalf("asked %s, reply from %s", to, from)
	}
	r := new(dns.Msg)
	if err := r.Unpack(buf[:n]); err != nil || r.Id != m.Id || len(r.Answer) != 1 {
		t.Fatalf("ask %s: reply %v (%v)", to, r, err)
	}
	if soa, ok := r.Answer[0].(*dns.SOA); !ok || soa.Serial != serial || !r.Authoritative {
		t.Fatalf("ask %s: answer %v", to, r.Answer[0])
	}
}
