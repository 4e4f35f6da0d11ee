// Package backendtest is the conformance suite every backend passes: run
// it from the backend's own tests with a constructor for a fresh instance.
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// Options describe the backend under test.
type Options struct {
	// New returns a fresh, empty backend instance.
	New func(t *testing.T) backend.Backend
	// Unstorable is a zone the backend must refuse (through backend.Auditor)
	// before applying anything; nil when it stores every record type.
	Unstorable func(t *testing.T) *zone.Zone
	// BatchSize is the number of zones of the batch test (default 200).
	BatchSize int
}

// Run runs every conformance test.
func Run(t *testing.T, opt Options) {
	if opt.BatchSize == 0 {
		opt.BatchSize = 200
	}
	t.Run("ApplyReadBack", func(t *testing.T) { testApplyReadBack(t, opt) })
	t.Run("ReapplyIsNoop", func(t *testing.T) { testReapply(t, opt) })
	t.Run("ReplaceZone", func(t *testing.T) { testReplace(t, opt) })
	t.Run("DeleteAbsent", func(t *testing.T) { testDeleteAbsent(t, opt) })
	t.Run("Batch", func(t *testing.T) { testBatch(t, opt) })
	t.Run("CancelledContext", func(t *testing.T) { testCancelled(t, opt) })
	t.Run("RejectsUnstorable", func(t *testing.T) { testUnstorable(t, opt) })
}

// Zone builds a test zone: name, serial, and a few records of common types.
func Zone(t testing.TB, name string, serial int) *zone.Zone {
	t.Helper()
	text := fmt.Sprintf(`$TTL 3600
@	IN	SOA	ns1.%[1]s.	hostmaster.%[1]s. %[2]d 3600 3600 1209600 86400
@	IN	NS	ns1.%[1]s.
@	IN	NS	ns2.example.net.
ns1	IN	A	192.0.2.1
@	IN	A	192.0.2.10
www	IN	CNAME	%[1]s.
@	IN	AAAA	2001:db8::10
@	IN	MX	10 mail.%[1]s.
mail	IN	A	192.0.2.25
@	IN	TXT	"v=spf1 a mx ~all"
_dmarc	IN	TXT	"v=DMARC1; p=none; rua=mailto:\"d\"@%[1]s"
_sip._tcp	IN	SRV	10 60 5060 sip.%[1]s.
sip	IN	A	192.0.2.30
@	IN	CAA	0 issue "letsencrypt.org"
*.wild	IN	A	192.0.2.40
serial	IN	TXT	"%[2]d"
`, name, serial)
	z, err := zone.Parse(zone.Name(name), []byte(text), zone.Limits{})
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return c
}

// mustServe fails unless b serves z exactly.
func mustServe(t *testing.T, b backend.Backend, z *zone.Zone) {
	t.Helper()
	got, err := b.Zone(ctx(t), z.Name)
	if err != nil {
		t.Fatalf("Zone(%s): %v", z.Name, err)
	}
	if got.Hash() != z.Hash() {
		t.Fatalf("Zone(%s) serves\n%s\nwant\n%s", z.Name, got.Text(), z.Text())
	}
	if v, ok := b.(backend.Verifier); ok {
		if err := v.Verify(ctx(t), z.Name, z.Hash()); err != nil {
			t.Fatalf("Verify(%s): %v", z.Name, err)
		}
	}
}

func testApplyReadBack(t *testing.T, opt Options) {
	b := opt.New(t)
	z := Zone(t, "conform.example", 1)
	if err := b.Apply(ctx(t), []*zone.Zone{z}); err != nil {
		t.Fatal(err)
	}
	mustServe(t, b, z)
	names, err := b.Zones(ctx(t))
	if err != nil || len(names) != 1 || names[0] != z.Name {
		t.Fatalf("Zones() = %v, %v", names, err)
	}
	if _, err := b.Zone(ctx(t), "absent.example"); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("Zone(absent) error %v, want ErrNotFound", err)
	}
}

func testReapply(t *testing.T, opt Options) {
	b := opt.New(t)
	z := Zone(t, "again.example", 7)
	for i := 0; i < 3; i++ {
		if err := b.Apply(ctx(t), []*zone.Zone{z}); err != nil {
			t.Fatalf("apply %d: %v", i, err)
		}
	}
	mustServe(t, b, z)
	names, _ := b.Zones(ctx(t))
	if len(names) != 1 {
		t.Fatalf("re-apply left %d zones", len(names))
	}
}

func testReplace(t *testing.T, opt Options) {
	b := opt.New(t)
	old, cur := Zone(t, "change.example", 1), Zone(t, "change.example", 2)
	if err := b.Apply(ctx(t), []*zone.Zone{old}); err != nil {
		t.Fatal(err)
	}
	if err := b.Apply(ctx(t), []*zone.Zone{cur}); err != nil {
		t.Fatal(err)
	}
	mustServe(t, b, cur)
	if err := b.Delete(ctx(t), []zone.Name{cur.Name}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Zone(ctx(t), cur.Name); !errors.Is(err, backend.ErrNotFound) {
		t.Fatalf("deleted zone still served: %v", err)
	}
}

func testDeleteAbsent(t *testing.T, opt Options) {
	b := opt.New(t)
	if err := b.Delete(ctx(t), []zone.Name{"never.example", "neither.example"}); err != nil {
		t.Fatalf("delete of absent zones: %v", err)
	}
}

func testBatch(t *testing.T, opt Options) {
	b := opt.New(t)
	zones := make([]*zone.Zone, opt.BatchSize)
	for i := range zones {
		zones[i] = Zone(t, fmt.Sprintf("batch%04d.example", i), i+1)
	}
	if err := b.Apply(ctx(t), zones); err != nil {
		t.Fatal(err)
	}
	names, err := b.Zones(ctx(t))
	if err != nil || len(names) != len(zones) {
		t.Fatalf("Zones() has %d, want %d (%v)", len(names), len(zones), err)
	}
	for _, i := range []int{0, len(zones) / 2, len(zones) - 1} {
		mustServe(t, b, zones[i])
	}
	del := make([]zone.Name, 0, len(zones)/2)
	for _, z := range zones[:len(zones)/2] {
		del = append(del, z.Name)
	}
	if err := b.Delete(ctx(t), del); err != nil {
		t.Fatal(err)
	}
	if names, _ = b.Zones(ctx(t)); len(names) != len(zones)-len(del) {
		t.Fatalf("after deleting half: %d zones", len(names))
	}
}

func testCancelled(t *testing.T, opt Options) {
	b := opt.New(t)
	c, cancel := context.WithCancel(context.Background())
	cancel()
	done := make(chan error, 2)
	go func() {
		done <- b.Apply(c, []*zone.Zone{Zone(t, "cancel.example", 1)})
		done <- b.Delete(c, []zone.Name{"cancel.example"})
	}()
	for i := 0; i < 2; i++ {
		select {
		case err := <-done:
			if err == nil {
				t.Fatal("a call with a cancelled context succeeded")
			}
		case <-time.After(30 * time.Second):
			t.Fatal("a call with a cancelled context did not return")
		}
	}
}

func testUnstorable(t *testing.T, opt Options) {
	if opt.Unstorable == nil {
		t.Skip("this backend stores every record type")
	}
	b := opt.New(t)
	z := opt.Unstorable(t)
	a, ok := b.(backend.Auditor)
	if !ok {
		t.Fatal("backend declares unstorable zones but has no AuditZone")
	}
	if err := a.AuditZone(z); !errors.Is(err, backend.ErrPermanent) {
		t.Fatalf("AuditZone = %v, want a permanent error", err)
	}
}
