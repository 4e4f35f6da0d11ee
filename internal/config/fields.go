package config

import (
	"os"
	"reflect"
	"slices"
	"strings"
)

// field is one key of a config struct, as named by its yaml tag.
type field struct {
	name   string
	index  int
	secret bool
	compat bool // kept for the Python version's files
}

var (
	backendsType = reflect.TypeFor[map[string]Backend]()
	fileModeType = reflect.TypeFor[os.FileMode]()
)

// fieldsOf lists the keys of struct type t in declaration order; fields
// without a yaml name (Backend's settings structs) are left out.
func fieldsOf(t reflect.Type) []field {
	var out []field
	for i := range t.NumField() {
		sf := t.Field(i)
		name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
		if !sf.IsExported() || name == "" || name == "-" {
			continue
		}
		out = append(out, field{
			name:   name,
			index:  i,
			secret: sf.Tag.Get("secret") == "true",
			compat: sf.Tag.Get("compat") == "true",
		})
	}
	return out
}

// lookupField finds key name among t's fields.
func lookupField(t reflect.Type, name string) (field, bool) {
	for _, f := range fieldsOf(t) {
		if f.name == name {
			return f, true
		}
	}
	return field{}, false
}

// fieldNames lists the keys of struct type t.
func fieldNames(t reflect.Type) []string {
	var out []string
	for _, f := range fieldsOf(t) {
		out = append(out, f.name)
	}
	return out
}

// isLeaf reports whether values of type t are written as one scalar (or, for
// a list of strings, one comma-separated environment value).
func isLeaf(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64, reflect.Float64, reflect.Uint32:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

// commonBackendKeys are the keys every backend instance has.
var commonBackendKeys = []string{"type", "enabled"}

// backendKeys lists the keys an instance of type typ accepts; for an unknown
// type, the keys of every type.
func backendKeys(typ string) []string {
	_, known := backendKinds[typ]
	keys := slices.Clone(commonBackendKeys)
	for _, t := range BackendTypes() {
		if known && t != typ {
			continue
		}
		for _, k := range settingsKeys(t) {
			if !slices.Contains(keys, k) {
				keys = append(keys, k)
			}
		}
	}
	return keys
}

// settingsKeys lists the type-specific keys of backend type typ.
func settingsKeys(typ string) []string {
	var b Backend
	return fieldNames(reflect.TypeOf(backendKinds[typ].settings(&b)).Elem())
}

// typeOwning returns a backend type that has key, or "".
func typeOwning(key string) string {
	for _, t := range BackendTypes() {
		if slices.Contains(settingsKeys(t), key) {
			return t
		}
	}
	return ""
}
