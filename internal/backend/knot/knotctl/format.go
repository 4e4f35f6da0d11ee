package knotctl

import "strings"

// Format renders an answer as knotc prints it for the command, and
// reports whether knotd reported an error (knotc then exits 1). The
// backend reads knotc's text (per-zone errors "error: [NAME] (why)",
// conf-read's "section[id].item = value" lines), so both paths must read
// the same.
func Format(cmd string, answer []Unit) (string, bool) {
	var b strings.Builder
	failed, empty := false, true
	first := true // the next zone-status detail is the zone's first
	for i := range answer {
		u := &answer[i]
		formatUnit(&b, cmd, u, &empty, &first)
		if u.Has(Error) {
			failed = true
		}
	}
	formatEnd(&b, cmd, failed, empty)
	return b.String(), failed
}

func formatUnit(b *strings.Builder, cmd string, u *Unit, empty, first *bool) {
	errText, hasErr := u.Get(Error)
	switch group(cmd) {
	case "status":
		if hasErr {
			b.WriteString("error: (" + errText + ")")
			if t, ok := u.Get(RRType); ok {
				b.WriteString(" " + t)
			}
		} else if v, ok := u.Get(Value); ok {
			b.WriteString(v)
			*empty = false
		}
	case "plain":
		if hasErr {
			b.WriteString("error: (" + errText + ")")
		}
	case "zone":
		zoneUnit(b, cmd, u, empty, first)
	case "conf":
		if u.Type == Data {
			newline(b, empty)
			if hasErr {
				b.WriteString("error: (" + errText + ") ")
			}
			b.WriteString(diffSign(u) + u.Value(Section))
			if id, ok := u.Get(ID); ok {
				b.WriteString("[" + id + "]")
			}
			if it, ok := u.Get(ItemName); ok {
				b.WriteString("." + it)
			}
			if u.Has(Value) {
				b.WriteString(" =")
			}
		}
		if v, ok := u.Get(Value); ok {
			b.WriteString(" " + v)
		}
	case "node":
		newline(b, empty)
		if hasErr {
			b.WriteString("error: (" + errText + ") ")
		}
		if z, ok := u.Get(Zone); ok {
			b.WriteString("[" + z + "] ")
		}
		b.WriteString(diffSign(u) + u.Value(Owner))
		for _, i := range []Item{TTL, RRType, Value} {
			if v, ok := u.Get(i); ok {
				b.WriteString(" " + v)
			}
		}
	}
}

// zoneUnit prints a zone action's unit: "[zone]" with an error, and for
// zone-status the zone's details ("role: master | serial: 1"); like
// knotc without -e, empty details other than the serial are left out.
func zoneUnit(b *strings.Builder, cmd string, u *Unit, empty, first *bool) {
	errText, hasErr := u.Get(Error)
	if u.Type == Data {
		newline(b, empty)
		if hasErr {
			b.WriteString("error: ")
		}
		if z, ok := u.Get(Zone); ok {
			b.WriteString("[" + z + "]")
		}
		if hasErr {
			b.WriteString(" (" + errText + ")")
		}
	}
	t, ok := u.Get(RRType)
	if cmd != "zone-status" || !ok {
		return
	}
	if u.Type == Data {
		*first = true
	}
	v := u.Value(Value)
	if (v == "" || v == "-") && t != "serial" {
		return
	}
	if !*first {
		b.WriteString(" |")
	}
	b.WriteString(" " + t + ": " + v)
	*first = false
}

func newline(b *strings.Builder, empty *bool) {
	if !*empty {
		b.WriteString("\n")
	}
	*empty = false
}

func diffSign(u *Unit) string {
	f := u.Value(Filters)
	switch {
	case strings.Contains(f, "+"):
		return "+"
	case strings.Contains(f, "-"):
		return "-"
	}
	return ""
}

// formatEnd prints what knotc prints at the answer's BLOCK.
func formatEnd(b *strings.Builder, cmd string, failed, empty bool) {
	switch cmd {
	case "status":
		if !failed && empty {
			b.WriteString("Running")
		}
		b.WriteString("\n")
	case "stop", "reload":
		if !failed {
			b.WriteString(map[string]string{"stop": "Stopped", "reload": "Reloaded"}[cmd])
		}
		b.WriteString("\n")
	case "zone-status", "zone-read", "zone-diff", "zone-get", "conf-list", "conf-read", "conf-diff", "conf-get":
		if !empty {
			b.WriteString("\n")
		}
	default:
		if !failed {
			b.WriteString("OK")
		}
		b.WriteString("\n")
	}
}

// group is which of knotc's output forms a command uses.
func group(cmd string) string {
	switch cmd {
	case "status":
		return "status"
	case "stop", "reload", "conf-begin", "conf-abort":
		return "plain"
	case "zone-read", "zone-diff", "zone-get", "zone-set", "zone-unset":
		return "node"
	}
	if strings.HasPrefix(cmd, "conf-") {
		return "conf"
	}
	return "zone"
}
