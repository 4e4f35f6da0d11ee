package deploy_test

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/types"
)

// TestCorefile: the Corefile of the coredns_mysql topology does what
// shared/docs/coredns-mysql.md asks of operators.
func TestCorefile(t *testing.T) {
	text := readFile(t, "deploy/coredns-mysql/Corefile")
	for _, want := range []string{
		`(?s)header \{\s*response set aa\s*\}`,          // the plugin never sets AA
		`(?m)^\s*success_heartbeat_time \d+s$`,          // new zones wait for this refresh
		`(?m)^\s*dsn "\{\$DB_USER\}:\{\$DB_PASSWORD\}@`, // credentials from the environment
		`(?m)^\s*zones_table zones$`,
		`(?m)^\s*records_table records$`,
		`(?m)^\s*dump_file /var/cache/coredns/`,
		`(?m)^\s*ready :8181$`, // the image's health check asks it
	} {
		if !regexp.MustCompile(want).MatchString(text) {
			t.Errorf("Corefile does not match %s", want)
		}
	}
	directives := coreDNSDirectives(t)
	for _, d := range corefileDirectives(text) {
		if !slices.Contains(directives, d) {
			t.Errorf("Corefile uses %s, which coredns/main.go does not build in", d)
		}
	}
	if h, m := slices.Index(directives, "header"), slices.Index(directives, "mysql"); h < 0 || m < 0 || h > m {
		t.Errorf("directives %v: header must come before mysql to set AA on its answers", directives)
	}
}

// corefileDirectives returns the directives at the top of the server block.
func corefileDirectives(text string) []string {
	var out []string
	depth := 0
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if depth == 1 && line != "}" {
			out = append(out, strings.Fields(line)[0])
		}
		depth += strings.Count(line, "{") - strings.Count(line, "}")
	}
	return out
}

// coreDNSDirectives reads the directive list of coredns/main.go and checks
// each has its plugin imported.
func coreDNSDirectives(t *testing.T) []string {
	src := readFile(t, "deploy/coredns-mysql/coredns/main.go")
	m := regexp.MustCompile(`(?s)var directives = \[\]string\{(.*?)\}`).FindStringSubmatch(src)
	if m == nil {
		t.Fatal("coredns/main.go: no directives list")
	}
	var out []string
	for _, q := range regexp.MustCompile(`"(\w+)"`).FindAllStringSubmatch(m[1], -1) {
		out = append(out, q[1])
	}
	imports := map[string]string{"prometheus": "plugin/metrics", "mysql": "cybercinch/coredns_mysql_extend"}
	for _, d := range out {
		path := imports[d]
		if path == "" {
			path = "plugin/" + d
		}
		if !strings.Contains(src, path+`"`) {
			t.Errorf("coredns/main.go lists directive %s without importing %s", d, path)
		}
	}
	return out
}

// TestCoreDNSImage: the CoreDNS image checks the plugin is in, runs
// unprivileged and has a health check.
func TestCoreDNSImage(t *testing.T) {
	df := loadDockerfile(t, "deploy/coredns-mysql/coredns/Dockerfile")
	final := &df.stages[len(df.stages)-1]
	checkFinalUser(t, final)
	if len(final.all("HEALTHCHECK")) != 1 {
		t.Error("no HEALTHCHECK")
	}
	build := df.stage("build")
	if build == nil || len(build.all("RUN")) == 0 {
		t.Fatal("no build stage")
	}
	run := build.all("RUN")[0].args
	for _, want := range []string{"CGO_ENABLED=0 go build", "-plugins | grep -qx mysql", "${COREDNS_VERSION}", "${MYSQL_PLUGIN_VERSION}"} {
		if !strings.Contains(run, want) {
			t.Errorf("build step lacks %q", want)
		}
	}
}

// TestCoreDNSReadsWhatDadnsWrites: each CoreDNS container reads the
// database, account and password that dadns writes in its data centre.
func TestCoreDNSReadsWhatDadnsWrites(t *testing.T) {
	var tp topology
	for _, x := range topologies {
		if x.dir == "coredns-mysql" {
			tp = x
		}
	}
	p, err := tp.load(t, tp.filledEnv(t))
	if err != nil {
		t.Fatal(err)
	}
	dadns := p.Services["dadns"]
	cfg := checkConfig(t, repoPath(t, "deploy/coredns-mysql/app.yml"), nil)
	corefile := readFile(t, "deploy/coredns-mysql/Corefile")
	checked := 0
	for _, s := range p.Services {
		if !strings.HasPrefix(s.Image, "coredns-mysql:") {
			continue
		}
		for _, m := range regexp.MustCompile(`\{\$(\w+)\}`).FindAllStringSubmatch(corefile, -1) {
			if s.Environment[m[1]] == nil {
				t.Errorf("%s: the Corefile reads %s, which the service does not set", s.Name, m[1])
			}
		}
		host := env(s, "DB_HOST")
		name, backend := backendFor(cfg, host)
		if backend == nil {
			t.Errorf("%s reads %s, to which dadns writes nothing", s.Name, host)
			continue
		}
		db := p.Services[host]
		for _, pair := range [][3]string{
			{"DB_NAME", "database", "MARIADB_DATABASE"},
			{"DB_USER", "username", "MARIADB_USER"},
		} {
			if v := env(s, pair[0]); v != backend[pair[1]] || v != env(db, pair[2]) {
				t.Errorf("%s %s=%q; dadns %s %v; %s %s=%q", s.Name, pair[0], v, name, backend[pair[1]], host, pair[2], env(db, pair[2]))
			}
		}
		pass := env(s, "DB_PASSWORD")
		if pass == "" || pass != env(dadns, "DADNS_DNS_BACKENDS_"+strings.ToUpper(name)+"_PASSWORD") || pass != env(db, "MARIADB_PASSWORD") {
			t.Errorf("%s: DB_PASSWORD is not the password dadns and %s use for %s", s.Name, host, name)
		}
		checked++
	}
	if checked != 2 {
		t.Errorf("checked %d CoreDNS services, want 2", checked)
	}
}

func env(s types.ServiceConfig, key string) string {
	if v := s.Environment[key]; v != nil {
		return *v
	}
	return ""
}

// backendFor returns the dadns backend that writes to host.
func backendFor(cfg effectiveConfig, host string) (string, map[string]any) {
	for name, b := range cfg.DNS.Backends {
		if b["type"] == "coredns_mysql" && b["host"] == host {
			return name, b
		}
	}
	return "", nil
}
