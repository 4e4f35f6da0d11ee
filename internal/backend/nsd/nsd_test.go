package nsd

import (
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
)

// TestConformance runs the suite against a real NSD in both modes, once
// allowing zone transfers (Zone reads back by AXFR, Verify compares
// hashes) and once not (Zone reads the file, Verify checks the serial).
func TestConformance(t *testing.T) {
	for _, mode := range modes {
		for _, transfer := range []bool{true, false} {
			name := mode + "/serial-only"
			if transfer {
				name = mode + "/transfer"
			}
			t.Run(name, func(t *testing.T) {
				backendtest.Run(t, backendtest.Options{
					New:       func(t *testing.T) backend.Backend { return newRig(t, transfer).backend(t, mode, transfer) },
					BatchSize: 100,
				})
			})
		}
		// The same on NSD's control socket, without nsd-control.
		t.Run(mode+"/socket", func(t *testing.T) {
			backendtest.Run(t, backendtest.Options{
				New:       func(t *testing.T) backend.Backend { return newDirectRig(t, false).backend(t, mode, false) },
				BatchSize: 100,
			})
		})
		// The same over TLS (nsd-control-setup's way), spoken natively.
		t.Run(mode+"/tls", func(t *testing.T) {
			backendtest.Run(t, backendtest.Options{
				New:       func(t *testing.T) backend.Backend { return newTLSRig(t, true).backend(t, mode, true) },
				BatchSize: 100,
			})
		})
	}
}
