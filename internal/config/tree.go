package config

import (
	"fmt"
	"strconv"

	"go.yaml.in/yaml/v3"
)

// step is one element of a path into the YAML tree: a mapping key, or a list
// index when index >= 0.
type step struct {
	key   string
	index int
}

func keyStep(k string) step  { return step{key: k, index: -1} }
func indexStep(i int) step   { return step{key: strconv.Itoa(i), index: i} }
func (s step) isIndex() bool { return s.index >= 0 }

// child returns the value under key in mapping n, or nil.
func child(n *yaml.Node, key string) *yaml.Node {
	n = resolve(n)
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if n.Content[i].Value == key {
			return resolve(n.Content[i+1])
		}
	}
	return nil
}

// lookup follows mapping keys from n; nil when any is missing.
func lookup(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		n = child(n, k)
	}
	return n
}

// resolve follows an alias (*name) to its anchored node.
func resolve(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null")
}

// newNode returns an empty mapping or list, as the next step needs.
func newNode(next step) *yaml.Node {
	if next.isIndex() {
		return &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
	}
	return &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
}

// setPath stores val at path under root, creating mappings and list entries
// on the way; created nodes are passed to mark. It fails when the file has a
// value of another shape where the path needs a mapping or list.
func setPath(root *yaml.Node, path []step, val *yaml.Node, mark func(*yaml.Node)) error {
	n := root
	for i, s := range path {
		last := i == len(path)-1
		want := val
		if !last {
			want = newNode(path[i+1])
		}
		next, err := descend(n, s, want, last, mark)
		if err != nil {
			return err
		}
		n = next
	}
	return nil
}

// descend returns n's child at s, creating it as want (or replacing it when
// last). A null child counts as missing.
func descend(n *yaml.Node, s step, want *yaml.Node, last bool, mark func(*yaml.Node)) (*yaml.Node, error) {
	n = resolve(n)
	if s.isIndex() {
		if n.Kind != yaml.SequenceNode {
			return nil, fmt.Errorf("the file has %s where a list is needed", kindName(n))
		}
		for len(n.Content) <= s.index {
			gap := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
			mark(gap)
			n.Content = append(n.Content, gap)
		}
		return replaceAt(n, s.index, want, last, mark), nil
	}
	if n.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("the file has %s where a mapping is needed", kindName(n))
	}
	for i := len(n.Content) - 2; i >= 0; i -= 2 {
		if n.Content[i].Value == s.key {
			return replaceAt(n, i+1, want, last, mark), nil
		}
	}
	k := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: s.key}
	mark(k)
	mark(want)
	n.Content = append(n.Content, k, want)
	return want, nil
}

// replaceAt returns n.Content[i], first replacing it with want when it is
// the path's end or a null placeholder.
func replaceAt(n *yaml.Node, i int, want *yaml.Node, last bool, mark func(*yaml.Node)) *yaml.Node {
	if last || isNull(resolve(n.Content[i])) {
		mark(want)
		n.Content[i] = want
	}
	return n.Content[i]
}
