package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// TestSeqGrowsAcrossReopen checks that the in-memory push sequence never
// hands out a number already stored, after a clean close and reopen, and
// that a transaction taking more numbers than one reserved block keeps
// the stored bound above them.
func TestSeqGrowsAcrossReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	var prevMax int64
	for round := range 3 {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if round == 1 {
			// More numbers in one transaction than a block reserves.
			err := s.write(ctx, func(tx *sql.Tx) error {
				for i := range seqReserve + 10 {
					name := fmt.Sprintf("bulk%d.example", i)
					z := store.Zone{Name: name, Canonical: zoneText(name, 1, 0)}
					z.Hash = store.HashText(z.Canonical)
					if _, err := s.putTx(ctx, tx, z, s.now()); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
		for i := range 5 {
			mustPut(t, s, fmt.Sprintf("r%d-%d.example", round, i), 1)
		}
		mustDelete(t, s, fmt.Sprintf("r%d-0.example", round))
		var minNew, maxAll, bound int64
		if err := s.db.QueryRow("SELECT min(seq) FROM zones WHERE name LIKE ?", fmt.Sprintf("r%d-%%", round)).Scan(&minNew); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow("SELECT max(seq) FROM zones").Scan(&maxAll); err != nil {
			t.Fatal(err)
		}
		if err := s.db.QueryRow("SELECT value FROM counters WHERE name = 'push'").Scan(&bound); err != nil {
			t.Fatal(err)
		}
		if round > 0 && minNew <= prevMax {
			t.Fatalf("round %d: new push got seq %d, not above %d stored before the reopen", round, minNew, prevMax)
		}
		if bound < maxAll {
			t.Fatalf("round %d: stored bound %d below stored seq %d", round, bound, maxAll)
		}
		prevMax = maxAll
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// TestHistoryPrunedInSteps checks that a zone's history stays bounded
// although not every push prunes it, and that History still returns the
// latest store.HistoryLength versions.
func TestHistoryPrunedInSteps(t *testing.T) {
	s, _ := openTest(t)
	const pushes = 3*store.HistoryLength + 5
	for i := range pushes {
		mustPut(t, s, "h.example", uint32(i+1))
		var n int
		if err := s.db.QueryRow("SELECT count(*) FROM zone_history WHERE zone = 'h.example'").Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n >= store.HistoryLength+historyPruneEvery {
			t.Fatalf("after %d pushes %d history rows, want fewer than %d", i+1, n, store.HistoryLength+historyPruneEvery)
		}
	}
	h, err := s.History(context.Background(), "h.example")
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != store.HistoryLength || h[0].Version != pushes || h[len(h)-1].Version != pushes-store.HistoryLength+1 {
		t.Fatalf("History = %d entries, versions %d..%d; want %d, %d..%d", len(h),
			h[0].Version, h[len(h)-1].Version, store.HistoryLength, pushes, pushes-store.HistoryLength+1)
	}
}

// TestSeqTwoProcesses opens the database twice, as dadns serve and a CLI
// writing the same file would, and pushes from both in turn: no number is
// handed out twice, and the counter row stays above every stored one.
func TestSeqTwoProcesses(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "dadns.db")
	var stores []*Store
	for range 2 {
		s, err := Open(ctx, path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	for i := range 40 {
		mustPut(t, stores[i%2], fmt.Sprintf("p%d.example", i), 1)
	}
	var n, distinct, maxSeq, bound int64
	if err := stores[0].db.QueryRow("SELECT count(*), count(DISTINCT seq), max(seq) FROM zones").Scan(&n, &distinct, &maxSeq); err != nil {
		t.Fatal(err)
	}
	if err := stores[0].db.QueryRow("SELECT value FROM counters WHERE name = 'push'").Scan(&bound); err != nil {
		t.Fatal(err)
	}
	if n != 40 || distinct != n || bound < maxSeq {
		t.Fatalf("%d zones, %d distinct seqs, max %d, counter %d", n, distinct, maxSeq, bound)
	}
}

// TestSeqBlockOfFailedPush: the push that reserves a block fails inside
// its savepoint (its reservation rolled back with it) while the next push
// of the group uses the block: the commit still leaves the counter row
// above that push's number.
func TestSeqBlockOfFailedPush(t *testing.T) {
	ctx := context.Background()
	s, _ := openTest(t)
	s.wmu.Lock()
	var wg sync.WaitGroup
	errs := make([]error, 3)
	writes := []func(ctx context.Context, tx *sql.Tx) error{
		func(ctx context.Context, tx *sql.Tx) error { return nil }, // leads alone
		func(ctx context.Context, tx *sql.Tx) error {
			if _, err := s.nextSeq(ctx, tx); err != nil {
				return err
			}
			return errors.New("refused")
		},
		func(ctx context.Context, tx *sql.Tx) error {
			_, err := s.putTx(ctx, tx, store.Zone{Name: "b.example", Canonical: "b", Hash: store.HashText("b")}, s.now())
			return err
		},
	}
	for i, w := range writes {
		wg.Go(func() { errs[i] = s.grouped(ctx, w) })
		waitQueued(t, s, i)
	}
	s.wmu.Unlock()
	wg.Wait()
	if errs[0] != nil || errs[1] == nil || errs[2] != nil {
		t.Fatalf("errors %v", errs)
	}
	var seq, bound int64
	if err := s.db.QueryRow("SELECT seq FROM zones WHERE name = 'b.example'").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if err := s.db.QueryRow("SELECT value FROM counters WHERE name = 'push'").Scan(&bound); err != nil {
		t.Fatal(err)
	}
	if bound < seq {
		t.Fatalf("counter %d below the stored seq %d", bound, seq)
	}
}
