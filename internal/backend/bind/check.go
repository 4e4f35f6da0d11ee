package bind

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// checker tests zone files the way named will load them: a batch with one
// named-checkconf -z run over a configuration of just those zones, and,
// when its output does not name the zone at fault, each zone alone with
// named-checkzone.
type checker struct {
	conf, zone string // resolved commands; "" when unavailable
	dir        string
	opts       zoneOptions // as in the include, so zones load as named will load them
}

func newChecker(conf, zoneCmd, dir string, log *slog.Logger) *checker {
	c := &checker{dir: dir}
	c.conf = lookCommand(conf, "named_checkconf", log)
	c.zone = lookCommand(zoneCmd, "named_checkzone", log)
	return c
}

func lookCommand(cmd, key string, log *slog.Logger) string {
	if cmd == "" {
		return ""
	}
	p, err := exec.LookPath(cmd)
	if err != nil {
		log.Warn("bind: zone check command not available; zones reach named unchecked", "key", key, "command", cmd, "err", err)
		return ""
	}
	return p
}

// check returns the zones named would refuse to load, with why; the errors
// are permanent (the same text fails the same way). A failure of the check
// itself is returned as err.
func (c *checker) check(ctx context.Context, files []staged) (map[zone.Name]error, error) {
	if len(files) == 0 || c.conf == "" && c.zone == "" {
		return nil, nil
	}
	if c.conf != "" {
		bad, ok, err := c.checkConfParallel(ctx, files)
		if err != nil || ok {
			return bad, err
		}
	}
	if c.zone == "" {
		return nil, errors.New("bind: named-checkconf failed without naming a zone and named-checkzone is unavailable")
	}
	return c.checkEach(ctx, files)
}

// checkParts is how many named-checkconf runs share a large batch: named
// loads a zone on one core, and a batch would otherwise use only one.
const checkParts = 2

// checkConfParallel splits a large batch between checkParts runs.
func (c *checker) checkConfParallel(ctx context.Context, files []staged) (map[zone.Name]error, bool, error) {
	parts := checkParts
	if len(files) < 100 {
		parts = 1
	}
	type result struct {
		bad map[zone.Name]error
		ok  bool
		err error
	}
	res := make([]result, parts)
	var wg sync.WaitGroup
	for i := range parts {
		part := files[i*len(files)/parts : (i+1)*len(files)/parts]
		wg.Go(func() { res[i].bad, res[i].ok, res[i].err = c.checkConf(ctx, part) })
	}
	wg.Wait()
	bad, ok := map[zone.Name]error{}, true
	for _, r := range res {
		if r.err != nil {
			return nil, false, r.err
		}
		maps.Copy(bad, r.bad)
		ok = ok && r.ok
	}
	return bad, ok, nil
}

// checkConf runs named-checkconf -z; ok reports that its verdict is
// complete (every failure was tied to a zone).
func (c *checker) checkConf(ctx context.Context, files []staged) (map[zone.Name]error, bool, error) {
	conf, err := c.writeConf(files)
	if err != nil {
		return nil, false, err
	}
	defer os.Remove(conf)
	out, err := exec.CommandContext(ctx, c.conf, "-z", conf).CombinedOutput()
	if ctx.Err() != nil {
		return nil, false, ctx.Err()
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, false, fmt.Errorf("bind: run named-checkconf: %w", err)
	}
	bad := attribute(out, files)
	return bad, err == nil || len(bad) > 0, nil
}

// writeConf writes a configuration holding one statement per staged file.
func (c *checker) writeConf(files []staged) (string, error) {
	f, err := os.CreateTemp(c.dir, ".dadns-check-*.conf")
	if err != nil {
		return "", fmt.Errorf("bind: check config: %w", err)
	}
	var b bytes.Buffer
	for _, s := range files {
		b.WriteString(c.opts.stanza(s.Z.Name, s.Tmp))
	}
	_, err = f.Write(b.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("bind: check config: %w", err)
	}
	return f.Name(), nil
}

// attribute reads named-checkconf's output: lines "zone NAME/IN: ..." and
// "PATH:LINE: ..." are tied to their zone; a zone is refused when named
// says it was "not loaded due to errors".
func attribute(out []byte, files []staged) map[zone.Name]error {
	byPath := map[string]zone.Name{}
	for _, s := range files {
		byPath[s.Tmp] = s.Z.Name
	}
	msgs := map[zone.Name][]string{}
	failed := map[zone.Name]bool{}
	for _, line := range strings.Split(string(out), "\n") {
		n, msg := lineZone(line, byPath)
		if n == "" {
			continue
		}
		if strings.Contains(msg, "not loaded due to errors") {
			failed[n] = true
			continue
		}
		msgs[n] = append(msgs[n], msg)
	}
	bad := map[zone.Name]error{}
	for n := range failed {
		bad[n] = backend.Permanent(fmt.Errorf("bind: named would not load zone %s: %s", n, strings.Join(msgs[n], "; ")))
	}
	return bad
}

// lineZone ties one output line to a zone and strips temporary paths.
func lineZone(line string, byPath map[string]zone.Name) (zone.Name, string) {
	line = strings.TrimPrefix(line, "dns_master_load: ")
	if rest, ok := strings.CutPrefix(line, "zone "); ok {
		if i := strings.Index(rest, "/IN: "); i > 0 {
			return zone.Name(rest[:i]), stripPaths(rest[i+5:], byPath)
		}
	}
	for p, n := range byPath {
		if rest, ok := strings.CutPrefix(line, p); ok {
			return n, "line " + strings.TrimPrefix(stripPaths(rest, byPath), ":")
		}
	}
	return "", ""
}

func stripPaths(s string, byPath map[string]zone.Name) string {
	for p := range byPath {
		if strings.Contains(s, p) {
			s = strings.ReplaceAll(s, p, "the zone file")
		}
	}
	return s
}

// checkEach runs named-checkzone on every file.
func (c *checker) checkEach(ctx context.Context, files []staged) (map[zone.Name]error, error) {
	bad := map[zone.Name]error{}
	for _, s := range files {
		out, err := exec.CommandContext(ctx, c.zone, "--", string(s.Z.Name), s.Tmp).CombinedOutput()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		var exit *exec.ExitError
		switch {
		case errors.As(err, &exit):
			msg := strings.TrimSpace(stripPaths(string(out), map[string]zone.Name{s.Tmp: s.Z.Name}))
			bad[s.Z.Name] = backend.Permanent(fmt.Errorf("bind: named would not load zone %s: %s", s.Z.Name, msg))
		case err != nil:
			return nil, fmt.Errorf("bind: run named-checkzone: %w", err)
		}
	}
	return bad, nil
}
