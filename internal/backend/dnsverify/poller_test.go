package dnsverify

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/testutil/namedtest"
	"github.com/dadns/dadns/internal/zone"
)

func zoneText(origin string, serial int) string {
	return fmt.Sprintf("$TTL 300\n@ IN SOA ns1.%[1]s. host.%[1]s. %[2]d 3600 600 86400 300\n@ IN NS ns1.%[1]s.\nns1 IN A 192.0.2.1\n", origin, serial)
}

// startNamed serves n zones z0.test … with serial 1.
func startNamed(t *testing.T, n int) (*namedtest.Named, []zone.Name) {
	zones := map[string]string{}
	var names []zone.Name
	for i := range n {
		o := fmt.Sprintf("z%d.test", i)
		zones[o] = zoneText(o, 1)
		names = append(names, zone.Name(o))
	}
	return namedtest.Start(t, zones), names
}

func TestPollerBatch(t *testing.T) {
	for _, tcp := range []bool{false, true} {
		t.Run(fmt.Sprintf("tcp=%v", tcp), func(t *testing.T) {
			nd, names := startNamed(t, 40)
			p := NewPoller(Server{Addr: nd.Addr, Label: "test", Daemon: "named", TCP: tcp}, 4, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			// Every zone served with serial 1 but the last, expected at
			// serial 2 and changed only after Expect: it is found once
			// named reloads it.
			want := map[zone.Name]uint32{}
			for _, n := range names {
				want[n] = 1
			}
			last := names[len(names)-1]
			want[last] = 2
			p.Expect(want, time.Now().Add(15*time.Second))
			if err := os.WriteFile(filepath.Join(nd.Dir, string(last)+".db"), []byte(zoneText(string(last), 2)), 0o644); err != nil {
				t.Fatal(err)
			}
			if err := nd.Rndc("reload", string(last)); err != nil {
				t.Fatal(err)
			}
			for _, n := range names {
				if err := p.Wait(ctx, n, want[n], time.Now()); err != nil {
					t.Fatalf("%s: %v", n, err)
				}
			}
			if got := p.Pending(); got != 0 {
				t.Fatalf("pending after every wait: %d", got)
			}

			// A serial named never serves fails at the deadline, as a
			// mismatch; the others of its batch pass meanwhile.
			p.Expect(map[zone.Name]uint32{names[0]: 7, names[1]: 1}, time.Now().Add(300*time.Millisecond))
			if err := p.Wait(ctx, names[1], 1, time.Now()); err != nil {
				t.Fatal(err)
			}
			err := p.Wait(ctx, names[0], 7, time.Now())
			if !errors.Is(err, backend.ErrMismatch) || !strings.Contains(err.Error(), "serves serial 1, applied 7") {
				t.Fatalf("unserved serial: %v", err)
			}

			// A zone not handed to Expect is asked directly.
			if err := p.Wait(ctx, names[2], 1, time.Now().Add(time.Second)); err != nil {
				t.Fatal(err)
			}
			if err := p.Wait(ctx, names[2], 5, time.Now().Add(100*time.Millisecond)); !errors.Is(err, backend.ErrMismatch) {
				t.Fatalf("unexpected zone, wrong serial: %v", err)
			}
		})
	}
}

func TestPollerSuperseded(t *testing.T) {
	nd, names := startNamed(t, 1)
	p := NewPoller(Server{Addr: nd.Addr, Label: "test", Daemon: "named"}, 0, nil)
	ctx := context.Background()
	p.Expect(map[zone.Name]uint32{names[0]: 9}, time.Now().Add(10*time.Second))
	p.Expect(map[zone.Name]uint32{names[0]: 1}, time.Now().Add(10*time.Second))
	if err := p.Wait(ctx, names[0], 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	// The serial 9 expectation was replaced: asked directly, it mismatches.
	if err := p.Wait(ctx, names[0], 9, time.Now().Add(50*time.Millisecond)); !errors.Is(err, backend.ErrMismatch) {
		t.Fatalf("superseded serial: %v", err)
	}
}

func TestPollerNothingListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	var servfails atomic.Int32
	p := NewPoller(Server{Addr: addr, Label: "test", Daemon: "named", TCP: true}, 2, func(context.Context, zone.Name) error {
		servfails.Add(1)
		return nil
	})
	start := time.Now()
	p.Expect(map[zone.Name]uint32{"a.test": 1, "b.test": 1, "c.test": 1}, time.Now().Add(20*time.Second))
	for _, n := range []zone.Name{"a.test", "b.test", "c.test"} {
		if err := p.Wait(context.Background(), n, 1, time.Now()); !errors.Is(err, syscall.ECONNREFUSED) {
			t.Fatalf("%s: %v", n, err)
		}
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("refused connections waited %s, not given up at once", d)
	}
	if servfails.Load() != 0 {
		t.Fatal("the SERVFAIL hook ran without a SERVFAIL")
	}
}

func TestPollerServfailHook(t *testing.T) {
	// named answers SERVFAIL for a zone whose file it could not load.
	nd, names := startNamed(t, 2)
	bad := names[1]
	if err := os.WriteFile(filepath.Join(nd.Dir, string(bad)+".db"), []byte("$TTL 300\n@ IN SOA broken\n; serial 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A file named refuses on reload keeps the old zone; removing the
	// zone's data entirely takes a restart, so ask about a zone named
	// does not have: REFUSED, not SERVFAIL, and the hook must not run.
	var hooked atomic.Int32
	refusal := backend.Permanent(errors.New("refused by the checker"))
	p := NewPoller(Server{Addr: nd.Addr, Label: "test", Daemon: "named"}, 2, func(_ context.Context, n zone.Name) error {
		hooked.Add(1)
		return refusal
	})
	p.Expect(map[zone.Name]uint32{"absent.test": 1, names[0]: 1}, time.Now().Add(300*time.Millisecond))
	if err := p.Wait(context.Background(), names[0], 1, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := p.Wait(context.Background(), "absent.test", 1, time.Now()); err == nil || errors.Is(err, refusal) {
		t.Fatalf("absent zone: %v", err)
	}
	if hooked.Load() != 0 {
		t.Fatalf("hook ran %d times on REFUSED", hooked.Load())
	}
	nd.Stop()
	nd.Restart(t)
	p.Expect(map[zone.Name]uint32{bad: 2}, time.Now().Add(10*time.Second))
	if err := p.Wait(context.Background(), bad, 2, time.Now()); !errors.Is(err, refusal) {
		t.Fatalf("SERVFAIL zone: %v (hook ran %d times)", err, hooked.Load())
	}
	if hooked.Load() != 1 {
		t.Fatalf("hook ran %d times, want once", hooked.Load())
	}
}
