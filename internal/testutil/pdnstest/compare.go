package pdnstest

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/testutil/dnsdiff"
	"github.com/dadns/dadns/internal/testutil/namedtest"
)

// Result is the outcome of a differential run.
type Result struct {
	Probes int
	// Same counts the probes answered identically.
	Same int
	// Explained counts the differing probes by the documented reason
	// (with the RFC that decides) that covers them.
	Explained map[string]int
	// Unexplained lists every other difference, with both replies.
	Unexplained []string
}

// Compare sends every probe to the reference named and to PowerDNS and
// compares the replies as namedtest.Diff does (rcode, AA, answer;
// authority on empty answers; additional on referrals). A difference that
// a documented reason covers is counted under it; the rest are listed.
func Compare(ps []dnsdiff.Probe, named, pdns string) Result {
	res := Result{Probes: len(ps), Explained: map[string]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	work := make(chan dnsdiff.Probe)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for p := range work {
				reason, fail := compareOne(p, named, pdns)
				mu.Lock()
				switch {
				case fail != "":
					res.Unexplained = append(res.Unexplained, fail)
				case reason != "":
					res.Explained[reason]++
				default:
					res.Same++
				}
				mu.Unlock()
			}
		}()
	}
	for _, p := range ps {
		work <- p
	}
	close(work)
	wg.Wait()
	slices.Sort(res.Unexplained)
	return res
}

func compareOne(p dnsdiff.Probe, named, pdns string) (reason, fail string) {
	tcp := p.V.Name == dnsdiff.VTCP.Name
	m := p.Msg()
	want, err := dnsdiff.Endpoints{UDP: named, TCP: named}.Exchange(m.Copy(), tcp)
	if err != nil {
		return "", fmt.Sprintf("%s: named: %v", p, err)
	}
	got, err := dnsdiff.Endpoints{UDP: pdns, TCP: pdns}.Exchange(m.Copy(), tcp)
	if err != nil {
		return "", fmt.Sprintf("%s: powerdns: %v", p, err)
	}
	d := namedtest.Diff(want, got)
	if len(d) == 0 {
		return "", ""
	}
	if r := Explain(p, want, got, d); r != "" {
		return r, ""
	}
	return "", fmt.Sprintf("%s:\n  %s\n--- named:\n%s\n--- powerdns:\n%s", p, strings.Join(d, "\n  "), want, got)
}

// Reasons are the documented differences between PowerDNS (4.7, gmysql,
// the settings of Conf) and BIND, each with the RFC that decides.
const (
	ReasonDNSSEC = "DNSSEC records are not stored: the backend writes no RRSIG/NSEC/NSEC3/DNSKEY/NSEC3PARAM " +
		"(PowerDNS signs zones itself when configured; a zone served unsigned is valid, RFC 4035 §3.1 applies to signed zones only)"
	ReasonDNSSECType = "query for a DNSSEC meta type (RRSIG, NSEC, NSEC3, DNSKEY, NSEC3PARAM) of an unsigned zone: PowerDNS " +
		"refuses RRSIG queries and answers the others like any type (RFC 4035 §3.1.5 leaves unsigned zones alone)"
	ReasonCD     = "PowerDNS does not copy the CD bit into answers from unsigned zones (RFC 4035 §3.1.6 / RFC 6840 §5.9 say copy: PowerDNS's deviation, harmless to resolvers)"
	ReasonANYUDP = "ANY over UDP answered empty with TC=1 (PowerDNS any-to-tcp=yes default; RFC 8482 §4.4 lets a responder " +
		"answer ANY minimally, and TC sends the client to TCP, RFC 7766)"
	ReasonANY   = "ANY over TCP: PowerDNS follows a CNAME at the name and leaves out the authority NS (RFC 8482 §4: the content of ANY answers is the responder's choice)"
	ReasonChain = "CNAME chain looping or longer than PowerDNS follows (it answers SERVFAIL with no records; BIND follows 16 and adds the partial chain to its SERVFAIL): RFC 1034 §4.3.2 does not bound chains, each server picks its limit"
	ReasonTC    = "PowerDNS sets TC when the additional addresses of an answer do not fit in the UDP size, where BIND drops them " +
		"(RFC 2181 §9: TC only when required data does not fit; the client retries over TCP and gets the full answer)"
	ReasonReferralExtra = "referral: PowerDNS adds the addresses of NS targets it serves as authoritative data outside the cut, BIND only glue " +
		"(RFC 1034 §4.3.2 step 3b: 'whatever addresses are available'; RFC 9471 requires only in-domain glue)"
	ReasonNegSOA = "negative answer to an SOA query: BIND sends the SOA with TTL 0 (its special case so the SOA is not cached), PowerDNS with " +
		"min(TTL, MINIMUM) (RFC 2308 §3)"
	ReasonCrossZone = "CNAME into another zone the same server serves: PowerDNS follows it into that zone, BIND stops at the zone's edge " +
		"(RFC 1034 §4.3.2 step 3a permits either; resolvers re-query the target anyway, RFC 2181 §10.1)"
)

var dnssecTypes = map[uint16]bool{dns.TypeRRSIG: true, dns.TypeNSEC: true, dns.TypeNSEC3: true, dns.TypeDNSKEY: true, dns.TypeNSEC3PARAM: true}

// Explain returns the documented reason for a difference, or "".
func Explain(p dnsdiff.Probe, want, got *dns.Msg, d []string) string {
	if dnssecTypes[p.QType] {
		return ReasonDNSSECType
	}
	w, g := want.Copy(), got.Copy()
	g.CheckingDisabled = w.CheckingDisabled
	if len(namedtest.Diff(w, g)) == 0 {
		return ReasonCD
	}
	if p.QType == dns.TypeANY && g.Truncated && !w.Truncated && p.V.Name != dnsdiff.VTCP.Name {
		return ReasonANYUDP
	}
	if p.QType == dns.TypeANY {
		return ReasonANY
	}
	if referral(w) && hasDO(p.Msg()) {
		w.Ns = withoutType(w.Ns, dns.TypeDS) // PowerDNS adds DS to referrals of zones it signs only
	}
	w, g = withoutDNSSEC(w), withoutDNSSEC(g)
	if len(namedtest.Diff(w, g)) == 0 {
		return ReasonDNSSEC
	}
	if w.Rcode == dns.RcodeServerFailure && g.Rcode == dns.RcodeServerFailure || longChain(w, g) {
		return ReasonChain
	}
	if w.Truncated && !g.Truncated && p.V.Name != dnsdiff.VTCP.Name && hasDO(m(p)) {
		return ReasonDNSSEC // BIND's signed answer does not fit, the unsigned one does
	}
	if g.Truncated && !w.Truncated && p.V.Name != dnsdiff.VTCP.Name {
		return ReasonTC
	}
	if referral(w) && referral(g) && len(namedtest.Diff(w, withExtra(g, w.Extra))) == 0 {
		return ReasonReferralExtra
	}
	if p.QType == dns.TypeSOA && w.Rcode == g.Rcode && len(w.Answer) == 0 && sameButTTL(w.Ns, g.Ns) {
		return ReasonNegSOA
	}
	if crossZone(w, g) {
		return ReasonCrossZone
	}
	return ""
}

func withoutType(rrs []dns.RR, t uint16) []dns.RR {
	out := rrs[:0:0]
	for _, rr := range rrs {
		if rr.Header().Rrtype != t {
			out = append(out, rr)
		}
	}
	return out
}

func m(p dnsdiff.Probe) *dns.Msg { return p.Msg() }

func hasDO(q *dns.Msg) bool {
	o := q.IsEdns0()
	return o != nil && o.Do()
}

// longChain reports BIND's answer being a chain of many CNAMEs that
// PowerDNS answered SERVFAIL.
func longChain(w, g *dns.Msg) bool {
	if g.Rcode != dns.RcodeServerFailure || len(g.Answer) != 0 || len(w.Answer) < 8 {
		return false
	}
	_, ok := w.Answer[0].(*dns.CNAME)
	return ok
}

func referral(r *dns.Msg) bool {
	if r.Authoritative || len(r.Answer) > 0 || r.Rcode != dns.RcodeSuccess {
		return false
	}
	for _, rr := range r.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return true
		}
	}
	return false
}

func withExtra(r *dns.Msg, extra []dns.RR) *dns.Msg {
	c := r.Copy()
	c.Extra = extra
	return c
}

// sameButTTL reports two sections with the same records but for TTLs.
func sameButTTL(a, b []dns.RR) bool {
	if len(a) != len(b) {
		return false
	}
	key := func(rr dns.RR) string {
		c := dns.Copy(rr)
		c.Header().Ttl = 0
		return namedtest.Normalize(c)
	}
	for i := range a {
		if key(a[i]) != key(b[i]) {
			return false
		}
	}
	return true
}

// withoutDNSSEC drops the DNSSEC records and the DO-dependent flags.
func withoutDNSSEC(m *dns.Msg) *dns.Msg {
	keep := func(rrs []dns.RR) []dns.RR {
		out := rrs[:0:0]
		for _, rr := range rrs {
			if !dnssecTypes[rr.Header().Rrtype] {
				out = append(out, rr)
			}
		}
		return out
	}
	m.Answer, m.Ns, m.Extra = keep(m.Answer), keep(m.Ns), keep(m.Extra)
	return m
}

// crossZone reports PowerDNS's answer being BIND's plus records of the
// CNAME target found in another zone.
func crossZone(w, g *dns.Msg) bool {
	if w.Rcode != g.Rcode || len(g.Answer) <= len(w.Answer) || len(w.Answer) == 0 {
		return false
	}
	last, ok := w.Answer[len(w.Answer)-1].(*dns.CNAME)
	if !ok {
		return false
	}
	for i, rr := range w.Answer {
		if namedtest.Normalize(rr) != namedtest.Normalize(g.Answer[i]) {
			return false
		}
	}
	return strings.EqualFold(g.Answer[len(w.Answer)].Header().Name, last.Target)
}
