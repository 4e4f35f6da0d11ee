package app

import "runtime/debug"

// serveGCPercent is the garbage collector's target that Serve sets when
// the operator has not chosen one with GOGC. Go's default, 100, lets the
// heap grow to twice what is live before a collection; dadns's live heap
// is mostly the builtin's zones, so that doubling was most of its peak
// memory. At 75 (as Prometheus ships), `dadnsbench` at 10,000 zones with
// seven backends peaked at 160 MiB instead of 188 MiB (933 instead of
// 1,093 bytes per stored record); the builtin-only ingest measured the
// same CPU per push (590 µs) and acks/s (1,915 / 1,926 against 1,776 /
// 1,972), and answering queries allocates nothing, so it does not
// collect more often.
const serveGCPercent = 75

// tuneGC sets serveGCPercent unless GOGC is set in the environment
// (getenv), where the runtime already took the operator's value.
func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
