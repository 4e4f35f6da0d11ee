// Package bind is the backend that makes a BIND 9 named serve the zones
// dadns holds: one zone file per zone in a directory, one include file of
// zone statements, activated with as few rndc calls as a batch allows and
// verified by asking named over DNS.
package bind

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/backend/dnsverify"
	"github.com/dadns/dadns/internal/zone"
)

// Defaults for Options fields left zero.
const (
	DefaultVerifyAddr     = "127.0.0.1:53"
	DefaultVerifyTimeout  = 15 * time.Second
	DefaultRndcTimeout    = 2 * time.Minute
	DefaultReloadAllAbove = 16
)

// Options configure a Backend.
type Options struct {
	ZonesDir    string // where <zone>.db files are written; made absolute
	IncludeFile string // the named.conf include dadns owns; made absolute
	Rndc        Rndc
	// VerifyAddr is the host:port where named answers queries.
	VerifyAddr string
	// Transfer: named allows zone transfers to dadns, so Zone reads zones
	// back by AXFR and Verify compares their hash, not only the serial.
	Transfer bool
	// CheckConf and CheckZone are the named-checkconf and named-checkzone
	// commands that test zone files before named loads them; a command
	// that is empty or not installed is skipped with a warning.
	CheckConf, CheckZone string
	FileMode, DirMode    os.FileMode
	// VerifyTimeout bounds how long after an activation Verify waits for
	// named to finish loading.
	VerifyTimeout time.Duration
	// ReloadAllAbove: a batch changing more existing zones than this,
	// and at least an eighth of the zones held, is activated by one
	// "rndc reload" rather than one call per zone.
	ReloadAllAbove int
	// CheckNames is written into every zone statement: "ignore" (the
	// default, so named loads owner names such as under_score that every
	// other backend serves), "warn" or "fail".
	CheckNames string
	// MaxRecordsPerType and MaxTypesPerName are written into every zone
	// statement when named-checkconf accepts them (BIND 9.18.28+); 0 is
	// no limit, as the other backends have.
	MaxRecordsPerType, MaxTypesPerName int
	Logger                             *slog.Logger
}

// Rndc says how to reach named's control channel, with rndc's options;
// empty fields are left to rndc's defaults. Commands go over the channel
// directly when the rndc configuration is understood (rndcproto), else
// the rndc binary at Path runs them.
type Rndc struct {
	Path    string // default "rndc"
	Conf    string // -c
	Key     string // -k
	Server  string // -s
	Port    int    // -p
	Timeout time.Duration
	// Exec runs the rndc binary for every command, never the direct
	// channel.
	Exec bool

	trace func(args []string) // tests: sees every command
}

func (o *Options) defaults() {
	if o.VerifyAddr == "" {
		o.VerifyAddr = DefaultVerifyAddr
	}
	if o.VerifyTimeout <= 0 {
		o.VerifyTimeout = DefaultVerifyTimeout
	}
	if o.ReloadAllAbove <= 0 {
		o.ReloadAllAbove = DefaultReloadAllAbove
	}
	if o.Rndc.Path == "" {
		o.Rndc.Path = "rndc"
	}
	if o.Rndc.Timeout <= 0 {
		o.Rndc.Timeout = DefaultRndcTimeout
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
	if o.CheckNames == "" {
		o.CheckNames = "ignore"
	}
}

// Backend drives one named. Apply and Delete are serialized; Zone, Zones
// and Verify may run beside them.
type Backend struct {
	opt   Options
	log   *slog.Logger
	rndc  *rndc
	check *checker
	zopts zoneOptions // written into every zone statement

	op sync.Mutex // one Apply or Delete at a time

	mu        sync.RWMutex
	zones     map[zone.Name]entry // the include's zone statements
	foreign   []string            // include lines dadns did not write
	dirty     bool                // the include changed since named last read it
	settle    time.Time           // Verify waits for named until then
	poll      *dnsverify.Poller   // verifies activated batches together
	lastDrift string

	// writeFile replaces a file atomically (atomicfile.Write; tests inject
	// failures here).
	writeFile func(path string, data []byte, perm os.FileMode) error
}

// entry is one zone statement of the include and what dadns knows of its
// file.
type entry struct {
	file   string // absolute path named loads
	serial uint32 // of the content dadns wrote; 0 when unknown (read the file)
	hash   string
}

// New checks the options, creates the zones directory and an empty include
// file when missing, and reads the include file dadns wrote before. Drift
// is looked for by Repair, which the dispatcher runs when it starts.
func New(opt Options) (*Backend, error) {
	opt.defaults()
	if err := opt.absPaths(); err != nil {
		return nil, err
	}
	if opt.CheckNames != "ignore" && opt.CheckNames != "warn" && opt.CheckNames != "fail" {
		return nil, fmt.Errorf("bind: check_names %q: use ignore, warn or fail", opt.CheckNames)
	}
	if opt.MaxRecordsPerType < 0 || opt.MaxTypesPerName < 0 {
		return nil, fmt.Errorf("bind: max_records_per_type and max_types_per_name must not be negative")
	}
	if err := os.MkdirAll(opt.ZonesDir, opt.DirMode); err != nil {
		return nil, fmt.Errorf("bind: create zones dir: %w", err)
	}
	b := &Backend{opt: opt, log: opt.Logger, rndc: newRndc(opt.Rndc, opt.Logger), dirty: true, writeFile: atomicfile.Write}
	b.poll = dnsverify.NewPoller(b.verifier(), 0, nil)
	b.check = newChecker(opt.CheckConf, opt.CheckZone, opt.ZonesDir, b.log)
	b.zopts = newZoneOptions(&opt, b.check.conf, opt.ZonesDir, b.log)
	b.check.opts = b.zopts
	if err := b.load(); err != nil {
		return nil, err
	}
	return b, nil
}

// absPaths makes the directory and include absolute and refuses paths that
// cannot be written inside a quoted named.conf string.
func (o *Options) absPaths() error {
	for _, p := range []*string{&o.ZonesDir, &o.IncludeFile} {
		if *p == "" {
			return fmt.Errorf("bind: zones_dir and named_conf must be set")
		}
		abs, err := filepath.Abs(*p)
		if err != nil {
			return fmt.Errorf("bind: path %q: %w", *p, err)
		}
		if !confSafe(abs) {
			return fmt.Errorf("bind: path %q has a quote, backslash or control character named.conf cannot hold", *p)
		}
		*p = abs
	}
	return nil
}
