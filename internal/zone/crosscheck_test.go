package zone

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// tool finds an external program: a missing one skips the test locally and
// fails it in CI.
func tool(t *testing.T, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/sbin", "/usr/bin", "/usr/local/sbin"} {
		if p := filepath.Join(dir, name); isExecutable(p) {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s not found", name)
	}
	t.Skipf("%s not found", name)
	return ""
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
}

// acceptedZones parses the testdata zones and returns those accepted.
func acceptedZones(t *testing.T) []*Zone {
	var out []*Zone
	for origin, text := range testdataZones(t) {
		if z, err := Parse(origin, text, Limits{}); err == nil {
			out = append(out, z)
		}
	}
	return out
}

// TestBINDReadsCanonicalText has BIND load each canonical text and dump it
// in its own form; that dump must parse back into the same zone, so BIND
// and dadns agree on every record.
func TestBINDReadsCanonicalText(t *testing.T) {
	checkzone := tool(t, "named-checkzone")
	dir := t.TempDir()
	for _, z := range acceptedZones(t) {
		in := filepath.Join(dir, z.Name.String())
		dump := in + ".dump"
		if err := os.WriteFile(in, []byte(z.Text()), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(checkzone, "-D", "-o", dump, z.Name.String(), in).CombinedOutput()
		if err != nil {
			t.Errorf("%s: named-checkzone: %v\n%s", z.Name, err, out)
			continue
		}
		text, err := os.ReadFile(dump)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Parse(z.Name, text, Limits{})
		if err != nil {
			t.Errorf("%s: BIND's dump refused: %v", z.Name, err)
			continue
		}
		if back.Hash() != z.Hash() {
			t.Errorf("%s: BIND's dump differs:\n%s\nours:\n%s", z.Name, back.Text(), z.Text())
		}
	}
}

// TestNSDReadsCanonicalText has NSD's zone checker accept each canonical
// text.
func TestNSDReadsCanonicalText(t *testing.T) {
	checkzone := tool(t, "nsd-checkzone")
	dir := t.TempDir()
	for _, z := range acceptedZones(t) {
		in := filepath.Join(dir, z.Name.String())
		if err := os.WriteFile(in, []byte(z.Text()), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(checkzone, z.Name.String(), in).CombinedOutput(); err != nil {
			t.Errorf("%s: nsd-checkzone: %v\n%s", z.Name, err, out)
		}
	}
}
