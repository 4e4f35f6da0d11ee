// Package nsd is the backend that makes an NLnet Labs NSD serve the zones
// dadns holds: one zone file per zone in a directory, zones added and
// removed with nsd-control (addzone with an operator's pattern, or a
// static include file and reconfig), each zone checked with nsd-checkzone
// before NSD sees it, and verified by asking NSD over DNS.
package nsd

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/backend/dnsverify"
	"github.com/dadns/dadns/internal/zone"
)

// Modes of adding and removing zones.
const (
	// ModeAddZone adds zones with "nsd-control addzones" under a pattern
	// the operator defines; NSD keeps them in its zonelistfile.
	ModeAddZone = "addzone"
	// ModeInclude writes a zone: entry per zone into the include file
	// and has NSD read it with "nsd-control reconfig".
	ModeInclude = "include"
)

// Defaults for Options fields left zero.
const (
	DefaultVerifyAddr     = "127.0.0.1:53"
	DefaultVerifyTimeout  = 15 * time.Second
	DefaultControlTimeout = 2 * time.Minute
	DefaultReloadAllAbove = 16
)

// Options configure a Backend.
type Options struct {
	ZonesDir    string // where <zone>.db files are written; made absolute
	IncludeFile string // nsd_conf: the file dadns owns; made absolute
	Control     Control
	// Pattern is the nsd.conf pattern zones are added with (addzone
	// mode), or included into each zone entry (include mode); "" for
	// none, which only include mode allows.
	Pattern string
	// Mode is ModeAddZone or ModeInclude; default addzone when Pattern
	// is set, include otherwise.
	Mode string
	// VerifyAddr is the host:port where NSD answers queries.
	VerifyAddr string
	// Transfer: NSD allows zone transfers to dadns (provide-xfr), so Zone
	// reads zones back by AXFR and Verify compares their hash.
	Transfer bool
	// CheckZone is the nsd-checkzone command; empty or not installed
	// skips the check with a warning.
	CheckZone         string
	FileMode, DirMode os.FileMode
	// VerifyTimeout bounds how long after an activation Verify waits for
	// NSD to finish loading.
	VerifyTimeout time.Duration
	// ReloadAllAbove: a batch changing more existing zones than this is
	// activated by one "nsd-control reload" rather than one per zone.
	ReloadAllAbove int
	Logger         *slog.Logger
}

// Control says how to reach NSD's remote control. By default dadns reads
// Conf's remote-control settings as nsd-control does and speaks its
// protocol itself (TLS with the configured keys, or plain on a local
// socket); it runs nsd-control (Path) only where that configuration
// cannot be used natively, or when Exec is set.
type Control struct {
	Path string // default "nsd-control"
	// Conf is the nsd.conf holding the remote-control settings (nsd-control
	// -c); default DefaultControlConf, nsd-control's own default.
	Conf string
	// Socket is NSD's control-interface when it is a local socket path:
	// dadns then speaks nsd-control's protocol on it without reading Conf.
	Socket string
	// Exec runs nsd-control for every command instead of speaking the
	// protocol natively.
	Exec    bool
	Timeout time.Duration
}

func (o *Options) defaults() {
	if o.Mode == "" {
		o.Mode = ModeInclude
		if o.Pattern != "" {
			o.Mode = ModeAddZone
		}
	}
	if o.VerifyAddr == "" {
		o.VerifyAddr = DefaultVerifyAddr
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = DefaultVerifyTimeout
	}
	if o.ReloadAllAbove <= 0 {
		o.ReloadAllAbove = DefaultReloadAllAbove
	}
	if o.Control.Path == "" {
		o.Control.Path = "nsd-control"
	}
	if o.Control.Timeout <= 0 {
		o.Control.Timeout = DefaultControlTimeout
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

// Backend drives one NSD. Apply and Delete are serialized; Zone, Zones
// and Verify may run beside them.
type Backend struct {
	opt   Options
	log   *slog.Logger
	ctl   *control
	check *checker
	ask   *asker            // SOA queries to NSD
	poll  *dnsverify.Poller // verifies activated batches together

	op sync.Mutex // one Apply or Delete at a time

	mu        sync.RWMutex
	zones     map[zone.Name]entry // the zones dadns holds in NSD
	foreign   []string            // include lines dadns did not write
	dirty     bool                // include mode: the include changed since NSD last read it
	settle    time.Time           // Verify waits for NSD until then
	lastDrift string
}

// entry is one zone dadns holds and what it knows of its file.
type entry struct {
	file   string // absolute path NSD loads
	serial uint32 // of the content dadns wrote; 0 when unknown (read the file)
	hash   string
	active bool // addzone mode: NSD accepted the zone from this process
}

// New checks the options, creates the zones directory and an empty
// include file when missing, and reads the include file dadns wrote
// before. It does not talk to NSD.
func New(opt Options) (*Backend, error) {
	opt.defaults()
	if err := opt.check(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(opt.ZonesDir, opt.DirMode); err != nil {
		return nil, fmt.Errorf("nsd: create zones dir: %w", err)
	}
	b := &Backend{opt: opt, log: opt.Logger, ctl: newControl(opt.Control, opt.Logger), ask: &asker{addr: opt.VerifyAddr}, dirty: true}
	b.check = newChecker(opt.CheckZone, b.log)
	b.poll = dnsverify.NewPoller(b.verifier(), 0, b.servfail)
	if err := b.load(); err != nil {
		return nil, err
	}
	b.reportDrift(b.drift())
	return b, nil
}

// check validates the mode and pattern and makes the paths absolute,
// refusing paths that cannot be written inside a quoted nsd.conf string.
func (o *Options) check() error {
	switch o.Mode {
	case ModeAddZone:
		if o.Pattern == "" {
			return fmt.Errorf("nsd: mode addzone needs a pattern")
		}
	case ModeInclude:
	default:
		return fmt.Errorf("nsd: mode %q: use %s or %s", o.Mode, ModeAddZone, ModeInclude)
	}
	if o.Control.Socket != "" && !filepath.IsAbs(o.Control.Socket) {
		return fmt.Errorf("nsd: nsd_control_socket %q: give the absolute path of NSD's control-interface socket", shorten(o.Control.Socket))
	}
	if o.Pattern != "" && !patternSafe(o.Pattern) {
		return fmt.Errorf("nsd: pattern %q: use letters, digits, '-', '_' and '.' only", shorten(o.Pattern))
	}
	for _, p := range []*string{&o.ZonesDir, &o.IncludeFile} {
		if *p == "" {
			return fmt.Errorf("nsd: zones_dir and nsd_conf must be set")
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("nsd: path %q: %w", *p, err)
		}
		if !confSafe(abs) {
			return fmt.Errorf("nsd: path %q has a quote, backslash, '#' or control character nsd.conf cannot hold", *p)
		}
		*p = abs
	}
	return nil
}
