package nsd

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"github.com/dadns/dadns/internal/atomicfile"
	"github.com/dadns/dadns/internal/zone"
)

const (
	includeHeader = "# Written by dadns: a zone entry per zone it holds, read by NSD on nsd-control reconfig.\n" +
		"# dadns rewrites this file; edits are reported and lost.\n"
	listHeader = "# Written by dadns: the zones it added to NSD with nsd-control addzone.\n" +
		"# NSD keeps them in its zonelistfile and does not need this list; including it is harmless.\n" +
		"# dadns rewrites this file; edits are reported and lost.\n"
	// listPrefix starts each zone line of the addzone-mode list.
	listPrefix = "# dadns-zone: "
)

// renderInclude writes the file dadns owns, sorted by zone name: zone
// entries NSD reads (include mode) or a list of comments (addzone mode).
func (b *Backend) renderInclude(zones map[zone.Name]entry) []byte {
	names := make([]zone.Name, 0, len(zones))
	for n := range zones {
		names = append(names, n)
	}
	slices.Sort(names)
	var out bytes.Buffer
	out.Grow(len(includeHeader) + len(names)*120)
	if b.opt.Mode == ModeAddZone {
		out.WriteString(listHeader)
		for _, n := range names {
			fmt.Fprintf(&out, "%s%s\n", listPrefix, n)
		}
		return out.Bytes()
	}
	out.WriteString(includeHeader)
	for _, n := range names {
		out.WriteString(b.stanza(n, zones[n].file))
	}
	return out.Bytes()
}

// stanza renders one zone entry. The name was checked by checkName, the
// path by confSafe and the pattern by patternSafe: they need no escaping.
func (b *Backend) stanza(n zone.Name, file string) string {
	s := fmt.Sprintf("zone:\n\tname: \"%s\"\n\tzonefile: \"%s\"\n", n, file)
	if b.opt.Pattern != "" {
		s += fmt.Sprintf("\tinclude-pattern: \"%s\"\n", b.opt.Pattern)
	}
	return s
}

// parseInclude reads the zones of either mode's file. A zone: entry is
// dadns's when it holds a valid name, an absolute zonefile and at most an
// include-pattern (the shape directdnsonly writes too); every other line
// that is not blank or a comment is returned as foreign.
func parseInclude(data []byte, zonesDir string) (map[zone.Name]entry, []string) {
	zones := map[zone.Name]entry{}
	var foreign []string
	var block []string
	flush := func() {
		if len(block) == 0 {
			return
		}
		if n, e, ok := parseStanza(block); ok {
			zones[n] = e
		} else {
			foreign = append(foreign, block...)
		}
		block = nil
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if rest, ok := strings.CutPrefix(line, listPrefix); ok {
			n := zone.Name(strings.TrimSpace(rest))
			if checkName(n) == nil {
				zones[n] = entry{file: zonesDir + "/" + string(n) + ".db"}
			}
			continue
		}
		if i := strings.IndexByte(line, '#'); i >= 0 && !strings.Contains(line[:i], "\"") {
			line = strings.TrimSpace(line[:i])
		}
		switch {
		case line == "":
		case line == "zone:":
			flush()
			block = []string{line}
		case len(block) > 0 && !strings.HasSuffix(line, ":"):
			block = append(block, line)
		default:
			flush()
			foreign = append(foreign, line)
		}
	}
	flush()
	return zones, foreign
}

// parseStanza reads one zone: entry.
func parseStanza(block []string) (zone.Name, entry, bool) {
	var name, file string
	for _, l := range block[1:] {
		key, val, ok := strings.Cut(l, ":")
		val = strings.Trim(strings.TrimSpace(val), "\"")
		switch {
		case !ok:
			return "", entry{}, false
		case key == "name" && name == "":
			name = val
		case key == "zonefile" && file == "":
			file = val
		case key == "include-pattern":
		default:
			return "", entry{}, false
		}
	}
	if checkName(zone.Name(name)) != nil || !strings.HasPrefix(file, "/") {
		return "", entry{}, false
	}
	return zone.Name(name), entry{file: file}, true
}

// load reads the file dadns owns, creating it empty when missing so that
// nsd.conf can include it from the start.
func (b *Backend) load() error {
	data, err := os.ReadFile(b.opt.IncludeFile)
	if errors.Is(err, fs.ErrNotExist) {
		b.zones = map[zone.Name]entry{}
		return b.writeInclude()
	}
	if err != nil {
		return fmt.Errorf("nsd: read include: %w", err)
	}
	b.zones, b.foreign = parseInclude(data, b.opt.ZonesDir)
	return nil
}

// writeInclude replaces the file with the zones of b.zones. Foreign lines
// are dropped: the file is dadns's.
func (b *Backend) writeInclude() error {
	b.mu.RLock()
	data := b.renderInclude(b.zones)
	b.mu.RUnlock()
	if err := atomicfile.Write(b.opt.IncludeFile, data, b.opt.FileMode); err != nil {
		return fmt.Errorf("nsd: write include: %w", err)
	}
	b.mu.Lock()
	b.dirty = true
	if len(b.foreign) > 0 {
		b.log.Warn("nsd include: lines dadns did not write were dropped", "lines", len(b.foreign))
		b.foreign = nil
	}
	b.mu.Unlock()
	return nil
}
