package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Origin says where a value came from: a line of the file, a DADNS_
// variable, or neither (a default).
type Origin struct {
	Line int    // 1-based line in the file; 0 when not from the file
	Env  string // the variable's name; empty when not from the environment
}

// String returns "line 12", the variable's name, or "default".
func (o Origin) String() string {
	switch {
	case o.Env != "":
		return o.Env
	case o.Line > 0:
		return fmt.Sprintf("line %d", o.Line)
	}
	return "default"
}

// Problem is one thing wrong with the configuration.
type Problem struct {
	Key string // dotted key path, e.g. "app.listen_port"; empty for a variable matching no key
	Origin
	Msg string // what is wrong and how to fix it
}

// String formats p as "line 12: app.listen_port: msg".
func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.Origin.String() + ": ")
	if p.Key != "" {
		b.WriteString(p.Key + ": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Error is returned by Load when the configuration has problems; it lists
// every one of them.
type Error struct {
	File     string // the file read, or "" when there was none
	Problems []Problem
}

// Error lists the problems one per line.
func (e *Error) Error() string {
	file := e.File
	if file == "" {
		file = "(no file)"
	}
	noun := "problems"
	if len(e.Problems) == 1 {
		noun = "problem"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "config: load %s: %d %s:", file, len(e.Problems), noun)
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.String())
	}
	return b.String()
}

// report collects problems, locating each by the origin of its key.
type report struct {
	origins  map[string]Origin
	problems []Problem
}

// at records a problem whose origin is already known.
func (r *report) at(o Origin, key, format string, args ...any) {
	r.problems = append(r.problems, Problem{Key: key, Origin: o, Msg: fmt.Sprintf(format, args...)})
}

// add records a problem about key, located at the closest key (itself or
// an ancestor) whose origin is known.
func (r *report) add(key, format string, args ...any) {
	r.at(r.sourceOf(key), key, format, args...)
}

func (r *report) sourceOf(key string) Origin {
	for k := key; k != ""; {
		if o, ok := r.origins[k]; ok {
			return o
		}
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			break
		}
		k = k[:i]
	}
	return Origin{}
}

// sorted returns the problems in file order, then those from variables.
func (r *report) sorted() []Problem {
	rank := func(p Problem) int {
		if p.Env != "" {
			return 2
		}
		if p.Line == 0 {
			return 3
		}
		return 1
	}
	slices.SortStableFunc(r.problems, func(a, b Problem) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(a.Line, b.Line), strings.Compare(a.Env, b.Env))
	})
	return r.problems
}
