package deploy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestTestsReadOnlyTheRepository keeps a plain clone able to pass `make
// test`: no Go file of the repository names the design folder next to it
// (../shared); a test copies what it needs into its package's testdata/.
func TestTestsReadOnlyTheRepository(t *testing.T) {
	top := root(t)
	self := repoPath(t, "deploy/selfcontained_test.go")
	fset := token.NewFileSet()
	var bad []string
	err := filepath.WalkDir(top, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "testdata") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || path == self {
			return nil // this file names the folder to look for it
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			if s, err := strconv.Unquote(lit.Value); err == nil && namesShared(s) {
				bad = append(bad, fset.Position(lit.Pos()).String()+": "+lit.Value)
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bad {
		t.Errorf("%s reads outside the repository (copy the file into testdata/)", b)
	}
}

// namesShared reports whether a string literal is, or walks into, a
// "shared" folder as a path: the element itself or a path through it.
func namesShared(s string) bool {
	if s == "shared" {
		return true
	}
	for _, el := range strings.FieldsFunc(filepath.ToSlash(s), func(r rune) bool { return r == '/' }) {
		if el == "shared" && strings.Contains(s, "/") {
			return true
		}
	}
	return false
}
