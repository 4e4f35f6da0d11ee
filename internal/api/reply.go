package api

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// kv is one key=value pair of a DirectAdmin reply; order is kept because
// people read these replies in logs, although DA itself does not care.
type kv struct{ k, v string }

// encodeReply renders pairs as DA's URL-encoded key=value&... body. Spaces
// become %20 rather than '+', which every URL decoder reads the same way.
func encodeReply(pairs []kv) string {
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(escape(p.k))
		b.WriteByte('=')
		b.WriteString(escape(p.v))
	}
	return b.String()
}

func escape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// reply writes a DA reply with the given HTTP status.
func reply(w http.ResponseWriter, status int, pairs ...kv) {
	body := encodeReply(pairs)
	h := w.Header()
	h.Set("Content-Type", "text/plain; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// ok replies HTTP 200 with error=0 followed by pairs.
func ok(w http.ResponseWriter, pairs ...kv) {
	reply(w, http.StatusOK, append([]kv{{"error", "0"}}, pairs...)...)
}

// fail replies with status, error=1 and text.
func fail(w http.ResponseWriter, status int, text string) {
	reply(w, status, kv{"error", "1"}, kv{"text", text})
}
