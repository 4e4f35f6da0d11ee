package sqlite

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/dadns/dadns/internal/store"
)

// crashEnv, when set to a database path, turns TestCrashDurability into the
// child that pushes until it is killed.
const crashEnv = "DADNS_STORE_CRASH_CHILD"

const (
	crashPushers    = 16 // as many as DirectAdmin servers pushing at once: commits are grouped
	crashNamesEach  = 5
	crashAcksToKill = 400
)

// TestCrashDurability re-executes the test binary as a child that pushes
// zones and prints each acknowledged version, SIGKILLs it mid-stream, then
// checks that every acknowledged push survived.
func TestCrashDurability(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "dadns.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashDurability$", "-test.count=1")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked, n, synced := readAcks(t, bufio.NewScanner(out), cmd)
	if err := cmd.Wait(); err == nil {
		t.Fatal("child exited cleanly: it was never killed mid-stream")
	}
	if n < crashAcksToKill {
		t.Fatalf("only %d acknowledgements before the child ended", n)
	}
	t.Logf("%d acknowledgements from %d pushers, %d syncs of the log", n, crashPushers, synced)
	if synced == 0 || synced >= int64(n) {
		t.Errorf("%d syncs of the log for %d pushes: none, or none shared", synced, n)
	}
	checkAcked(t, path, acked)
}

// readAcks reads "ack name version commits" lines, kills the child after
// crashAcksToKill of them, and keeps reading what it wrote before dying. It
// returns the acknowledged versions, the acknowledgements, and the syncs
// of the log the child had made by its last one.
func readAcks(t *testing.T, sc *bufio.Scanner, cmd *exec.Cmd) (map[string]int64, int, int64) {
	acked := map[string]int64{}
	n, killed := 0, false
	var synced int64
	for sc.Scan() {
		var name string
		var v, commits int64
		if _, err := fmt.Sscanf(sc.Text(), "ack %s %d %d", &name, &v, &commits); err != nil {
			continue // test framework output
		}
		synced = max(synced, commits)
		acked[name] = max(acked[name], v)
		n++
		if !killed && n >= crashAcksToKill && len(acked) == crashPushers*crashNamesEach {
			if err := cmd.Process.Kill(); err != nil { // SIGKILL
				t.Fatal(err)
			}
			killed = true
		}
	}
	return acked, n, synced
}

// checkAcked reopens the database and checks every acknowledged push.
func checkAcked(t *testing.T, path string, acked map[string]int64) {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	var check string
	if err := s.db.QueryRow("PRAGMA integrity_check").Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	for name, v := range acked {
		z, err := s.Get(ctx, name)
		if err != nil {
			t.Fatalf("acknowledged %s@%d lost: %v", name, v, err)
		}
		if z.Version < v || z.Canonical != zoneText(name, uint32(z.Version), 20) {
			t.Fatalf("acknowledged %s@%d: stored version %d, text matches: %v",
				name, v, z.Version, z.Canonical == zoneText(name, uint32(z.Version), 20))
		}
	}
	// The push sequence is counted in memory and only a bound above it is
	// stored: a push after the crash must still come after every stored one.
	var maxSeq int64
	if err := s.db.QueryRow("SELECT max(seq) FROM zones").Scan(&maxSeq); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Put(ctx, store.Zone{Name: "after.example", Canonical: zoneText("after.example", 1, 0)}); err != nil {
		t.Fatal(err)
	}
	var seq int64
	if err := s.db.QueryRow("SELECT seq FROM zones WHERE name = 'after.example'").Scan(&seq); err != nil {
		t.Fatal(err)
	}
	if seq <= maxSeq {
		t.Fatalf("push after the crash got seq %d, not above the stored %d", seq, maxSeq)
	}
	if len(acked) != crashPushers*crashNamesEach {
		t.Fatalf("acknowledged %d names, want %d", len(acked), crashPushers*crashNamesEach)
	}
}

// crashChild pushes from several goroutines until killed. Each goroutine
// owns its names, so version k of a name carries serial k.
func crashChild(path string) {
	s, err := Open(context.Background(), path, Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range crashPushers {
		wg.Go(func() { crashPusher(s, g, &mu) })
	}
	wg.Wait()
}

func crashPusher(s *Store, g int, mu *sync.Mutex) {
	for i := range 100_000 {
		name := fmt.Sprintf("crash%d-%d.example", g, i%crashNamesEach)
		v := uint32(i/crashNamesEach + 1)
		z, err := s.Put(context.Background(), store.Zone{Name: name, Canonical: zoneText(name, v, 20), Serial: v})
		if err != nil || z.Version != int64(v) {
			fmt.Fprintln(os.Stderr, "push:", z.Version, err)
			os.Exit(2)
		}
		mu.Lock()
		// The syncs of the log so far: every acknowledgement waited for
		// one that began after its commit (durable.go).
		fmt.Fprintf(os.Stdout, "ack %s %d %d\n", strings.ToLower(name), z.Version, s.wal.syncs.Load())
		mu.Unlock()
	}
}
