package importer

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"

	"github.com/dadns/dadns/internal/iscconf"
)

// MaxZoneFileBytes bounds one zone file read from disk.
const MaxZoneFileBytes = 64 << 20

// ReadZoneDir lists the zones of a zone-file directory. With conf == "",
// every DIR/<zone>.db file is a zone. Otherwise conf is a named.conf (or
// an include of zone statements) or an nsd.conf: its zone statements give
// the names and files (relative paths are taken relative to dir). owner is
// recorded as the owning DirectAdmin server. Entries whose file cannot be
// read carry no text and a reason in Source.
func ReadZoneDir(dir, conf string) ([]Entry, []string, error) {
	if conf == "" {
		return readDBFiles(dir)
	}
	text, err := readLimited(conf)
	if err != nil {
		return nil, nil, err
	}
	var zones []confZone
	var notes []string
	if looksLikeNSD(text) {
		zones, notes = parseNSDConf(text)
	} else {
		zones, notes, err = parseNamedConf(text)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", conf, err)
		}
	}
	var out []Entry
	for _, z := range zones {
		e := Entry{Name: z.name, Source: fmt.Sprintf("%s line %d", conf, z.line)}
		if z.file == "" {
			notes = append(notes, fmt.Sprintf("%s line %d: zone %q names no file: skipped", conf, z.line, z.name))
			continue
		}
		path := z.file
		if !filepath.IsAbs(path) {
			path = filepath.Join(dir, path)
		}
		e.Source = path
		if t, err := readLimited(path); err != nil {
			notes = append(notes, fmt.Sprintf("zone %q: %v", z.name, err))
		} else {
			e.Text = &t
		}
		out = append(out, e)
	}
	return out, notes, nil
}

func readDBFiles(dir string) ([]Entry, []string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("zone directory: %w", err)
	}
	var out []Entry
	var notes []string
	names := make([]string, 0, len(ents))
	for _, de := range ents {
		if strings.HasSuffix(de.Name(), ".db") && !de.IsDir() {
			names = append(names, de.Name())
		}
	}
	sort.Strings(names)
	for _, n := range names {
		path := filepath.Join(dir, n)
		e := Entry{Name: strings.TrimSuffix(n, ".db"), Source: path}
		if t, err := readLimited(path); err != nil {
			notes = append(notes, fmt.Sprintf("zone %q: %v", e.Name, err))
		} else {
			e.Text = &t
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, nil, fmt.Errorf("zone directory %s holds no <zone>.db files (use --named-conf to list zones by another naming)", dir)
	}
	return out, notes, nil
}

func readLimited(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if !fi.Mode().IsRegular() {
		return "", fmt.Errorf("%s: not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxZoneFileBytes+1))
	if err != nil {
		return "", err
	}
	if len(b) > MaxZoneFileBytes {
		return "", fmt.Errorf("%s: larger than %d bytes", path, MaxZoneFileBytes)
	}
	return string(b), nil
}

// confZone is one zone statement of a server configuration.
type confZone struct {
	name, file string
	line       int
}

func looksLikeNSD(text string) bool {
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "#") {
			continue
		}
		if l == "zone:" || strings.HasPrefix(l, "zone:") {
			return true
		}
	}
	return false
}

// parseNSDConf reads nsd.conf "zone:" clauses: name and zonefile.
func parseNSDConf(text string) ([]confZone, []string) {
	var out []confZone
	var notes []string
	var cur *confZone
	flush := func() {
		if cur != nil && cur.name != "" {
			out = append(out, *cur)
		}
		cur = nil
	}
	for i, raw := range strings.Split(text, "\n") {
		l := raw
		if j := strings.IndexByte(l, '#'); j >= 0 {
			l = l[:j]
		}
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		key, val, _ := strings.Cut(l, ":")
		key, val = strings.TrimSpace(key), strings.Trim(strings.TrimSpace(val), `"`)
		switch key {
		case "zone":
			flush()
			cur = &confZone{line: i + 1}
		case "name":
			if cur != nil {
				cur.name = val
			}
		case "zonefile":
			if cur != nil {
				cur.file = val
			}
		case "include":
			notes = append(notes, fmt.Sprintf("line %d: include %q not followed: give that file with --named-conf", i+1, val))
		default:
			if !unicode.IsSpace(rune(raw[0])) && key != "" && cur != nil {
				flush() // another top-level clause (server:, pattern:, ...)
			}
		}
	}
	flush()
	return out, notes
}

// namedToken is one token of named.conf with its line.
type namedToken struct {
	s      string
	quoted bool
	line   int
}

// tokenizeNamed splits named.conf into words, quoted strings and the
// punctuation { } ;, dropping // # and /* */ comments (internal/iscconf).
func tokenizeNamed(text string) ([]namedToken, error) {
	toks, err := iscconf.Lex(text)
	if err != nil {
		return nil, err
	}
	out := make([]namedToken, len(toks))
	for i, t := range toks {
		out[i] = namedToken{s: t.Text, quoted: t.Quoted, line: t.Line}
	}
	return out, nil
}

// parseNamedConf finds zone statements (at any depth, so views work):
// zone "name" [class] { type primary|master; file "path"; ... };
// Secondary, forward, hint and other non-primary zones are skipped.
func parseNamedConf(text string) ([]confZone, []string, error) {
	toks, err := tokenizeNamed(text)
	if err != nil {
		return nil, nil, err
	}
	var out []confZone
	var notes []string
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.quoted {
			continue
		}
		if t.s == "include" && i+1 < len(toks) {
			notes = append(notes, fmt.Sprintf("line %d: include %q not followed: give that file with --named-conf", t.line, toks[i+1].s))
			continue
		}
		if t.s != "zone" || i+1 >= len(toks) {
			continue
		}
		z := confZone{name: toks[i+1].s, line: t.line}
		j := i + 2
		for j < len(toks) && toks[j].s != "{" && toks[j].s != ";" {
			j++ // optional class
		}
		if j >= len(toks) || toks[j].s != "{" {
			continue
		}
		depth, typ := 0, ""
		for ; j < len(toks); j++ {
			switch toks[j].s {
			case "{":
				depth++
				continue
			case "}":
				depth--
			}
			if depth == 0 {
				break
			}
			if depth == 1 && !toks[j].quoted && j+1 < len(toks) {
				switch toks[j].s {
				case "file":
					z.file = toks[j+1].s
				case "type":
					typ = toks[j+1].s
				}
			}
		}
		i = j
		switch typ {
		case "", "primary", "master":
			out = append(out, z)
		default:
			notes = append(notes, fmt.Sprintf("line %d: zone %q is of type %s: skipped (only primary zones are imported)", z.line, z.name, typ))
		}
	}
	if len(out) == 0 && len(notes) == 0 {
		return nil, nil, errors.New("no zone statements found")
	}
	return out, notes, nil
}
