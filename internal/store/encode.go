package store

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// The helpers below are the storage conventions every implementation
// shares, so that the same push gives the same row everywhere.

// UnixNano stores t as integer nanoseconds; the zero time is 0.
func UnixNano(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// FromUnixNano is the inverse of UnixNano (UTC).
func FromUnixNano(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n).UTC()
}

// NormName folds a zone name to its stored form: lower-case, no trailing
// dot. Callers pass validated names; this only guards the key's shape.
func NormName(name string) (string, error) {
	n := strings.ToLower(strings.TrimSuffix(strings.TrimSpace(name), "."))
	if n == "" {
		return "", errors.New("empty zone name")
	}
	return n, nil
}

// NormNames folds names, dropping duplicates and empty ones.
func NormNames(names []string) []string {
	seen := make(map[string]bool, len(names))
	out := make([]string, 0, len(names))
	for _, name := range names {
		n, err := NormName(name)
		if err != nil || seen[n] {
			continue
		}
		seen[n] = true
		out = append(out, n)
	}
	return out
}

// HashText is the lower-case hex SHA-256 of a canonical zone text.
func HashText(text string) string {
	sum := sha256.Sum256([]byte(text))
	return hex.EncodeToString(sum[:])
}

// PreparePut normalizes a pushed zone's name and checks its text and hash,
// as every Put does before touching the database.
func PreparePut(z Zone) (Zone, error) {
	name, err := NormName(z.Name)
	if err != nil {
		return z, err
	}
	z.Name = name
	if z.Canonical == "" {
		return z, errors.New("empty canonical text")
	}
	h := HashText(z.Canonical)
	if z.Hash != "" && z.Hash != h {
		return z, fmt.Errorf("hash %.12s does not match the canonical text (%.12s)", z.Hash, h)
	}
	z.Hash, z.Deleted = h, false
	return z, nil
}
