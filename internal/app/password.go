package app

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/dadns/dadns/internal/atomicfile"
)

// passwordFile is where a generated DirectAdmin password is kept.
const passwordFile = "auth_password"

// ensurePassword returns the configured password or, when none is set, the
// one generated on first start and kept in dataDir (mode 0600). A newly
// generated password is printed once to out, never logged.
func ensurePassword(configured, user, dataDir string, out io.Writer) (string, error) {
	if configured != "" {
		return configured, nil
	}
	path := filepath.Join(dataDir, passwordFile)
	b, err := os.ReadFile(path)
	if err == nil {
		if p := strings.TrimSpace(string(b)); p != "" {
			return p, nil
		}
		return "", fmt.Errorf("app: %s is empty: delete it to generate a new password, or set app.auth_password", path)
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return "", fmt.Errorf("app: read generated password: %w", err)
	}
	raw := make([]byte, 18)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("app: generate password: %w", err)
	}
	pass := base64.RawURLEncoding.EncodeToString(raw)
	if err := atomicfile.Write(path, []byte(pass+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("app: store generated password: %w", err)
	}
	fmt.Fprintf(out, "No app.auth_password configured: generated one for DirectAdmin.\n"+
		"  username: %s\n  password: %s\n  (kept in %s; shown only this once)\n", user, pass, path)
	return pass, nil
}
