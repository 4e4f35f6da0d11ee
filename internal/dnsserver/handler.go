package dnsserver

import (
	"net"
	"unsafe"

	"github.com/miekg/dns"
)

// ednsSize is the UDP size advertised in our OPT record (BIND 9.18's
// edns-udp-size default).
const ednsSize = 1232

// ServeDNS answers one query; it implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, r *dns.Msg) {
	t0 := s.tapNow()
	if s.isTransfer(r) {
		s.serveTransfer(w, r)
		return
	}
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	if s.xfr != nil && r.IsTsig() != nil {
		m := s.signedAnswer(r, client{tcp: tcp, w: w}, w.TsigStatus())
		s.writeCounted(w, m)
		return
	}
	buf := getBuffer()
	out, err := s.reply(r, client{tcp: tcp, w: w}, *buf)
	if err != nil {
		s.log.Warn("answer not packed", "err", err)
		out, _ = errorReply(r, dns.RcodeServerFailure).PackBuffer(*buf)
	}
	if c, ok := s.tcpCookie(r, w.RemoteAddr(), out); ok {
		out = c
	} else {
		out, _ = errorReply(r, dns.RcodeFormatError).PackBuffer(out[:0])
	}
	s.rcodes.count(out)
	s.observeMsg(w, r, out, t0, tcp)
	_, _ = w.Write(out)
	*buf = out[:0]
	putBuffer(buf)
}

// client is where a query came from: a ResponseWriter, or the source
// address of a UDP packet.
type client struct {
	tcp  bool
	w    dns.ResponseWriter
	addr net.Addr
	info *replyInfo // filled for RRL when not nil
}

// v6 reports an IPv6 client, which BIND gives AAAA glue first.
func (c client) v6() bool {
	addr := c.addr
	if addr == nil && c.w != nil {
		addr = c.w.RemoteAddr()
	}
	var ip net.IP
	switch a := addr.(type) {
	case *net.UDPAddr:
		ip = a.IP
	case *net.TCPAddr:
		ip = a.IP
	}
	return ip != nil && ip.To4() == nil
}

// reply builds the packed answer to r into buf, from the cache when it
// can.
func (s *Server) reply(r *dns.Msg, c client, buf []byte) ([]byte, error) {
	if m := s.refuse(r); m != nil {
		return m.PackBuffer(buf)
	}
	opt := r.IsEdns0()
	limit := s.sizeLimit(opt, c.tcp)
	qname := lower(r.Question[0].Name)
	q := query{
		qtype:   r.Question[0].Qtype,
		do:      opt != nil && opt.Do(),
		noAuth:  r.RecursionDesired,
		minimal: opt != nil && !c.tcp && opt.UDPSize() <= dns.MinMsgSize,
	}
	q.minimalAny = q.qtype == dns.TypeANY && !c.tcp && s.opt.MinimalANY
	snap := s.snap.Load()
	sz := snap.find(qname, q.qtype)
	if sz == nil {
		return errorReply(r, dns.RcodeRefused).PackBuffer(buf)
	}
	key, keyed := slowKey(qname, q, opt != nil)
	keyed = keyed && !q.minimalAny // the cache holds full ANY answers (TCP)
	if wire, ok := sz.cache.get(key); keyed && ok && len(wire) <= limit {
		if c.info != nil {
			c.info.zone = sz.origin
			c.info.exists = true // only names that exist are cached
		}
		return patch(wire, r, buf), nil
	}
	var ce string
	var tkey []byte
	hasTmpl := false
	if keyed && !s.noTemplates && !sz.exists(qname) {
		ce = sz.closestEncloser(qname)
		var kb [300]byte
		tkey = appendTemplateKey(kb[:0], ce, q.qtype, keyFlags(q, opt != nil))
		var tmpl []byte
		tmpl, hasTmpl = sz.cache.get(unsafe.String(unsafe.SliceData(tkey), len(tkey)))
		if hasTmpl {
			var qn [256]byte
			if n, err := dns.PackDomainName(r.Question[0].Name, qn[:], 0, nil, false); err == nil {
				if out, ok := renderTemplate(tmpl, qn[:n], buf); ok && len(out) <= limit {
					if c.info != nil {
						c.info.zone = sz.origin
					}
					return patchID(out, r.Id, r.CheckingDisabled), nil
				}
			}
		}
	}
	ix := sz.index()
	if ix == nil {
		return errorReply(r, dns.RcodeServerFailure).PackBuffer(buf)
	}
	if c.info != nil {
		c.info.zone = ix.zone.Origin
		_, c.info.exists = ix.nodes[qname]
	}
	a := answer{snap: snap, q: q}
	a.resolve(ix, qname)
	m := a.message(r)
	wire, err := packCanonical(m, qname)
	if err != nil {
		return nil, err
	}
	_, exists := ix.nodes[qname]
	switch {
	case exists && keyed:
		sz.cache.put(key, wire) // only names that exist: bounded by the zones
	case !exists && ce != "" && !hasTmpl && ce == a.ce && a.templated(sz.packedZone):
		// Bounded too: one per closest encloser, type and flags.
		if tmpl, err := makeTemplate(m, qname); err == nil {
			sz.cache.put(string(tkey), tmpl)
		}
	}
	if len(wire) <= limit {
		return patch(wire, r, buf), nil
	}
	return pack(m, limit, c.v6(), buf)
}

// refuse returns the reply to a query that gets no lookup: not a QUERY,
// not exactly one question, a bad EDNS version, a class other than IN, a
// meta type or a zone transfer. The rcodes are BIND's, except that we
// refuse transfers (BIND 9.18 allows them by default).
func (s *Server) refuse(r *dns.Msg) *dns.Msg {
	switch {
	case r.Opcode != dns.OpcodeQuery:
		m := errorReply(r, dns.RcodeNotImplemented)
		m.Question = nil
		return m
	case len(r.Question) != 1:
		return errorReply(r, dns.RcodeFormatError)
	}
	if opt := r.IsEdns0(); opt != nil && opt.Version() != 0 {
		return errorReply(r, dns.RcodeBadVers)
	}
	switch r.Question[0].Qclass {
	case dns.ClassINET:
	case dns.ClassANY:
		return errorReply(r, dns.RcodeFormatError) // as BIND does
	default:
		return errorReply(r, dns.RcodeRefused)
	}
	switch r.Question[0].Qtype {
	case dns.TypeOPT, dns.TypeTKEY, dns.TypeTSIG:
		return errorReply(r, dns.RcodeFormatError)
	case dns.TypeMAILA, dns.TypeMAILB:
		return errorReply(r, dns.RcodeNotImplemented)
	case dns.TypeAXFR, dns.TypeIXFR:
		return errorReply(r, dns.RcodeRefused) // no zone transfers
	}
	return nil
}

// sizeLimit is the largest answer the client takes: 512 bytes over UDP
// without EDNS, its EDNS buffer (at least 512, at most MaxUDPSize) with.
func (s *Server) sizeLimit(opt *dns.OPT, tcp bool) int {
	switch {
	case tcp:
		return dns.MaxMsgSize
	case opt == nil:
		return dns.MinMsgSize
	}
	return min(max(int(opt.UDPSize()), dns.MinMsgSize), s.opt.MaxUDPSize)
}

// header copies what a reply keeps of the query's header.
func header(r *dns.Msg, rcode int) *dns.Msg {
	m := &dns.Msg{}
	m.Id = r.Id
	m.Response = true
	m.Opcode = r.Opcode
	m.RecursionDesired = r.RecursionDesired
	m.CheckingDisabled = r.CheckingDisabled
	m.Rcode = rcode
	m.Question = r.Question
	if len(m.Question) > 1 {
		m.Question = m.Question[:1]
	}
	return m
}

// errorReply is a reply with no records, with an OPT when the query had one.
func errorReply(r *dns.Msg, rcode int) *dns.Msg {
	m := header(r, rcode)
	addOPT(m, r.IsEdns0())
	return m
}

// addOPT answers EDNS with EDNS: our buffer size and the client's DO bit.
func addOPT(m *dns.Msg, opt *dns.OPT) {
	if opt == nil {
		return
	}
	o := &dns.OPT{Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeOPT}}
	o.SetUDPSize(ednsSize)
	if opt.Do() {
		o.SetDo()
	}
	m.Extra = append(m.Extra, o)
}

// message turns the answer into a reply to r (without the size limit).
func (a *answer) message(r *dns.Msg) *dns.Msg {
	m := header(r, a.rcode)
	m.Authoritative = a.aa
	m.Answer, m.Ns, m.Extra = a.ans, a.auth, a.extra
	addOPT(m, r.IsEdns0())
	return m
}
