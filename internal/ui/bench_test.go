package ui_test

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/dadns/dadns/internal/store/sqlite"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/dispatch"
	"github.com/dadns/dadns/internal/push"
	"github.com/dadns/dadns/internal/ui"
	"github.com/dadns/dadns/internal/view"
)

const benchZones = 100_000

var (
	benchOnce    sync.Once
	benchHandler http.Handler
	benchErr     error
)

// benchText is a canonical zone of ten records.
func benchText(name string, serial int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s.\t3600\tIN\tSOA\tns1.%s. hostmaster.%s. %d 3600 3600 1209600 86400\n", name, name, name, serial)
	fmt.Fprintf(&b, "%s.\t3600\tIN\tNS\tns1.%s.\n%s.\t3600\tIN\tNS\tns2.%s.\n", name, name, name, name)
	fmt.Fprintf(&b, "%s.\t3600\tIN\tMX\t10 mail.%s.\n%s.\t3600\tIN\tTXT\t\"v=spf1 a mx -all\"\n", name, name, name)
	for _, h := range []string{"ns1", "ns2", "mail", "www", "ftp"} {
		fmt.Fprintf(&b, "%s.%s.\t3600\tIN\tA\t192.0.2.%d\n", h, name, serial%250+1)
	}
	return b.String()
}

// populate writes benchZones zones and the state of two backends straight
// into the database (in one transaction: minutes through pushes, seconds
// this way): builtin applied everything; dc2 failed 1% and has 1% pending.
func populate(ctx context.Context, path string) error {
	st, err := sqlite.Open(ctx, path, sqlite.Options{}) // creates the schema
	if err != nil {
		return err
	}
	st.Close()
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	now := time.Now().Add(-time.Hour).UnixNano()
	for _, b := range []string{"builtin", "dc2"} {
		if _, err := tx.Exec("INSERT INTO backends (name, added) VALUES (?, ?)", b, now); err != nil {
			return err
		}
	}
	zoneIns, err := tx.Prepare(`INSERT INTO zones (name, version, seq, hash, serial, owner_host, owner_user, created, updated, canonical, original)
		VALUES (?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	stateIns, err := tx.Prepare(`INSERT INTO backend_state (backend, zone, desired_version, seq, state, applied_version, applied_hash, applied_at, attempts, last_error, failed_at, next_attempt)
		VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	for i := range benchZones {
		name := fmt.Sprintf("site%06d.example", i)
		text := benchText(name, 2026010100+i%100)
		at := now + int64(i)*int64(time.Millisecond)
		if _, err := zoneIns.Exec(name, i+1, fmt.Sprintf("%064x", i), 2026010100+i%100, fmt.Sprintf("da%d.example.net", i%5+1),
			fmt.Sprintf("user%d", i%700), at, at, text, "; pushed\n"+text); err != nil {
			return err
		}
		if _, err := stateIns.Exec("builtin", name, i+1, "applied", 1, "h", at, 0, "", 0, 0); err != nil {
			return err
		}
		state, applied, attempts, lastErr, failedAt, next := "applied", 1, 0, "", int64(0), int64(0)
		switch i % 100 {
		case 7:
			state, applied, attempts, lastErr, failedAt, next = "failed", 0, 2, "dial tcp 10.0.0.9:3306: connect: connection refused", at, at+int64(time.Hour)
		case 8:
			state, applied = "pending", 0
		}
		if _, err := stateIns.Exec("dc2", name, i+1, state, applied, "", 0, attempts, lastErr, failedAt, next); err != nil {
			return err
		}
	}
	if _, err := tx.Exec("UPDATE counters SET value = ? WHERE name = 'push'", benchZones); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	_, err = db.Exec("ANALYZE")
	return err
}

func benchSetup(b *testing.B) http.Handler {
	benchOnce.Do(func() {
		ctx := context.Background()
		path := filepath.Join(b.TempDir(), "dadns.db")
		start := time.Now()
		if benchErr = populate(ctx, path); benchErr != nil {
			return
		}
		b.Logf("populated %d zones in %v", benchZones, time.Since(start).Round(time.Millisecond))
		st, err := sqlite.Open(ctx, path, sqlite.Options{})
		if err != nil {
			benchErr = err
			return
		}
		svc := push.New(push.Options{Store: st})
		for i := range 3 { // some history for the zone page
			if _, err := svc.Save(ctx, "site050000.example", []byte(zoneText("site050000.example", 2026020100+i, "hello")), "da1.example.net", "user1"); err != nil {
				benchErr = err
				return
			}
		}
		workers := func() []dispatch.Status {
			return []dispatch.Status{{Backend: "builtin", Alive: true}, {Backend: "dc2", Alive: true}}
		}
		benchHandler = ui.New(ui.Options{Store: st, Push: svc,
			Source: view.Source{Store: st, Workers: workers, Version: "bench"}}).Handler()
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return benchHandler
}

// BenchmarkPages100k renders pages against 100,000 zones; the time per
// operation is one full page render (store queries and template).
func BenchmarkPages100k(b *testing.B) {
	h := benchSetup(b)
	pages := []struct{ name, path string }{
		{"zones_first_page", "/ui/zones"},
		{"zones_last_page", "/ui/zones?offset=99950"},
		{"zones_search_exact", "/ui/zones?q=site050000"},
		{"zones_search_substring_many", "/ui/zones?q=99"},
		{"zones_search_prefix_many", "/ui/zones?q=site0"},
		{"zones_owner_filter", "/ui/zones?host=da3.example.net&user=user42"},
		{"zones_failing", "/ui/zones?state=failing"},
		{"zones_behind_page_10", "/ui/zones?state=behind&offset=450"},
		{"zones_sort_updated", "/ui/zones?sort=updated"},
		{"zone_page", "/ui/zones/site050000.example"},
		{"overview", "/ui/"},
		{"failures", "/ui/failures"},
	}
	for _, p := range pages {
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", p.path, nil))
				if rec.Code != 200 {
					b.Fatalf("%s: %d %s", p.path, rec.Code, rec.Body)
				}
			}
		})
	}
}
