package bind

import (
	"context"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// rndc runs rndc commands against the configured server.
type rndc struct {
	path    string
	base    []string // -c, -k, -s, -p as configured
	timeout time.Duration
	calls   atomic.Int64
}

func newRndc(r Rndc) *rndc {
	var base []string
	for _, o := range []struct{ flag, val string }{{"-c", r.Conf}, {"-k", r.Key}, {"-s", r.Server}} {
		if o.val != "" {
			base = append(base, o.flag, o.val)
		}
	}
	if r.Port != 0 {
		base = append(base, "-p", strconv.Itoa(r.Port))
	}
	return &rndc{path: r.Path, base: base, timeout: r.Timeout}
}

// run runs one rndc command; a non-zero exit is an error carrying rndc's
// message.
func (r *rndc) run(ctx context.Context, args ...string) error {
	ctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()
	r.calls.Add(1)
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

// Probe implements backend.Prober: "rndc status" answers only when named
// runs and accepts dadns's key; its error is rndc's message.
func (b *Backend) Probe(ctx context.Context) error {
	return b.rndc.run(ctx, "status")
}
