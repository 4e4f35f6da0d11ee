package sqlite

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"modernc.org/sqlite"
)

// useFdatasync makes SQLite commit with fdatasync(2), as SQLite built for
// Linux does: it writes the data and the metadata needed to read it back
// (the size), so a commit is exactly as durable as with fsync(2), without
// waiting for timestamps to reach the disk. The driver's default is fsync;
// the switch is process-wide. Where fdatasync does not exist the driver
// keeps fsync.
var useFdatasync = sync.OnceFunc(func() { _, _ = sqlite.Fdatasync(true) })

// busyTimeoutMs is how long a statement waits for a lock another
// connection or process holds.
const busyTimeoutMs = 10000

// dsn builds the driver DSN. Every pooled connection gets the same pragmas:
// WAL, fsync on every commit, foreign keys, temporary data in memory, and a
// busy timeout for other
// processes (e.g. a CLI) writing the same file. _txlock=immediate takes the
// write lock at BEGIN so a read-then-write transaction cannot fail to
// upgrade.
func dsn(path string) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeoutMs))
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(ON)")
	// Savepoints (one per write of a group commit) and multi-row statements
	// journal the pages they change so they can be undone alone: in memory,
	// not in a temporary file written on every change. Nothing durable
	// lives there.
	q.Add("_pragma", "temp_store(MEMORY)")
	// Checkpoints run in the background, not inside a push's commit (see
	// checkpoint.go).
	q.Add("_pragma", "wal_autocheckpoint(0)")
	q.Set("_txlock", "immediate")
	return path + "?" + q.Encode()
}

// writerDSN is source for the writer connection: a larger page cache
// (4 MiB instead of 2), which it keeps from one write to the next, and
// commits without a sync of their own (synchronous=NORMAL): the writes
// that need durability wait for the store's own sync of the log, outside
// the writer lock (durable.go).
func writerDSN(source string) string {
	full := "_pragma=" + url.QueryEscape("synchronous(FULL)")
	source = strings.Replace(source, full, "_pragma="+url.QueryEscape("synchronous(NORMAL)"), 1)
	return source + "&_pragma=" + url.QueryEscape("cache_size(-4096)")
}

// restarterDSN is source for the connection of the RESTART checkpoints:
// no busy timeout, the store polls (see restartPoll).
func restarterDSN(source string) string {
	busy := "_pragma=" + url.QueryEscape(fmt.Sprintf("busy_timeout(%d)", busyTimeoutMs))
	return strings.Replace(source, busy, "_pragma="+url.QueryEscape("busy_timeout(0)"), 1)
}

// prepareFile creates the parent directory (0700) and the database file
// (0600) so that SQLite, which gives its -wal and -shm files the database
// file's mode, never creates anything world-readable.
func prepareFile(path string) error {
	if path == "" || strings.ContainsAny(path, "?#") || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("store: open %q: want a plain file path", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	err = errors.Join(f.Chmod(0o600), f.Close(), chmodIfExists(path+"-wal"), chmodIfExists(path+"-shm"))
	if err != nil {
		return fmt.Errorf("store: open %s: %w", path, err)
	}
	return nil
}

// chmodIfExists tightens a leftover WAL or shared-memory file.
func chmodIfExists(path string) error {
	err := os.Chmod(path, 0o600)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

// readerDSN is source for the reader pool: a page cache of 20 pages.
// SQLite discards a reader's whole page cache whenever another connection
// has written since its last transaction, which under pushes is before
// nearly every read. A larger cache then frees and allocates its page
// buffers again on every transaction (the driver's allocator unmaps and
// maps them: a third of Due's CPU went to that and the page faults). The
// first 20 pages of a cache come from one block SQLite allocates once per
// connection and keeps (SQLITE_DEFAULT_PCACHE_INITSZ), so a cache of 20
// pages reuses its buffers; a transaction needing more recycles the least
// recently used page.
func readerDSN(source string) string {
	return source + "&_pragma=" + url.QueryEscape("cache_size(20)")
}
