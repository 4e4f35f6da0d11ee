package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

var instanceNameRE = regexp.MustCompile(`^[a-z0-9_]+$`)

// backends decodes dns.backends. The instances found replace the default set.
func (d *decoder) backends(v reflect.Value, n *yaml.Node, path string) {
	out := map[string]Backend{}
	ok := d.pairs(n, path, func(k, val *yaml.Node) {
		p := join(path, k.Value)
		d.r.origins[p] = d.where(k, k)
		if !instanceNameRE.MatchString(k.Value) {
			d.problem(k, p, "instance name %q may only use a-z, 0-9 and _; rename it", k.Value)
			return
		}
		if b, ok := d.backend(k, val, p); ok {
			out[k.Value] = b
		}
	})
	if ok {
		v.Set(reflect.ValueOf(out))
	}
}

// backend decodes one instance: its type first, then the keys that type has.
func (d *decoder) backend(k, n *yaml.Node, path string) (Backend, bool) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "expected the instance's settings (type: ..., enabled: ...), found %s", kindName(n))
		return Backend{}, false
	}
	typ, ok := d.backendType(k, n, path)
	if !ok {
		return Backend{}, false
	}
	b := NewBackend(k.Value, typ)
	settings := reflect.ValueOf(b.settings()).Elem()
	d.pairs(n, path, func(key, val *yaml.Node) {
		p := join(path, key.Value)
		d.r.origins[p] = d.where(key, val)
		switch key.Value {
		case "type":
		case "enabled":
			d.value(reflect.ValueOf(&b.Enabled).Elem(), val, p)
		default:
			d.backendSetting(settings, typ, key, val, p)
		}
	})
	return b, true
}

// backendType reads and checks the instance's type key.
func (d *decoder) backendType(k, n *yaml.Node, path string) (string, bool) {
	var tn *yaml.Node
	for i := 0; i+1 < len(n.Content); i += 2 {
		if n.Content[i].Value == "type" {
			tn = resolve(n.Content[i+1])
		}
	}
	types := BackendTypes()
	if tn == nil || tn.Kind != yaml.ScalarNode || tn.Value == "" {
		d.problem(k, join(path, "type"), "missing type; add \"type: <t>\" with one of %s", strings.Join(types, ", "))
		return "", false
	}
	if _, ok := backendKinds[tn.Value]; !ok {
		d.problem(tn, join(path, "type"), "unknown backend type %q%s; use one of %s",
			tn.Value, didYouMean(tn.Value, types), strings.Join(types, ", "))
		return "", false
	}
	return tn.Value, true
}

// backendSetting decodes one type-specific key, explaining keys that belong
// to another type.
func (d *decoder) backendSetting(settings reflect.Value, typ string, key, val *yaml.Node, path string) {
	if f, ok := lookupField(settings.Type(), key.Value); ok {
		d.value(settings.Field(f.index), val, path)
		return
	}
	known := append(append([]string(nil), commonBackendKeys...), fieldNames(settings.Type())...)
	msg := unknownKeyMsg(key.Value, known)
	if owner := typeOwning(key.Value); owner != "" && didYouMean(key.Value, known) == "" {
		msg = fmt.Sprintf("%q is a setting of %s backends, not of %s; remove it or change the type (%s keys: %s)",
			key.Value, owner, typ, typ, strings.Join(known, ", "))
	}
	d.problem(key, path, "%s", msg)
}
