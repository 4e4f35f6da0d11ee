package sqlite

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/testutil/procstat"
)

// BenchmarkAckWhileMarking measures what a DirectAdmin push waits for in
// the store while every backend records what it applied: C pushers (1,
// 16) re-push loaded zones back to back, each push its ownership lookup
// (Live) and its Put, as push.Save does, and seven backend instances take
// every committed change as the dispatcher hands it over (a hint), "apply"
// it (a sleep per batch: the builtin none, the others a round trip to
// their database or daemon) and record it applied in the background,
// coalescing while a write is in flight (as dispatch's recorder does).
// It reports the ack's (Live + Put) p50 and p99, the store's CPU per push
// and the commits per push.
//
//	go test -run '^$' -bench AckWhileMarking -benchtime 1x ./internal/store/sqlite/
//
// DADNS_ACK_PUSHES (default 1000) pushes per run.
func BenchmarkAckWhileMarking(b *testing.B) {
	pushes := 1000
	if n, err := strconv.Atoi(os.Getenv("DADNS_ACK_PUSHES")); err == nil && n > 0 {
		pushes = n
	}
	for _, c := range []int{1, 16} {
		b.Run(fmt.Sprintf("C=%d", c), func(b *testing.B) {
			for range b.N {
				benchAck(b, c, pushes)
			}
		})
	}
}

// ackBackends are the seven instances of the bench and their apply
// times per batch.
var ackBackends = []struct {
	name  string
	apply time.Duration
}{
	{"builtin", 0},
	{"bind", 2 * time.Millisecond},
	{"coredns_mysql", time.Millisecond},
	{"coredns_mysql_dc2", time.Millisecond},
	{"knot", 2 * time.Millisecond},
	{"powerdns", time.Millisecond},
	{"powerdns_dc2", time.Millisecond},
}

// ackMarker is one backend instance of BenchmarkAckWhileMarking.
type ackMarker struct {
	s       *Store
	name    string
	apply   time.Duration
	mu      sync.Mutex
	hints   []store.Applied
	wake    chan struct{}
	rec     []store.Applied // marks waiting for the recorder
	writing bool
	wg      sync.WaitGroup
	errs    atomic.Int64
}

func (m *ackMarker) hint(z store.Zone) {
	m.mu.Lock()
	m.hints = append(m.hints, store.Applied{Name: z.Name, Version: z.Version, Hash: z.Hash})
	m.mu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// run applies the hinted changes batch by batch until stop is closed.
func (m *ackMarker) run(stop chan struct{}) {
	for {
		select {
		case <-stop:
			return
		case <-m.wake:
		}
		m.mu.Lock()
		batch := m.hints
		m.hints = nil
		m.mu.Unlock()
		if len(batch) == 0 {
			continue
		}
		if m.apply > 0 {
			time.Sleep(m.apply)
		}
		m.record(batch)
	}
}

// record queues marks for the background writer.
func (m *ackMarker) record(marks []store.Applied) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.rec = append(m.rec, marks...)
	if m.writing {
		return
	}
	m.writing = true
	m.wg.Go(func() {
		for {
			m.mu.Lock()
			batch := m.rec
			m.rec = nil
			if len(batch) == 0 {
				m.writing = false
				m.mu.Unlock()
				return
			}
			m.mu.Unlock()
			if err := m.s.Applied(context.Background(), m.name, batch); err != nil {
				m.errs.Add(1)
			}
		}
	})
}

func benchAck(b *testing.B, c, pushes int) {
	b.StopTimer()
	ctx := context.Background()
	s, clock := openTest(b)
	var names []string
	for _, bk := range ackBackends {
		names = append(names, bk.name)
	}
	if err := s.Forget(ctx, names); err != nil {
		b.Fatal(err)
	}
	const nzones = 2000
	bulkPut(b, s, nzones, clock.Now())
	if _, err := s.db.Exec("UPDATE backend_state SET state = 'applied', applied_version = desired_version"); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	var markers []*ackMarker
	var running sync.WaitGroup
	for _, bk := range ackBackends {
		m := &ackMarker{s: s, name: bk.name, apply: bk.apply, wake: make(chan struct{}, 1)}
		markers = append(markers, m)
		running.Go(func() { m.run(stop) })
	}
	var next atomic.Int64
	lat := make([]time.Duration, pushes)
	synced0, relaxed0, syncs0, cpu0 := s.synced.Load(), s.relaxed.Load(), s.wal.syncs.Load(), procstat.SelfCPU()
	b.StartTimer()
	var pushers sync.WaitGroup
	for range c {
		pushers.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= pushes {
					return
				}
				name := fmt.Sprintf("z%d.example", i%nzones)
				text := zoneText(name, uint32(i+2), 16)
				t0 := time.Now()
				if _, err := s.Live(ctx, []string{name}); err != nil {
					b.Error(err)
					return
				}
				z, err := s.Put(ctx, store.Zone{Name: name, Canonical: text, Original: text, OwnerHost: "da1"})
				lat[i] = time.Since(t0)
				if err != nil {
					b.Error(err)
					return
				}
				for _, m := range markers {
					m.hint(z)
				}
			}
		})
	}
	pushers.Wait()
	b.StopTimer()
	cpu := procstat.SelfCPU() - cpu0
	close(stop)
	running.Wait()
	for _, m := range markers {
		m.wg.Wait()
		if n := m.errs.Load(); n > 0 {
			b.Errorf("%s: %d Applied calls failed", m.name, n)
		}
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(cpu.Microseconds())/float64(pushes), "cpu-µs/push")
	b.ReportMetric(float64(s.synced.Load()-synced0)/float64(pushes), "commits/push")
	b.ReportMetric(float64(s.wal.syncs.Load()-syncs0)/float64(pushes), "fsyncs/push")
	b.ReportMetric(float64(s.relaxed.Load()-relaxed0)/float64(pushes), "relaxed/push")
}
