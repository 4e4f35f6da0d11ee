package knot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strings"
	"sync"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// check returns the zones knotd would refuse to load, with knotd's
// reason: "knotc -c <conf> zone-check" over a configuration of just the
// batch's new files runs knotd's own zone loader (with knotd's default
// checks) without touching the running server. The errors are permanent
// (the same text fails the same way). A failure of the check itself is
// returned as err.
func (b *Backend) check(ctx context.Context, files []staged) (map[zone.Name]error, error) {
	if len(files) == 0 || b.opt.NoCheck {
		return nil, nil
	}
	parts := 1
	if len(files) >= 100 {
		parts = checkParts
	}
	bad := make([]map[zone.Name]error, parts)
	errs := make([]error, parts)
	var wg sync.WaitGroup
	for i := range parts {
		part := files[i*len(files)/parts : (i+1)*len(files)/parts]
		wg.Go(func() { bad[i], errs[i] = b.checkPart(ctx, part) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	all := map[zone.Name]error{}
	for _, m := range bad {
		maps.Copy(all, m)
	}
	return all, nil
}

// checkParts is how many zone-check runs share a large batch: each loads
// zones on one core.
const checkParts = 2

func (b *Backend) checkPart(ctx context.Context, files []staged) (map[zone.Name]error, error) {
	conf, err := b.writeCheckConf(files)
	if err != nil {
		return nil, err
	}
	defer os.Remove(conf)
	cctx, cancel := context.WithTimeout(ctx, b.opt.KnotcTimeout)
	defer cancel()
	b.knotc.calls.Add(1)
	out, err := exec.CommandContext(cctx, b.opt.Knotc, "-c", conf, "zone-check").CombinedOutput()
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		return nil, fmt.Errorf("knot: run knotc zone-check: %w", err)
	}
	byPath := map[string]zone.Name{}
	inBatch := map[zone.Name]bool{}
	for _, s := range files {
		byPath[s.tmp] = s.z.Name
		inBatch[s.z.Name] = true
	}
	bad := map[zone.Name]error{}
	for n, why := range zoneErrors(string(out)) {
		if !inBatch[n] {
			continue
		}
		bad[n] = backend.Permanent(fmt.Errorf("knot: knotd would not load zone %s: %s", n, stripPaths(why, byPath)))
	}
	if err != nil && len(bad) == 0 {
		return nil, fmt.Errorf("knot: knotc zone-check failed without naming a zone: %w: %s", err, clip(stripPaths(string(out), byPath)))
	}
	return bad, nil
}

// writeCheckConf writes a knotd configuration holding one zone per staged
// file, with knotd's defaults otherwise.
func (b *Backend) writeCheckConf(files []staged) (string, error) {
	f, err := os.CreateTemp(b.opt.ZonesDir, ".dadns-check-*.conf")
	if err != nil {
		return "", fmt.Errorf("knot: check config: %w", err)
	}
	var buf bytes.Buffer
	buf.WriteString("zone:\n")
	for _, s := range files {
		fmt.Fprintf(&buf, "  - domain: %s\n    file: \"%s\"\n", s.z.Name, s.tmp)
	}
	_, err = f.Write(buf.Bytes())
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", fmt.Errorf("knot: check config: %w", err)
	}
	return f.Name(), nil
}

func stripPaths(s string, byPath map[string]zone.Name) string {
	for p := range byPath {
		if strings.Contains(s, p) {
			s = strings.ReplaceAll(s, p, "the zone file")
		}
	}
	return s
}
