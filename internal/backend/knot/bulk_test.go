package knot

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/testutil/knottest"
	"github.com/dadns/dadns/internal/zone"
)

// TestBulkLoadRatio is a measurement, run by hand:
// DADNS_KNOT_BULK=10000 applies that many zones in the dispatcher's
// batches (BatchSize; DADNS_KNOT_BULK_BATCH changes it), verifying each
// batch, then starts a second knotd whose knot.conf lists the same files
// and times its cold load, and logs both and their ratio.
func TestBulkLoadRatio(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("DADNS_KNOT_BULK"))
	if total <= 0 {
		t.Skip("set DADNS_KNOT_BULK=<zones> to measure")
	}
	size, _ := strconv.Atoi(os.Getenv("DADNS_KNOT_BULK_BATCH"))
	if size <= 0 {
		size = batchSize
	}
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	ctx := testCtx(t)
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
	calls := len(r.calls(t))
	r.knot.Stop()

	// knotd's own cold load of the same files, listed in its knot.conf.
	files := map[string]string{}
	for _, z := range all {
		files[string(z.Name)] = filepath.Join(r.zones, string(z.Name)+".zone")
	}
	start = time.Now()
	cold := knottest.Start(t, knottest.Options{Zones: files, DefaultStorage: t.TempDir()})
	for _, z := range all {
		if err := cold.WaitServes(string(z.Name), time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	coldTime := time.Since(start)
	t.Logf("%d zones in batches of %d: dadns knot %v (%.0f zones/s; apply %v, verify %v; %d control actions), knotd cold load %v (%.0f zones/s), ratio %.2f",
		total, size, ours.Round(time.Millisecond), float64(total)/ours.Seconds(), tApply.Round(time.Millisecond),
		tVerify.Round(time.Millisecond), calls, coldTime.Round(time.Millisecond), float64(total)/coldTime.Seconds(),
		ours.Seconds()/coldTime.Seconds())
}

// TestContentPathsCompared is a measurement, run by hand:
// DADNS_KNOT_COMPARE=1000 serves that many zones, then changes every one
// of them (a new serial and one changed record) twice: once the way the
// backend does (zone files + one blocking zone-reload), once with knotc
// zone transactions (zone-begin, zone-unset/zone-set of the differences,
// zone-commit, all through one knotc session), verifying the served serial
// after each, and logs both times.
func TestContentPathsCompared(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("DADNS_KNOT_COMPARE"))
	if total <= 0 {
		t.Skip("set DADNS_KNOT_COMPARE=<zones> to measure")
	}
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	b.knotc.timeout = 10 * time.Minute // one session of thousands of actions
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
	defer cancel()
	v1, v2, v3 := zones(t, "cmp", total, 1), zones(t, "cmp", total, 2), zones(t, "cmp", total, 3)
	if err := b.Apply(ctx, v1); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, v1)

	start := time.Now()
	if err := b.Apply(ctx, v2); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, b, v2)
	files := time.Since(start)

	start = time.Now()
	var lines []string
	names := make([]zone.Name, total)
	for i := range v3 {
		names[i] = v3[i].Name
		lines = append(lines, transactionLines(v2[i], v3[i])...)
	}
	if err := zoneTransactions(ctx, b.knotc, names, lines); err != nil {
		t.Fatal(err)
	}
	for _, z := range v3 {
		if got, err := b.soaSerial(ctx, z.Name); err != nil || got != z.Serial {
			t.Fatalf("%s after the transaction: serial %d, %v", z.Name, got, err)
		}
	}
	tx := time.Since(start)
	t.Logf("%d changed zones: zone files + one zone-reload %v (%.0f zones/s); zone transactions %v (%.0f zones/s, %d knotc actions); transactions/files %.1f×",
		total, files.Round(time.Millisecond), float64(total)/files.Seconds(), tx.Round(time.Millisecond),
		float64(total)/tx.Seconds(), len(lines), tx.Seconds()/files.Seconds())
}
