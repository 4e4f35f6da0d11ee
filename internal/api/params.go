package api

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// errTooLarge marks a body over the configured limit (HTTP 413).
var errTooLarge = errors.New("request body too large")

// params holds a DA request's parameters: the query string first, then,
// when the query names no action, the body parsed as a form whatever the
// Content-Type says (DA's delete carries none). body is the raw body when it
// was read.
type params struct {
	url.Values
	body []byte
}

// readBody reads the whole body, refusing more than max bytes.
func readBody(w http.ResponseWriter, r *http.Request, max int64) ([]byte, error) {
	if r.ContentLength > max {
		return nil, errTooLarge
	}
	body := http.MaxBytesReader(w, r.Body, max)
	var b []byte
	var err error
	if n := r.ContentLength; n > 0 {
		// The length is known (DirectAdmin always sends it): one buffer
		// of that size, and a read past it to see the body end there.
		b, err = readKnown(body, n)
	} else {
		b, err = io.ReadAll(body)
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, errTooLarge
	}
	if err != nil {
		return nil, fmt.Errorf("read body: %w", err)
	}
	return b, nil
}

// readKnown is io.ReadAll with a buffer sized for the n bytes the body
// announced (plus one, to see it end): one allocation rather than a
// buffer grown from 512 bytes, copied at every step.
func readKnown(r io.Reader, n int64) ([]byte, error) {
	b := make([]byte, 0, n+1)
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		m, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+m]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// readParams collects the request's parameters. The body is read (raw) in
// every case, so a rawsave gets its zone text untouched by form parsing.
func readParams(w http.ResponseWriter, r *http.Request, max int64) (params, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return params{}, fmt.Errorf("bad query string: %w", err)
	}
	p := params{Values: q}
	if r.Method != http.MethodPost && r.Method != http.MethodPut {
		return p, nil
	}
	p.body, err = readBody(w, r, max)
	if err != nil {
		return p, err
	}
	if q.Get("action") != "" || len(p.body) == 0 {
		return p, nil
	}
	// A body that is not entirely a valid form still yields the pairs that
	// are; a POST left with no action is then answered as a probe.
	form, _ := url.ParseQuery(string(p.body))
	for k, vs := range form {
		if _, inQuery := q[k]; !inQuery {
			p.Values[k] = vs
		}
	}
	return p, nil
}

// flag reports whether a DA boolean parameter is set: present and not
// empty, "0", "false" or "no".
func flag(v url.Values, key string) bool {
	if !v.Has(key) {
		return false
	}
	switch v.Get(key) {
	case "", "0", "false", "no", "off":
		return false
	}
	return true
}
