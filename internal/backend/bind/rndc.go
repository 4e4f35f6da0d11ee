package bind

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dadns/dadns/internal/backend/bind/rndcproto"
)

// rndc sends rndc commands to the configured server: over named's
// control channel directly (rndcproto) when it understands the rndc
// configuration, else by running the rndc binary.
type rndc struct {
	path    string
	base    []string // -c, -k, -s, -p as configured
	params  rndcproto.Params
	timeout time.Duration
	log     *slog.Logger
	calls   atomic.Int64
	trace   func(args []string) // tests: sees every command, either way

	mu     sync.Mutex
	conf   *rndcproto.Config // the configuration last read (also when unusable)
	client *rndcproto.Client // nil: run the binary
	mode   string            // the way last logged
}

func newRndc(r Rndc, log *slog.Logger) *rndc {
	var base []string
	for _, o := range []struct{ flag, val string }{{"-c", r.Conf}, {"-k", r.Key}, {"-s", r.Server}} {
		if o.val != "" {
			base = append(base, o.flag, o.val)
		}
	}
	if r.Port != 0 {
		base = append(base, "-p", strconv.Itoa(r.Port))
	}
	rc := &rndc{path: r.Path, base: base, timeout: r.Timeout, log: log, trace: r.trace,
		params: rndcproto.Params{Conf: r.Conf, KeyFile: r.Key, Server: r.Server, Port: r.Port}}
	if r.Exec {
		rc.mode = "exec"
		log.Info("bind: rndc commands run by the rndc binary (rndc_exec)", "rndc", r.Path)
	} else {
		rc.native()
	}
	return rc
}

// run runs one rndc command; an error carries rndc's message (named's
// "err" and "text" when named refused the command).
func (r *rndc) run(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	r.calls.Add(1)
	if r.trace != nil {
		r.trace(args)
	}
	if c := r.native(); c != nil {
		if _, err := c.Run(ctx, strings.Join(args, " ")); err != nil {
			return fmt.Errorf("bind: rndc %s: %w", strings.Join(args, " "), err)
		}
		return nil
	}
	out, err := exec.CommandContext(ctx, r.path, append(r.base[:len(r.base):len(r.base)], args...)...).CombinedOutput()
	if err != nil {
		msg := strings.TrimSpace(string(out))
		if len(msg) > 300 {
			msg = msg[:300] + "..."
		}
		return fmt.Errorf("bind: rndc %s: %w: %s", strings.Join(args, " "), err, msg)
	}
	return nil
}

// native returns the control channel client, reading the rndc
// configuration again when one of its files changed (rndc reads it on
// every run), or nil when the binary must run: the configuration uses
// what rndcproto does not implement, or is broken in a way rndc itself
// reports (each run then fails with rndc's own message). The way taken
// is logged once, and again when it changes.
func (r *rndc) native() *rndcproto.Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mode == "exec" {
		return nil
	}
	if r.conf != nil && r.conf.Fresh() {
		return r.client
	}
	conf, err := rndcproto.Load(r.params)
	if r.client != nil {
		r.client.Close() // its kept connection may use the old key
	}
	r.conf, r.client = conf, nil
	if err == nil {
		r.client = conf.Client()
	}
	r.logMode(conf, err)
	return r.client
}

func (r *rndc) logMode(conf *rndcproto.Config, err error) {
	if err != nil {
		mode := "binary: " + err.Error()
		if mode != r.mode {
			why := "its configuration is not understood"
			if !errors.Is(err, rndcproto.ErrUnsupported) {
				why = "its configuration cannot be used"
			}
			r.log.Info("bind: rndc commands run by the rndc binary: "+why, "rndc", r.path, "reason", err.Error())
		}
		r.mode = mode
		return
	}
	addrs := make([]string, len(r.client.Addrs))
	for i, a := range r.client.Addrs {
		addrs[i] = a.String()
	}
	mode := fmt.Sprintf("native %v %s %s", addrs, conf.Key.Name, conf.Key.Algorithm())
	if mode != r.mode {
		r.log.Info("bind: rndc commands sent over named's control channel directly",
			"server", conf.Server, "addresses", strings.Join(addrs, ","), "key", conf.Key.Name, "algorithm", conf.Key.Algorithm())
	}
	r.mode = mode
}

// close closes the connection kept to named's control channel.
func (r *rndc) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.client != nil {
		r.client.Close()
	}
}

// Close implements backend.Closer: it closes the connection kept to
// named's control channel. Commands sent later still work, each on a
// connection of its own.
func (b *Backend) Close() error {
	b.rndc.close()
	return nil
}

// Probe implements backend.Prober: "rndc status" answers only when named
// runs and accepts dadns's key; its error is rndc's message.
func (b *Backend) Probe(ctx context.Context) error {
	return b.rndc.run(ctx, "status")
}
