package dnsserver

import (
	"fmt"
	"strings"

	"github.com/miekg/dns"
)

// Reply is an answer in presentation form, for people (the operator UI's
// "what does it answer" box).
type Reply struct {
	Rcode         string   // NOERROR, NXDOMAIN, REFUSED, ...
	Authoritative bool     // the AA flag
	Answer        []string // one record per line, as in a zone file
	Authority     []string
	Additional    []string
}

// Ask answers name and type (a mnemonic such as "A" or "TXT") exactly as
// a client asking over TCP without recursion would be answered; nothing
// leaves the process and nothing is counted in the answer statistics.
func (s *Server) Ask(name, qtype string) (Reply, error) {
	t, ok := dns.StringToType[strings.ToUpper(strings.TrimSpace(qtype))]
	if !ok {
		return Reply{}, fmt.Errorf("dnsserver: unknown record type %q", qtype)
	}
	fqdn := dns.Fqdn(strings.TrimSpace(name))
	if _, ok := dns.IsDomainName(fqdn); !ok {
		return Reply{}, fmt.Errorf("dnsserver: %q is not a domain name", name)
	}
	q := new(dns.Msg)
	q.SetQuestion(fqdn, t)
	q.RecursionDesired = false
	wire, err := s.reply(q, client{tcp: true}, make([]byte, 0, 4096))
	if err != nil {
		return Reply{}, fmt.Errorf("dnsserver: ask %s %s: %w", fqdn, qtype, err)
	}
	m := new(dns.Msg)
	if err := m.Unpack(wire); err != nil {
		return Reply{}, fmt.Errorf("dnsserver: ask %s %s: %w", fqdn, qtype, err)
	}
	return Reply{Rcode: dns.RcodeToString[m.Rcode], Authoritative: m.Authoritative,
		Answer: lines(m.Answer), Authority: lines(m.Ns), Additional: lines(m.Extra)}, nil
}

func lines(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype == dns.TypeOPT {
			continue
		}
		out = append(out, rr.String())
	}
	return out
}
