package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"

	"go.yaml.in/yaml/v3"
)

// DefaultSearchDirs are searched in order for app.yml when no file is given,
// as the Python directdnsonly did.
var DefaultSearchDirs = []string{"/etc/directdnsonly", ".", "./config"}

// fileNames are tried in each search directory, in order.
var fileNames = []string{"app.yml", "app.yaml"}

// LoadOptions says where Load looks for its input.
type LoadOptions struct {
	// File is the --config path; when set it must exist and no search is made.
	File string
	// SearchDirs are tried in order; the first holding app.yml wins. Nil
	// means DefaultSearchDirs; an empty, non-nil slice searches nowhere.
	SearchDirs []string
	// Environ holds KEY=value pairs. Nil means os.Environ(); an empty,
	// non-nil slice means no variables.
	Environ []string
}

// Load reads the configuration file (if any), applies DADNS_ variables and
// validates the result. When anything is wrong the error is an *Error that
// lists every problem.
func Load(opts LoadOptions) (*Config, error) {
	path, err := findFile(opts)
	if err != nil {
		return nil, err
	}
	root, err := readTree(path)
	if err != nil {
		return nil, err
	}
	environ := opts.Environ
	if environ == nil {
		environ = os.Environ()
	}
	cfg, problems := build(root, dadnsVars(environ))
	if len(problems) > 0 {
		return nil, &Error{File: path, Problems: problems}
	}
	cfg.Source = path
	return cfg, nil
}

// findFile returns the file to read, or "" when there is none.
func findFile(opts LoadOptions) (string, error) {
	if opts.File != "" {
		if _, err := os.Stat(opts.File); err != nil {
			return "", fmt.Errorf("config: load %s: %w", opts.File, err)
		}
		return opts.File, nil
	}
	dirs := opts.SearchDirs
	if dirs == nil {
		dirs = DefaultSearchDirs
	}
	for _, dir := range dirs {
		for _, name := range fileNames {
			p := filepath.Join(dir, name)
			_, err := os.Stat(p)
			if err == nil {
				return p, nil
			}
			if !errors.Is(err, fs.ErrNotExist) {
				return "", fmt.Errorf("config: search %s: %w", dir, err)
			}
		}
	}
	return "", nil
}

// readTree parses the file into a mapping node; no file gives an empty one.
func readTree(path string) (*yaml.Node, error) {
	empty := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
	if path == "" {
		return empty, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: load %s: %w", path, err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("config: load %s: %w", path, err)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return empty, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fmt.Errorf("config: load %s: line %d: the file must be a mapping of keys (key: value lines), found %s",
			path, root.Line, kindName(root))
	}
	return root, nil
}

// build merges the environment into the tree, decodes it over the defaults
// and validates the result.
func build(root *yaml.Node, vars []envVar) (*Config, []Problem) {
	r := &report{origins: map[string]Origin{}}
	env := map[*yaml.Node]string{}
	addDefaultBackends(root, vars)
	(&envApplier{root: root, r: r, env: env}).apply(vars)
	cfg := Default()
	(&decoder{r: r, env: env}).value(reflect.ValueOf(cfg).Elem(), root, "")
	cfg.origins = r.origins
	cfg.finish()
	cfg.validate(r)
	return cfg, r.sorted()
}

// addDefaultBackends puts the default instance set in the tree when neither
// the file nor a DADNS_DNS_BACKENDS_<NAME>_TYPE variable defines instances,
// so that variables can adjust the default instance.
func addDefaultBackends(root *yaml.Node, vars []envVar) {
	if !isNull(lookup(root, "dns", "backends")) {
		return
	}
	for _, v := range vars {
		if _, ok := v.backendTypeVar(); ok {
			return
		}
	}
	def := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: TypeBuiltin},
		{Kind: yaml.MappingNode, Tag: "!!map", Content: []*yaml.Node{
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: "type"},
			{Kind: yaml.ScalarNode, Tag: "!!str", Value: TypeBuiltin},
		}},
	}}
	// A file whose dns key is not a mapping is reported by the decoder.
	_ = setPath(root, []step{keyStep("dns"), keyStep("backends")}, def, func(*yaml.Node) {})
}

// finish resolves the Python version's aliases and normalizes spellings.
func (c *Config) finish() {
	if _, set := c.origins["data_dir"]; !set && c.QueueLocation != "" {
		c.DataDir = c.QueueLocation
	}
	c.LogLevel = normalizeLevel(c.LogLevel)
	c.LogFormat = strings.ToLower(c.LogFormat)
	for name, b := range c.DNS.Backends {
		b.Name = name
		m := &b.CoreDNSMySQL
		if _, set := c.origins["dns.backends."+name+".records_table"]; !set && m.TableName != "" {
			m.RecordsTable = m.TableName
		}
		c.DNS.Backends[name] = b
	}
}
