package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
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
