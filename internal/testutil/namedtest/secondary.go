package namedtest

import "testing"

// SecondaryOptions configure a named that is only a secondary: no zones
// of its own, what it serves comes from its primaries (by catalog zone or
// listed zones).
type SecondaryOptions struct {
	// Options is added inside options { } (catalog-zones, ...).
	Options string
	// Statements are added at the top level (key, zone statements).
	Statements string
}

func (o *SecondaryOptions) options() string {
	if o == nil {
		return ""
	}
	return o.Options
}

func (o *SecondaryOptions) statements() string {
	if o == nil {
		return ""
	}
	return o.Statements
}

// StartSecondary runs named with the given extra configuration and no
// primary zones, and stops it when the test ends. Its working directory
// (Dir) is where secondary zone files go.
func StartSecondary(t testing.TB, opts SecondaryOptions) *Named {
	t.Helper()
	Require(t)
	n := &Named{Dir: t.TempDir(), sec: &opts}
	n.launch(t, nil)
	return n
}
