package fakeda

import (
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DNSFault is a way the fake's DNS server misanswers one zone's SOA.
type DNSFault int

// The DNS faults.
const (
	DNSOK       DNSFault = iota
	DNSDrop              // no answer at all (the client times out)
	DNSRefused           // REFUSED, as named answers for a zone it does not load
	DNSServFail          // SERVFAIL, as for a zone that failed to load
	DNSNotAA             // a NOERROR answer with the SOA but without the AA bit
	DNSTruncate          // over UDP an empty answer with TC set; over TCP the real one
	DNSNoSOA             // NOERROR, AA, but no SOA in the answer section
)

// dnsServer is the DNS side of the fake: named on the DA box, authoritative
// for every zone the fake holds, on 127.0.0.1 (UDP and TCP, one port).
type dnsServer struct {
	addr      string
	udp, tcp  *dns.Server
	closeOnce sync.Once
}

// startDNS runs the responder on a free 127.0.0.1 port, UDP and TCP.
func (s *Server) startDNS(t testing.TB) {
	t.Helper()
	var lastErr error
	for range 20 { // the TCP port may be taken by another process
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("fakeda: dns: %v", err)
		}
		l, err := net.Listen("tcp", pc.LocalAddr().String())
		if err != nil {
			pc.Close()
			lastErr = err
			continue
		}
		d := &dnsServer{addr: pc.LocalAddr().String()}
		h := dns.HandlerFunc(s.answerDNS)
		d.udp = &dns.Server{PacketConn: pc, Handler: h}
		d.tcp = &dns.Server{Listener: l, Handler: h}
		started := make(chan struct{}, 2)
		d.udp.NotifyStartedFunc = func() { started <- struct{}{} }
		d.tcp.NotifyStartedFunc = func() { started <- struct{}{} }
		go d.udp.ActivateAndServe()
		go d.tcp.ActivateAndServe()
		for range 2 {
			select {
			case <-started:
			case <-time.After(10 * time.Second):
				t.Fatal("fakeda: dns server did not start in 10 s")
			}
		}
		s.dns = d
		return
	}
	t.Fatalf("fakeda: dns: no free UDP+TCP port pair: %v", lastErr)
}

func (d *dnsServer) close() {
	d.closeOnce.Do(func() {
		d.udp.Shutdown()
		d.tcp.Shutdown()
	})
}

// DNSAddr returns the DNS server's address (127.0.0.1:port), UDP and TCP.
func (s *Server) DNSAddr() string { return s.dns.addr }

// SetDNSFault makes the DNS server misanswer zone's SOA (DNSOK restores it).
func (s *Server) SetDNSFault(zone string, f DNSFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dnsFaults[strings.ToLower(zone)] = f
}

// SetDNSSerial makes the DNS server answer serial for zone whatever its
// text says (a named that has not loaded the latest file); 0 undoes it.
func (s *Server) SetDNSSerial(zone string, serial uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if serial == 0 {
		delete(s.dnsSerials, strings.ToLower(zone))
		return
	}
	s.dnsSerials[strings.ToLower(zone)] = serial
}

// DNSQueries counts the DNS questions received over UDP and TCP.
func (s *Server) DNSQueries() (udp, tcp int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.udpQueries, s.tcpQueries
}

// answerDNS answers SOA questions for the zones held, REFUSED otherwise.
func (s *Server) answerDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, isTCP := w.RemoteAddr().(*net.TCPAddr)
	m := new(dns.Msg)
	m.SetReply(req)
	if len(req.Question) != 1 {
		m.Rcode = dns.RcodeFormatError
		w.WriteMsg(m)
		return
	}
	q := req.Question[0]
	name := strings.ToLower(strings.TrimSuffix(q.Name, "."))
	s.mu.Lock()
	if isTCP {
		s.tcpQueries++
	} else {
		s.udpQueries++
	}
	_, held := s.zones[name]
	fault := s.dnsFaults[name]
	serial, ok := s.dnsSerials[name]
	if !ok {
		serial, ok = s.serials[name]
	}
	s.mu.Unlock()
	if held && !ok {
		fault = DNSServFail // a text without an SOA would not load in named
	}
	switch {
	case fault == DNSDrop:
		return
	case !held || fault == DNSRefused:
		m.Rcode = dns.RcodeRefused
	case fault == DNSServFail:
		m.Rcode = dns.RcodeServerFailure
	case fault == DNSTruncate && !isTCP:
		m.Authoritative, m.Truncated = true, true
	case q.Qtype != dns.TypeSOA:
		m.Authoritative = true // NODATA: the fake answers SOA only
	default:
		m.Authoritative = fault != DNSNotAA
		if fault != DNSNoSOA {
			m.Answer = append(m.Answer, &dns.SOA{
				Hdr: dns.RR_Header{Name: dns.Fqdn(name), Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: 3600},
				Ns:  "ns1." + dns.Fqdn(name), Mbox: "hostmaster." + dns.Fqdn(name),
				Serial: serial, Refresh: 3600, Retry: 3600, Expire: 1209600, Minttl: 86400,
			})
		}
	}
	w.WriteMsg(m)
}

// textSerial reads the SOA serial of a zone text held by the fake.
func textSerial(name, text string) (uint32, bool) {
	zp := dns.NewZoneParser(strings.NewReader(text), dns.Fqdn(name), "")
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		if soa, isSOA := rr.(*dns.SOA); isSOA {
			return soa.Serial, true
		}
	}
	return 0, false
}

// Fetches counts the raw texts of zone served so far.
func (s *Server) Fetches(zone string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fetches[strings.ToLower(zone)]
}
