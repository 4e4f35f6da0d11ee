package dispatch

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dadns/dadns/internal/backend/memory"
	"github.com/dadns/dadns/internal/zone"
)

type panicking struct{ *memory.Backend }

func (panicking) Apply(context.Context, []*zone.Zone) error { panic("backend bug") }

func TestPanickingBackendMarksWorkerDead(t *testing.T) {
	e := newEnv(t)
	e.push("p.example", 1)
	w := e.worker("bad", panicking{memory.New()})
	err := w.Run(context.Background())
	if err == nil || !strings.Contains(err.Error(), "died") {
		t.Fatalf("Run = %v", err)
	}
	st := w.Status()
	if st.Alive || !strings.Contains(st.Died, "backend bug") || st.Backend != "bad" {
		t.Fatalf("status %+v", st)
	}
}

func TestMetricsMove(t *testing.T) {
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	mem := memory.New()
	w := NewWorker("mem", mem, e.st, Options{Now: e.clk.Now, Metrics: m, Logger: w0(t)})
	e.push("a.example", 1)
	e.push("b.example", 1)
	mem.FailZone("b.example", errors.New("nope"))
	drain(t, w)
	if got := testutil.ToFloat64(m.applied.WithLabelValues("mem")); got != 1 {
		t.Errorf("applied = %v", got)
	}
	if got := testutil.ToFloat64(m.failures.WithLabelValues("mem")); got != 1 {
		t.Errorf("failures = %v", got)
	}
	mem.FailZone("b.example", nil)
	e.clk.Advance(DefaultSchedule[0])
	drain(t, w)
	if got := testutil.ToFloat64(m.retries.WithLabelValues("mem")); got != 1 {
		t.Errorf("retries = %v", got)
	}
	if n := testutil.CollectAndCount(m.applyDuration); n != 1 {
		t.Errorf("duration series = %d", n)
	}
}
