package api

import (
	"sync"
	"time"
)

// failLimiter refuses clients that keep failing authentication: after
// maxFails failures within window, every request from that address gets
// 429 until the window has passed since its last failure. The table is
// bounded; when full, the oldest entries go first.
type failLimiter struct {
	mu       sync.Mutex
	maxFails int
	window   time.Duration
	maxKeys  int
	now      func() time.Time
	clients  map[string]*failEntry
}

type failEntry struct {
	fails int
	first time.Time
	last  time.Time
}

func newFailLimiter(maxFails int, window time.Duration) *failLimiter {
	return &failLimiter{maxFails: maxFails, window: window, maxKeys: 10000, now: time.Now, clients: map[string]*failEntry{}}
}

// blocked reports whether ip is refused now.
func (l *failLimiter) blocked(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	e, ok := l.clients[ip]
	if !ok {
		return false
	}
	if l.now().Sub(e.last) >= l.window {
		delete(l.clients, ip)
		return false
	}
	return e.fails >= l.maxFails
}

// fail records a failed authentication and reports whether ip is now refused.
func (l *failLimiter) fail(ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.clients[ip]
	if !ok || now.Sub(e.first) >= l.window && e.fails < l.maxFails {
		if !ok && len(l.clients) >= l.maxKeys {
			l.evict()
		}
		e = &failEntry{first: now}
		l.clients[ip] = e
	}
	e.fails++
	e.last = now
	return e.fails >= l.maxFails
}

// evict drops the entry that failed longest ago.
func (l *failLimiter) evict() {
	var oldest string
	var at time.Time
	for ip, e := range l.clients {
		if oldest == "" || e.last.Before(at) {
			oldest, at = ip, e.last
		}
	}
	delete(l.clients, oldest)
}
