package dnsserver

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// TransferOptions make the server a primary: zone transfers out (AXFR and
// IXFR over TCP), NOTIFY to secondaries, and optionally a catalog zone
// (RFC 9432) listing every zone served. Nil Options.Transfers: every
// transfer is refused, no NOTIFY is sent, no catalog exists.
type TransferOptions struct {
	// Allow decides who may transfer: the client's address and the name of
	// the TSIG key its request was validly signed with ("" for none).
	Allow func(client netip.Addr, key string) bool
	// TSIG maps key names (absolute, lower-case) to their algorithm
	// (dns.HmacSHA256 form, e.g. "hmac-sha256.") and base64 secret.
	TSIG map[string]TSIGKey
	// Timeout bounds one outgoing transfer (default 5 minutes): a client
	// too slow to read is cut off.
	Timeout time.Duration
	// MaxConcurrent bounds transfers served at once (default 16); more
	// get SERVFAIL and retry later, as secondaries do.
	MaxConcurrent int
	// Journal is how many changes per zone are kept for IXFR (default 4;
	// negative: none, every IXFR gets the full zone).
	Journal int
	// Notify lists secondaries (host:port) told of every change.
	Notify []string
	// NotifyKey signs NOTIFYs with this key of TSIG ("": unsigned).
	NotifyKey string
	// NotifyNS also notifies the in-zone addresses of the zone's NS hosts.
	NotifyNS bool
	// NotifyRetries is how often an unanswered NOTIFY is sent again
	// (default 5, at 1, 2, 4, 8, 16 s), as RFC 1996 asks.
	NotifyRetries int
	// Catalog is the catalog zone's name ("" for none).
	Catalog string
	// Groups returns the RFC 9432 group of member zones (origin → group,
	// such as the owning DirectAdmin server); nil: no groups.
	Groups func(origins []string) map[string]string
}

// TSIGKey is one shared secret.
type TSIGKey struct {
	Algorithm string // e.g. dns.HmacSHA256
	Secret    string // base64
}

// xfr is the transfer side of a Server.
type xfr struct {
	opt    TransferOptions
	slots  chan struct{}
	stats  xfrStats
	notify *notifier

	jmu     sync.Mutex
	journal map[string][]ixfrDiff // origin → changes, oldest first

	cat catalogState

	smu         sync.Mutex
	secondaries map[netip.Addr]*Secondary
}

// maxSecondaries bounds the per-client table shown in /status.
const maxSecondaries = 1024

// Secondary is what the server knows of one client that asked for
// transfers or SOA serials of zones.
type Secondary struct {
	Address    string    `json:"address"`
	LastZone   string    `json:"last_zone"`
	LastType   string    `json:"last_type"` // AXFR, IXFR or SOA
	LastSerial uint32    `json:"last_serial"`
	LastResult string    `json:"last_result"`
	LastSeen   time.Time `json:"last_seen"`
	Transfers  uint64    `json:"transfers"`
}

func newXFR(opt TransferOptions, s *Server) *xfr {
	if opt.Timeout <= 0 {
		opt.Timeout = 5 * time.Minute
	}
	if opt.MaxConcurrent <= 0 {
		opt.MaxConcurrent = 16
	}
	if opt.Journal == 0 {
		opt.Journal = 4
	}
	if opt.NotifyRetries == 0 {
		opt.NotifyRetries = 5
	}
	if opt.Allow == nil {
		opt.Allow = func(netip.Addr, string) bool { return false }
	}
	opt.Catalog = strings.ToLower(strings.TrimSpace(opt.Catalog))
	if opt.Catalog != "" {
		opt.Catalog = dns.Fqdn(opt.Catalog)
	}
	x := &xfr{opt: opt, slots: make(chan struct{}, opt.MaxConcurrent),
		journal: map[string][]ixfrDiff{}, secondaries: map[netip.Addr]*Secondary{}}
	x.notify = newNotifier(x, s.log)
	return x
}

// tsigSecrets is the key table miekg/dns verifies and signs with.
func (x *xfr) tsigSecrets() map[string]string {
	if x == nil || len(x.opt.TSIG) == 0 {
		return nil
	}
	m := make(map[string]string, len(x.opt.TSIG))
	for name, k := range x.opt.TSIG {
		m[name] = k.Secret
	}
	return m
}

// xfrStats counts transfers by type and result, and NOTIFYs.
type xfrStats struct {
	mu        sync.Mutex
	transfers map[[2]string]uint64
	notifies  [3]atomic.Uint64 // sent, acknowledged, given up
}

func (st *xfrStats) count(typ, result string) {
	st.mu.Lock()
	if st.transfers == nil {
		st.transfers = map[[2]string]uint64{}
	}
	st.transfers[[2]string{typ, result}]++
	st.mu.Unlock()
}

// TransferStats are the counters behind the transfer metrics.
type TransferStats struct {
	// Transfers counts transfer requests by type (AXFR, IXFR) and result
	// (ok, refused, notauth, badtsig, busy, timeout, error).
	Transfers                             map[[2]string]uint64
	NotifySent, NotifyAcked, NotifyFailed uint64
}

// TransferStats returns the counters (zero when transfers are off).
func (s *Server) TransferStats() TransferStats {
	x := s.xfr
	if x == nil {
		return TransferStats{}
	}
	x.stats.mu.Lock()
	t := make(map[[2]string]uint64, len(x.stats.transfers))
	for k, v := range x.stats.transfers {
		t[k] = v
	}
	x.stats.mu.Unlock()
	return TransferStats{Transfers: t, NotifySent: x.stats.notifies[0].Load(),
		NotifyAcked: x.stats.notifies[1].Load(), NotifyFailed: x.stats.notifies[2].Load()}
}

// Secondaries lists the clients that asked for transfers, newest first.
func (s *Server) Secondaries() []Secondary {
	x := s.xfr
	if x == nil {
		return nil
	}
	x.smu.Lock()
	out := make([]Secondary, 0, len(x.secondaries))
	for _, sec := range x.secondaries {
		out = append(out, *sec)
	}
	x.smu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].LastSeen.After(out[j].LastSeen) })
	return out
}

func (x *xfr) saw(addr netip.Addr, zone, typ string, serial uint32, result string, transfer bool) {
	x.smu.Lock()
	defer x.smu.Unlock()
	sec, ok := x.secondaries[addr]
	if !ok {
		if len(x.secondaries) >= maxSecondaries {
			var oldest netip.Addr
			var at time.Time
			for a, s := range x.secondaries {
				if at.IsZero() || s.LastSeen.Before(at) {
					oldest, at = a, s.LastSeen
				}
			}
			delete(x.secondaries, oldest)
		}
		sec = &Secondary{Address: addr.String()}
		x.secondaries[addr] = sec
	}
	sec.LastZone, sec.LastType, sec.LastSerial, sec.LastResult, sec.LastSeen = zone, typ, serial, result, time.Now().UTC()
	if transfer && result == "ok" {
		sec.Transfers++
	}
}

// remoteAddr is the client's address without port.
func remoteAddr(w dns.ResponseWriter) netip.Addr {
	var ip net.IP
	switch a := w.RemoteAddr().(type) {
	case *net.TCPAddr:
		ip = a.IP
	case *net.UDPAddr:
		ip = a.IP
	}
	addr, _ := netip.AddrFromSlice(ip)
	return addr.Unmap()
}

// isTransfer reports a transfer request this server handles itself.
func (s *Server) isTransfer(r *dns.Msg) bool {
	return s.xfr != nil && r.Opcode == dns.OpcodeQuery && len(r.Question) == 1 &&
		(r.Question[0].Qtype == dns.TypeAXFR || r.Question[0].Qtype == dns.TypeIXFR) &&
		r.Question[0].Qclass == dns.ClassINET
}

// serveTransfer answers AXFR and IXFR. Over UDP an allowed IXFR gets the
// current SOA alone (RFC 1995: the client then uses TCP) and AXFR is
// refused. Every reply to a validly signed request is signed.
func (s *Server) serveTransfer(w dns.ResponseWriter, r *dns.Msg) {
	x := s.xfr
	q := r.Question[0]
	typ := dns.TypeToString[q.Qtype]
	_, tcp := w.LocalAddr().(*net.TCPAddr)
	client := remoteAddr(w)
	origin := canonicalOrigin(q.Name)

	key := ""
	tsig := r.IsTsig()
	if tsig != nil {
		if err := w.TsigStatus(); err != nil {
			x.stats.count(typ, "badtsig")
			x.saw(client, origin, typ, 0, "badtsig", false)
			s.log.Warn("zone transfer with a bad TSIG", "client", client, "zone", origin, "key", tsig.Hdr.Name, "err", err)
			m := header(r, dns.RcodeNotAuth)
			s.writeCounted(w, m)
			return
		}
		key = strings.ToLower(tsig.Hdr.Name)
	}
	reply := func(rcode int) *dns.Msg {
		m := header(r, rcode)
		if tsig != nil {
			m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())
		}
		return m
	}
	if !x.opt.Allow(client, key) {
		x.stats.count(typ, "refused")
		x.saw(client, origin, typ, 0, "refused", false)
		s.log.Info("zone transfer refused", "client", client, "zone", origin, "type", typ, "key", key)
		s.writeCounted(w, reply(dns.RcodeRefused))
		return
	}
	var ix *zoneIndex
	if z := s.snap.Load().zones.get(origin); z != nil {
		ix = z.index()
	}
	if ix == nil {
		x.stats.count(typ, "notauth")
		x.saw(client, origin, typ, 0, "notauth", false)
		s.writeCounted(w, reply(dns.RcodeNotAuth))
		return
	}
	soa := ix.apex.get(dns.TypeSOA).rrs[0].(*dns.SOA)
	if !tcp {
		if q.Qtype == dns.TypeAXFR {
			x.stats.count(typ, "refused")
			s.writeCounted(w, reply(dns.RcodeRefused))
			return
		}
		m := reply(dns.RcodeSuccess)
		m.Authoritative = true
		m.Answer = []dns.RR{soa}
		x.saw(client, origin, "IXFR", soa.Serial, "udp-soa", false)
		s.writeCounted(w, m)
		return
	}
	select {
	case x.slots <- struct{}{}:
		defer func() { <-x.slots }()
	default:
		x.stats.count(typ, "busy")
		s.writeCounted(w, reply(dns.RcodeServerFailure))
		return
	}
	var msgs [][]dns.RR
	if q.Qtype == dns.TypeIXFR {
		msgs = x.ixfrMessages(ix, soa, r)
	} else {
		msgs = axfrMessages(ix, soa)
	}
	result := s.stream(w, r, tsig, msgs)
	x.stats.count(typ, result)
	x.saw(client, origin, typ, soa.Serial, result, true)
	if result == "ok" {
		x.notify.fetched(client, origin, soa.Serial)
	}
	if result != "ok" {
		s.log.Warn("zone transfer not completed", "client", client, "zone", origin, "type", typ, "result", result)
	}
}

// writeCounted sends one message and counts its rcode.
func (s *Server) writeCounted(w dns.ResponseWriter, m *dns.Msg) {
	out, err := m.Pack()
	if err == nil {
		s.rcodes.count(out)
	}
	_ = w.WriteMsg(m)
}

// xfrMessageBytes is the target size of one transfer message: many
// records per message, well below the 64 KiB limit.
const xfrMessageBytes = 16 << 10

// axfrMessages splits the zone into messages: SOA, every other record,
// SOA again (RFC 5936).
func axfrMessages(ix *zoneIndex, soa *dns.SOA) [][]dns.RR {
	all := make([]dns.RR, 0, len(ix.zone.RRs)+1)
	all = append(all, soa)
	for _, rr := range ix.zone.RRs {
		if rr.Header().Rrtype == dns.TypeSOA {
			continue
		}
		all = append(all, rr)
	}
	all = append(all, soa)
	return chunk(all)
}

// chunk groups records into messages of about xfrMessageBytes.
func chunk(rrs []dns.RR) [][]dns.RR {
	var out [][]dns.RR
	start, size := 0, 0
	for i, rr := range rrs {
		n := dns.Len(rr)
		if size+n > xfrMessageBytes && i > start {
			out = append(out, rrs[start:i])
			start, size = i, 0
		}
		size += n
	}
	return append(out, rrs[start:])
}

// stream writes the messages, signing each when the request was signed.
// Time is bounded twice: every write by the connection's write deadline
// (see limitConn), the whole transfer by the transfer timeout, checked
// between messages. Memory is the zone the snapshot holds anyway.
func (s *Server) stream(w dns.ResponseWriter, r *dns.Msg, tsig *dns.TSIG, msgs [][]dns.RR) string {
	end := time.Now().Add(s.xfr.opt.Timeout)
	for _, rrs := range msgs {
		if time.Now().After(end) {
			return "timeout"
		}
		m := new(dns.Msg)
		m.SetReply(r)
		m.Authoritative = true
		m.Compress = true
		m.Answer = rrs
		if tsig != nil {
			m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())
		}
		if err := w.WriteMsg(m); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return "timeout"
			}
			return "error"
		}
		w.TsigTimersOnly(true)
	}
	return "ok"
}

// xfrApplied does the transfer side's part of a change from old to zones
// (before the new snapshot is swapped in): journal entries for IXFR, the
// catalog rebuilt when membership changed. It returns the zones to NOTIFY.
func (s *Server) xfrApplied(old, zones *zoneSet, changed []*Zone, removed []string) []*Zone {
	x := s.xfr
	if x == nil {
		return nil
	}
	membership := len(removed) > 0
	for _, o := range removed {
		x.forget(o)
	}
	var notify []*Zone
	for _, z := range changed {
		origin := canonicalOrigin(z.Origin)
		var prev *Zone
		if o := old.get(origin); o != nil {
			prev, _ = o.zone()
		} else {
			membership = true
		}
		x.record(origin, prev, z)
		notify = append(notify, z)
	}
	if x.opt.Catalog == "" || (!membership && x.cat.built) {
		return notify
	}
	members := make([]string, 0, zones.len())
	zones.each(func(o string, _ *servedZone) {
		if o != x.opt.Catalog {
			members = append(members, o)
		}
	})
	cz := x.buildCatalog(members)
	pz, err := packZone(cz) // the catalog is this server's own: not shared
	if err != nil {
		s.log.Error("catalog zone not built", "zone", x.opt.Catalog, "err", err)
		return notify
	}
	var prev *Zone
	if p := old.get(x.opt.Catalog); p != nil {
		prev, _ = p.zone()
	}
	zones.set(newServedZone(pz, s.budget))
	x.record(x.opt.Catalog, prev, cz)
	return append(notify, cz)
}

// SetCatalogGroups sets where the catalog's group properties come from
// (see TransferOptions.Groups); the next membership change uses it.
func (s *Server) SetCatalogGroups(groups func(origins []string) map[string]string) {
	if s.xfr == nil {
		return
	}
	s.mu.Lock()
	s.xfr.opt.Groups = groups
	s.mu.Unlock()
}

// notifyChanged queues NOTIFYs for the zones just swapped in.
func (s *Server) notifyChanged(zs []*Zone) {
	if s.xfr == nil {
		return
	}
	for _, z := range zs {
		soa := apexSOA(z)
		if soa == nil {
			continue
		}
		s.xfr.notify.enqueue(canonicalOrigin(z.Origin), soa.Serial, s.xfr.notifyTargets(z))
	}
}

// signedAnswer answers a TSIG-signed query that is not a transfer (a
// secondary's SOA check, say): NOTAUTH when the signature did not verify
// (status), else the usual answer carrying a TSIG record for the writer
// to sign (RFC 8945: a signed request gets a signed response).
func (s *Server) signedAnswer(r *dns.Msg, c client, status error) *dns.Msg {
	tsig := r.IsTsig()
	if status != nil {
		return header(r, dns.RcodeNotAuth)
	}
	out, err := s.reply(r, c, nil)
	m := new(dns.Msg)
	if err != nil || m.Unpack(out) != nil {
		m = errorReply(r, dns.RcodeServerFailure)
	}
	m.SetTsig(tsig.Hdr.Name, tsig.Algorithm, 300, time.Now().Unix())
	return m
}

// signedUDPReply is signedAnswer for the UDP loops, which have no
// miekg/dns server to verify and sign: it does both itself.
func (s *Server) signedUDPReply(pkt []byte, r *dns.Msg, c client, out []byte) ([]byte, bool) {
	tsig := r.IsTsig()
	key, ok := s.xfr.opt.TSIG[strings.ToLower(tsig.Hdr.Name)]
	var status error = dns.ErrSecret
	if ok {
		status = dns.TsigVerify(pkt, key.Secret, "", false)
	}
	m := s.signedAnswer(r, c, status)
	if status != nil {
		b, err := m.PackBuffer(out)
		return b, err == nil
	}
	b, _, err := dns.TsigGenerate(m, key.Secret, tsig.MAC, false)
	if err != nil {
		return nil, false
	}
	s.rcodes.count(b)
	return b, true
}

// notifyCatalog tells the secondaries about the catalog once the server
// answers: a secondary that tried before dadns was up learns at once that
// it can fetch the catalog (a primary notifies the zones it starts with).
func (s *Server) notifyCatalog() {
	x := s.xfr
	if x == nil || x.opt.Catalog == "" {
		return
	}
	if z := s.snap.Load().zones.get(x.opt.Catalog); z != nil {
		if cz, err := z.zone(); err == nil {
			s.notifyChanged([]*Zone{cz})
		}
	}
}
