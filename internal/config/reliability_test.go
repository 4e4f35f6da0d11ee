package config

import "testing"

func TestReliabilityKeys(t *testing.T) {
	c := mustLoad(t, "app: {}\n")
	want(t, c.Datastore.MaxSizeMB, 0)
	want(t, c.App.ReadHeaderTimeoutSeconds, 10)
	want(t, c.App.ReadTimeoutSeconds, 60)

	c = mustLoad(t, "datastore:\n  max_size_mb: 512\napp:\n  read_header_timeout_seconds: 2\n  read_timeout_seconds: 30\n",
		"DADNS_APP_READ_TIMEOUT_SECONDS=45")
	want(t, c.Datastore.MaxSizeMB, 512)
	want(t, c.App.ReadHeaderTimeoutSeconds, 2)
	want(t, c.App.ReadTimeoutSeconds, 45)

	_, err := loadYAML(t, "datastore:\n  max_size_mb: -1\napp:\n  read_header_timeout_seconds: 0\n  read_timeout_seconds: -5\n")
	ps := problemsOf(t, err)
	for _, key := range []string{"datastore.max_size_mb", "app.read_header_timeout_seconds", "app.read_timeout_seconds"} {
		if _, ok := findProblem(ps, key, "too small"); !ok {
			t.Errorf("no problem reported for %s: %v", key, ps)
		}
	}
}
