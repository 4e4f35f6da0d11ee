package nsd

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/backend/zonefile"
	"github.com/dadns/dadns/internal/zone"
)

// TestBulkLoadRatio is a measurement, run by hand: DADNS_NSD_BULK=10000
// applies that many zones in this backend's batches (apply, then verify
// each), then restarts NSD to time its cold load of the same files, and
// logs both and their ratio. DADNS_NSD_BULK_MODE picks the mode (default
// addzone), DADNS_NSD_BULK_BATCH the batch size, DADNS_NSD_BULK_CHECK=off
// leaves nsd-checkzone out; DADNS_NSD_BULK_SOCKET=1 drives NSD on its
// control socket, DADNS_NSD_BULK_TLS=1 over TLS natively (default: the
// nsd-control binary).
func TestBulkLoadRatio(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("DADNS_NSD_BULK"))
	if total <= 0 {
		t.Skip("set DADNS_NSD_BULK=<zones> to measure")
	}
	size, _ := strconv.Atoi(os.Getenv("DADNS_NSD_BULK_BATCH"))
	if size <= 0 {
		size = batchSize
	}
	mode := os.Getenv("DADNS_NSD_BULK_MODE")
	if mode == "" {
		mode = ModeAddZone
	}
	r := startRig(t, false, os.Getenv("DADNS_NSD_BULK_TLS") != "")
	r.direct = os.Getenv("DADNS_NSD_BULK_SOCKET") != ""
	opt := r.options(mode, false)
	if os.Getenv("DADNS_NSD_BULK_CHECK") == "off" {
		opt.CheckZone = "" // to measure what the checks cost
	}
	b, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	all := zones(t, "bulk", total, 1)
	start := time.Now()
	var tApply, tVerify time.Duration
	for i := 0; i < total; i += size {
		batch := all[i:min(i+size, total)]
		t0 := time.Now()
		if err := b.Apply(ctx, batch); err != nil {
			t.Fatal(err)
		}
		t1 := time.Now()
		mustVerify(t, b, batch)
		tApply, tVerify = tApply+t1.Sub(t0), tVerify+time.Since(t1)
	}
	ours := time.Since(start)
	calls := b.ctl.calls.Load()
	checks := b.check.runs.Load()
	r.nsd.Stop()
	start = time.Now()
	r.nsd.Restart(t)
	names := make([]string, total)
	for i, z := range all {
		names[i] = string(z.Name)
	}
	if err := r.nsd.WaitZones(names, 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	cold := time.Since(start)
	t.Logf("nsd-checkzone %v; %s mode, %d zones in batches of %d: dadns nsd %v (%.0f zones/s; apply %v, verify %v), NSD cold load %v, ratio %.2f; nsd-control calls %d, nsd-checkzone runs %d",
		opt.CheckZone != "", mode, total, size, ours.Round(time.Millisecond), float64(total)/ours.Seconds(), tApply.Round(time.Millisecond),
		tVerify.Round(time.Millisecond), cold.Round(time.Millisecond), ours.Seconds()/cold.Seconds(), calls, checks)
}

// TestApplyToServed is a measurement, run by hand: DADNS_NSD_LATENCY=50
// applies one changed zone at a time, as a single push does, to an NSD
// holding DADNS_NSD_LATENCY_ZONES zones (default 200), and logs the
// median and p90 from Apply to NSD serving the new serial.
// DADNS_NSD_LATENCY_GAP (a duration) pauses before each round: NSD
// reloads at most once per xfrd-reload-timeout (1 s by default) on its
// own, so back-to-back rounds might wait for it (measured: control-channel
// reloads do not). DADNS_NSD_LATENCY_VARIANT runs one variant only
// (addzone, include, addzone/socket, include/socket, addzone/tls,
// include/tls, addzone/tls-nsd-control, include/tls-nsd-control; the
// first two and the last two run nsd-control, the others speak NSD's
// control natively).
func TestApplyToServed(t *testing.T) {
	rounds, _ := strconv.Atoi(os.Getenv("DADNS_NSD_LATENCY"))
	if rounds <= 0 {
		t.Skip("set DADNS_NSD_LATENCY=<rounds> to measure")
	}
	held, _ := strconv.Atoi(os.Getenv("DADNS_NSD_LATENCY_ZONES"))
	if held <= 0 {
		held = 200
	}
	for _, variant := range []string{ModeAddZone, ModeInclude, ModeAddZone + "/socket", ModeInclude + "/socket",
		ModeAddZone + "/tls", ModeInclude + "/tls", ModeAddZone + "/tls-nsd-control", ModeInclude + "/tls-nsd-control"} {
		if v := os.Getenv("DADNS_NSD_LATENCY_VARIANT"); v != "" && v != variant {
			continue
		}
		mode, way, _ := strings.Cut(variant, "/")
		socket := way == "socket"
		r := startRig(t, false, strings.HasPrefix(way, "tls"))
		r.direct = socket
		r.exec = way == "tls-nsd-control"
		b := r.backend(t, mode, false)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		if err := b.Apply(ctx, zones(t, "held", held, 1)); err != nil {
			t.Fatal(err)
		}
		gap, _ := time.ParseDuration(os.Getenv("DADNS_NSD_LATENCY_GAP"))
		var lat, applies, alone []time.Duration
		for i := range rounds {
			if socket {
				// NSD alone, in the same conditions: a zone file written
				// directly and "reload <zone>" sent on the control socket,
				// no dadns in between.
				alone = append(alone, reloadAlone(t, ctx, b, r.nsd.Socket, backendtest.Zone(t, fmt.Sprintf("held%03d.example", (i+held/2)%held), 2+i)))
			}
			time.Sleep(gap)
			z := backendtest.Zone(t, fmt.Sprintf("held%03d.example", i%held), 2+i)
			start := time.Now()
			if err := b.Apply(ctx, []*zone.Zone{z}); err != nil {
				t.Fatal(err)
			}
			applies = append(applies, time.Since(start))
			for {
				if got, err := b.soaSerial(ctx, z.Name); err == nil && got == z.Serial {
					break
				}
				if time.Since(start) > 30*time.Second {
					t.Fatalf("%s not served", z.Name)
				}
				time.Sleep(time.Millisecond)
			}
			lat = append(lat, time.Since(start))
		}
		slices.Sort(lat)
		slices.Sort(applies)
		t.Logf("%s, %d zones held: apply → new serial served, median %v, p90 %v, of %d (Apply returned after %v median: the rest is NSD reloading)",
			variant, held, lat[len(lat)/2].Round(100*time.Microsecond), lat[len(lat)*9/10].Round(100*time.Microsecond), rounds,
			applies[len(applies)/2].Round(100*time.Microsecond))
		if len(alone) > 0 {
			slices.Sort(alone)
			t.Logf("%s, %d zones held: NSD alone (file written, reload <zone> on the socket) → new serial served, median %v, p90 %v, of %d",
				variant, held, alone[len(alone)/2].Round(100*time.Microsecond), alone[len(alone)*9/10].Round(100*time.Microsecond), len(alone))
		}
	}
}

// reloadAlone changes z's file behind the backend's back (the content
// the backend would write) and has NSD reload it over the control socket
// directly, and returns the time until NSD serves the new serial.
func reloadAlone(t *testing.T, ctx context.Context, b *Backend, socket string, z *zone.Zone) time.Duration {
	t.Helper()
	e, ok := b.entry(z.Name)
	if !ok {
		t.Fatalf("%s not held", z.Name)
	}
	if err := os.WriteFile(e.file, zonefile.Text(z), 0o644); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if err := os.Chtimes(e.file, now, now); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	c, err := net.Dial("unix", socket)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, "NSDCT1 reload "+string(z.Name)+"\n"); err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(c)
	c.Close()
	if !strings.HasPrefix(string(out), "ok") {
		t.Fatalf("reload %s: %q", z.Name, out)
	}
	for {
		if got, err := b.soaSerial(ctx, z.Name); err == nil && got == z.Serial {
			return time.Since(start)
		}
		if time.Since(start) > 30*time.Second {
			t.Fatalf("%s not served", z.Name)
		}
		time.Sleep(time.Millisecond)
	}
}
