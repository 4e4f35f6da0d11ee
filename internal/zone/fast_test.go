package zone

import (
	"bufio"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/hostingzone"
)

// sameZone explains how two parses of one input differ, or returns "".
func sameZone(fast, general *Zone) string {
	switch {
	case fast.Name != general.Name || fast.Serial != general.Serial:
		return fmt.Sprintf("name/serial %s %d vs %s %d", fast.Name, fast.Serial, general.Name, general.Serial)
	case fast.text != general.text:
		return "text:\n" + fast.text + "---\n" + general.text
	case fast.hash != general.hash:
		return "hash"
	case !reflect.DeepEqual(fast.Records, general.Records):
		return fmt.Sprintf("records:\n%q\n%q", fast.Records, general.Records)
	case !reflect.DeepEqual(fast.Warnings, general.Warnings):
		return fmt.Sprintf("warnings %v vs %v", fast.Warnings, general.Warnings)
	case len(fast.rrs) != len(general.rrs):
		return "rr count"
	}
	for i := range fast.rrs {
		if !reflect.DeepEqual(fast.rrs[i], general.rrs[i]) {
			return fmt.Sprintf("rr %d: %#v vs %#v", i, fast.rrs[i], general.rrs[i])
		}
	}
	return ""
}

// compareFast parses text both ways. When the fast path takes the zone it
// must give what the general path gives; it reports whether it took it.
func compareFast(t testing.TB, origin Name, text []byte, lim Limits) bool {
	t.Helper()
	fast := parseFast(origin, string(text), maxRecords(lim))
	general, err := parseGeneral(origin, text, lim)
	if fast == nil {
		return false
	}
	if err != nil {
		t.Fatalf("%s: fast path accepted, general path refused: %v\n%s", origin, err, text)
	}
	if d := sameZone(fast, general); d != "" {
		t.Fatalf("%s: fast and general paths differ: %s\ninput:\n%s", origin, d, text)
	}
	return true
}

// captureZones returns the rawsave pushes of the DirectAdmin capture.
func captureZones(t testing.TB) map[Name][]byte {
	f, err := os.Open(capturePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[Name][]byte{}
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var req struct {
			Target string  `json:"target"`
			Body   *string `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(req.Target)
		if err != nil || req.Body == nil || u.Query().Get("action") != "rawsave" {
			continue
		}
		name, err := ParseName(u.Query().Get("domain"))
		if err != nil {
			t.Fatal(err)
		}
		out[name] = []byte(*req.Body)
	}
	if err := sc.Err(); err != nil || len(out) == 0 {
		t.Fatalf("capture: %d zones, %v", len(out), err)
	}
	return out
}

// daVariants are DirectAdmin-shaped zones written in each form the fast
// path reads: relative and absolute owners, blank owners, $ORIGIN, upper
// case, parentheses, records without TTL or class, duplicates.
var daVariants = []string{
	"$TTL 300\n@ IN SOA ns1.example.com. root.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\n@ NS NS2.Example.COM.\n" +
		"www A 192.0.2.1\n A 192.0.2.2\n AAAA 2001:db8::1\nWWW 300 in a 192.0.2.3\n" +
		"$ORIGIN sub.example.com.\nx 60 IN CNAME www.example.com.\n@ IN MX 5 @\n$TTL 60\ny TXT \"a\" \"b c; d\" \"(e)\"\n",
	"$TTL 3600\nexample.com. 3600 IN SOA ns1 hostmaster ( 2021 3600 600 1209600 300 )\nexample.com. IN 3600 NS ns1\n" +
		"ns1 A 192.0.2.53\n*.w 60 A 192.0.2.9\n_sip._udp SRV 0 5 5060 ns1\n_s._tcp SRV 0 0 0 .\n@ CAA 0 issue \"letsencrypt.org\"\n" +
		"@ CAA 128 iodef \"mailto:a@example.com\"\n@ MX 0 .\n@ A 192.0.2.1\n@ A 192.0.2.1\nptr PTR host.example.net.\n" +
		"long TXT \"" + strings.Repeat("x", 255) + "\"\nv6 AAAA 2001:DB8:0:0::1\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nns1 A 192.0.2.1\n" +
		"sub NS ns.sub\nsub NS ns.other.example.\nns.sub A 192.0.2.7\nns.sub AAAA 2001:db8::7\nx.y.deep NS ns1.example.com.\n" +
		"deep A 192.0.2.8\n",
}

// declinedVariants are zones the fast path leaves to the general path: a
// warning, a refusal, a form it does not read.
var declinedVariants = []string{
	"$TTL 3600\n@ IN SOA ns1.example.com. h.example.com. ( 1\n 2 ; refresh\n 3\n 4\n 5 )\n@ NS ns1.example.com.\n" +
		"a 10 A 192.0.2.1\na 20 A 192.0.2.2\nb CNAME a\nb A 192.0.2.3\nc.example.org. A 192.0.2.4\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nv6 AAAA ::ffff:192.0.2.1\n",
	"@ 60 SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nx TXT \"" + strings.Repeat("y", 256) + "\"\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nx TXT \"a\"\"b\"\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nx MX (10\nmail)\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nx\\.y A 192.0.2.1\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nx.example.net. A 192.0.2.1\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nsub NS ns.sub\nsub A 192.0.2.1\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nsub NS ns.sub\nx.sub TXT \"hidden\"\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nsub NS ns.sub\nns.sub A 192.0.2.7\nns.sub TXT \"x\"\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nsub NS ns.other.example.\nglue.sub A 192.0.2.7\n",
	"$TTL 3600\n@ SOA ns1.example.com. h.example.com. 1 2 3 4 5\n@ NS ns1.example.com.\nsub NS ns.sub\nx.sub NS ns.x.sub\nns.x.sub A 192.0.2.7\n",
}

// TestFastPathSameZone: for every sample zone, every zone of the
// DirectAdmin capture, generated DirectAdmin-shaped zones and the canonical
// texts of them all, the fast path either declines or gives exactly the
// zone the general path gives. It must take every DirectAdmin zone.
func TestFastPathSameZone(t *testing.T) {
	lim := Limits{}
	var canon []*Zone
	check := func(origin Name, text []byte, mustTake bool) {
		took := compareFast(t, origin, text, lim)
		if mustTake && !took {
			t.Errorf("%s: the fast path declined:\n%s", origin, text)
		}
		if z, err := Parse(origin, text, lim); err == nil && took {
			canon = append(canon, z)
		}
	}
	for origin, text := range testdataZones(t) {
		check(origin, text, origin == "dkim.example")
	}
	for origin, text := range captureZones(t) {
		check(origin, text, true)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 200 {
		name := Name(fmt.Sprintf("site%d.example", i))
		check(name, []byte(hostingzone.Text(rng, string(name))), true)
	}
	for _, v := range daVariants {
		check("example.com", []byte(v), true)
	}
	for _, v := range declinedVariants {
		if compareFast(t, "example.com", []byte(v), lim) {
			t.Errorf("the fast path took:\n%s", v)
		}
	}
	for _, s := range fuzzSnippets {
		check("example.com", []byte(head+s+"\n"), false)
	}
	// What the fast path read, it reads again from its canonical text (as
	// the dispatcher does).
	for _, z := range canon {
		check(z.Name, []byte(z.Text()), true)
	}
}

// FuzzFastPath: whatever the input, the fast path declines or agrees with
// the general path.
func FuzzFastPath(f *testing.F) {
	for origin, text := range testdataZones(f) {
		f.Add(string(origin), text)
	}
	for _, s := range fuzzSnippets {
		f.Add("example.com", []byte(head+s+"\n"))
	}
	for _, v := range append(daVariants, declinedVariants...) {
		f.Add("example.com", []byte(v))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	da := hostingzone.Text(rng, "site.example")
	f.Add("site.example", []byte(da))
	for _, l := range trickyLines {
		f.Add("site.example", []byte(da+l+"\n"))
	}
	f.Fuzz(func(t *testing.T, origin string, text []byte) {
		name, err := ParseName(origin)
		if err != nil {
			name = "example.com"
		}
		compareFast(t, name, text, Limits{MaxRecords: 2000})
	})
}

// trickyLines are records and directives on the edge of what the fast path
// reads, for TestFastPathMutations to put into DirectAdmin zones.
var trickyLines = []string{
	"x CNAME www", "www CNAME x", "@ CNAME x", "sub NS ns.sub", "ns.sub A 192.0.2.7", "v6 AAAA ::ffff:1.2.3.4",
	"a A 1.2.3.04", "a A 1.2.3", "a A ::1", "a AAAA 1.2.3.4", "a AAAA fe80::1%eth0", "t TXT \"\"", "t TXT \"a\"\"b\"",
	"t TXT unquoted", "c CAA 0 issue \"\"", "c CAA 256 issue \"x\"", "c CAA 0 is-sue \"x\"", "c CAA 0 issue x",
	"m MX 65536 x", "m MX 10", "s SRV 1 2 3", "x.other. A 1.2.3.4", "*.w A 1.2.3.4", "a*b A 1.2.3.4", "$ttl 300",
	"$TTL 1h", "$ORIGIN other.", "$ORIGIN rel", "$INCLUDE /etc/passwd", "$GENERATE 1-2 h$ A 192.0.2.$",
	"( a A 1.2.3.4 )", "p PTR @", "e A 192.0.2.1 ; c", "e 1h A 192.0.2.1", "-x A 192.0.2.1", "x..y A 192.0.2.1",
	strings.Repeat("l", 64) + " A 192.0.2.1", strings.Repeat("l", 63) + " A 192.0.2.1", "x CH A 1.2.3.4",
	"x IN IN A 1.2.3.4", "x A 192.0.2.1 extra", "x TXT \"a\" ( \"b\" )", "x TXT (\"a\"\n\"b\")",
	"@ SOA a. b. 1 2 3 4 5", "x SOA a. b. 1 2 3 4 5", "x 4294967296 A 192.0.2.1", "x 4294967295 A 192.0.2.1",
	"x IN 60 A 192.0.2.1", "\tA 192.0.2.99", "  IN TXT \"blank owner\"", "x NAPTR 1 1 \"s\" \"\" \"\" .",
	"x MX 10 .", "x SRV 0 0 0 .", "x A 192.0.2.1 (\n)", "x MX (10\nmail)", "x MX ( 10\n mail )", "x TXT \"a\tb\"",
	"x TXT \"" + strings.Repeat("z", 256) + "\"", "x TXT \"\xc3\xa9\"", "x A 192.0.2.1\r", "x\x00 A 192.0.2.1",
	"x SOA a. b. ( 1 2 3 4 5 )", "@ 60 IN NS ns3.example.", "www NS ns.www", "ns.www A 192.0.2.9", "mail NS ns1.hostco.example.",
	"x.ftp NS ns.x.ftp", "ns.x.ftp AAAA 2001:db8::9", "@ IN NS ns1.hostco.example.", "x PTR y.",
}

// TestFastPathMutations puts small changes into 1,000 generated DirectAdmin
// zones (a line dropped, doubled, upper-cased, its TTL, class or owner
// removed, a tricky line or a stray byte put in) and compares both paths
// on each. DADNS_MUTATIONS (count) and DADNS_MUTATION_SEED vary it locally.
func TestFastPathMutations(t *testing.T) {
	rng := rand.New(rand.NewPCG(mutationSeed, 6))
	took, n := 0, 1000
	if s := os.Getenv("DADNS_MUTATIONS"); s != "" {
		n, _ = strconv.Atoi(s)
	}
	if testing.Short() {
		n = 300
	}
	for i := range n {
		name := fmt.Sprintf("m%d.example", i)
		lines := strings.Split(strings.TrimSuffix(hostingzone.Text(rng, name), "\n"), "\n")
		for range 1 + rng.IntN(3) {
			lines = mutate(rng, lines, name)
		}
		text := strings.Join(lines, "\n") + "\n"
		if compareFast(t, Name(name), []byte(text), Limits{MaxRecords: 30}) {
			took++
		}
	}
	t.Logf("the fast path took %d of %d mutated zones", took, n)
	if took == 0 || took == n {
		t.Fatalf("the fast path took %d of %d mutated zones: the mutations do not test both ways", took, n)
	}
}

func mutate(rng *rand.Rand, lines []string, zone string) []string {
	i := rng.IntN(len(lines))
	l := lines[i]
	switch rng.IntN(11) {
	case 0:
		return append(lines[:i:i], lines[i+1:]...)
	case 1:
		return append(lines[:i+1:i+1], append([]string{l}, lines[i+1:]...)...)
	case 2:
		lines[i] = strings.ToUpper(l)
	case 3:
		lines[i] = strings.Replace(l, "3600", "60", 1)
	case 4:
		lines[i] = strings.Replace(l, "\t3600", "", 1)
	case 5:
		lines[i] = strings.Replace(l, "\tIN", "", 1)
	case 6:
		if j := strings.IndexByte(l, '\t'); j > 0 && !strings.HasPrefix(l, "$") {
			lines[i] = l[j:]
		}
	case 7:
		lines = append(lines[:i:i], append([]string{"$ORIGIN sub." + zone + "."}, lines[i:]...)...)
	case 8:
		if len(l) > 0 {
			b := []byte(l)
			b[rng.IntN(len(b))] = byte(rng.IntN(128))
			lines[i] = string(b)
		}
	default:
		lines = append(lines[:i:i], append([]string{trickyLines[rng.IntN(len(trickyLines))]}, lines[i:]...)...)
	}
	return lines
}

// mutationSeed is the seed of TestFastPathMutations (vary it locally:
// DADNS_MUTATION_SEED).
var mutationSeed = func() uint64 {
	n, _ := strconv.ParseUint(os.Getenv("DADNS_MUTATION_SEED"), 10, 64)
	return 5 + n
}()

// TestFastPathLeavesRefusals: hostile, oversized and malformed zones are
// never taken by the fast path, and Parse refuses them with the general
// path's very problems.
func TestFastPathLeavesRefusals(t *testing.T) {
	rng := rand.New(rand.NewPCG(9, 10))
	da := hostingzone.Text(rng, "site.example")
	var many strings.Builder
	many.WriteString(da)
	for i := range 40 {
		fmt.Fprintf(&many, "h%d A 192.0.2.1\n", i)
	}
	cases := map[string]struct {
		text string
		max  int
	}{
		"too many records":  {many.String(), 30},
		"long label":        {da + strings.Repeat("a", 64) + " A 192.0.2.1\n", 0},
		"long name":         {da + strings.Repeat("abcdefghi.", 26) + " A 192.0.2.1\n", 0},
		"non-ascii owner":   {da + "b\xc3\xbccher A 192.0.2.1\n", 0},
		"nul":               {da + "x\x00 A 192.0.2.1\n", 0},
		"quote owner":       {da + "\"x\" A 192.0.2.1\n", 0},
		"dollar owner":      {da + "x$ A 192.0.2.1\n", 0},
		"bad address":       {da + "x A 192.0.2.256\n", 0},
		"bad TTL":           {da + "x 99999999999 A 192.0.2.1\n", 0},
		"long string":       {da + "x TXT \"" + strings.Repeat("s", 300) + "\"\n", 0},
		"no SOA":            {strings.Replace(da, "SOA", "TXT", 1), 0},
		"two SOAs":          {da + "@ SOA a. b. 1 2 3 4 5\n", 0},
		"CNAME and data":    {da + "www CNAME mail\n", 0},
		"unbalanced":        {da + "x TXT ( \"a\"\n", 0},
		"unterminated":      {da + "x TXT \"a\n", 0},
		"include":           {da + "$INCLUDE /etc/passwd\n", 0},
		"outside":           {da + "x.example.org. A 192.0.2.1\n", 0},
		"empty":             {"", 0},
		"comments only":     {"; nothing\n", 0},
		"no TTL":            {strings.Replace(da, "$TTL 3600\n", "", 1) + "x A 192.0.2.1\n", 0},
		"TTLs differ":       {da + "www 60 A 192.0.2.77\n", 0},
		"huge":              {da + strings.Repeat("x TXT \""+strings.Repeat("y", 250)+"\"\n", 300), 100},
		"class":             {da + "x CH A 192.0.2.1\n", 0},
		"CNAME at the apex": {da + "@ CNAME www\n", 0},
	}
	for name, c := range cases {
		lim := Limits{MaxRecords: c.max}
		if parseFast("site.example", c.text, maxRecords(lim)) != nil {
			t.Errorf("%s: the fast path took it", name)
		}
		z, err := Parse("site.example", []byte(c.text), lim)
		gz, gerr := parseGeneral("site.example", []byte(c.text), lim)
		if fmt.Sprint(err) != fmt.Sprint(gerr) {
			t.Errorf("%s: Parse %v, general path %v", name, err, gerr)
		}
		if err == nil && (z.Hash() != gz.Hash() || !reflect.DeepEqual(z.Warnings, gz.Warnings)) {
			t.Errorf("%s: Parse and the general path differ", name)
		}
	}
}
