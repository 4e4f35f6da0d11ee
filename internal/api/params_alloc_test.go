package api

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestReadBodyKnownLength: a body whose length is announced is read into
// one buffer; a short or long body is an error or refused as before.
func TestReadBodyKnownLength(t *testing.T) {
	body := strings.Repeat("x", 3000)
	req := func(b string, n int64) *http.Request {
		r := httptest.NewRequest("POST", "/CMD_API_DNS_ADMIN", strings.NewReader(b))
		r.ContentLength = n
		return r
	}
	got, err := readBody(httptest.NewRecorder(), req(body, 3000), 1<<20)
	if err != nil || string(got) != body {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if _, err := readBody(httptest.NewRecorder(), req(body, 3000), 100); !errors.Is(err, errTooLarge) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, err := readKnown(io.MultiReader(strings.NewReader("abc"), errReader{}), 10); err == nil {
		t.Fatal("a body cut short read as whole")
	}
	src := strings.NewReader(body)
	n := testing.AllocsPerRun(20, func() {
		src.Reset(body)
		if b, err := readKnown(src, int64(len(body))); err != nil || len(b) != len(body) {
			t.Fatal(len(b), err)
		}
	})
	// io.ReadAll grows its buffer from 512 bytes: 4 to 8 allocations here.
	if n > 1 {
		t.Fatalf("reading a 3,000-byte body of known length allocates %.0f times, want 1", n)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }
