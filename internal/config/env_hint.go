package config

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// unknown explains why v matches no key and what to write instead.
func (a *envApplier) unknown(v envVar) string {
	backends := lookup(a.root, "dns", "backends")
	if rest, ok := cutPrefix(v.toks, []string{"dns", "backends"}); ok && len(rest) > 0 {
		return unknownBackendVar(rest, backends)
	}
	if _, ok := cutPrefix(v.toks, []string{"app", "owner", "aliases"}); ok {
		return "app.owner_aliases can only be set in the config file"
	}
	if _, ok := cutPrefix(v.toks, []string{"peer", "sync", "peer"}); ok {
		return "matches no configuration key; peers are set with DADNS_PEER_SYNC_PEERS_<N>_URL, _USERNAME and _PASSWORD (N from 0)"
	}
	hint := didYouMean(v.name, envNames(reflect.TypeFor[Config](), envPrefix, backends))
	return "matches no configuration key" + hint + "; remove it or fix its name"
}

// unknownBackendVar explains a DADNS_DNS_BACKENDS_ variable that addresses no
// instance setting; rest is the part after BACKENDS.
func unknownBackendVar(rest []string, backends *yaml.Node) string {
	names := instanceNames(backends)
	for _, name := range names {
		after, ok := cutPrefix(rest, strings.Split(name, "_"))
		if !ok || len(after) == 0 {
			continue
		}
		typ := instanceType(backends, name)
		if typ == "" {
			typ = "not set"
		}
		key := strings.Join(after, "_")
		return fmt.Sprintf("backend instance %q (type %s) has no setting %q%s; its settings are %s",
			name, typ, key, didYouMean(key, backendKeys(typ)), strings.Join(backendKeys(typ), ", "))
	}
	defined := "none"
	if len(names) > 0 {
		defined = strings.Join(slices.Sorted(slices.Values(names)), ", ")
	}
	return fmt.Sprintf("names no defined backend instance (defined: %s); create one with "+
		"DADNS_DNS_BACKENDS_<NAME>_TYPE=<type> (types: %s) or in the config file",
		defined, strings.Join(BackendTypes(), ", "))
}

// envNames lists the variable names that address the keys of t, for typo
// suggestions; lists are shown with index 0.
func envNames(t reflect.Type, prefix string, backends *yaml.Node) []string {
	var out []string
	for _, f := range fieldsOf(t) {
		ft := t.Field(f.index).Type
		name := prefix + strings.ToUpper(f.name)
		switch {
		case ft == backendsType:
			for _, inst := range instanceNames(backends) {
				for _, k := range backendKeys(instanceType(backends, inst)) {
					out = append(out, strings.ToUpper(name+"_"+inst+"_"+k))
				}
			}
		case isLeaf(ft):
			out = append(out, name)
		case ft.Kind() == reflect.Struct:
			out = append(out, envNames(ft, name+"_", backends)...)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			out = append(out, envNames(ft.Elem(), name+"_0_", backends)...)
		}
	}
	return out
}
