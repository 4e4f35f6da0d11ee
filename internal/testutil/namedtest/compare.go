package namedtest

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"
)

// Compare reports through t.Errorf every way reply got differs from reply
// want, as Diff finds them.
func Compare(t testing.TB, want, got *dns.Msg) {
	t.Helper()
	for _, d := range Diff(want, got) {
		t.Errorf("%s", d)
	}
}

// Diff compares two replies to the same query the way a differential test
// needs: the header fields a server decides (rcode, opcode, AA, TC and the
// copied RD and CD), the question, EDNS presence and DO, the answer
// section, the authority section when the answer is empty (negative
// answers and referrals) and the additional section of referrals.
// Sections are compared as sets: records in any order, owner and domain
// names in RDATA case-insensitively, TTLs exactly. When both replies are
// truncated only the owner and type of each answer record are compared,
// since servers may fill a truncated answer with different records of an
// RRset. The result is one line per difference; empty means equal.
func Diff(want, got *dns.Msg) []string {
	return diff(want, got, false)
}

// DiffAll is Diff that compares the authority and additional sections of
// every reply, for servers that must match record for record.
func DiffAll(want, got *dns.Msg) []string {
	return diff(want, got, true)
}

func diff(want, got *dns.Msg, all bool) []string {
	if want == nil || got == nil {
		if want == got {
			return nil
		}
		return []string{fmt.Sprintf("reply missing: want %v, got %v", want != nil, got != nil)}
	}
	d := headerDiff(want, got)
	if want.Truncated && got.Truncated {
		return d
	}
	d = append(d, sectionDiff("answer", want.Answer, got.Answer)...)
	if all || len(want.Answer) == 0 || len(got.Answer) == 0 {
		d = append(d, sectionDiff("authority", want.Ns, got.Ns)...)
	}
	if all || isReferral(want) || isReferral(got) {
		d = append(d, sectionDiff("additional", withoutOPT(want.Extra), withoutOPT(got.Extra))...)
	}
	return d
}

func headerDiff(want, got *dns.Msg) []string {
	var d []string
	check := func(what string, w, g any) {
		if w != g {
			d = append(d, fmt.Sprintf("%s: want %v, got %v", what, w, g))
		}
	}
	check("rcode", dns.RcodeToString[want.Rcode], dns.RcodeToString[got.Rcode])
	check("opcode", want.Opcode, got.Opcode)
	check("AA", want.Authoritative, got.Authoritative)
	check("TC", want.Truncated, got.Truncated)
	check("RD", want.RecursionDesired, got.RecursionDesired)
	check("CD", want.CheckingDisabled, got.CheckingDisabled)
	check("question", questions(want), questions(got))
	wo, go_ := want.IsEdns0(), got.IsEdns0()
	check("EDNS", wo != nil, go_ != nil)
	if wo != nil && go_ != nil {
		check("DO", wo.Do(), go_.Do())
	}
	return d
}

func questions(m *dns.Msg) string {
	var b strings.Builder
	for _, q := range m.Question {
		b.WriteString(q.String())
	}
	return b.String()
}

// isReferral reports a non-authoritative answer with NS in authority.
func isReferral(m *dns.Msg) bool {
	if m.Authoritative || len(m.Answer) > 0 {
		return false
	}
	for _, rr := range m.Ns {
		if rr.Header().Rrtype == dns.TypeNS {
			return true
		}
	}
	return false
}

func withoutOPT(rrs []dns.RR) []dns.RR {
	out := make([]dns.RR, 0, len(rrs))
	for _, rr := range rrs {
		if rr.Header().Rrtype != dns.TypeOPT {
			out = append(out, rr)
		}
	}
	return out
}

// sectionDiff compares two sections as multisets of normalized records.
func sectionDiff(name string, want, got []dns.RR) []string {
	w, g := normalizeAll(want), normalizeAll(got)
	if slices.Equal(w, g) {
		return nil
	}
	var d []string
	for _, s := range missing(w, g) {
		d = append(d, fmt.Sprintf("%s: missing %s", name, s))
	}
	for _, s := range missing(g, w) {
		d = append(d, fmt.Sprintf("%s: unexpected %s", name, s))
	}
	return d
}

// missing returns the elements of a (sorted) not matched in b (sorted),
// counting repeats.
func missing(a, b []string) []string {
	var out []string
	j := 0
	for _, s := range a {
		for j < len(b) && b[j] < s {
			j++
		}
		if j < len(b) && b[j] == s {
			j++
			continue
		}
		out = append(out, s)
	}
	return out
}

func normalizeAll(rrs []dns.RR) []string {
	out := make([]string, 0, len(rrs))
	for _, rr := range rrs {
		out = append(out, Normalize(rr))
	}
	slices.Sort(out)
	return out
}

// Normalize returns the text form of rr with its owner name and the domain
// names in its RDATA lower-cased, and tabs made single spaces.
func Normalize(rr dns.RR) string {
	c := dns.Copy(rr)
	c.Header().Name = strings.ToLower(c.Header().Name)
	lowerRdataNames(c)
	return strings.Join(strings.Fields(c.String()), " ")
}

func lowerRdataNames(rr dns.RR) {
	l := strings.ToLower
	switch r := rr.(type) {
	case *dns.NS:
		r.Ns = l(r.Ns)
	case *dns.CNAME:
		r.Target = l(r.Target)
	case *dns.DNAME:
		r.Target = l(r.Target)
	case *dns.PTR:
		r.Ptr = l(r.Ptr)
	case *dns.MX:
		r.Mx = l(r.Mx)
	case *dns.SRV:
		r.Target = l(r.Target)
	case *dns.SOA:
		r.Ns, r.Mbox = l(r.Ns), l(r.Mbox)
	case *dns.NSEC:
		r.NextDomain = l(r.NextDomain)
	case *dns.RRSIG:
		r.SignerName = l(r.SignerName)
	case *dns.NAPTR:
		r.Replacement = l(r.Replacement)
	case *dns.AFSDB:
		r.Hostname = l(r.Hostname)
	case *dns.KX:
		r.Exchanger = l(r.Exchanger)
	case *dns.RT:
		r.Host = l(r.Host)
	case *dns.SVCB:
		r.Target = l(r.Target)
	case *dns.HTTPS:
		r.Target = l(r.Target)
	}
}
