package zone

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"strings"
	"testing"
)

// capturePath is a copy of shared/fixtures/directadmin-capture-2021.jsonl.
const capturePath = "testdata/directadmin-capture-2021.jsonl"

// TestDirectAdminCapture parses every zone a real DirectAdmin server pushed
// (the rawsave bodies of the 2021 capture): all must be accepted.
func TestDirectAdminCapture(t *testing.T) {
	f, err := os.Open(capturePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	pushes := 0
	for line := 1; sc.Scan(); line++ {
		var req struct {
			Target string  `json:"target"`
			Body   *string `json:"body"`
		}
		if err := json.Unmarshal(sc.Bytes(), &req); err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		if !strings.Contains(req.Target, "action=rawsave") {
			continue
		}
		pushes++
		u, err := url.Parse(req.Target)
		if err != nil || req.Body == nil {
			t.Fatalf("line %d: target %q, body %v: %v", line, req.Target, req.Body != nil, err)
		}
		name, err := ParseName(u.Query().Get("domain"))
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		z, err := Parse(name, []byte(*req.Body), Limits{})
		if err != nil {
			t.Errorf("line %d: %v", line, err)
			continue
		}
		if len(z.Warnings) > 0 || z.Serial == 0 || len(z.Records) < 5 {
			t.Errorf("line %d: %s: serial %d, %d records, warnings %v", line, name, z.Serial, len(z.Records), z.Warnings)
		}
		checkZone(t, z)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if pushes != 51 {
		t.Fatalf("found %d rawsave pushes, want 51", pushes)
	}
}
