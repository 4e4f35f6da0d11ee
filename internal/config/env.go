package config

import (
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

const envPrefix = "DADNS_"

// envVar is one DADNS_ variable; toks is its key path, lower-cased and split
// at underscores.
type envVar struct {
	name, value string
	toks        []string
}

// dadnsVars returns the DADNS_ variables of environ, sorted by name.
func dadnsVars(environ []string) []envVar {
	var out []envVar
	for _, kv := range environ {
		name, value, _ := strings.Cut(kv, "=")
		if !strings.HasPrefix(name, envPrefix) {
			continue
		}
		toks := strings.Split(strings.ToLower(strings.TrimPrefix(name, envPrefix)), "_")
		out = append(out, envVar{name: name, value: value, toks: toks})
	}
	slices.SortStableFunc(out, func(a, b envVar) int { return strings.Compare(a.name, b.name) })
	return out
}

// backendTypeVar returns the instance a DADNS_DNS_BACKENDS_<NAME>_TYPE
// variable names.
func (v envVar) backendTypeVar() (string, bool) {
	t := v.toks
	if len(t) < 4 || t[0] != "dns" || t[1] != "backends" || t[len(t)-1] != "type" {
		return "", false
	}
	return strings.Join(t[2:len(t)-1], "_"), true
}

// envApplier writes DADNS_ variables into the YAML tree before it is
// decoded, so they are parsed and validated exactly like file values.
type envApplier struct {
	root *yaml.Node
	r    *report
	env  map[*yaml.Node]string
}

// apply writes every variable; backend types go first so that the other
// variables can address the instances they create.
func (a *envApplier) apply(vars []envVar) {
	var rest []envVar
	for _, v := range vars {
		if name, ok := v.backendTypeVar(); ok {
			a.set(v, []step{keyStep("dns"), keyStep("backends"), keyStep(name), keyStep("type")}, reflect.TypeFor[string]())
			continue
		}
		rest = append(rest, v)
	}
	for _, v := range rest {
		path, leaf, ok := a.walk(reflect.TypeFor[Config](), v.toks, a.root)
		if !ok {
			a.r.at(Origin{Env: v.name}, "", "%s", a.unknown(v))
			continue
		}
		a.set(v, path, leaf)
	}
}

// set stores v's value at path as a node of the leaf type's shape.
func (a *envApplier) set(v envVar, path []step, leaf reflect.Type) {
	val := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: v.value}
	if leaf.Kind() == reflect.Slice {
		val = &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		for _, s := range strings.Split(v.value, ",") {
			if s = strings.TrimSpace(s); s != "" {
				item := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s}
				a.env[item] = v.name
				val.Content = append(val.Content, item)
			}
		}
	}
	err := setPath(a.root, path, val, func(n *yaml.Node) { a.env[n] = v.name })
	if err != nil {
		a.r.at(Origin{Env: v.name}, stepsString(path), "cannot apply the variable: %v; fix the file", err)
	}
}

// walk resolves toks against type t, trying longer key names first, and
// returns the path and the type of the value it reaches.
func (a *envApplier) walk(t reflect.Type, toks []string, n *yaml.Node) ([]step, reflect.Type, bool) {
	switch {
	case len(toks) == 0:
		return nil, nil, false
	case t == backendsType:
		return a.walkBackends(toks, n)
	case t.Kind() == reflect.Struct:
		return a.walkStruct(t, toks, n)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		i, err := strconv.Atoi(toks[0])
		if err != nil || i < 0 || i > 999 {
			return nil, nil, false
		}
		var el *yaml.Node
		if n != nil && n.Kind == yaml.SequenceNode && i < len(n.Content) {
			el = n.Content[i]
		}
		sub, leaf, ok := a.walk(t.Elem(), toks[1:], el)
		return append([]step{indexStep(i)}, sub...), leaf, ok
	}
	return nil, nil, false
}

func (a *envApplier) walkStruct(t reflect.Type, toks []string, n *yaml.Node) ([]step, reflect.Type, bool) {
	fields := fieldsOf(t)
	slices.SortStableFunc(fields, func(x, y field) int { return len(y.name) - len(x.name) })
	for _, f := range fields {
		ft := t.Field(f.index).Type
		rest, ok := cutPrefix(toks, strings.Split(f.name, "_"))
		switch {
		case !ok:
		case len(rest) == 0 && isLeaf(ft):
			return []step{keyStep(f.name)}, ft, true
		case len(rest) > 0 && !isLeaf(ft):
			if sub, leaf, ok := a.walk(ft, rest, child(n, f.name)); ok {
				return append([]step{keyStep(f.name)}, sub...), leaf, true
			}
		}
	}
	return nil, nil, false
}

// walkBackends matches the longest defined instance name that leaves a key
// its type has. Every backend setting is a scalar, decoded later with its
// field's type.
func (a *envApplier) walkBackends(toks []string, n *yaml.Node) ([]step, reflect.Type, bool) {
	for _, name := range instanceNames(n) {
		rest, ok := cutPrefix(toks, strings.Split(name, "_"))
		key := strings.Join(rest, "_")
		if ok && len(rest) > 0 && slices.Contains(backendKeys(instanceType(n, name)), key) {
			return []step{keyStep(name), keyStep(key)}, reflect.TypeFor[string](), true
		}
		// A key inside a nested section of the type's settings (such as
		// the builtin's rrl), typed by its field.
		if kind, known := backendKinds[instanceType(n, name)]; ok && known && len(rest) > 1 {
			t := reflect.TypeOf(kind.settings(&Backend{})).Elem()
			if sub, leaf, ok := a.walkStruct(t, rest, child(n, name)); ok && len(sub) > 1 {
				return append([]step{keyStep(name)}, sub...), leaf, true
			}
		}
	}
	return nil, nil, false
}

// instanceNames lists the instances under dns.backends, longest first.
func instanceNames(n *yaml.Node) []string {
	var out []string
	if n != nil && n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			out = append(out, n.Content[i].Value)
		}
	}
	slices.SortStableFunc(out, func(x, y string) int { return len(y) - len(x) })
	return out
}

func instanceType(backends *yaml.Node, name string) string {
	if t := lookup(backends, name, "type"); t != nil && t.Kind == yaml.ScalarNode {
		return t.Value
	}
	return ""
}

func cutPrefix(toks, prefix []string) ([]string, bool) {
	if len(toks) < len(prefix) || !slices.Equal(toks[:len(prefix)], prefix) {
		return nil, false
	}
	return toks[len(prefix):], true
}

func stepsString(path []step) string {
	var keys []string
	for _, s := range path {
		keys = append(keys, s.key)
	}
	return strings.Join(keys, ".")
}
