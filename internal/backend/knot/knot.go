// Package knot is the backend that makes a Knot DNS knotd serve the zones
// dadns holds: one zone file per zone in a directory, zones added to and
// removed from knotd's running configuration with knotc configuration
// transactions, changed contents loaded with one blocking zone-reload per
// batch, and everything verified by asking knotd over DNS.
package knot

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend/dnsverify"
	"github.com/dadns/dadns/internal/backend/knot/knotctl"
	"github.com/dadns/dadns/internal/backend/zonefile"
	"github.com/dadns/dadns/internal/zone"
)

// Defaults for Options fields left zero.
const (
	DefaultVerifyAddr    = "127.0.0.1:53"
	DefaultSocket        = "/run/knot/knot.sock"
	DefaultVerifyTimeout = 15 * time.Second
	DefaultKnotcTimeout  = 2 * time.Minute
)

// Options configure a Backend.
type Options struct {
	ZonesDir string // where <zone>.zone files are written; made absolute
	// Knotc is the knotc command (default "knotc"); Socket its control
	// socket (knotc -s; default /run/knot/knot.sock).
	Knotc  string
	Socket string
	// Template is the knotd template dadns's zones use. Empty: the
	// default template, whose storage should be ZonesDir (then adding a
	// zone is one item of one command); otherwise each new zone also
	// gets zone[NAME].template (or zone[NAME].file) set.
	Template string
	// VerifyAddr is the host:port where knotd answers queries.
	VerifyAddr string
	// Transfer: knotd allows zone transfers to dadns, so Zone reads zones
	// back by AXFR and Verify compares their hash, not only the serial.
	Transfer bool
	// Check runs "knotc -c <tmp conf> zone-check" over new zone files
	// before they are installed (default true; set NoCheck to skip).
	NoCheck           bool
	FileMode, DirMode os.FileMode
	// VerifyTimeout bounds how long after an activation Verify waits for
	// knotd to finish loading.
	VerifyTimeout time.Duration
	// KnotcTimeout bounds one knotc run.
	KnotcTimeout time.Duration
	Logger       *slog.Logger

	// execOnly (tests) runs the knotc binary for every action, as when
	// knotd's control protocol version is unknown.
	execOnly bool
	// trace (tests) sees every action sent through the control protocol.
	trace func(args []string) error
}

func (o *Options) defaults() {
	if o.VerifyAddr == "" {
		o.VerifyAddr = DefaultVerifyAddr
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = DefaultVerifyTimeout
	}
	if o.KnotcTimeout <= 0 {
		o.KnotcTimeout = DefaultKnotcTimeout
	}
	if o.Knotc == "" {
		o.Knotc = "knotc"
	}
	if o.Socket == "" {
		o.Socket = DefaultSocket
	}
	if o.FileMode == 0 {
		o.FileMode = 0o644
	}
	if o.DirMode == 0 {
		o.DirMode = 0o755
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

// Backend drives one knotd. Apply and Delete are serialized; Zone, Zones,
// Verify and Probe may run beside them.
type Backend struct {
	opt   Options
	log   *slog.Logger
	knotc *knotc

	op sync.Mutex // one Apply or Delete at a time

	mu        sync.RWMutex
	zones     map[zone.Name]entry // zones whose file dadns wrote
	settle    time.Time           // Verify waits for knotd until then
	poll      *dnsverify.Poller   // verifies activated batches together
	defaultOK int                 // default template loads zones_dir: 1 yes, -1 no, 0 not asked

	// The zones knotd's configuration has, as last read and changed by
	// dadns's own transactions since (guarded by op); nil when unknown.
	conf      map[zone.Name]bool
	confAt    time.Time
	confFresh time.Duration
	lastDrift string
}

// entry is what dadns knows of a zone file it wrote.
type entry struct {
	serial uint32
	hash   string
}

// markerName is the file in zones_dir that exists while dadns has a knotd
// configuration transaction open.
const markerName = ".dadns-conf-transaction"

// New checks the options, creates the zones directory when missing and
// reads the zone files dadns wrote before. knotd need not be running.
func New(opt Options) (*Backend, error) {
	opt.defaults()
	if opt.ZonesDir == "" {
		return nil, fmt.Errorf("knot: zones_dir must be set")
	}
	abs, err := filepath.Abs(opt.ZonesDir)
	if err != nil {
		return nil, fmt.Errorf("knot: zones_dir %q: %w", opt.ZonesDir, err)
	}
	if !confSafe(abs) {
		return nil, fmt.Errorf("knot: zones_dir %q has a space, quote, backslash or control character knotc cannot pass", opt.ZonesDir)
	}
	opt.ZonesDir = abs
	if opt.Template != "" && !templateRE.MatchString(opt.Template) {
		return nil, fmt.Errorf("knot: template %q is not a knotd template id (letters, digits, - and _)", opt.Template)
	}
	if err := os.MkdirAll(opt.ZonesDir, opt.DirMode); err != nil {
		return nil, fmt.Errorf("knot: create zones dir: %w", err)
	}
	kc := &knotc{path: opt.Knotc, socket: opt.Socket, timeout: opt.KnotcTimeout,
		marker: filepath.Join(opt.ZonesDir, markerName), log: opt.Logger, trace: opt.trace,
		native: newClient(opt.Socket)}
	kc.execOnly.Store(opt.execOnly)
	b := &Backend{opt: opt, log: opt.Logger, confFresh: confFresh, knotc: kc}
	b.poll = dnsverify.NewPoller(b.verifier(), 0, nil)
	if err := b.load(); err != nil {
		return nil, err
	}
	b.reportDrift(b.drift())
	b.resync()
	return b, nil
}

// newClient returns the control protocol client of a socket; the calls'
// contexts carry the timeout (knotc.timeout).
func newClient(socket string) *knotctl.Client { return &knotctl.Client{Socket: socket} }

// resync adds to knotd's running configuration the zones dadns holds that
// it lacks: knotd started from a text configuration forgets the zones
// added at run time when it restarts. Best effort: with knotd down, the
// next batch (or Repair) does the same.
func (b *Backend) resync() {
	b.mu.RLock()
	n := len(b.zones)
	b.mu.RUnlock()
	if n == 0 {
		return
	}
	// A knotd that does not answer must not hold dadns's start for long.
	ctx, cancel := context.WithTimeout(context.Background(), min(b.opt.KnotcTimeout, 30*time.Second))
	defer cancel()
	if err := b.addMissing(ctx); err != nil {
		b.log.Warn("knot: could not give knotd the zones it lacks; the next batch tries again", "err", err)
	}
}

// addMissing reads knotd's zone list and adds every zone dadns holds that
// it lacks, in one transaction.
func (b *Backend) addMissing(ctx context.Context) error {
	b.op.Lock()
	defer b.op.Unlock()
	have, err := b.knotc.configured(ctx)
	if err != nil {
		b.forgetConf()
		return err
	}
	b.noteConf(have)
	if err := b.addZones(ctx, b.missing(have)); err != nil {
		b.forgetConf()
		return err
	}
	return nil
}

// Repair implements backend.Repairer: the dispatcher calls it between
// batches while knotd is up. It gives knotd back every zone dadns holds
// that knotd's configuration lacks (a knotd restarted from a text
// knot.conf while no zone changed) and logs the drift it finds in
// zones_dir, once per change.
func (b *Backend) Repair(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	b.reportDrift(b.drift())
	if err := b.addMissing(ctx); err != nil {
		return fmt.Errorf("knot: repair: %w", err)
	}
	return nil
}

// load removes what an interrupted batch left in zones_dir (temporary,
// previous and refused files, check configurations) and reads the headers
// of the zone files.
func (b *Backend) load() error {
	for _, pat := range []string{".*.tmp-*", ".*.zone.prev", ".*.zone.refused", ".dadns-check-*.conf"} {
		left, _ := filepath.Glob(filepath.Join(b.opt.ZonesDir, pat))
		for _, p := range left {
			_ = os.Remove(p)
		}
	}
	names, err := b.zoneFiles()
	if err != nil {
		return err
	}
	b.zones = map[zone.Name]entry{}
	for _, n := range names {
		p, err := b.zoneFile(n)
		if err != nil {
			continue
		}
		if hn, serial, hash, ok := zonefile.Header(p); ok && hn == n {
			b.zones[n] = entry{serial: serial, hash: hash}
		}
	}
	return nil
}
