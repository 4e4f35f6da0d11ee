// Package storetest is the suite every store.Store implementation passes:
// the semantics of versions, tombstones, due work, retries and status, on a
// real database.
package storetest

import "testing"

// tests lists the suite's cases by name.
var tests = []struct {
	name string
	fn   func(t *testing.T, o Opener)
}{
	{"Summary", testSummary},
	{"BackendStatesDetail", testBackendStatesDetail},
	{"Forget", testForget},
	{"Purge", testPurge},
	{"Settings", testSettings},
	{"ConcurrentPuts", testConcurrentPuts},
	{"DueNewBackendGetsEverything", testDueNewBackendGetsEverything},
	{"AppliedStopsDue", testAppliedStopsDue},
	{"NewerPushResetsAttempts", testNewerPushResetsAttempts},
	{"FailureWaitsForNextAttempt", testFailureWaitsForNextAttempt},
	{"PermanentFailureWaitsForNewVersion", testPermanentFailureWaitsForNewVersion},
	{"StaleAppliedKeepsNewerPushDue", testStaleAppliedKeepsNewerPushDue},
	{"DeleteAndRecreateInOrder", testDeleteAndRecreateInOrder},
	{"DueEmptyBackendName", testDueEmptyBackendName},
	{"VersionsMonotonicAcrossDelete", testVersionsMonotonicAcrossDelete},
	{"NotFound", testNotFound},
	{"PutNormalizesAndChecks", testPutNormalizesAndChecks},
	{"LiveListCount", testLiveListCount},
	{"EachLive", testEachLive},
	{"EmptyStore", testEmptyStore},
	{"OriginalTextRoundTrip", testOriginalTextRoundTrip},
	{"PendingAndTroubled", testPendingAndTroubled},
	{"RetryNow", testRetryNow},
	{"DeleteIfCurrent", testDeleteIfCurrent},
	{"DeleteIfCurrentLosesToTransfer", testDeleteIfCurrentLosesToTransfer},
}

// Run runs the whole suite, each case on a fresh store from open.
func Run(t *testing.T, open Opener) {
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}
