package dnsserver

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/dadns/dadns/internal/zone"
)

// testZone is one zone of testdata/zones: the text given to named and the
// canonical zone given to our server.
type testZone struct {
	origin string // absolute
	text   string
	zone   *Zone
}

// loadTestZones reads testdata/zones/<origin>.db. $INCLUDE lines are
// dropped from the text, as dadns's zone package skips them.
func loadTestZones(t testing.TB) []testZone {
	t.Helper()
	files, err := filepath.Glob("testdata/zones/*.db")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test zones: %v", err)
	}
	var out []testZone
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		origin := strings.TrimSuffix(filepath.Base(f), ".db") + "."
		text := dropIncludes(string(b))
		z, err := parseZone(origin, text)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out = append(out, testZone{origin: origin, text: text, zone: z})
	}
	return out
}

func dropIncludes(text string) string {
	lines := strings.Split(text, "\n")
	out := lines[:0]
	for _, l := range lines {
		if !strings.HasPrefix(strings.TrimSpace(l), "$INCLUDE") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// parseZone parses a zone file as dadns's zone package does; a zone it
// refuses (esc.test: owners only some backends can store) is read directly
// and put in the same canonical form: lower-case owners, the first TTL of
// each RRset for all its records (as BIND does), no duplicates.
func parseZone(origin, text string) (*Zone, error) {
	if z, err := zone.Parse(zone.Name(strings.TrimSuffix(origin, ".")), []byte(text), zone.Limits{}); err == nil {
		return &Zone{Origin: origin, Hash: z.Hash(), RRs: z.RRs()}, nil
	}
	zp := dns.NewZoneParser(strings.NewReader(text), origin, "")
	type setKey struct {
		name    string
		t, covr uint16
	}
	ttls := map[setKey]uint32{}
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		h := rr.Header()
		h.Name = strings.ToLower(h.Name)
		k := setKey{name: h.Name, t: h.Rrtype}
		if sig, ok := rr.(*dns.RRSIG); ok {
			k.covr = sig.TypeCovered
		}
		if ttl, seen := ttls[k]; seen {
			h.Ttl = ttl
		} else {
			ttls[k] = h.Ttl
		}
		if !slices.ContainsFunc(rrs, func(o dns.RR) bool { return dns.IsDuplicate(o, rr) }) {
			rrs = append(rrs, rr)
		}
	}
	if err := zp.Err(); err != nil {
		return nil, err
	}
	return &Zone{Origin: origin, Hash: hashRRs(rrs), RRs: rrs}, nil
}

func hashRRs(rrs []dns.RR) string {
	lines := make([]string, len(rrs))
	for i, rr := range rrs {
		lines[i] = rr.String()
	}
	slices.Sort(lines)
	sum := sha256.Sum256([]byte(strings.Join(lines, "\n")))
	return hex.EncodeToString(sum[:])
}

// mustZone parses a zone text for unit tests.
func mustZone(t testing.TB, origin, text string) *Zone {
	t.Helper()
	z, err := parseZone(origin, text)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func quietLogger() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// corpusZones returns the zones of testdata/zones, ready for Apply.
func corpusZones(tb testing.TB, zones []testZone) []*Zone {
	tb.Helper()
	set := make([]*Zone, 0, len(zones))
	for _, tz := range zones {
		set = append(set, tz.zone)
	}
	return set
}
