package bind

import (
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
)

// TestConformance runs the suite against a real named that allows zone
// transfers: Zone reads back by AXFR, Verify compares hashes.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New: func(t *testing.T) backend.Backend { return newRig(t, true).backend(t, true) },
	})
}

// TestConformanceSerialOnly runs the suite against a named that refuses
// transfers: Zone reads the file, Verify checks the served SOA serial.
func TestConformanceSerialOnly(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New:       func(t *testing.T) backend.Backend { return newRig(t, false).backend(t, false) },
		BatchSize: 50,
	})
}
