package powerdns

import (
	"testing"

	"github.com/dadns/dadns/internal/backend/backendtest"
)

// BenchmarkApplyVerify: backendtest.BenchApplyVerify on this backend and
// the test's mariadbd.
func BenchmarkApplyVerify(b *testing.B) {
	backendtest.BenchApplyVerify(b, "mariadbd", func(b *testing.B) backendtest.AuditApplyVerifier { return newFixture(b).b })
}
