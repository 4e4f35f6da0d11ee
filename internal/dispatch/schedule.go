package dispatch

import "time"

// DefaultSchedule is the retry schedule after a failed apply: the one
// operators know from directdnsonly, then every 30 minutes while failing.
var DefaultSchedule = []time.Duration{
	30 * time.Second, 2 * time.Minute, 5 * time.Minute, 15 * time.Minute, 30 * time.Minute,
}

// backoff returns the wait after the given number of earlier failures.
func backoff(schedule []time.Duration, attempts int) time.Duration {
	if len(schedule) == 0 {
		schedule = DefaultSchedule
	}
	if attempts < 0 {
		attempts = 0
	}
	if attempts >= len(schedule) {
		return schedule[len(schedule)-1]
	}
	return schedule[attempts]
}
