package deploy_test

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd  string // upper-case: FROM, RUN, COPY, ...
	args string // the rest of the line
	line int
}

// stage is one FROM and what follows it.
type stage struct {
	name, from string
	instrs     []instruction
}

// dockerfile is the part of a Dockerfile these tests read.
type dockerfile struct {
	args   map[string]string // ARG defaults before the first FROM
	stages []stage
}

// parseDockerfile reads instructions the way Docker does for the subset
// our Dockerfiles use: comment lines, `\` continuations, global ARGs and
// `FROM image AS name`.
func parseDockerfile(text string) (*dockerfile, error) {
	df := &dockerfile{args: map[string]string{}}
	var pending strings.Builder
	start := 0
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if pending.Len() == 0 {
			start = i + 1
		}
		if cont, ok := strings.CutSuffix(line, "\\"); ok {
			pending.WriteString(cont + " ")
			continue
		}
		pending.WriteString(line)
		if err := df.add(pending.String(), start); err != nil {
			return nil, err
		}
		pending.Reset()
	}
	if pending.Len() > 0 {
		return nil, fmt.Errorf("line %d: continuation at end of file", start)
	}
	return df, nil
}

func (df *dockerfile) add(text string, line int) error {
	cmd, args, _ := strings.Cut(text, " ")
	in := instruction{cmd: strings.ToUpper(cmd), args: strings.TrimSpace(args), line: line}
	switch {
	case in.cmd == "FROM":
		f := strings.Fields(in.args)
		st := stage{from: expandArgs(f[0], df.args)}
		if len(f) == 3 && strings.EqualFold(f[1], "AS") {
			st.name = f[2]
		} else if len(f) != 1 {
			return fmt.Errorf("line %d: cannot read FROM %s", line, in.args)
		}
		df.stages = append(df.stages, st)
	case len(df.stages) == 0 && in.cmd == "ARG":
		name, def, _ := strings.Cut(in.args, "=")
		df.args[name] = def
	case len(df.stages) == 0:
		return fmt.Errorf("line %d: %s before the first FROM", line, in.cmd)
	default:
		st := &df.stages[len(df.stages)-1]
		st.instrs = append(st.instrs, in)
	}
	return nil
}

// expandArgs replaces ${NAME} with its value in vars.
func expandArgs(s string, vars map[string]string) string {
	return regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(s, func(m string) string {
		return vars[m[2:len(m)-1]]
	})
}

func (df *dockerfile) stage(name string) *stage {
	for i := range df.stages {
		if df.stages[i].name == name {
			return &df.stages[i]
		}
	}
	return nil
}

// all returns the stage's instructions of one kind.
func (s *stage) all(cmd string) []instruction {
	var out []instruction
	for _, in := range s.instrs {
		if in.cmd == cmd {
			out = append(out, in)
		}
	}
	return out
}

// argDefaults returns the stage's ARG defaults over the global ones.
func (s *stage) argDefaults(global map[string]string) map[string]string {
	vars := map[string]string{}
	for k, v := range global {
		vars[k] = v
	}
	for _, in := range s.all("ARG") {
		name, def, _ := strings.Cut(in.args, "=")
		vars[name] = def
	}
	return vars
}

// splitFlags separates leading --name=value flags from the rest.
func splitFlags(args string) (map[string][]string, string) {
	flags := map[string][]string{}
	rest := strings.TrimSpace(args)
	for strings.HasPrefix(rest, "--") {
		word, after, _ := strings.Cut(rest, " ")
		name, value, _ := strings.Cut(strings.TrimPrefix(word, "--"), "=")
		flags[name] = append(flags[name], value)
		rest = strings.TrimSpace(after)
	}
	return flags, rest
}

func loadDockerfile(t testing.TB, rel string) *dockerfile {
	t.Helper()
	df, err := parseDockerfile(readFile(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return df
}

// buildCommand is a `go build` command line: VAR=value assignments, then
// the arguments starting with "go".
type buildCommand struct {
	env  []string
	args []string
}

// dockerBuildCommand returns the `go build` of the Dockerfile's build
// stage, with VERSION set to testVersion.
func dockerBuildCommand(t testing.TB) buildCommand {
	t.Helper()
	df := loadDockerfile(t, "Dockerfile")
	st := df.stage("build")
	if st == nil {
		t.Fatal("Dockerfile: no stage named build")
	}
	vars := st.argDefaults(df.args)
	vars["VERSION"] = testVersion
	for _, in := range st.all("RUN") {
		_, rest := splitFlags(in.args)
		if !strings.Contains(rest, "go build") {
			continue
		}
		words, err := shellWords(rest, vars)
		if err != nil {
			t.Fatalf("Dockerfile line %d: %v", in.line, err)
		}
		return splitAssignments(t, words)
	}
	t.Fatal("Dockerfile: the build stage runs no `go build`")
	return buildCommand{}
}

// makeBuildCommand returns the recipe of `make build`, with VERSION set to
// testVersion.
func makeBuildCommand(t testing.TB) buildCommand {
	t.Helper()
	vars := map[string]string{}
	var recipe []string
	inBuild := false
	for _, line := range strings.Split(readFile(t, "Makefile"), "\n") {
		if m := regexp.MustCompile(`^(\w+)\s*[:?]?=\s*(.*)$`).FindStringSubmatch(line); m != nil {
			vars[m[1]] = m[2]
		}
		switch {
		case strings.HasPrefix(line, "build:"):
			inBuild = true
		case inBuild && strings.HasPrefix(line, "\t"):
			recipe = append(recipe, strings.TrimSpace(line))
		default:
			inBuild = false
		}
	}
	if len(recipe) != 1 {
		t.Fatalf("Makefile: build has %d recipe lines, want 1", len(recipe))
	}
	vars["VERSION"], vars["GO"] = testVersion, "go"
	line := recipe[0]
	for range 5 { // variables may name variables
		line = regexp.MustCompile(`\$\((\w+)\)`).ReplaceAllStringFunc(line, func(m string) string { return vars[m[2:len(m)-1]] })
	}
	words, err := shellWords(line, nil)
	if err != nil {
		t.Fatalf("Makefile build recipe: %v", err)
	}
	return splitAssignments(t, words)
}

func splitAssignments(t testing.TB, words []string) buildCommand {
	t.Helper()
	var b buildCommand
	for len(words) > 0 && regexp.MustCompile(`^\w+=`).MatchString(words[0]) {
		b.env, words = append(b.env, words[0]), words[1:]
	}
	for _, w := range words {
		if w == "&&" || w == ";" || w == "|" {
			t.Fatalf("build command %q is not one simple command", words)
		}
	}
	if len(words) < 2 || words[0] != "go" || words[1] != "build" {
		t.Fatalf("build command %q does not start with go build", words)
	}
	b.args = words
	return b
}

// shellWords splits a POSIX shell command line into words: quotes,
// backslashes and ${NAME}/$NAME from vars (an unknown name is an error).
func shellWords(s string, vars map[string]string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words, inWord = append(words, w.String()), false
				w.Reset()
			}
			continue
		case c == '\'':
			end := strings.IndexByte(s[i+1:], '\'')
			if end < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			w.WriteString(s[i+1 : i+1+end])
			i += end + 1
		case c == '"':
			j, err := doubleQuoted(s, i+1, vars, &w)
			if err != nil {
				return nil, err
			}
			i = j
		case c == '\\' && i+1 < len(s):
			i++
			w.WriteByte(s[i])
		case c == '$':
			j, err := expandVar(s, i, vars, &w)
			if err != nil {
				return nil, err
			}
			i = j
		default:
			w.WriteByte(c)
		}
		inWord = true
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// doubleQuoted copies a "..." string starting after its quote at i and
// returns the index of the closing quote.
func doubleQuoted(s string, i int, vars map[string]string, w *strings.Builder) (int, error) {
	for ; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"':
			return i, nil
		case c == '\\' && i+1 < len(s) && strings.IndexByte("\"\\$`", s[i+1]) >= 0:
			i++
			w.WriteByte(s[i])
		case c == '$':
			j, err := expandVar(s, i, vars, w)
			if err != nil {
				return 0, err
			}
			i = j
		default:
			w.WriteByte(c)
		}
	}
	return 0, fmt.Errorf("unterminated \" in %q", s)
}

// expandVar writes the value of the variable whose $ is at i and returns
// the index of its last character.
func expandVar(s string, i int, vars map[string]string, w *strings.Builder) (int, error) {
	m := regexp.MustCompile(`^\$(?:\{(\w+)\}|(\w+))`).FindStringSubmatch(s[i:])
	if m == nil {
		return 0, fmt.Errorf("cannot expand %q", s[i:])
	}
	name := m[1] + m[2]
	v, ok := vars[name]
	if !ok {
		return 0, fmt.Errorf("unknown variable %s", name)
	}
	w.WriteString(v)
	return i + len(m[0]) - 1, nil
}

func TestShellWords(t *testing.T) {
	vars := map[string]string{"V": "1.2", "E": ""}
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{`go build -o x`, []string{"go", "build", "-o", "x"}},
		{`A=0 go  "a b" 'c $V' "d ${V}" e$V`, []string{"A=0", "go", "a b", "c $V", "d 1.2", "e1.2"}},
		{`x "" '' "\"q\"" a\ b "$E"`, []string{"x", "", "", `"q"`, "a b", ""}},
	} {
		got, err := shellWords(tc.in, vars)
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{`"open`, `'open`, `$UNKNOWN`, `${V:-x}`} {
		if got, err := shellWords(bad, vars); err == nil {
			t.Errorf("shellWords(%q) = %q, want an error", bad, got)
		}
	}
}

// TestBuildMatchesMakefile: the image's binary is the one `make build`
// makes: same environment, flags and package.
func TestBuildMatchesMakefile(t *testing.T) {
	d, m := dockerBuildCommand(t), makeBuildCommand(t)
	if !slices.Equal(d.env, m.env) {
		t.Errorf("environment: Dockerfile %q, Makefile %q", d.env, m.env)
	}
	if da, ma := slicesReplaceOutput(d.args, "OUT"), slicesReplaceOutput(m.args, "OUT"); !slices.Equal(da, ma) {
		t.Errorf("go build arguments differ:\nDockerfile %q\nMakefile   %q", da, ma)
	}
	if !slices.Contains(d.env, "CGO_ENABLED=0") {
		t.Errorf("Dockerfile builds without CGO_ENABLED=0: %q", d.env)
	}
	for _, flag := range []string{"-trimpath", "-ldflags", "-o"} {
		if !slices.Contains(d.args, flag) {
			t.Errorf("Dockerfile's go build lacks %s: %q", flag, d.args)
		}
	}
}

// variants are the values of the Dockerfile's DNS_SERVER build argument.
var variants = []string{"none", "bind", "nsd"}

func TestDockerfile(t *testing.T) {
	df := loadDockerfile(t, "Dockerfile")
	if len(df.stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build stage and a runtime stage", len(df.stages))
	}
	build, final := df.stage("build"), &df.stages[len(df.stages)-1]
	if build == nil || !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("build stage missing or not FROM golang: %+v", build)
	}
	if !regexp.MustCompile(`^debian:\w+-slim$`).MatchString(final.from) {
		t.Errorf("final stage is FROM %q, want debian:<release>-slim", final.from)
	}
	checkFinalUser(t, final)
	copied := checkCopies(t, df, final)
	checkExecForm(t, final, "ENTRYPOINT", copied)
	checkHealthcheck(t, final, copied)
	if cmd := final.all("CMD"); len(cmd) != 1 || cmd[0].args != `["serve"]` {
		t.Errorf("CMD = %v, want [\"serve\"]", cmd)
	}
	checkExpose(t, final, "2222/tcp", "53/udp", "53/tcp")
	checkVariants(t, final)
}

func checkFinalUser(t *testing.T, final *stage) {
	users := final.all("USER")
	if len(users) == 0 {
		t.Fatal("final stage sets no USER: the container would run as root")
	}
	last := users[len(users)-1]
	name, _, _ := strings.Cut(last.args, ":")
	if name == "root" || name == "0" || name == "" {
		t.Errorf("line %d: final USER is %q, want an unprivileged user", last.line, last.args)
	}
	created := false
	for _, in := range final.all("RUN") {
		if regexp.MustCompile(`useradd [^;]*--uid [1-9]\d* [^;]*\b` + regexp.QuoteMeta(name) + `\b`).MatchString(in.args) {
			created = true
		}
	}
	if !created {
		t.Errorf("final stage never creates user %q with a fixed non-zero uid", name)
	}
}

// checkCopies checks every COPY source and returns the destinations of
// the final stage. Sources from the context must exist for every variant
// and be inside the build context that .dockerignore leaves.
func checkCopies(t *testing.T, df *dockerfile, final *stage) map[string]bool {
	ignore := loadDockerignore(t)
	out := buildOutput(dockerBuildCommand(t).args)
	dests := map[string]bool{}
	for si := range df.stages {
		st := &df.stages[si]
		for _, in := range st.all("COPY") {
			flags, rest := splitFlags(in.args)
			f := strings.Fields(rest)
			srcs, dst := f[:len(f)-1], f[len(f)-1]
			if st == final {
				for _, s := range srcs {
					if strings.HasSuffix(dst, "/") {
						dests[dst+filepath.Base(s)] = true
					} else {
						dests[dst] = true
					}
				}
			}
			if from := flags["from"]; len(from) > 0 {
				if from[0] != "build" || len(srcs) != 1 || srcs[0] != out {
					t.Errorf("line %d: COPY --from=%s %v, want the build stage's output %s", in.line, from[0], srcs, out)
				}
				continue
			}
			for _, v := range variants {
				vars := st.argDefaults(df.args)
				vars["DNS_SERVER"] = v
				for _, s := range srcs {
					checkContextPath(t, ignore, expandArgs(s, vars), in.line)
				}
			}
		}
	}
	return dests
}

// checkContextPath: a COPY source exists and .dockerignore keeps it (a
// folder: some of its files; TestBuildInputsInContext checks which).
func checkContextPath(t *testing.T, ignore []ignoreRule, src string, line int) {
	kept := 0
	for _, f := range contextFiles(t, src) {
		if !excluded(ignore, f) {
			kept++
		}
	}
	if kept == 0 {
		t.Errorf("line %d: COPY source %s is missing or excluded by .dockerignore", line, src)
	}
}

// buildOutput returns the value of -o in a go build command line.
func buildOutput(args []string) string {
	for i := range len(args) - 1 {
		if args[i] == "-o" {
			return args[i+1]
		}
	}
	return ""
}

// contextFiles lists the regular files at or under a slash-separated
// repository path, as slash-separated paths.
func contextFiles(t *testing.T, rel string) []string {
	t.Helper()
	var out []string
	base := root(t)
	filepath.WalkDir(repoPath(t, rel), func(path string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			r, _ := filepath.Rel(base, path)
			out = append(out, filepath.ToSlash(r))
		}
		return nil
	})
	return out
}

// checkExecForm: the instruction is a JSON array whose program the final
// stage copies in.
func checkExecForm(t *testing.T, final *stage, cmd string, copied map[string]bool) {
	ins := final.all(cmd)
	if len(ins) != 1 {
		t.Fatalf("final stage has %d %s, want 1", len(ins), cmd)
	}
	var argv []string
	if err := json.Unmarshal([]byte(ins[0].args), &argv); err != nil || len(argv) == 0 {
		t.Fatalf("line %d: %s is not in exec (JSON) form: %s", ins[0].line, cmd, ins[0].args)
	}
	if !copied[argv[0]] {
		t.Errorf("line %d: %s runs %s, which the final stage does not copy in", ins[0].line, cmd, argv[0])
	}
}

func checkHealthcheck(t *testing.T, final *stage, copied map[string]bool) {
	hc := final.all("HEALTHCHECK")
	if len(hc) != 1 {
		t.Fatalf("final stage has %d HEALTHCHECK, want 1", len(hc))
	}
	flags, rest := splitFlags(hc[0].args)
	for _, f := range []string{"interval", "timeout", "start-period", "retries"} {
		if len(flags[f]) != 1 {
			t.Errorf("HEALTHCHECK without --%s", f)
		}
	}
	cmd, ok := strings.CutPrefix(rest, "CMD ")
	if !ok {
		t.Fatalf("HEALTHCHECK %q has no CMD", rest)
	}
	checkExecForm(t, &stage{instrs: []instruction{{cmd: "HC", args: cmd, line: hc[0].line}}}, "HC", copied)
}

func checkExpose(t *testing.T, final *stage, want ...string) {
	var got []string
	for _, in := range final.all("EXPOSE") {
		got = append(got, strings.Fields(in.args)...)
	}
	for _, w := range want {
		if !slices.Contains(got, w) {
			t.Errorf("EXPOSE %v lacks %s", got, w)
		}
	}
}

// checkVariants: the package step knows exactly the documented variants.
func checkVariants(t *testing.T, final *stage) {
	var text string
	for _, in := range final.all("RUN") {
		if strings.Contains(in.args, "DNS_SERVER") {
			text = in.args
		}
	}
	got := regexp.MustCompile(`\b(\w+)\) pkgs=`).FindAllStringSubmatch(text, -1)
	var names []string
	for _, m := range got {
		names = append(names, m[1])
	}
	if !slices.Equal(names, variants) {
		t.Errorf("DNS_SERVER cases %v, want %v", names, variants)
	}
	for _, f := range []string{"/var/lib/apt/lists/*", "/etc/bind/rndc.key", "/etc/nsd/nsd_server.*", "/etc/nsd/nsd_control.*"} {
		if !regexp.MustCompile(`rm -rf [^;]*` + regexp.QuoteMeta(f)).MatchString(text) {
			t.Errorf("the package step must remove %s (apt lists, control keys every image would share)", f)
		}
	}
}

// TestBuildInputsInContext: every source file the binary is built from is
// in the Docker build context: the build stage copies go.mod, go.sum, cmd
// and internal, and .dockerignore keeps them.
func TestBuildInputsInContext(t *testing.T) {
	ignore := loadDockerignore(t)
	cmd := exec.Command("go", "list", "-deps", "-json=Dir,GoFiles,EmbedFiles,Module", "./cmd/dadns")
	cmd.Dir = root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for dec.More() {
		var p struct {
			Dir                 string
			GoFiles, EmbedFiles []string
			Module              *struct{ Main bool }
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		if p.Module == nil || !p.Module.Main {
			continue
		}
		rel, _ := filepath.Rel(root(t), p.Dir)
		rel = filepath.ToSlash(rel)
		if !strings.HasPrefix(rel, "cmd/") && !strings.HasPrefix(rel, "internal/") {
			t.Errorf("package %s is outside cmd/ and internal/, which the build stage copies", rel)
		}
		for _, f := range append(p.GoFiles, p.EmbedFiles...) {
			n++
			if excluded(ignore, rel+"/"+f) {
				t.Errorf("%s/%s is a build input but .dockerignore excludes it", rel, f)
			}
		}
	}
	if n == 0 {
		t.Fatal("go list found no source files")
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		if excluded(ignore, f) {
			t.Errorf(".dockerignore excludes %s", f)
		}
	}
}

// ignoreRule is one .dockerignore line.
type ignoreRule struct {
	re     *regexp.Regexp
	negate bool
}

func loadDockerignore(t testing.TB) []ignoreRule {
	t.Helper()
	var rules []ignoreRule
	for _, line := range strings.Split(readFile(t, ".dockerignore"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		neg := strings.HasPrefix(line, "!")
		pat := filepath.ToSlash(filepath.Clean(strings.TrimPrefix(strings.TrimPrefix(line, "!"), "/")))
		rules = append(rules, ignoreRule{re: globRegexp(pat), negate: neg})
	}
	return rules
}

// globRegexp translates a .dockerignore pattern: * and ? stay within a
// path element, ** spans any number of them.
func globRegexp(pat string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i := 0; i < len(pat); i++ {
		switch c := pat[i]; {
		case strings.HasPrefix(pat[i:], "**/"):
			b.WriteString("(.*/)?")
			i += 2
		case strings.HasPrefix(pat[i:], "**"):
			b.WriteString(".*")
			i++
		case c == '*':
			b.WriteString("[^/]*")
		case c == '?':
			b.WriteString("[^/]")
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// excluded applies the rules as Docker does: the last rule matching the
// path or one of its parent folders decides.
func excluded(rules []ignoreRule, path string) bool {
	ex := false
	for _, r := range rules {
		if matchesOrParent(r.re, path) {
			ex = !r.negate
		}
	}
	return ex
}

func matchesOrParent(re *regexp.Regexp, path string) bool {
	parts := strings.Split(path, "/")
	for i := len(parts); i > 0; i-- {
		if re.MatchString(strings.Join(parts[:i], "/")) {
			return true
		}
	}
	return false
}

func TestDockerignore(t *testing.T) {
	rules := loadDockerignore(t)
	for _, p := range []string{
		".git/HEAD", "bin/dadns", "data/dadns.db", "bench/results/latest.md", "README.md",
		"deploy/bind/docker-compose.yml", "deploy/deploy_test.go",
		"internal/zone/zone_test.go", "internal/config/testdata/bad.yml",
	} {
		if !excluded(rules, p) {
			t.Errorf(".dockerignore keeps %s in the build context", p)
		}
	}
	for _, p := range []string{"go.mod", "cmd/dadns/main.go", "internal/store/migrations/0001.sql", "deploy/docker/entrypoint.sh"} {
		if excluded(rules, p) {
			t.Errorf(".dockerignore excludes %s", p)
		}
	}
}

// TestDockerfileShellSyntax: every RUN of both Dockerfiles parses as the
// /bin/sh -c script Docker hands it to.
func TestDockerfileShellSyntax(t *testing.T) {
	sh := requireTool(t, "sh")
	for _, rel := range []string{"Dockerfile", "deploy/coredns-mysql/coredns/Dockerfile"} {
		df := loadDockerfile(t, rel)
		for _, st := range df.stages {
			for _, in := range st.all("RUN") {
				_, script := splitFlags(in.args)
				if out, err := exec.Command(sh, "-n", "-c", script).CombinedOutput(); err != nil {
					t.Errorf("%s line %d: %v\n%s", rel, in.line, err, out)
				}
			}
		}
	}
}
