package knot

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/dadns/dadns/internal/zone"
)

// templateRE is what a template id must look like to be passed to knotc.
var templateRE = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

// checkName refuses a name that zone.ParseName would not have returned as
// it is: the only names that become file names and knotc arguments.
func checkName(n zone.Name) error {
	p, err := zone.ParseName(string(n))
	if err != nil {
		return fmt.Errorf("knot: refused zone name: %w", err)
	}
	if p != n || !confSafe(string(n)) || strings.Contains(string(n), "..") || strings.HasPrefix(string(n), "-") {
		return fmt.Errorf("knot: refused zone name %q: not in canonical form", shorten(string(n)))
	}
	return nil
}

// confSafe reports whether s can be one knotc argument or one word of a
// knotc command line read from standard input and one value of a knot.conf
// file: no space, quote, backslash, bracket or control character.
func confSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c <= 0x20, c == 0x7f, c == '"', c == '\'', c == '\\', c == '[', c == ']', c == '#', c == ';':
			return false
		}
	}
	return true
}

// zoneFile returns <zones_dir>/<name>.zone for a checked name, and
// refuses anything that would not land directly inside the directory.
func (b *Backend) zoneFile(n zone.Name) (string, error) {
	if err := checkName(n); err != nil {
		return "", err
	}
	p := filepath.Join(b.opt.ZonesDir, string(n)+".zone")
	if filepath.Dir(p) != b.opt.ZonesDir || filepath.Base(p) != string(n)+".zone" {
		return "", fmt.Errorf("knot: refused zone name %q: its file would leave zones_dir", shorten(string(n)))
	}
	return p, nil
}

// shorten keeps hostile input from flooding an error message.
func shorten(s string) string {
	if len(s) > 80 {
		return s[:80] + "..."
	}
	return s
}
