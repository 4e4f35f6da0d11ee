package dnsserver

import (
	"slices"
	"sort"
	"sync"

	"github.com/miekg/dns"
)

var bufPool = sync.Pool{New: func() any {
	b := make([]byte, 0, 4096)
	return &b
}}

func getBuffer() *[]byte  { return bufPool.Get().(*[]byte) }
func putBuffer(b *[]byte) { bufPool.Put(b) }

// pack packs m into at most limit bytes, truncating it the way BIND 9.18
// renders an answer that does not fit:
//   - the answer, then the authority section, are filled record by record;
//     when one of them overflows, TC is set, and with EDNS everything but
//     the question and the OPT record is dropped;
//   - the additional section takes whole RRsets while they fit, in BIND's
//     order (addresses of the client's family first, then the other
//     family, then signatures, then the rest), and what does not fit is
//     left out without TC.
func pack(m *dns.Msg, limit int, v6 bool, buf []byte) ([]byte, error) {
	m.Compress = true
	out, err := m.PackBuffer(buf)
	if err != nil || len(out) <= limit {
		return out, err
	}
	t := truncator{m: *m, limit: limit, v6: v6}
	t.run()
	return t.m.PackBuffer(buf)
}

type truncator struct {
	m     dns.Msg
	limit int
	v6    bool
	opt   dns.RR
}

func (t *truncator) run() {
	ans, ns, extra := t.m.Answer, t.m.Ns, t.m.Extra
	if n := len(extra); n > 0 && extra[n-1].Header().Rrtype == dns.TypeOPT {
		t.opt, extra = extra[n-1], extra[:n-1]
	}
	t.m.Answer, t.m.Ns, t.m.Extra = nil, nil, nil
	if k := t.fit(func(k int) { t.m.Answer = ans[:k] }, len(ans)); k < len(ans) {
		t.overflow(ans[:k], nil)
		return
	}
	if k := t.fit(func(k int) { t.m.Ns = ns[:k] }, len(ns)); k < len(ns) {
		t.overflow(ans, ns[:k])
		return
	}
	extra = renderOrder(extra, t.v6)
	sets := rrsetBounds(extra)
	k := t.fit(func(k int) { t.m.Extra = extra[:sets[k]] }, len(sets)-1)
	t.m.Extra = t.withOPT(extra[:sets[k]])
}

// fit finds the largest k in [0, n] for which the message set up by use(k)
// fits, and leaves the message set up with it.
func (t *truncator) fit(use func(int), n int) int {
	k := sort.Search(n+1, func(k int) bool {
		use(k)
		return !t.fits()
	}) - 1
	use(k)
	return k
}

func (t *truncator) fits() bool {
	t.m.Extra = t.withOPT(t.m.Extra)
	l := t.m.Len()
	if t.opt != nil {
		t.m.Extra = t.m.Extra[:len(t.m.Extra)-1]
	}
	return l <= t.limit
}

// overflow sets TC. Without EDNS the records that fit stay; with EDNS BIND
// drops every section but the question before adding the OPT record.
func (t *truncator) overflow(ans, ns []dns.RR) {
	t.m.Truncated = true
	t.m.Answer, t.m.Ns, t.m.Extra = ans, ns, nil
	if t.opt != nil {
		t.m.Answer, t.m.Ns = nil, nil
		t.m.Extra = []dns.RR{t.opt}
	}
}

func (t *truncator) withOPT(extra []dns.RR) []dns.RR {
	if t.opt == nil {
		return extra
	}
	out := make([]dns.RR, len(extra), len(extra)+1)
	copy(out, extra)
	return append(out, t.opt)
}

// rrsetBounds returns the end index of each run of records with the same
// owner and type, preceded by 0: rrs[:b[k]] holds the first k RRsets.
func rrsetBounds(rrs []dns.RR) []int {
	b := []int{0}
	for i := range rrs {
		if i+1 == len(rrs) || !sameSet(rrs[i], rrs[i+1]) {
			b = append(b, i+1)
		}
	}
	return b
}

func sameSet(a, b dns.RR) bool {
	ha, hb := a.Header(), b.Header()
	return ha.Rrtype == hb.Rrtype && lower(ha.Name) == lower(hb.Name)
}

// renderOrder sorts additional records into the passes BIND renders them
// in, keeping the order within a pass.
func renderOrder(rrs []dns.RR, v6 bool) []dns.RR {
	first, second := dns.TypeA, dns.TypeAAAA
	if v6 {
		first, second = second, first
	}
	pass := func(rr dns.RR) int {
		switch rr.Header().Rrtype {
		case first:
			return 0
		case second:
			return 1
		case dns.TypeRRSIG, dns.TypeDNSKEY:
			return 2
		}
		return 3
	}
	out := slices.Clone(rrs)
	slices.SortStableFunc(out, func(a, b dns.RR) int { return pass(a) - pass(b) })
	return out
}
