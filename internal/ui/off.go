package ui

import "net/http"

// Off answers every /ui/ request with 404 and why the pages are off, so
// an operator who tries the URL learns which setting to change.
func Off(why string) http.Handler {
	return secureHeaders(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte("The operator UI is off: " + why + "\n"))
	}))
}
