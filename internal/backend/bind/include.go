package bind

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/zone"
)

const includeHeader = "# Written by dadns: zone statements for the zones it holds.\n" +
	"# dadns rewrites this file; edits are reported and lost.\n"

// stanzaRE matches the one statement dadns writes per zone, with the zone
// options it writes (zoneoptions.go) in group 3.
var stanzaRE = regexp.MustCompile(`^zone "([^"\\]+)" \{ type primary; file "([^"\\]+)";((?: [a-z-]+ [a-z0-9]+;)*) \};$`)

// renderInclude writes every statement, sorted by zone name.
func renderInclude(zones map[zone.Name]entry, opts zoneOptions) []byte {
	names := make([]zone.Name, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	slices.Sort(names)
	var b bytes.Buffer
	b.Grow(len(includeHeader) + len(names)*160)
	b.WriteString(includeHeader)
	for _, n := range names {
		b.WriteString(opts.stanza(n, zones[n].file))
	}
	return b.Bytes()
}

// parseInclude reads the statements dadns wrote; every other line that is
// not blank or a comment is returned as foreign. stale reports statements
// written with other zone options than opts.
func parseInclude(data []byte, opts zoneOptions) (zones map[zone.Name]entry, foreign []string, stale bool) {
	zones = map[zone.Name]entry{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		m := stanzaRE.FindStringSubmatch(line)
		if m == nil || checkName(zone.Name(m[1])) != nil || !strings.HasPrefix(m[2], "/") {
			foreign = append(foreign, line)
			continue
		}
		zones[zone.Name(m[1])] = entry{file: m[2]}
		stale = stale || m[3] != opts.text
	}
	return zones, foreign, stale
}

// load reads the include file, creating it empty when missing so that
// named.conf can include it from the start.
func (b *Backend) load() error {
	data, err := os.ReadFile(b.opt.IncludeFile)
	if errors.Is(err, fs.ErrNotExist) {
		return b.writeInclude(map[zone.Name]entry{})
	}
	if err != nil {
		return fmt.Errorf("bind: read include: %w", err)
	}
	var stale bool
	b.zones, b.foreign, stale = parseInclude(data, b.zopts)
	if stale {
		// The zone options changed (configuration, or a named upgrade):
		// rewrite the statements now; named reads them at the next apply.
		b.log.Info("bind include: zone options changed; rewriting the zone statements", "options", strings.TrimSpace(b.zopts.text))
		return b.writeInclude(b.zones)
	}
	return nil
}

// writeInclude replaces the include file with the statements of zones and,
// once the file is written, makes zones the zone set. Foreign lines are
// dropped: the file is dadns's.
func (b *Backend) writeInclude(zones map[zone.Name]entry) error {
	data := renderInclude(zones, b.zopts)
	if err := b.writeFile(b.opt.IncludeFile, data, b.opt.FileMode); err != nil {
		return fmt.Errorf("bind: write include: %w", err)
	}
	b.mu.Lock()
	b.zones = zones
	b.dirty = true
	if len(b.foreign) > 0 {
		b.log.Warn("bind include: lines dadns did not write were dropped", "lines", len(b.foreign))
		b.foreign = nil
	}
	b.mu.Unlock()
	return nil
}
