package config

import (
	"fmt"
	"reflect"

	"go.yaml.in/yaml/v3"
)

// decoder writes a yaml.Node tree into config structs, recording where each
// key came from and every problem met on the way.
type decoder struct {
	r   *report
	env map[*yaml.Node]string // nodes created from environment variables
}

// where names the origin of a key: the variable that set its value, or the
// line of the key in the file.
func (d *decoder) where(key, val *yaml.Node) Origin {
	if name, ok := d.env[val]; ok {
		return Origin{Env: name}
	}
	if name, ok := d.env[key]; ok {
		return Origin{Env: name}
	}
	return Origin{Line: key.Line}
}

func (d *decoder) problem(n *yaml.Node, key, format string, args ...any) {
	d.r.at(d.where(n, n), key, format, args...)
}

// value decodes n into the addressable v; null leaves v as it is.
func (d *decoder) value(v reflect.Value, n *yaml.Node, path string) {
	n = resolve(n)
	if n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" {
		return
	}
	t := v.Type()
	switch {
	case t == backendsType:
		d.backends(v, n, path)
	case t.Kind() == reflect.Struct:
		d.mapping(v, n, path)
	case t.Kind() == reflect.Map:
		d.stringListMap(v, n, path)
	case t.Kind() == reflect.Slice && t.Elem().Kind() == reflect.Struct:
		d.list(v, n, path)
	case t.Kind() == reflect.Slice:
		d.strings(v, n, path)
	default:
		d.scalar(v, n, path)
	}
}

// pairs calls fn for each key of mapping n, reporting duplicate keys.
func (d *decoder) pairs(n *yaml.Node, path string, fn func(k, v *yaml.Node)) bool {
	if n.Kind != yaml.MappingNode {
		d.problem(n, path, "expected a mapping (indented key: value lines), found %s", kindName(n))
		return false
	}
	seen := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		if first, dup := seen[k.Value]; dup {
			d.problem(k, join(path, k.Value), "key given twice (first at %s); keep one", d.where(first, first))
			continue
		}
		seen[k.Value] = k
		fn(k, v)
	}
	return true
}

// mapping decodes a YAML mapping into struct v, rejecting unknown keys.
func (d *decoder) mapping(v reflect.Value, n *yaml.Node, path string) {
	d.pairs(n, path, func(k, val *yaml.Node) {
		f, ok := lookupField(v.Type(), k.Value)
		if !ok {
			d.problem(k, join(path, k.Value), "%s", unknownKeyMsg(k.Value, fieldNames(v.Type())))
			return
		}
		p := join(path, k.Value)
		d.r.origins[p] = d.where(k, val)
		d.value(v.Field(f.index), val, p)
	})
}

// list decodes a sequence of mappings; each element starts from its
// type's defaults.
func (d *decoder) list(v reflect.Value, n *yaml.Node, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(n, path, "expected a list (lines starting with \"- \"), found %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		el := out.Index(i)
		if def, ok := el.Addr().Interface().(interface{ setDefaults() }); ok {
			def.setDefaults()
		}
		p := fmt.Sprintf("%s.%d", path, i)
		d.r.origins[p] = d.where(item, item)
		d.value(el, item, p)
	}
	v.Set(out)
}

// strings decodes a sequence of scalars.
func (d *decoder) strings(v reflect.Value, n *yaml.Node, path string) {
	if n.Kind != yaml.SequenceNode {
		d.problem(n, path, "expected a list of names, such as [a.example.com, b.example.com], found %s", kindName(n))
		return
	}
	out := reflect.MakeSlice(v.Type(), 0, len(n.Content))
	for _, item := range n.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode {
			d.problem(item, path, "expected a name, found %s", kindName(item))
			continue
		}
		out = reflect.Append(out, reflect.ValueOf(item.Value))
	}
	v.Set(out)
}

// stringListMap decodes a mapping of name → list of names.
func (d *decoder) stringListMap(v reflect.Value, n *yaml.Node, path string) {
	out := reflect.MakeMap(v.Type())
	ok := d.pairs(n, path, func(k, val *yaml.Node) {
		el := reflect.New(v.Type().Elem()).Elem()
		d.value(el, val, join(path, k.Value))
		out.SetMapIndex(reflect.ValueOf(k.Value), el)
	})
	if ok {
		v.Set(out)
	}
}

// scalar decodes a single value with v's type.
func (d *decoder) scalar(v reflect.Value, n *yaml.Node, path string) {
	if n.Kind != yaml.ScalarNode {
		d.problem(n, path, "expected a single value, found %s", kindName(n))
		return
	}
	if err := setScalar(v, n.Value); err != nil {
		d.problem(n, path, "%s", err.Error())
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		return fmt.Sprintf("%q", n.Value)
	}
	return "something else"
}
