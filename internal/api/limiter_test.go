package api

import (
	"sync"
	"testing"
	"time"

	"github.com/dadns/dadns/internal/push"
)

func TestFailLimiter(t *testing.T) {
	var mu sync.Mutex
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := newFailLimiter(3, time.Minute)
	l.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	for i := 1; i <= 3; i++ {
		if l.blocked("192.0.2.1") {
			t.Fatalf("blocked after %d failures", i-1)
		}
		if got := l.fail("192.0.2.1"); got != (i == 3) {
			t.Fatalf("fail %d reported blocked=%v", i, got)
		}
	}
	if !l.blocked("192.0.2.1") || l.blocked("192.0.2.2") {
		t.Fatal("blocking is not per address")
	}
	advance(59 * time.Second)
	if !l.blocked("192.0.2.1") {
		t.Fatal("unblocked before the window passed")
	}
	advance(time.Second)
	if l.blocked("192.0.2.1") {
		t.Fatal("still blocked after the window")
	}
	// Failures spread wider than the window never add up to a block.
	for i := 0; i < 10; i++ {
		l.fail("192.0.2.3")
		advance(31 * time.Second)
		l.fail("192.0.2.3")
		advance(31 * time.Second)
		if l.blocked("192.0.2.3") {
			t.Fatalf("slow failures blocked at round %d", i)
		}
	}
	l.maxKeys = 2
	l.fail("198.51.100.1")
	l.fail("198.51.100.2")
	l.fail("198.51.100.3")
	if len(l.clients) > 2 {
		t.Fatalf("table grew to %d entries", len(l.clients))
	}
}

func TestRepeatedAuthFailuresGet429(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < maxAuthFailures; i++ {
		if code, _ := h.doAuth("GET", "/CMD_API_LOGIN_TEST", "", testUser, "guess"); code != 401 {
			t.Fatalf("failure %d: HTTP %d", i+1, code)
		}
	}
	code, v := h.doAuth("GET", "/CMD_API_LOGIN_TEST", "", testUser, testPass)
	if code != 429 || v.Get("error") != "1" {
		t.Fatalf("after %d failures, right credentials: HTTP %d %v", maxAuthFailures, code, v)
	}
}

// TestMissingCredentialsNotCounted: browsers ask without credentials before
// they answer the challenge; those requests are refused but are no guesses.
func TestMissingCredentialsNotCounted(t *testing.T) {
	h := newHarness(t, nil)
	for i := 0; i < 3*maxAuthFailures; i++ {
		if code, _ := h.doAuth("GET", "/CMD_API_LOGIN_TEST", "", "", ""); code != 401 {
			t.Fatalf("request %d without credentials: HTTP %d", i+1, code)
		}
	}
	if code, _ := h.doAuth("GET", "/CMD_API_LOGIN_TEST", "", testUser, testPass); code != 200 {
		t.Fatalf("right credentials after requests without any: HTTP %d", code)
	}
}

// TestOtherValidCredentialsNotCounted: the admin's browser asks for
// /favicon.ico (a DirectAdmin route) with the admin credentials; refused,
// but not counted as a guess.
func TestOtherValidCredentialsNotCounted(t *testing.T) {
	h := newHarness(t, func(o *Options, _ *push.Options) { o.Admin = Credentials{Username: "ops", Password: "ops-secret"} })
	for i := 0; i < 3*maxAuthFailures; i++ {
		if code, _ := h.doAuth("GET", "/favicon.ico", "", "ops", "ops-secret"); code != 401 {
			t.Fatalf("admin credentials on a DirectAdmin route: HTTP %d", code)
		}
	}
	if code, _ := h.doAuth("GET", "/CMD_API_LOGIN_TEST", "", testUser, testPass); code != 200 {
		t.Fatalf("right credentials afterwards: HTTP %d", code)
	}
}
