package mysql

import (
	"context"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/storetest"
	"github.com/dadns/dadns/internal/testutil/mariadbtest"
)

// TestSuite runs the shared store suite on a real MariaDB, a fresh database
// per case.
func TestSuite(t *testing.T) {
	srv := mariadbtest.Start(t)
	storetest.Run(t, func(t testing.TB, now func() time.Time) store.Store {
		s, err := Open(context.Background(), srv.DSN(srv.NewDatabase(t)), Options{Now: now})
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
