package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/storetest"
)

// TestSuite runs the shared store suite on a fresh SQLite file per case.
func TestSuite(t *testing.T) {
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		})
		return s
	})
}

// TestOperator runs the operator pages' queries on SQLite.
func TestOperator(t *testing.T) {
	storetest.RunOperator(t, func(t testing.TB, now func() time.Time) store.Store {
		s, err := Open(context.Background(), filepath.Join(t.TempDir(), "dadns.db"), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
