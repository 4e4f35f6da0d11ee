package knot

import (
	"fmt"
	"strings"

	"github.com/dadns/dadns/internal/backend"
	"github.com/dadns/dadns/internal/zone"
)

// knotKeys are the SVCB/HTTPS parameter names of dadns's canonical text
// that knotd 3.2's zone parser does not know, with the generic names it
// reads instead (RFC 9460 keyNNNNN: the same wire data).
var knotKeys = []struct{ name, generic string }{
	{` dohpath="`, ` key7="`},
	{` ohttp="`, ` key8="`},
}

// knotForm is the zone text knotd loads: dadns's canonical text with the
// SVCB and HTTPS parameters knotd does not name written generically. The
// canonical text quotes every parameter value and escapes quotes inside
// values, so ` dohpath="` can only be the start of that parameter; each
// rewritten line must turn back into the canonical one (fromKnotForm), or
// the zone is refused, permanently.
func knotForm(z *zone.Zone) (string, error) {
	text := z.Text()
	out, changed := rewriteSVCB(text, true)
	if !changed {
		return text, nil
	}
	if back, _ := rewriteSVCB(out, false); back != text {
		return "", backend.Permanent(fmt.Errorf("knot: zone %s: an SVCB or HTTPS record cannot be written in a form knotd reads", z.Name))
	}
	return out, nil
}

// fromKnotForm turns a zone file's text back into dadns's canonical form.
func fromKnotForm(text []byte) []byte {
	out, changed := rewriteSVCB(string(text), false)
	if !changed {
		return text
	}
	return []byte(out)
}

// rewriteSVCB renames the parameters of knotKeys on SVCB and HTTPS lines:
// to their generic names (toKnot) or back.
func rewriteSVCB(text string, toKnot bool) (string, bool) {
	if !strings.Contains(text, "\tSVCB\t") && !strings.Contains(text, "\tHTTPS\t") {
		return text, false
	}
	lines := strings.SplitAfter(text, "\n")
	changed := false
	for i, line := range lines {
		f := strings.SplitN(line, "\t", 5)
		if len(f) < 5 || f[3] != "SVCB" && f[3] != "HTTPS" {
			continue
		}
		for _, k := range knotKeys {
			from, to := k.name, k.generic
			if !toKnot {
				from, to = to, from
			}
			line = strings.ReplaceAll(line, from, to)
		}
		if line != lines[i] {
			lines[i], changed = line, true
		}
	}
	return strings.Join(lines, ""), changed
}
