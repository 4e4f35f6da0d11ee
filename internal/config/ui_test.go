package config

import "testing"

func TestUIEnabledKey(t *testing.T) {
	if c := mustLoad(t, ""); !c.App.UIEnabled {
		t.Error("ui_enabled defaults to false; want true (served once admin credentials are set)")
	}
	if c := mustLoad(t, "app: {ui_enabled: false}"); c.App.UIEnabled {
		t.Error("ui_enabled: false not read")
	}
	if c := mustLoad(t, "app: {ui_enabled: true}", "DADNS_APP_UI_ENABLED=false"); c.App.UIEnabled {
		t.Error("DADNS_APP_UI_ENABLED=false did not override the file")
	}
	_, err := loadYAML(t, "app: {ui_enabled: sometimes}")
	if _, ok := findProblem(problemsOf(t, err), "app.ui_enabled", ""); !ok {
		t.Errorf("ui_enabled: sometimes accepted: %v", err)
	}
	_, err = loadEnvOnly("DADNS_APP_UI_ENABLED=perhaps")
	if _, ok := findProblem(problemsOf(t, err), "app.ui_enabled", ""); !ok {
		t.Errorf("DADNS_APP_UI_ENABLED=perhaps accepted: %v", err)
	}
}
