package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/dadns/dadns/internal/testutil/fakeda"
)

const chromiumPath = "/usr/bin/chromium"

// browser is one headless chromium tab that answers the HTTP Basic
// challenge with the credentials it is given (none: it cancels, as a
// person pressing Cancel at the login prompt), and counts JavaScript
// dialogs (dismissing them).
type browser struct {
	t       *testing.T
	ctx     context.Context
	creds   atomic.Pointer[[2]string]
	dialogs atomic.Int32
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	if _, err := exec.LookPath(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing and CI=true", chromiumPath)
		}
		t.Skipf("%s not installed", chromiumPath)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("mute-audio", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1360, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(alloc)
	ctx, cancelTime := context.WithTimeout(ctx, 4*time.Minute)
	t.Cleanup(func() { cancelTime(); cancelTab(); cancelAlloc() })
	b := &browser{t: t, ctx: ctx}
	b.handleEvents()
	yes := true
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{HandleAuthRequests: &yes}); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return b
}

// handleEvents lets requests through, answers the login prompt and
// dismisses dialogs, each from its own goroutine.
func (b *browser) handleEvents() {
	paused := chromedp.Events(b.ctx, fetch.RequestPaused)
	auth := chromedp.Events(b.ctx, fetch.AuthRequired)
	dialogs := chromedp.Events(b.ctx, page.JavascriptDialogOpening)
	go func() {
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(b.ctx, fetch.ContinueRequest, fetch.ContinueRequestParams{RequestID: ev.RequestID})
		}
	}()
	go func() {
		for ev, err := range auth {
			if err != nil {
				return
			}
			resp := &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseCancelAuth}
			if c := b.creds.Load(); c != nil {
				resp = &fetch.AuthChallengeResponse{Response: fetch.AuthChallengeResponseResponseProvideCredentials,
					Username: c[0], Password: c[1]}
			}
			_, _ = chromedp.Call(b.ctx, fetch.ContinueWithAuth, fetch.ContinueWithAuthParams{RequestID: ev.RequestID, AuthChallengeResponse: resp})
		}
	}()
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			b.dialogs.Add(1)
			_, _ = chromedp.Call(b.ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		}
	}()
}

// open navigates to path on n and returns the text of the page.
func (b *browser) open(n *node, path string) string {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(n.url+path)); err != nil {
		b.t.Fatalf("open %s: %v", path, err)
	}
	b.waitLoaded("open " + path)
	return b.bodyText()
}

// text is the visible text of the first element css selects.
func (b *browser) text(css string) string {
	b.t.Helper()
	s, ok := b.maybeText(css)
	if !ok {
		b.t.Fatalf("no %s in the page at %s:\n%s", css, b.location(), b.bodyText())
	}
	return s
}

// maybeText is the visible text of css, and whether the page has it.
func (b *browser) maybeText(css string) (string, bool) {
	b.t.Helper()
	js := fmt.Sprintf(`(() => { const el = document.querySelector(%q); return el ? [true, el.innerText] : [false, ""] })()`, css)
	res, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]any](js))
	if err != nil {
		b.t.Fatalf("text of %s: %v", css, err)
	}
	found, _ := res[0].(bool)
	text, _ := res[1].(string)
	return text, found
}

func (b *browser) bodyText() string {
	res, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	return res
}

// click clicks css and waits until another page has loaded.
func (b *browser) click(css string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`window.dadnsOldPage = true`)); err != nil {
		b.t.Fatalf("mark page: %v", err)
	}
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		b.t.Fatalf("click %s: %v", css, err)
	}
	b.waitLoaded("click " + css)
}

// waitLoaded waits until a page other than the one marked by click has
// loaded and shows some text.
func (b *browser) waitLoaded(what string) {
	b.t.Helper()
	const loaded = `window.dadnsOldPage === undefined && document.readyState === "complete" && !!document.body && document.body.innerText.length > 0`
	deadline := time.Now().Add(30 * time.Second)
	for {
		done, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](loaded))
		if err == nil && done {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s: no page loaded (%v)", what, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeInto replaces the value of the input css selects with s, by keys.
func (b *browser) typeInto(css, s string) {
	b.t.Helper()
	clear := fmt.Sprintf(`(() => { const el = document.querySelector(%q); el.value = ""; return true })()`, css)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](clear)); err != nil {
		b.t.Fatalf("clear %s: %v", css, err)
	}
	if err := chromedp.Do(b.ctx, chromedp.SendKeys(chromedp.CSS(css), s)); err != nil {
		b.t.Fatalf("type into %s: %v", css, err)
	}
}

func (b *browser) location() string {
	b.t.Helper()
	u, err := chromedp.Run(b.ctx, chromedp.Location())
	if err != nil {
		b.t.Fatal(err)
	}
	return u
}

// waitText reloads path until the text of css holds want.
func (b *browser) waitText(n *node, path, css, want string) string {
	b.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		b.open(n, path)
		got, _ := b.maybeText(css)
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s %s never showed %q; last:\n%s", path, css, want, got)
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// screenshot writes the page (all of it when full, else the first
// screen) to docs/ui/name.png when DADNS_UI_SCREENSHOTS=1.
func (b *browser) screenshot(name string, full bool) {
	b.t.Helper()
	if os.Getenv("DADNS_UI_SCREENSHOTS") != "1" {
		return
	}
	shot := chromedp.CaptureScreenshot()
	if full {
		shot = chromedp.FullScreenshot(100)
	}
	png, err := chromedp.Run(b.ctx, shot)
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	dir := filepath.Join("..", "..", "docs", "ui")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func mustContain(t *testing.T, what, text string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(text, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, text)
		}
	}
}

// TestBrowserScenario drives the pages in chromium against a real dadns
// holding 1,000 zones, with a backend whose database does not answer.
func TestBrowserScenario(t *testing.T) {
	b := newBrowser(t)
	da := fakeda.Start(t, fakeda.Options{})
	da.AddLocal("missing.example", "carol", fakeda.Zone("missing.example", 3))
	n := startNode(t, adminKeys, fmt.Sprintf(`reconciliation:
  enabled: true
  initial_delay_minutes: 10000
  directadmin_servers:
    - {hostname: 127.0.0.1, port: %d, username: admin, password: secret, ssl: false, dns_address: "%s"}
`, da.Port, da.DNSAddr()))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("dadns log:\n%s", n.log)
		}
	})
	n.push("xss.example", zoneText("xss.example", 1, "<script>alert(1)</script>"), "da1.example.net")
	n.pushMany(1000)
	eventually(t, "builtin serving every zone", 90*time.Second, func() bool {
		_, body := n.admin("GET", "/status", nil, nil)
		return strings.Contains(body, `"applied": 1001`) && strings.Contains(body, `"down": true`)
	})

	// Log in: cancelling the prompt leaves the page closed; the admin
	// credentials open it.
	mustContain(t, "page without login", b.open(n, "/ui/"), "authentication%20required")
	b.creds.Store(&[2]string{adminUser, adminPass})
	overview := b.open(n, "/ui/")
	mustContain(t, "overview", overview, "Overview", "1,001", "builtin", "dc2", "connection refused")
	dc2 := b.text(`tr.row-down`)
	mustContain(t, "overview dc2 row", dc2, "dc2", "down", "0 / 1,001", "connection refused")
	mustContain(t, "overview builtin row", b.text(`tr.row-ok`), "builtin", "ok", "1,001 / 1,001")
	b.screenshot("overview", true)

	// Find one zone among 1,000 by search and open it.
	b.open(n, "/ui/zones")
	b.screenshot("zones", false)
	b.typeInto(`input[name=q]`, "ne-0042")
	b.click(`form.filters button[type=submit]`)
	list := b.text("main")
	mustContain(t, "search result", list, "1 match", "zone-0042.example", "da1.example.net")
	if strings.Contains(list, "zone-0043.example") {
		t.Fatalf("search shows other zones:\n%s", list)
	}
	b.click(`a.zone-link`)
	mustContain(t, "zone page", b.location(), "/ui/zones/zone-0042.example")
	mustContain(t, "records", b.text("#records"), "www.zone-0042.example.", "192.0.2.80", "MX", "10 mx.zone-0042.example.", "hello")
	mustContain(t, "history", b.text("main"), "Push history", "da1.example.net", "2026010100")
	states := b.text("#backend-states")
	mustContain(t, "backend states", states, "builtin", "applied", "v1 / v1", "dc2", "v0 / v1", "backend down", "connection refused")

	// What does the builtin answer?
	b.typeInto(`input[name=ask]`, "www.zone-0042.example")
	if err := chromedp.Do(b.ctx, chromedp.SetValue(chromedp.CSS(`select[name=type]`), "TXT")); err != nil {
		t.Fatal(err)
	}
	b.click(`form.ask button`)
	mustContain(t, "answer", b.text("#answer"), "NOERROR", "authoritative", `"hello"`)
	b.screenshot("zone", true)

	// Resync on every backend: the desired version moves to 2, the builtin
	// applies it, dc2 fails it again.
	b.click(`#resync-all`)
	mustContain(t, "after resync", b.text("main"), "Resync stored")
	got := b.waitText(n, "/ui/zones/zone-0042.example", `tr[data-backend=builtin]`, "v2 / v2")
	mustContain(t, "builtin after resync", got, "applied")
	mustContain(t, "dc2 after resync", b.waitText(n, "/ui/zones/zone-0042.example", `tr[data-backend=dc2]`, "v0 / v2"), "connection refused")
	// Resync on the builtin alone: its applied version drops to 0 and
	// comes back; the zone's version stays 2.
	b.click(`tr[data-backend=builtin] button`)
	mustContain(t, "after resync here", b.text("main"), "Resync stored for the chosen backend")
	b.waitText(n, "/ui/zones/zone-0042.example", `tr[data-backend=builtin]`, "v2 / v2")
	if v := n.version("zone-0042.example"); v != 2 {
		t.Fatalf("resync on one backend changed the version to %d", v)
	}

	// Delete, with the typed confirmation: a wrong name is refused.
	b.typeInto(`#confirm-name`, "zone-0043.example")
	b.click(`#delete-zone`)
	mustContain(t, "wrong confirmation", b.text("main"), "Not deleted")
	if v := n.version("zone-0042.example"); v != 2 {
		t.Fatalf("refused delete changed the zone: version %d", v)
	}
	b.typeInto(`#confirm-name`, "zone-0042.example")
	b.click(`#delete-zone`)
	mustContain(t, "after delete", b.text("main"), "Zone deleted")
	if after := b.open(n, "/ui/zones?q=zone-0042"); !strings.Contains(after, "No zone matches") {
		_, doc := n.admin("GET", "/api/v1/zones/zone-0042.example", nil, nil)
		t.Fatalf("search after delete still finds the zone:\n%s\nadmin API: %s\nzone page:\n%s", after, doc, b.open(n, "/ui/zones/zone-0042.example"))
	}
	if v := n.version("zone-0042.example"); v != 0 {
		t.Fatal("deleted zone still served by the admin API")
	}

	// Hostile zone text is shown as text: no script runs, no dialog opens.
	page := b.open(n, "/ui/zones/xss.example")
	mustContain(t, "xss zone", b.text("#records"), "<script>alert(1)</script>")
	mustContain(t, "xss original", page, "xss.example")
	b.open(n, "/ui/zones/xss.example?ask=www.xss.example&type=TXT")
	mustContain(t, "xss answer", b.text("#answer"), "<script>alert(1)</script>")
	scripts, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll("main script, main [onerror], main [onload]").length`))
	if err != nil || scripts != 0 {
		t.Fatalf("script elements in the page: %d (%v)", scripts, err)
	}

	// Failures: dc2's errors with their next retry; retry one now.
	b.open(n, "/ui/failures")
	mustContain(t, "failures", b.text("#down"), "Backends not answering", "dc2", "down", "connection refused")
	b.screenshot("failures", false)
	b.click(`#retry-all`)
	mustContain(t, "retry all", b.text("main"), "Retries made due now")

	// Reconcile: a dry run shows the plan (fetch missing.example); a pass
	// run now fetches it.
	b.open(n, "/ui/reconcile")
	b.click(`#dry-run`)
	mustContain(t, "plan", b.text("#plan"), "fetch", "missing.example", "127.0.0.1", "complete")
	if v := n.version("missing.example"); v != 0 {
		t.Fatal("a dry run stored a zone")
	}
	b.click(`#run-now`)
	mustContain(t, "run now", b.text("main"), "pass started")
	b.waitText(n, "/ui/reconcile", "#passes", "live")
	eventually(t, "missing.example fetched", 30*time.Second, func() bool { return n.version("missing.example") == 1 })
	// One more zone appears on DirectAdmin: the next dry run plans it,
	// below the live pass that fetched the first.
	da.AddLocal("later.example", "carol", fakeda.Zone("later.example", 5))
	b.click(`#dry-run`)
	plan := b.text("#plan")
	mustContain(t, "second plan", plan, "later.example")
	if strings.Contains(plan, "missing.example") {
		t.Fatalf("the second plan fetches missing.example again:\n%s", plan)
	}
	b.screenshot("reconcile", true)

	if d := b.dialogs.Load(); d != 0 {
		t.Fatalf("%d JavaScript dialogs opened", d)
	}
}
