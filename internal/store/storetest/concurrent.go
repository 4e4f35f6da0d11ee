package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// TestConcurrentPuts runs 16 pushers (on shared and own names), a backend
// worker and readers at once: no call may fail (no SQLITE_BUSY), and no
// version may be lost.
func testConcurrentPuts(t *testing.T, o Opener) {
	ctx := context.Background()
	s, _ := openTest(t, o)
	const pushers, each = 16, 10
	errs := make(chan error, 100)
	stop := make(chan struct{})
	var pushWG, bgWG sync.WaitGroup
	for g := range pushers {
		pushWG.Go(func() {
			for i := range each {
				for _, name := range []string{"shared.example", fmt.Sprintf("own%d.example", g)} {
					if _, err := s.Put(ctx, testZone(name, uint32(i+1))); err != nil {
						report(errs, err)
					}
				}
				if i%5 == 4 {
					if _, err := s.Delete(ctx, fmt.Sprintf("own%d.example", g)); err != nil {
						report(errs, err)
					}
				}
			}
		})
	}
	bgWG.Go(func() { workLoop(ctx, s, stop, errs) })
	bgWG.Go(func() { readLoop(ctx, s, stop, errs) })
	pushWG.Wait()
	close(stop)
	bgWG.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	shared, err := s.Get(ctx, "shared.example")
	if err != nil || shared.Version != pushers*each {
		t.Fatalf("shared zone = version %d, %v; want %d", shared.Version, err, pushers*each)
	}
	own, err := s.Lookup(ctx, "own3.example")
	if err != nil || own.Version != each+each/5 || !own.Deleted {
		t.Fatalf("own zone = %+v, %v", own, err)
	}
	applyAll(t, s, "bind")
	if w, _ := mustDue(t, s, "bind", 1000); len(w) != 0 {
		t.Fatalf("due after the final drain: %v", dueNames(w))
	}
}

// workLoop behaves like a dispatcher worker until stop.
func workLoop(ctx context.Context, s store.Store, stop chan struct{}, errs chan<- error) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		w, _, err := s.Due(ctx, "bind", 50)
		if err != nil {
			report(errs, err)
			return
		}
		var done []store.Applied
		var fails []store.Failure
		for i, x := range w {
			if i%7 == 0 {
				fails = append(fails, store.Failure{Name: x.Zone.Name, Version: x.Zone.Version, Err: "flaky"})
				continue
			}
			done = append(done, store.Applied{Name: x.Zone.Name, Version: x.Zone.Version, Hash: x.Zone.Hash})
		}
		if err := s.Applied(ctx, "bind", done); err != nil {
			report(errs, err)
		}
		if err := s.Failed(ctx, "bind", fails); err != nil {
			report(errs, err)
		}
	}
}

// readLoop exercises the read paths until stop.
func readLoop(ctx context.Context, s store.Store, stop chan struct{}, errs chan<- error) {
	for {
		select {
		case <-stop:
			return
		default:
		}
		if _, err := s.Live(ctx, []string{"shared.example", "own1.example"}); err != nil {
			report(errs, err)
		}
		if _, err := s.Summary(ctx, "bind"); err != nil {
			report(errs, err)
		}
		if _, err := s.List(ctx); err != nil {
			report(errs, err)
		}
	}
}

// report passes err on without ever blocking a loop.
func report(errs chan<- error, err error) {
	select {
	case errs <- err:
	default:
	}
}
