package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// backendState is one backend's section of dadns's GET /status.
type backendState struct {
	Applied   int    `json:"applied"`
	Behind    int    `json:"behind"`
	Failing   int    `json:"failing"`
	Permanent int    `json:"permanent"`
	LastError string `json:"last_error"`
}

// done reports whether the backend has applied and verified all n zones
// and has nothing left to do.
func (s backendState) done(n int) bool {
	return s.Applied == n && s.Behind == 0 && s.Failing == 0 && s.Permanent == 0
}

// status fetches GET /status (with DirectAdmin's credentials: the bench
// sets no admin ones) and returns the backends' sections.
func (c *daClient) status(ctx context.Context) (map[string]backendState, error) {
	code, body, err := c.do(ctx, "GET", "/status", "")
	if err != nil {
		return nil, fmt.Errorf("dadnsbench: status: %w", err)
	}
	var doc struct {
		Backends map[string]backendState `json:"backends"`
	}
	if code != 200 {
		return nil, fmt.Errorf("dadnsbench: status: HTTP %d: %.300s", code, body)
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		return nil, fmt.Errorf("dadnsbench: status: %w", err)
	}
	return doc.Backends, nil
}

// statusPollText describes statusPoll for the report.
const statusPollText = "polled every 5% of the elapsed time, 50 ms – 1 s"

// statusPoll is how long to wait before asking /status again, since is
// when the measured interval began: the resolution of the end-to-end
// times stays within 5%, and /status (whose summary queries cost dadns
// CPU) is not asked more often than that needs.
func statusPoll(since time.Time) time.Duration {
	return min(max(time.Since(since)/20, 50*time.Millisecond), time.Second)
}

// awaitApplied polls /status until every named backend has applied and
// verified n zones, and returns when each was first seen done; since is
// when the measured interval began. It ends early when ctx ends or alive
// reports dadns gone; the map then holds the backends that finished, and
// the error names the others' state.
func awaitApplied(ctx context.Context, da *daClient, names []string, n int, since time.Time, alive func() error) (map[string]time.Time, error) {
	doneAt := make(map[string]time.Time, len(names))
	var last map[string]backendState
	for {
		st, err := da.status(ctx)
		now := time.Now()
		if err == nil {
			last = st
			for _, name := range names {
				if _, ok := doneAt[name]; !ok && st[name].done(n) {
					doneAt[name] = now
				}
			}
		}
		if len(doneAt) == len(names) {
			return doneAt, nil
		}
		if dead := alive(); dead != nil {
			return doneAt, dead
		}
		if perr := pause(ctx, statusPoll(since)); perr != nil {
			return doneAt, fmt.Errorf("dadnsbench: backends not done with %d zones: %s: %w", n, pending(names, doneAt, last), perr)
		}
	}
}

// pending describes the backends not done yet.
func pending(names []string, doneAt map[string]time.Time, last map[string]backendState) string {
	out := ""
	for _, name := range names {
		if _, ok := doneAt[name]; ok {
			continue
		}
		s := last[name]
		out += fmt.Sprintf("%s applied %d, behind %d, failing %d, permanent %d (last error %q); ",
			name, s.Applied, s.Behind, s.Failing, s.Permanent, s.LastError)
	}
	return out
}

// awaitIdle polls /status until no backend is behind or failing: the
// system is idle again after a change.
func awaitIdle(ctx context.Context, da *daClient, names []string, alive func() error) error {
	for {
		st, err := da.status(ctx)
		if err == nil && idle(st, names) {
			return nil
		}
		if dead := alive(); dead != nil {
			return dead
		}
		if perr := pause(ctx, 50*time.Millisecond); perr != nil {
			return fmt.Errorf("dadnsbench: backends not idle: %w", perr)
		}
	}
}

// idle reports whether none of the named backends has work left.
func idle(st map[string]backendState, names []string) bool {
	for _, name := range names {
		s, ok := st[name]
		if !ok || s.Behind > 0 || s.Failing > 0 {
			return false
		}
	}
	return true
}
