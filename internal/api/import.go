package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/dadns/dadns/internal/importer"
)

// maxImportBody bounds one POST /api/v1/import: the CLI sends its entries
// in batches well below it.
const maxImportBody = 256 << 20

// importRequest is the body of POST /api/v1/import.
type importRequest struct {
	DryRun  bool             `json:"dry_run"`
	Force   bool             `json:"force"`
	Owner   string           `json:"owner"`
	Entries []importer.Entry `json:"entries"`
}

// importZones answers POST /api/v1/import: zones from another source
// (directdnsonly's database, a zone directory) through the push path, with
// one result per entry. The running server does the import so its
// dispatcher picks the zones up at once.
func (s *Server) importZones(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, maxImportBody)
	var req importRequest
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "import batch too large: send fewer entries per request"})
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid import request: " + err.Error()})
		return
	}
	if _, err := io.Copy(io.Discard, body); err != nil {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid import request: " + err.Error()})
		return
	}
	tgt := importer.PushTarget{Push: s.push, Store: s.opt.Store}
	results, err := importer.Run(r.Context(), tgt, req.Entries, importer.Options{
		DryRun: req.DryRun, Force: req.Force, Owner: req.Owner, Limits: s.push.Limits(),
	})
	if err != nil {
		s.adminStoreFailed(w, err)
		return
	}
	s.log.Info("import", "entries", len(req.Entries), "dry_run", req.DryRun, "force", req.Force,
		"imported", importer.Summary(results)[importer.Imported])
	writeJSON(w, http.StatusOK, map[string]any{"results": results})
}
