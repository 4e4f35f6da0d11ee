package dnsserver

import (
	"errors"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/miekg/dns"
)

// Zone is one zone to serve. Its records are canonical: owner names
// lower-case and absolute, one TTL per RRset, no duplicates, an SOA at the
// apex. The server keeps and shares the records; nobody may change them
// once the zone is applied.
type Zone struct {
	Origin string // "example.com."
	Hash   string // identifies the content; equal hashes are not rebuilt
	RRs    []dns.RR
}

// Options configures a Server. The zero value is usable.
type Options struct {
	// Logger receives load problems and listener errors; slog.Default()
	// when nil.
	Logger *slog.Logger
	// MaxUDPSize caps UDP answers whatever the client's EDNS buffer says
	// (BIND 9.18's max-udp-size); 1232 when zero.
	MaxUDPSize int
	// CacheEntries bounds the packed answers kept over all zones; 0 means
	// 16 per zone served and at least 65,536, a negative value turns the
	// cache off.
	CacheEntries int
	// UDPSockets is how many SO_REUSEPORT UDP sockets Listen opens so that
	// reads spread over cores; GOMAXPROCS when zero.
	UDPSockets int
	// NoAddressSockets leaves a wildcard listener (0.0.0.0, [::]) with
	// its wildcard sockets only; by default it also binds its port on each
	// of the host's addresses, answered without per-packet control
	// messages (addrsockets.go).
	NoAddressSockets bool
	// TCPMaxConns caps the TCP connections open at once per Listen call,
	// and TCPMaxConnsPerPrefix those from one client /24 (IPv4) or /56
	// (IPv6); 1000 and 100 when zero (tcplimit.go).
	TCPMaxConns, TCPMaxConnsPerPrefix int
	// TCPReadTimeout is how long a new TCP connection may take to send
	// its first query, TCPIdleTimeout how long it may then wait between
	// queries, TCPBusyIdleTimeout the cap on both while more than half of
	// TCPMaxConns are open; 2 s, 8 s and 500 ms when zero. TCPWriteTimeout
	// bounds each write (10 s when zero; a zone transfer's own timeout may
	// be shorter). TCPMaxQueries closes a connection after that many
	// queries (128 when zero, -1: no limit); they are answered one at a
	// time, so one connection has one query in flight.
	TCPReadTimeout, TCPIdleTimeout, TCPBusyIdleTimeout, TCPWriteTimeout time.Duration
	TCPMaxQueries                                                       int
	// MinimalANY answers ANY over UDP with one RRset (RFC 8482), or a
	// synthesized HINFO "RFC8482" ""; over TCP ANY stays complete. Off
	// (BIND 9.18's answers) in the zero value.
	MinimalANY bool
	// Cookies turns DNS cookies on (cookie.go); nil: off.
	Cookies *CookieOptions
	// RRL turns response rate limiting on for UDP (rrl.go); nil: off.
	RRL *RRLOptions
	// ZoneCounts counts answers per served zone (zonestats.go); off in
	// the zero value.
	ZoneCounts bool
	// Dnstap writes answered queries as dnstap messages (dnstap.go); nil
	// or without a destination: off.
	Dnstap *DnstapOptions
	// Transfers makes the server a primary (zone transfers out, NOTIFY, a
	// catalog zone); nil refuses every transfer.
	Transfers *TransferOptions
}

// Server is an authoritative DNS server for a set of zones that answers
// like BIND 9.18 with its default configuration and recursion off.
// Queries read an immutable snapshot; Apply swaps in a new one.
type Server struct {
	log  *slog.Logger
	opt  Options
	mu   sync.Mutex // serializes Apply
	snap atomic.Pointer[snapshot]
	// budget bounds the answers cached over all zones.
	budget *cacheBudget
	// noTemplates turns off answers from closest-encloser templates
	// (template.go); tests compare with it.
	noTemplates bool
	// noPacked turns off answers built straight from packed zones
	// (packedanswer.go); tests compare with it.
	noPacked bool
	// noHint makes the fast path look answers up through the servedZone,
	// not the zone table's hint (zoneset.go); benchmarks compare with it.
	noHint bool

	lmu       sync.Mutex
	listeners []listener
	// hostAddrs lists the host's addresses for address sockets; nil:
	// the interfaces' (tests pick their own).
	hostAddrs func() ([]netip.Addr, error)

	rcodes rcodeCounts // TCP, transfers; each UDP loop counts in its own
	// loopRcodes are the UDP loops' counters (counts.go).
	loopRcodes loopRcodes

	xfr *xfr // nil: no transfers
	rrl *rrl // nil: no rate limiting

	cookies *cookies // nil: no cookies

	zstats *zoneStats // nil: no per-zone counts
	tap    *tap       // nil: no dnstap output
}

// New returns a Server that serves no zone yet.
func New(opt Options) *Server {
	if opt.Logger == nil {
		opt.Logger = slog.Default()
	}
	if opt.MaxUDPSize <= 0 {
		opt.MaxUDPSize = 1232
	}
	if opt.TCPMaxConns <= 0 {
		opt.TCPMaxConns = defaultTCPMaxConns
	}
	if opt.TCPMaxConnsPerPrefix <= 0 {
		opt.TCPMaxConnsPerPrefix = defaultTCPMaxConnsPerPrefix
	}
	if opt.TCPReadTimeout <= 0 {
		opt.TCPReadTimeout = defaultTCPReadTimeout
	}
	if opt.TCPIdleTimeout <= 0 {
		opt.TCPIdleTimeout = defaultTCPIdleTimeout
	}
	if opt.TCPBusyIdleTimeout <= 0 {
		opt.TCPBusyIdleTimeout = defaultTCPBusyIdle
	}
	if opt.TCPWriteTimeout <= 0 {
		opt.TCPWriteTimeout = defaultTCPWriteTimeout
	}
	if opt.TCPMaxQueries == 0 {
		opt.TCPMaxQueries = defaultTCPMaxQueries
	}
	if opt.UDPSockets <= 0 {
		opt.UDPSockets = runtime.GOMAXPROCS(0)
	}
	s := &Server{log: opt.Logger, opt: opt, budget: newCacheBudget(opt.CacheEntries)}
	if opt.Cookies != nil {
		s.cookies = newCookies(*opt.Cookies)
	}
	if opt.RRL != nil {
		s.rrl = newRRL(*opt.RRL)
		s.rrl.logf = s.logLimited
	}
	if opt.ZoneCounts {
		s.zstats = newZoneStats()
	}
	if d := opt.Dnstap; d != nil && (d.Socket != "" || d.File != "") {
		s.tap = newTap(*d, opt.Logger)
	}
	zones := (&zoneSet{}).edit()
	if opt.Transfers != nil {
		s.xfr = newXFR(*opt.Transfers, s)
		s.xfrApplied(zones, zones, nil, nil)
	}
	s.snap.Store(newSnapshot(zones))
	return s
}

// Apply serves the zones in set (replacing those with the same origin)
// and stops serving the origins in remove. Zones whose hash did not change
// are kept as they are; the others are packed (on every core when there
// are many; see packedZone) before the new snapshot is swapped in, so
// queries never see a half-applied change. A zone with the same origin
// and hash as one another Server of the process serves shares its packed
// form. One call costs time linear in the zones given, plus a copy of
// the shards of the zone set they fall in (zoneset.go), not of every zone
// served (with a catalog zone, adding or removing a zone also lists all
// of them). A zone that cannot be served is
// logged, left as it was, and reported in the returned map (origin →
// error; nil when all were packed).
//
// Cached answers are dropped per zone: those of each zone changed or
// removed, and those of the zones enclosing a zone added or removed;
// every other zone keeps its cache.
func (s *Server) Apply(set []*Zone, remove []string) map[string]error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.snap.Load().zones
	zones := old.edit() // copies only the shards it changes
	var removed, added []string
	for _, o := range remove {
		o = canonicalOrigin(o)
		if zones.get(o) != nil && !s.xfr.isCatalog(o) {
			zones.del(o)
			removed = append(removed, o)
		}
	}
	var failed map[string]error
	fail := func(origin string, err error) {
		s.log.Error("zone not served", "zone", origin, "err", err)
		if failed == nil {
			failed = map[string]error{}
		}
		failed[origin] = err
	}
	todo := make([]*Zone, 0, len(set))
	for _, z := range set {
		origin := canonicalOrigin(z.Origin)
		if cur := zones.get(origin); cur != nil && z.Hash != "" && cur.hash == z.Hash {
			continue
		}
		if s.xfr.isCatalog(origin) {
			fail(origin, errCatalogName)
			continue
		}
		todo = append(todo, z)
	}
	packed, errs := packAll(todo)
	var changed []*Zone
	var replaced []string // origins whose served zone this Apply replaces
	for i, z := range todo {
		origin := canonicalOrigin(z.Origin)
		if errs[i] != nil {
			fail(origin, errs[i])
			continue
		}
		if zones.get(origin) == nil {
			added = append(added, origin)
		}
		zones.set(newServedZone(packed[i], s.budget))
		changed = append(changed, z)
		replaced = append(replaced, origin)
	}
	replaced = append(replaced, removed...)
	replaced = append(replaced, s.renewEnclosing(zones, append(added, removed...))...)
	notify := s.xfrApplied(old, zones, changed, removed)
	s.zstats.apply(changed, removed)
	s.snap.Store(newSnapshot(zones))
	s.budget.scale(zones.len())
	// Only the replaced zones' caches go (not a walk over every zone); the
	// catalog zone is rebuilt by xfrApplied when transfers are on.
	if s.xfr != nil && s.xfr.opt.Catalog != "" {
		replaced = append(replaced, s.xfr.opt.Catalog)
	}
	for _, o := range replaced {
		if z := old.get(o); z != nil && zones.get(o) != z {
			z.cache.drop()
		}
	}
	s.notifyChanged(notify)
	s.log.Debug("zones applied", "packed", len(changed), "removed", len(remove), "served", zones.len())
	return failed
}

// renewEnclosing gives every zone enclosing one of origins (added or
// removed) a new, empty cache and returns their origins. Many origins at
// once (a restart's load) renew the zones that enclose any of them once.
func (s *Server) renewEnclosing(zones *zoneSet, origins []string) []string {
	renewed := map[string]bool{}
	var out []string
	for _, o := range origins {
		for name, ok := parentName(o); ok; name, ok = parentName(name) {
			z := zones.get(name)
			if z == nil || renewed[name] {
				continue
			}
			renewed[name] = true
			out = append(out, name)
			zones.set(newServedZone(z.packedZone, s.budget))
		}
	}
	return out
}

// errCatalogName refuses a zone named as the catalog zone.
var errCatalogName = errors.New("its name is the catalog zone's (transfers.catalog_zone)")

// parallelPack is the number of zones from which Apply packs on every
// core: below it, starting goroutines costs more than it saves.
const parallelPack = 64

// packAll packs every zone (or finds it packed already), in parallel for
// large sets; the results are in the order of zs.
func packAll(zs []*Zone) ([]*packedZone, []error) {
	out, errs := make([]*packedZone, len(zs)), make([]error, len(zs))
	workers := min(runtime.GOMAXPROCS(0), len(zs)/parallelPack+1)
	if workers == 1 {
		// A few zones (a push's Apply): packed by the caller, without a
		// goroutine to start, wake and grow a stack for.
		for i, z := range zs {
			out[i], errs[i] = sharedZone(z)
		}
		return out, errs
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < len(zs); i = int(next.Add(1) - 1) {
				out[i], errs[i] = sharedZone(zs[i])
			}
		}()
	}
	wg.Wait()
	return out, errs
}

// Served returns the hash of the zone currently served for origin.
func (s *Server) Served(origin string) (hash string, ok bool) {
	z := s.snap.Load().zones.get(canonicalOrigin(origin))
	if z == nil {
		return "", false
	}
	return z.hash, true
}

// Zone returns the zone currently served for origin, its records decoded
// from the packed form (the same records as applied, in the same order,
// though not the same objects).
func (s *Server) Zone(origin string) (*Zone, bool) {
	z := s.snap.Load().zones.get(canonicalOrigin(origin))
	if z == nil {
		return nil, false
	}
	out, err := z.zone()
	if err != nil {
		s.log.Error("zone not decoded", "zone", z.origin, "err", err)
		return nil, false
	}
	return out, true
}

// Origins lists the origins served, sorted; the catalog zone, which the
// server makes itself, is not among them.
func (s *Server) Origins() []string {
	out := s.snap.Load().origins()
	if s.xfr != nil && s.xfr.opt.Catalog != "" {
		for i, o := range out {
			if o == s.xfr.opt.Catalog {
				return append(out[:i], out[i+1:]...)
			}
		}
	}
	return out
}

func canonicalOrigin(o string) string { return canon(dns.Fqdn(o)) }
