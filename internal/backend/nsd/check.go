package nsd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// checker runs nsd-checkzone: before activation on the staged files of
// zones NSD serves already (NSD stops serving a zone whose new file fails
// to load), and after it on the file of a zone NSD answers SERVFAIL for,
// to tell a zone NSD refused (and why) from one it is still loading.
type checker struct {
	cmd  string // resolved command; "" when unavailable
	runs atomic.Int64
}

func newChecker(cmd string, log *slog.Logger) *checker {
	if cmd == "" {
		log.Warn("nsd: nsd_checkzone is empty; zones reach NSD unchecked")
		return &checker{}
	}
	p, err := exec.LookPath(cmd)
	if err != nil {
		log.Warn("nsd: zone check command not available; zones reach NSD unchecked", "command", cmd, "err", err)
		return &checker{}
	}
	return &checker{cmd: p}
}

// checkers is how many nsd-checkzone runs overlap: each is a short
// process, mostly start-up.
func checkers() int { return max(2, 2*runtime.GOMAXPROCS(0)) }

// check returns the zones NSD would refuse to load, with NSD's reason;
// the errors are permanent (the same text fails the same way). A failure
// to run the check is returned as err.
func (c *checker) check(ctx context.Context, files []staged) (map[zone.Name]error, error) {
	if c.cmd == "" || len(files) == 0 {
		return nil, nil
	}
	bad := make([]error, len(files))
	errs := make([]error, len(files))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(checkers(), len(files)) {
		wg.Go(func() {
			for i := range next {
				bad[i], errs[i] = c.run(ctx, files[i].Z.Name, files[i].Tmp)
			}
		})
	}
	for i := range files {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := errors.Join(append(errs, ctx.Err())...); err != nil {
		return nil, err
	}
	out := map[zone.Name]error{}
	for i, e := range bad {
		if e != nil {
			out[files[i].Z.Name] = e
		}
	}
	return out, nil
}

// available says whether the check command can run.
func (c *checker) available() bool { return c.cmd != "" }

// run runs nsd-checkzone on one file.
func (c *checker) run(ctx context.Context, name zone.Name, path string) (refused, err error) {
	if c.cmd == "" {
		return nil, nil
	}
	c.runs.Add(1)
	out, err := exec.CommandContext(ctx, c.cmd, string(name), path).CombinedOutput()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var exit *exec.ExitError
	switch {
	case errors.As(err, &exit):
		return backend.Permanent(fmt.Errorf("nsd: NSD would not load zone %s: %s", name, reason(string(out), path))), nil
	case err != nil:
		return nil, fmt.Errorf("nsd: run nsd-checkzone: %w", err)
	}
	return nil, nil
}

// reason turns nsd-checkzone's output into one line: its error lines
// without time stamps and process ids, the temporary path made "line".
func reason(out, path string) string {
	var msgs []string
	for _, l := range lines(out) {
		if i := strings.Index(l, "]: "); i >= 0 && strings.HasPrefix(l, "[") {
			l = l[i+3:]
		}
		l = strings.ReplaceAll(l, path+":", "line ")
		l = strings.ReplaceAll(l, path, "the zone file")
		if strings.HasPrefix(l, "warning:") {
			continue
		}
		msgs = append(msgs, strings.TrimPrefix(l, "error: "))
	}
	return clip(strings.Join(msgs, "; "))
}
