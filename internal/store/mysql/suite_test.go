package mysql

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/store"
	"github.com/dadns/dadns/internal/store/sqlite"
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

// TestClusterSuite runs the cases of several nodes sharing one database.
func TestClusterSuite(t *testing.T) {
	srv := mariadbtest.Start(t)
	storetest.RunCluster(t, func(t testing.TB, now func() time.Time) func() store.Store {
		dsn := srv.DSN(srv.NewDatabase(t))
		return func() store.Store {
			s, err := Open(context.Background(), dsn, Options{Now: now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = s.Close() })
			return s
		}
	})
}

// TestCopy copies SQLite → MariaDB → SQLite.
func TestCopy(t *testing.T) {
	srv := mariadbtest.Start(t)
	my := func(t testing.TB, now func() time.Time) store.Store {
		s, err := Open(context.Background(), srv.DSN(srv.NewDatabase(t)), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	lite := func(t testing.TB, now func() time.Time) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"), sqlite.Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	t.Run("SQLiteToMariaDB", func(t *testing.T) { storetest.RunCopy(t, lite, my) })
	t.Run("MariaDBToSQLite", func(t *testing.T) { storetest.RunCopy(t, my, lite) })
}

// TestOperator runs the operator pages' queries on a real MariaDB.
func TestOperator(t *testing.T) {
	srv := mariadbtest.Start(t)
	storetest.RunOperator(t, func(t testing.TB, now func() time.Time) store.Store {
		s, err := Open(context.Background(), srv.DSN(srv.NewDatabase(t)), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = s.Close() })
		return s
	})
}
