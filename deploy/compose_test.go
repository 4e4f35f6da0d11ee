package deploy_test

import (
	"context"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"
)

// topology is one compose file under deploy/ and what its README
// documents.
type topology struct {
	dir string
	// ports are the published ports, host address:port/protocol, with
	// .env.example's values.
	ports []string
	// required are the variables without which compose must refuse to run.
	required []string
}

var topologies = []topology{
	{dir: "builtin", ports: []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp"}},
	{dir: "bind", ports: []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp"}},
	{dir: "nsd", ports: []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp"}},
	{
		dir:      "coredns-mysql",
		ports:    []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp", "127.0.0.1:5354/udp", "127.0.0.1:5354/tcp"},
		required: []string{"DC1_DB_PASSWORD", "DC2_DB_PASSWORD"},
	},
	{dir: "knot", ports: []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp"}},
	{
		dir:      "powerdns",
		ports:    []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp", "127.0.0.1:5355/udp", "127.0.0.1:5355/tcp"},
		required: []string{"DB_PASSWORD", "REPLICATION_PASSWORD"},
	},
	{
		dir: "cluster",
		ports: []string{"0.0.0.0:2222/tcp", "0.0.0.0:53/udp", "0.0.0.0:53/tcp",
			"127.0.0.1:2223/tcp", "127.0.0.1:5354/udp", "127.0.0.1:5354/tcp"},
		required: []string{"GALERA_ROOT_PASSWORD", "DADNS_DB_PASSWORD", "GALERA_SST_PASSWORD"},
	},
}

// composeFile is the path of a topology's compose file.
func (tp topology) composeFile(t testing.TB) string {
	return repoPath(t, "deploy/"+tp.dir+"/docker-compose.yml")
}

// envExample reads the topology's .env.example: every variable the
// compose file uses, with its default or an empty placeholder.
func (tp topology) envExample(t testing.TB) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, line := range strings.Split(readFile(t, "deploy/"+tp.dir+"/.env.example"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Fatalf("%s/.env.example: %q is not KEY=value", tp.dir, line)
		}
		env[k] = v
	}
	return env
}

// filledEnv is envExample with every empty placeholder given a value, as
// an operator fills .env.
func (tp topology) filledEnv(t testing.TB) map[string]string {
	env := tp.envExample(t)
	for k, v := range env {
		if v == "" {
			env[k] = "filled0" + strings.ToLower(k)
		}
	}
	return env
}

// load runs the compose specification's loader (schema validation,
// interpolation, references between services and volumes).
func (tp topology) load(t testing.TB, env map[string]string) (*types.Project, error) {
	t.Helper()
	file := tp.composeFile(t)
	details := types.ConfigDetails{
		WorkingDir:  filepath.Dir(file),
		ConfigFiles: []types.ConfigFile{{Filename: file}},
		Environment: env,
	}
	return loader.LoadWithContext(context.Background(), details, func(o *loader.Options) {
		o.ResolvePaths = true
	})
}

func TestComposeFiles(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.dir, func(t *testing.T) {
			p, err := tp.load(t, tp.filledEnv(t))
			if err != nil {
				t.Fatalf("compose loader: %v", err)
			}
			if len(p.Services) == 0 {
				t.Fatal("no services")
			}
			checkVariablesDocumented(t, tp)
			checkPublishedPorts(t, tp, p)
			for _, s := range p.Services {
				checkService(t, p, s)
			}
			checkNoLiteralSecrets(t, tp)
		})
	}
}

// TestComposeRequiresSecrets: with .env.example copied unchanged, compose
// refuses to start a topology that needs passwords, naming them.
func TestComposeRequiresSecrets(t *testing.T) {
	for _, tp := range topologies {
		t.Run(tp.dir, func(t *testing.T) {
			_, err := tp.load(t, tp.envExample(t))
			if len(tp.required) == 0 {
				if err != nil {
					t.Fatalf("compose refuses .env.example as it is: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("compose accepts empty %v", tp.required)
			}
			if !slices.ContainsFunc(tp.required, func(v string) bool { return strings.Contains(err.Error(), v) }) {
				t.Errorf("error does not name a missing variable %v: %v", tp.required, err)
			}
			for _, v := range tp.required {
				env := tp.filledEnv(t)
				env[v] = ""
				if _, err := tp.load(t, env); err == nil || !strings.Contains(err.Error(), v) {
					t.Errorf("empty %s: compose error %v, want one naming it", v, err)
				}
			}
		})
	}
}

// checkVariablesDocumented: every ${VAR} the compose file reads is listed
// in .env.example, and nothing else is.
func checkVariablesDocumented(t *testing.T, tp topology) {
	used := map[string]bool{}
	for _, m := range regexp.MustCompile(`\$\{(\w+)`).FindAllStringSubmatch(readFile(t, "deploy/"+tp.dir+"/docker-compose.yml"), -1) {
		used[m[1]] = true
	}
	listed := tp.envExample(t)
	for v := range used {
		if _, ok := listed[v]; !ok {
			t.Errorf("docker-compose.yml reads ${%s}, which .env.example does not list", v)
		}
	}
	for v := range listed {
		if !used[v] {
			t.Errorf(".env.example lists %s, which docker-compose.yml never reads", v)
		}
	}
}

// checkPublishedPorts: exactly the documented ports are published, and the
// topology's README names each.
func checkPublishedPorts(t *testing.T, tp topology, p *types.Project) {
	var got []string
	for _, s := range p.Services {
		for _, port := range s.Ports {
			got = append(got, port.HostIP+":"+port.Published+"/"+port.Protocol)
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(tp.ports))
	if !slices.Equal(got, want) {
		t.Errorf("published ports %v, documented %v", got, want)
	}
	readme := readFile(t, "deploy/"+tp.dir+"/README.md")
	for _, port := range want {
		num := port[strings.LastIndex(port, ":")+1 : strings.Index(port, "/")]
		if !strings.Contains(readme, num) {
			t.Errorf("README.md does not mention published port %s", num)
		}
	}
}

func checkService(t *testing.T, p *types.Project, s types.ServiceConfig) {
	if s.Image == "" {
		t.Errorf("%s: no image", s.Name)
	}
	if hc := s.HealthCheck; hc == nil || hc.Disable || len(hc.Test) < 2 {
		t.Errorf("%s: no healthcheck", s.Name)
	}
	if s.Privileged || s.NetworkMode == "host" || len(s.CapAdd) > 0 {
		t.Errorf("%s: privileged, host network or added capabilities", s.Name)
	}
	if b := s.Build; b != nil {
		df := b.Dockerfile
		if df == "" {
			df = "Dockerfile"
		}
		if _, err := os.Stat(filepath.Join(b.Context, df)); err != nil {
			t.Errorf("%s: build: %v", s.Name, err)
		}
	}
	for _, v := range s.Volumes {
		if v.Type == types.VolumeTypeBind {
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: bind mount source: %v", s.Name, err)
			}
		}
	}
	for dep, d := range s.DependsOn {
		if other, ok := p.Services[dep]; ok && d.Condition == types.ServiceConditionHealthy && other.HealthCheck == nil {
			t.Errorf("%s waits for %s to be healthy, which has no healthcheck", s.Name, dep)
		}
	}
	if strings.HasPrefix(s.Image, "dadns:") {
		checkDadnsService(t, s)
	}
}

// checkDadnsService: the hardening every dadns container gets, the image's
// health check, and a configuration dadns accepts.
func checkDadnsService(t *testing.T, s types.ServiceConfig) {
	if !s.ReadOnly || !slices.Contains(s.CapDrop, "ALL") || !slices.Contains(s.SecurityOpt, "no-new-privileges:true") {
		t.Errorf("%s: want read_only, cap_drop ALL and no-new-privileges", s.Name)
	}
	if s.Init == nil || !*s.Init {
		t.Errorf("%s: want init: true (signals and zombies of the entrypoint's children)", s.Name)
	}
	if got := strings.Join(s.HealthCheck.Test, " "); got != "CMD /usr/local/bin/dadns-healthcheck" {
		t.Errorf("%s: healthcheck %q, want the image's dadns-healthcheck", s.Name, got)
	}
	for _, port := range s.Ports {
		if port.Target < 1024 && s.Sysctls["net.ipv4.ip_unprivileged_port_start"] != "0" {
			t.Errorf("%s: publishes port %d without net.ipv4.ip_unprivileged_port_start=0", s.Name, port.Target)
		}
	}
	if s.Build == nil || s.Build.Args["DNS_SERVER"] == nil || !slices.Contains(variants, *s.Build.Args["DNS_SERVER"]) {
		t.Fatalf("%s: build arg DNS_SERVER must be one of %v", s.Name, variants)
	}
	file := repoPath(t, "deploy/docker/app-"+*s.Build.Args["DNS_SERVER"]+".yml")
	for _, v := range s.Volumes {
		if v.Target == "/etc/directdnsonly/app.yml" {
			file = v.Source
		}
	}
	var env []string
	for _, k := range slices.Sorted(maps.Keys(s.Environment)) {
		if v := s.Environment[k]; v != nil {
			env = append(env, k+"="+*v)
		}
	}
	cfg := checkConfig(t, file, env)
	if cfg.App.ListenPort != 2222 || !cfg.App.HealthzPublic {
		t.Errorf("%s: app.listen_port %d, healthz_public %v: the health check asks port 2222 without credentials",
			s.Name, cfg.App.ListenPort, cfg.App.HealthzPublic)
	}
}

// secretKey matches setting names that hold secrets.
var secretKey = regexp.MustCompile(`(?i)pass|secret|token|(^|_)key$`)

// notSecrets are secret-looking settings that hold none.
var notSecrets = map[string]bool{"MARIADB_RANDOM_ROOT_PASSWORD": true}

// checkNoLiteralSecrets: every secret-looking value in the compose file
// comes from a variable, never from the file itself.
func checkNoLiteralSecrets(t *testing.T, tp topology) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(readFile(t, "deploy/"+tp.dir+"/docker-compose.yml")), &doc); err != nil {
		t.Fatal(err)
	}
	interp := regexp.MustCompile(`^\$\{\w+(:?[-?][^}]*)?\}$`)
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i].Value, n.Content[i+1]
				if secretKey.MatchString(k) && !notSecrets[k] && v.Kind == yaml.ScalarNode && !interp.MatchString(v.Value) {
					t.Errorf("line %d: %s is written in the file; take it from a variable", v.Line, k)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
}
