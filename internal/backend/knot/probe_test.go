package knot

import (
	"strings"
	"testing"

	"github.com/dadns/dadns/internal/testutil/knottest"
)

// TestProbe: "knotc status" answers while knotd runs; with knotd stopped
// the probe fails with knotc's message, and passes again once it is back.
func TestProbe(t *testing.T) {
	r := newRig(t, knottest.Options{})
	b := r.backend(t, false)
	ctx := testCtx(t)
	if err := b.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	r.knot.Stop()
	if err := b.Probe(ctx); err == nil || !strings.Contains(err.Error(), "failed to connect") {
		t.Fatalf("Probe with knotd stopped: %v", err)
	}
	r.knot.Restart(t)
	if err := b.Probe(ctx); err != nil {
		t.Fatal(err)
	}
	if got := actions(r.calls(t)); len(got) != 3 || got[0] != "status" {
		t.Fatalf("Probe ran %q, want knotc status each time", got)
	}
}
