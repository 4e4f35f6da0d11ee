package knot

import (
	"testing"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/backend/backendtest"
	"github.com/dadns/dadns/internal/testutil/knottest"
)

// The capabilities the dispatcher looks for.
var (
	_ backend.Batcher  = (*Backend)(nil)
	_ backend.Verifier = (*Backend)(nil)
	_ backend.Prober   = (*Backend)(nil)
	_ backend.Repairer = (*Backend)(nil)
)

// TestConformance runs the suite against a real knotd that allows zone
// transfers: Zone reads back by AXFR, Verify compares hashes.
func TestConformance(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New: func(t *testing.T) backend.Backend {
			return newRig(t, knottest.Options{AllowTransfer: true}).backend(t, true)
		},
	})
}

// TestConformanceSerialOnly runs the suite against a knotd that refuses
// transfers and whose default template does not point at zones_dir: Zone
// reads the file, Verify checks the served SOA serial, and each new zone
// gets its file set.
func TestConformanceSerialOnly(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New: func(t *testing.T) backend.Backend {
			return newRig(t, knottest.Options{DefaultStorage: t.TempDir()}).backend(t, false)
		},
		BatchSize: 50,
	})
}

// TestConformanceTemplate runs the suite with zones using a named template.
func TestConformanceTemplate(t *testing.T) {
	backendtest.Run(t, backendtest.Options{
		New: func(t *testing.T) backend.Backend {
			r := newRig(t, knottest.Options{DefaultStorage: t.TempDir(), ExtraTemplate: "dadns", AllowTransfer: true})
			opt := r.options(true)
			opt.Template = "dadns"
			b, err := New(opt)
			if err != nil {
				t.Fatal(err)
			}
			return b
		},
		BatchSize: 50,
	})
}
