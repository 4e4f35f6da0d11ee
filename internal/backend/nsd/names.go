package nsd

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/dadns/dadns/internal/zone"
)

// checkName refuses a name that zone.ParseName would not have returned
// as it is: the only names that become file names, include entries and
// nsd-control arguments.
func checkName(n zone.Name) error {
	p, err := zone.ParseName(string(n))
	if err != nil {
		return fmt.Errorf("nsd: refused zone name: %w", err)
	}
	if p != n || !confSafe(string(n)) || strings.Contains(string(n), "..") || strings.HasPrefix(string(n), "-") {
		return fmt.Errorf("nsd: refused zone name %q: not in canonical form", shorten(string(n)))
	}
	return nil
}

// confSafe reports whether s can sit between double quotes in nsd.conf
// without escaping: no quote, backslash, comment sign or control
// character.
func confSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || c == '"' || c == '\\' || c == '#' {
			return false
		}
	}
	return true
}

// patternSafe reports whether s is a pattern name that needs no quoting
// on nsd-control's command line or in nsd.conf.
func patternSafe(s string) bool {
	if s == "" || len(s) > 100 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// zoneFile returns <zones_dir>/<name>.db for a checked name, and refuses
// anything that would not land directly inside the directory.
func (b *Backend) zoneFile(n zone.Name) (string, error) {
	if err := checkName(n); err != nil {
		return "", err
	}
	p := filepath.Join(b.opt.ZonesDir, string(n)+".db")
	if filepath.Dir(p) != b.opt.ZonesDir || filepath.Base(p) != string(n)+".db" {
		return "", fmt.Errorf("nsd: refused zone name %q: its file would leave zones_dir", shorten(string(n)))
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
