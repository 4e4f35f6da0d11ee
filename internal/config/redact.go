package config

import (
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Mask replaces every non-empty secret in Redacted's output.
const Mask = "********"

// Redacted returns the effective configuration as app.yml text with every
// secret (passwords, API keys) replaced by Mask; an empty secret stays
// empty. It loads back into the same configuration, secrets aside.
func (c *Config) Redacted() string {
	root := encodeValue(reflect.ValueOf(c).Elem(), false)
	source := c.Source
	if source == "" {
		source = "no file"
	}
	root.HeadComment = fmt.Sprintf("effective dadns configuration (source: %s); secrets are masked", source)
	var b strings.Builder
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(root); err != nil { // only a bug in encodeValue could cause this
		return fmt.Sprintf("# config: redact: %v\n", err)
	}
	return b.String()
}

// encodeValue turns v into a YAML node, masking it when secret.
func encodeValue(v reflect.Value, secret bool) *yaml.Node {
	t := v.Type()
	switch {
	case t == backendsType:
		return encodeBackends(v.Interface().(map[string]Backend))
	case t.Kind() == reflect.Struct:
		return encodeStruct(v)
	case t.Kind() == reflect.Map:
		return encodeStringListMap(v)
	case t.Kind() == reflect.Slice:
		return encodeList(v)
	}
	return encodeScalar(v, secret)
}

func encodeStruct(v reflect.Value) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, f := range fieldsOf(v.Type()) {
		if f.compat && v.Field(f.index).IsZero() {
			continue
		}
		n.Content = append(n.Content, keyNode(f.name), encodeValue(v.Field(f.index), f.secret))
	}
	return n
}

func encodeList(v reflect.Value) *yaml.Node {
	n := &yaml.Node{Kind: yaml.SequenceNode}
	if v.Type().Elem().Kind() == reflect.String {
		n.Style = yaml.FlowStyle
	}
	for i := range v.Len() {
		n.Content = append(n.Content, encodeValue(v.Index(i), false))
	}
	return n
}

func encodeStringListMap(v reflect.Value) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	m := v.Interface().(map[string][]string)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		n.Content = append(n.Content, keyNode(k), encodeValue(reflect.ValueOf(m[k]), false))
	}
	return n
}

// encodeBackends writes each instance flat: type, enabled, then its type's
// settings.
func encodeBackends(m map[string]Backend) *yaml.Node {
	n := &yaml.Node{Kind: yaml.MappingNode}
	for _, name := range slices.Sorted(maps.Keys(m)) {
		b := m[name]
		inst := encodeStruct(reflect.ValueOf(b))
		if s := b.settings(); s != nil {
			inst.Content = append(inst.Content, encodeStruct(reflect.ValueOf(s).Elem()).Content...)
		}
		n.Content = append(n.Content, keyNode(name), inst)
	}
	return n
}

func encodeScalar(v reflect.Value, secret bool) *yaml.Node {
	n := &yaml.Node{Kind: yaml.ScalarNode}
	switch {
	case v.Type() == fileModeType:
		n.Tag, n.Value = "!!str", fmt.Sprintf("%04o", v.Uint())
	case v.Kind() == reflect.String:
		n.Tag, n.Value = "!!str", v.String()
		if secret && n.Value != "" {
			n.Value = Mask
		}
	case v.Kind() == reflect.Bool:
		n.Tag, n.Value = "!!bool", strconv.FormatBool(v.Bool())
	case v.Kind() == reflect.Float64:
		n.Tag, n.Value = "!!float", strconv.FormatFloat(v.Float(), 'g', -1, 64)
	default:
		n.Tag, n.Value = "!!int", strconv.FormatInt(v.Int(), 10)
	}
	return n
}

func keyNode(k string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
}
