package knotctl

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Request is one control command as knotc would send it: its name and the
// DATA units before the closing BLOCK.
type Request struct {
	Cmd   string
	Units []Unit
}

// ErrLocal is returned by ParseArgs for knotc actions knotc performs
// itself rather than through knotd (zone-check, conf-import, ...).
var ErrLocal = errors.New("knotctl: a local knotc action, not a control command")

// kind is how knotc turns a command's arguments into units.
type kind int

const (
	kindPlain  kind = iota // no arguments (status takes one detail)
	kindZones              // zones, one unit each
	kindFilter             // zones and +filters
	kindNode               // zone [owner [ttl] [type [rdata...]]]
	kindConf               // configuration items
)

// commands are the control commands ParseArgs knows, with how their
// arguments are sent; confData marks conf commands whose further
// arguments are values of the first item.
var commands = map[string]struct {
	kind     kind
	confData bool
}{
	"status": {kind: kindPlain}, "stop": {kind: kindPlain}, "reload": {kind: kindPlain},

	"zone-status": {kind: kindFilter}, "zone-reload": {kind: kindZones}, "zone-refresh": {kind: kindZones},
	"zone-retransfer": {kind: kindZones}, "zone-notify": {kind: kindZones}, "zone-sign": {kind: kindZones},
	"zone-freeze": {kind: kindZones}, "zone-thaw": {kind: kindZones},
	"zone-begin": {kind: kindZones}, "zone-commit": {kind: kindZones}, "zone-abort": {kind: kindZones},

	"zone-read": {kind: kindNode}, "zone-get": {kind: kindNode}, "zone-diff": {kind: kindNode},
	"zone-set": {kind: kindNode}, "zone-unset": {kind: kindNode},

	"conf-list": {kind: kindConf}, "conf-read": {kind: kindConf}, "conf-begin": {kind: kindConf},
	"conf-commit": {kind: kindConf}, "conf-abort": {kind: kindConf}, "conf-diff": {kind: kindConf},
	"conf-get": {kind: kindConf}, "conf-set": {kind: kindConf, confData: true},
	"conf-unset": {kind: kindConf, confData: true},
}

var localCommands = map[string]bool{"zone-check": true, "conf-init": true, "conf-check": true,
	"conf-import": true, "conf-export": true}

// statusFilters are zone-status's +filters and their one-letter codes.
var statusFilters = map[string]string{"+role": "r", "+serial": "s", "+transaction": "t",
	"+freeze": "f", "+catalog": "c", "+events": "e"}

// ParseArgs turns a knotc action ("-b zone-reload a.example b.example",
// "conf-set zone.domain a.example", ...) into the units knotc sends for it.
// -b/--blocking and -f/--force may come before or right after the command
// name, as knotc takes them.
func ParseArgs(args []string) (Request, error) {
	flags := ""
	args = takeFlags(args, &flags)
	if len(args) == 0 {
		return Request{}, errors.New("knotctl: no command")
	}
	name := args[0]
	args = takeFlags(args[1:], &flags)
	if localCommands[name] {
		return Request{}, fmt.Errorf("%w: %s", ErrLocal, name)
	}
	c, ok := commands[name]
	if !ok {
		return Request{}, fmt.Errorf("knotctl: invalid command '%s'", name)
	}
	base := NewData(Cmd, name, Flags, flags)
	var units []Unit
	var err error
	switch c.kind {
	case kindPlain:
		units, err = plainUnits(name, base, args)
	case kindZones:
		units = zoneUnits(base, args)
	case kindFilter:
		units, err = filterUnits(base, args)
	case kindNode:
		units, err = nodeUnits(name, base, args)
	case kindConf:
		units, err = confUnits(name, c.confData, base, args)
	}
	if err != nil {
		return Request{}, err
	}
	return Request{Cmd: name, Units: units}, nil
}

func takeFlags(args []string, flags *string) []string {
	for len(args) > 0 {
		switch args[0] {
		case "-b", "--blocking":
			if !strings.Contains(*flags, "B") {
				*flags += "B"
			}
		case "-f", "--force":
			if !strings.Contains(*flags, "F") {
				*flags += "F"
			}
		default:
			return args
		}
		args = args[1:]
	}
	return args
}

func plainUnits(name string, base Unit, args []string) ([]Unit, error) {
	switch {
	case name == "status" && len(args) == 1:
		base.Set(RRType, args[0])
	case len(args) > 0:
		return nil, fmt.Errorf("knotctl: %s: too many arguments", name)
	}
	return []Unit{base}, nil
}

// zoneUnits sends one unit per zone, or one without a zone for all.
func zoneUnits(base Unit, zones []string) []Unit {
	if len(zones) == 1 && zones[0] == "--" {
		zones = nil
	}
	if len(zones) == 0 {
		return []Unit{base}
	}
	out := make([]Unit, len(zones))
	for i, z := range zones {
		u := base
		u.Set(Zone, z)
		out[i] = u
	}
	return out
}

func filterUnits(base Unit, args []string) ([]Unit, error) {
	var zones []string
	filters := ""
	for _, a := range args {
		if !strings.HasPrefix(a, "+") {
			if a != "--" {
				zones = append(zones, a)
			}
			continue
		}
		code, ok := statusFilters[a]
		if !ok {
			return nil, fmt.Errorf("knotctl: unknown filter: %s", a)
		}
		if !strings.Contains(filters, code) {
			filters += code
		}
	}
	if filters != "" {
		base.Set(Filters, filters)
	}
	return zoneUnits(base, zones), nil
}

// nodeUnits builds zone-read/get/diff/set/unset: zone, owner, a TTL (only
// for set and unset, when the argument is a number), type, and the
// remaining arguments joined as the record data.
func nodeUnits(name string, u Unit, args []string) ([]Unit, error) {
	min := map[string]int{"zone-set": 3, "zone-unset": 2}[name]
	if len(args) < max(min, 1) {
		return nil, fmt.Errorf("knotctl: %s requires at least %d arguments", name, max(min, 1))
	}
	if args[0] != "--" {
		u.Set(Zone, args[0])
	}
	args = args[1:]
	if len(args) > 0 {
		u.Set(Owner, args[0])
		args = args[1:]
	}
	if len(args) > 0 && (name == "zone-set" || name == "zone-unset") {
		if _, err := strconv.ParseUint(args[0], 10, 32); err == nil {
			u.Set(TTL, args[0])
			args = args[1:]
		}
	}
	if len(args) > 0 {
		u.Set(RRType, args[0])
		args = args[1:]
	}
	if len(args) > 0 {
		data := strings.Join(args, " ")
		if len(data) > MaxValue {
			return nil, fmt.Errorf("knotctl: %s: record data longer than %d bytes", name, MaxValue)
		}
		u.Set(Value, data)
	}
	return []Unit{u}, nil
}

// confUnits builds configuration commands: with confData the first
// argument is an item and the others its values, one unit each;
// otherwise every argument is an item of its own unit.
func confUnits(name string, confData bool, base Unit, args []string) ([]Unit, error) {
	switch name {
	case "conf-begin", "conf-commit", "conf-abort":
		if len(args) > 0 {
			return nil, fmt.Errorf("knotctl: %s: invalid number of arguments", name)
		}
	case "conf-set":
		if len(args) == 0 {
			return nil, fmt.Errorf("knotctl: %s: invalid number of arguments", name)
		}
	}
	if len(args) == 0 {
		return []Unit{base}, nil
	}
	first, err := confKey(base, args[0])
	if err != nil {
		return nil, err
	}
	if len(args) == 1 || !confData {
		out := []Unit{first}
		for _, a := range args[1:] {
			u, err := confKey(base, a)
			if err != nil {
				return nil, err
			}
			out = append(out, u)
		}
		return out, nil
	}
	out := make([]Unit, 0, len(args)-1)
	for _, v := range args[1:] {
		u := first
		u.Set(Value, v)
		out = append(out, u)
	}
	return out, nil
}

// confKey splits "section[id].item" into the unit's section, id and item.
func confKey(base Unit, key string) (Unit, error) {
	u := base
	section, rest := key, ""
	if open := strings.IndexByte(key, '['); open >= 0 {
		section = key[:open]
		end := -1
		for i := open + 1; i < len(key); i++ {
			if key[i] == ']' && key[i-1] != '\\' {
				end = i
				break
			}
		}
		if end < 0 {
			return u, fmt.Errorf("knotctl: (missing bracket after identifier) %s", key[open+1:])
		}
		u.Set(ID, key[open+1:end])
		rest = key[end+1:]
		if rest != "" && rest[0] != '.' {
			return u, fmt.Errorf("knotctl: (unexpected token) %s", rest)
		}
	} else if dot := strings.IndexByte(key, '.'); dot >= 0 {
		section, rest = key[:dot], key[dot:]
	}
	if rest != "" {
		item := rest[1:]
		if item == "" {
			return u, errors.New("knotctl: (missing item specification)")
		}
		u.Set(ItemName, item)
	}
	u.Set(Section, section)
	return u, nil
}
