package api

import (
	"bufio"
	"encoding/json"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	"github.com/dadns/dadns/internal/zone"
)

type captured struct {
	Method string  `json:"method"`
	Target string  `json:"target"`
	Proto  string  `json:"proto"`
	Body   *string `json:"body"`
}

// loadCapture reads testdata/directadmin-capture-2021.jsonl, a copy of the
// real DirectAdmin traffic in shared/fixtures.
func loadCapture(t *testing.T) []captured {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "directadmin-capture-2021.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var reqs []captured
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var c captured
		if err := json.Unmarshal(sc.Bytes(), &c); err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, c)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return reqs
}

// TestReplayDirectAdminCapture replays real DirectAdmin traffic in order and
// checks every reply against a model of what the node holds, then the
// store's content.
func TestReplayDirectAdminCapture(t *testing.T) {
	reqs := loadCapture(t)
	if len(reqs) != 303 {
		t.Fatalf("capture has %d requests, want 303", len(reqs))
	}
	h := newHarness(t, nil)
	held := map[string]string{} // zone → last pushed body
	owner := map[string]string{}
	counts := map[string]int{}
	for i, c := range reqs {
		body := ""
		if c.Body != nil {
			body = *c.Body
		}
		code, v := h.do(c.Method, c.Target, body)
		if code != 200 || v.Get("error") != "0" {
			t.Fatalf("request %d (%s %s): HTTP %d %v", i+1, c.Method, c.Target, code, v)
		}
		u, _ := url.Parse(c.Target)
		q := u.Query()
		if q.Get("action") == "" && c.Body != nil {
			q, _ = url.ParseQuery(body)
		}
		action := q.Get("action")
		if u.Path == "/CMD_API_LOGIN_TEST" {
			action = "login"
		}
		counts[action]++
		switch action {
		case "exists":
			checkExists(t, i+1, q, v, held, owner)
		case "rawsave":
			held[q.Get("domain")] = body
			owner[q.Get("domain")] = q.Get("hostname")
		case "delete":
			delete(held, q.Get("select0"))
		case "login":
			if v.Get("text") != "Login OK" {
				t.Errorf("login test text %q", v.Get("text"))
			}
		default:
			t.Fatalf("request %d: unexpected action %q", i+1, action)
		}
	}
	if counts["exists"] != 250 || counts["rawsave"] != 51 || counts["delete"] != 1 || counts["login"] != 1 {
		t.Errorf("replayed %v, want 250 exists, 51 rawsave, 1 delete, 1 login", counts)
	}
	want := []string{"test.com", "11.whs.internal", "hostinz.net"}
	if len(held) != len(want) {
		t.Errorf("model holds %d zones, want %d", len(held), len(want))
	}
	all, err := h.st.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(want) {
		t.Errorf("store holds %d zones, want %d: %v", len(all), len(want), all)
	}
	for _, name := range want {
		got, ok := h.get(name)
		if !ok {
			t.Errorf("zone %s missing from the store", name)
			continue
		}
		if got.Original != held[name] {
			t.Errorf("zone %s: stored original is not the last pushed body", name)
		}
		z, err := zone.Parse(zone.Name(name), []byte(held[name]), zone.Limits{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Canonical != z.Text() || got.Hash != z.Hash() || got.Serial != z.Serial {
			t.Errorf("zone %s: stored canonical form differs from the last push", name)
		}
		if got.OwnerHost != "s23.webhostingservices.co.nz" {
			t.Errorf("zone %s: owner %q", name, got.OwnerHost)
		}
	}
}

// checkExists compares an exists reply with the model of held zones.
func checkExists(t *testing.T, n int, q, v url.Values, held, owner map[string]string) {
	t.Helper()
	d := q.Get("domain")
	want := "0"
	if _, ok := held[d]; ok {
		want = "1"
		if v.Get("details") != "Domain exists on "+owner[d] {
			t.Errorf("request %d: details %q", n, v.Get("details"))
		}
	} else if flag(q, "check_for_parent_domain") {
		for p, more := zone.Name(d).Parent(); more; p, more = p.Parent() {
			if _, ok := held[p.String()]; ok {
				want = "3"
				break
			}
		}
	}
	if got := v.Get("exists"); got != want {
		t.Errorf("request %d: exists %s for %s, want %s", n, got, d, want)
	}
}
