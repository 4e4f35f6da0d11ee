package bind

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// zoneOptions are the statements written into every zone statement (and
// into the check configuration, so that the check loads zones as named
// will), so that named loads the zones every other backend serves:
// check-names, and the per-zone limits BIND 9.18.28 added, when this named
// knows them.
type zoneOptions struct {
	text string // " check-names ignore; max-records-per-type 0;" or ""
}

// limitOptions are the limits named may not know (added in BIND 9.18.28);
// each is written only when named-checkconf accepts it.
var limitOptions = []string{"max-records-per-type", "max-types-per-name"}

// newZoneOptions renders the options of o that this named supports,
// asking named-checkconf (checkConf, "" when unavailable) about each
// limit once.
func newZoneOptions(o *Options, checkConf, dir string, log *slog.Logger) zoneOptions {
	var b strings.Builder
	if o.CheckNames != "" {
		b.WriteString(" check-names " + o.CheckNames + ";")
	}
	values := map[string]int{"max-records-per-type": o.MaxRecordsPerType, "max-types-per-name": o.MaxTypesPerName}
	for _, opt := range limitOptions {
		stmt := " " + opt + " " + strconv.Itoa(values[opt]) + ";"
		ok, err := supported(checkConf, dir, stmt)
		switch {
		case err != nil:
			log.Warn("bind: cannot tell whether named supports a zone limit; not setting it", "option", opt, "err", err)
		case ok:
			b.WriteString(stmt)
		default:
			log.Info("bind: named does not know this zone limit (older than 9.18.28); not setting it", "option", opt)
		}
	}
	return zoneOptions{text: b.String()}
}

// supported reports whether named-checkconf accepts a zone statement
// holding stmt.
func supported(checkConf, dir, stmt string) (bool, error) {
	if checkConf == "" {
		return false, fmt.Errorf("named-checkconf is not available")
	}
	f, err := os.CreateTemp(dir, ".dadns-probe-*.conf")
	if err != nil {
		return false, err
	}
	defer os.Remove(f.Name())
	conf := fmt.Sprintf("zone \"dadns-probe.invalid\" { type primary; file \"%s\";%s };\n", filepath.Join(dir, "dadns-probe.invalid.db"), stmt)
	_, err = f.WriteString(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, checkConf, f.Name()).CombinedOutput()
	if err == nil {
		return true, nil
	}
	if _, exit := err.(*exec.ExitError); exit && strings.Contains(string(out), "unknown option") {
		return false, nil
	}
	return false, fmt.Errorf("named-checkconf: %v: %.300s", err, out)
}

// stanza renders one zone statement. Both strings were checked by
// checkName and confSafe: they need no escaping.
func (o zoneOptions) stanza(n fmt.Stringer, file string) string {
	return fmt.Sprintf("zone \"%s\" { type primary; file \"%s\";%s };\n", n, file, o.text)
}
