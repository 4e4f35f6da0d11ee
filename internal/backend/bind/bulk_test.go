package bind

import (
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/zone"
)

// TestBulkLoadRatio is a measurement, run by hand: DADNS_BIND_BULK=10000
// applies that many zones in the dispatcher's batches of 500 (apply, then
// verify each), then restarts named to time its cold load of the same
// files, and logs both and their ratio. DADNS_BIND_BULK_BATCH changes the
// batch size.
func TestBulkLoadRatio(t *testing.T) {
	total, _ := strconv.Atoi(os.Getenv("DADNS_BIND_BULK"))
	if total <= 0 {
		t.Skip("set DADNS_BIND_BULK=<zones> to measure")
	}
	size, _ := strconv.Atoi(os.Getenv("DADNS_BIND_BULK_BATCH"))
	if size <= 0 {
		size = 500 // the dispatcher's batch
	}
	r := newRig(t, false)
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
	r.named.Stop()
	start = time.Now()
	r.named.Restart(t)
	b.settle = time.Now().Add(time.Minute)
	mustVerify(t, b, []*zone.Zone{all[0], all[total-1]})
	cold := time.Since(start)
	t.Logf("%d zones in batches of %d: dadns bind %v (%.0f zones/s; apply %v, verify %v), named cold load %v, ratio %.2f; rndc calls %d",
		total, size, ours.Round(time.Millisecond), float64(total)/ours.Seconds(), tApply.Round(time.Millisecond),
		tVerify.Round(time.Millisecond), cold.Round(time.Millisecond), ours.Seconds()/cold.Seconds(), len(r.calls(t)))
}
