package main_test

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/vnfpkgm/vnfpkgm/csar"
	"github.com/vnfpkgm/vnfpkgm/internal/testenv"
	"github.com/vnfpkgm/vnfpkgm/tosca"
	"github.com/vnfpkgm/vnfpkgm/tosca/vnfd"
)

// browser is a headless Chromium driven over the DevTools protocol, with
// every console error and uncaught exception of its pages recorded.
type browser struct {
	ctx    context.Context
	mu     sync.Mutex
	errors []string
	shots  string
}

func startBrowser(t *testing.T) *browser {
	t.Helper()
	chrome := testenv.Command(t, "chromium", "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx, shots: os.Getenv("VNFPKGM_SCREENSHOTS")}
	if b.shots == "" {
		b.shots = t.TempDir()
	}
	// The first Run starts the browser, which lives as long as ctx: it
	// must carry no timeout (each step gets its own in run).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting %s: %v", chrome, err)
	}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				b.mu.Lock()
				b.errors = append(b.errors, m.String())
				b.mu.Unlock()
			}
		}
	}()
	// The delete button asks for confirmation: accept it, from another
	// goroutine than the one that receives the events.
	dialogs := chromedp.Events(ctx, page.JavascriptDialogOpening)
	go func() {
		for _, err := range dialogs {
			if err != nil {
				return
			}
			go chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: true})
				return err
			}))
		}
	}()
	return b
}

// run runs steps with a deadline, failing the test with the page's main
// content when one fails.
func (b *browser) run(t *testing.T, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(t, what, err)
	}
}

func (b *browser) fail(t *testing.T, what string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	html, _ := chromedp.Run(ctx, chromedp.OuterHTML(chromedp.CSS("main")))
	t.Fatalf("%s: %v\npage: %.3000s", what, err, html)
}

// eval evaluates a script in the page.
func eval[T any](t *testing.T, b *browser, what, js string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		b.fail(t, what, err)
	}
	return v
}

func pollPage(js string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(60*time.Second))
}

// shot writes a full-page screenshot for people to look at.
func (b *browser) shot(t *testing.T, name string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail(t, "screenshot "+name, err)
	}
	path := filepath.Join(b.shots, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", path)
}

// checkBasics asserts what every console page must offer: each form
// control has a label, nothing is wider than the viewport, and no script
// error happened so far.
func (b *browser) checkBasics(t *testing.T, page string) {
	t.Helper()
	unlabelled := eval[[]string](t, b, "labels on "+page, `[...document.querySelectorAll('input, select, textarea')]
		.filter((e) => e.type !== 'hidden' && !e.closest('dialog:not([open])'))
		.filter((e) => !(e.labels && e.labels.length) && !e.getAttribute('aria-label') && !e.getAttribute('aria-labelledby'))
		.map((e) => e.outerHTML)`)
	if len(unlabelled) > 0 {
		t.Errorf("%s: form controls without a label: %v", page, unlabelled)
	}
	widths := eval[[]int](t, b, "width of "+page, `[document.documentElement.scrollWidth, window.innerWidth]`)
	if widths[0] > widths[1] {
		wide := eval[[]string](t, b, "wide elements", `[...document.querySelectorAll('main *')]
			.filter((e) => e.getBoundingClientRect().right > window.innerWidth + 1)
			.slice(-5).map((e) => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right))`)
		t.Errorf("%s: the page is %d px wide in a %d px window: it scrolls sideways (%v)", page, widths[0], widths[1], wide)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.errors) > 0 {
		t.Errorf("%s: script errors: %v", page, b.errors)
		b.errors = nil
	}
}

// expectedGraph is what the diagram of a flavour must hold, computed from
// the package by the project's own VNFD reader: one node per VDU, storage,
// connection point (VDU CPs and VnfExtCps), virtual link and image, and one
// edge per reference between them.
func expectedGraph(t *testing.T, pkgFile string) (flavour string, vdus, cps, edges int) {
	t.Helper()
	pf, err := os.Open(pkgFile)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	st, err := pf.Stat()
	if err != nil {
		t.Fatal(err)
	}
	a, err := csar.Open(context.Background(), pf, st.Size(), csar.DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	pkg := csar.Inspect(a, csar.Options{})
	model, _ := vnfd.Extract(tosca.Process(a, pkg.EntryDefinitions, tosca.Options{}))
	if model == nil || len(model.Flavours) == 0 {
		t.Fatalf("%s has no flavour", pkgFile)
	}
	f := model.Flavours[0]
	cps = len(f.VduCps)
	for _, x := range f.ExtCps {
		if x.Kind != "VduCp" {
			cps++
			if x.InternalVirtualLink != "" {
				edges++
			}
		}
	}
	for _, v := range f.VDUs {
		edges += len(v.Storages)
		if v.SwImage != nil {
			edges++
		}
	}
	for _, s := range f.Storages {
		if s.SwImage != nil {
			edges++
		}
	}
	for _, cp := range f.VduCps {
		if cp.VirtualBinding != "" {
			edges++
		}
		if cp.VirtualLink != "" {
			edges++
		}
	}
	return f.ID, len(f.VDUs), cps, edges
}

// zipLine is line n (1-based) of a member of a zip file.
func zipLine(t *testing.T, file, member string, n int) string {
	t.Helper()
	zr, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	f, err := zr.Open(member)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		t.Fatalf("%s has %d lines, no line %d", member, len(lines), n)
	}
	return lines[n-1]
}

// TestConsoleInBrowser drives the web console in headless Chromium
// against the real server: the jobs the console is for, checked in the
// DOM (not by pixels), with screenshots of each page.
func TestConsoleInBrowser(t *testing.T) {
	b := startBrowser(t)
	s := startServer(t, "")
	valid := corpusFile(t, "helloworld3-multi.zip")
	invalid := corpusFile(t, "bad-artifact-hash.zip")
	console := s.base + "/console/"
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	// Upload a valid package: the progress bar fills and the state ends ONBOARDED.
	b.run(t, "upload a valid package",
		chromedp.Navigate(console+"#/upload"),
		chromedp.WaitVisible(css("#upload-file")),
		chromedp.SetUploadFiles(css("#upload-file"), []string{valid}),
		pollPage(`(document.querySelector('#upload-state .onboarding-state')||{}).textContent?.includes('ONBOARDED')`))
	if progress := eval[string](t, b, "progress", `document.querySelector('#upload-progress').value + ''`); progress != "100" {
		t.Errorf("upload progress ends at %q, want 100", progress)
	}
	b.checkBasics(t, "upload")
	b.shot(t, "upload-onboarded")
	validID := eval[string](t, b, "package link", `decodeURIComponent(document.querySelector('#upload-state a').hash.split('/')[2])`)

	// Upload an invalid one: every problem the API reports is listed with its
	// file and line, and its link shows the file's text at that line.
	b.run(t, "upload an invalid package",
		chromedp.Navigate(console+"#/upload"),
		chromedp.WaitVisible(css("#upload-file")),
		chromedp.SetUploadFiles(css("#upload-file"), []string{invalid}),
		pollPage(`document.querySelector('#upload-state .problems') !== null`))
	invalidID := eval[string](t, b, "invalid package link", `decodeURIComponent(document.querySelector('#upload-state a').hash.split('/')[2])`)
	var info map[string]any
	s.do("GET", pkgs+"/"+invalidID, nil).json(t, &info)
	if info["onboardingState"] != "ERROR" {
		t.Fatalf("the invalid package is %v", info["onboardingState"])
	}
	apiProblems := info["onboardingFailureDetails"].(map[string]any)["problems"].([]any)
	shown := eval[[]string](t, b, "problem rows", `[...document.querySelectorAll('#upload-state .problems tbody tr')].map((r) => [...r.cells].map((c) => c.textContent).join(' | '))`)
	if len(shown) != len(apiProblems) {
		t.Fatalf("the page lists %d problems, the API %d:\n%s", len(shown), len(apiProblems), strings.Join(shown, "\n"))
	}
	var target map[string]any
	for i, raw := range apiProblems {
		pr := raw.(map[string]any)
		where := fmt.Sprint(pr["file"])
		if line, ok := pr["line"].(float64); ok && line > 0 {
			where += fmt.Sprintf(":%d", int(line))
			if target == nil && pr["severity"] == "error" {
				target = pr
			}
		}
		found := false
		for _, row := range shown {
			found = found || (strings.Contains(row, fmt.Sprint(pr["code"])) && strings.Contains(row, where))
		}
		if !found {
			t.Errorf("problem %d (%s at %s) is not on the page", i, pr["code"], where)
		}
	}
	if !strings.Contains(shown[0], "error") {
		t.Errorf("the first problem listed is %q: errors come first", shown[0])
	}
	b.checkBasics(t, "problems")
	b.shot(t, "upload-error-problems")
	if target == nil {
		t.Fatalf("no error with a line among %v", apiProblems)
	}
	file, line := fmt.Sprint(target["file"]), int(target["line"].(float64))
	b.run(t, "open the problem's file",
		chromedp.Click(css(fmt.Sprintf(`#upload-state .problems a[href*="line=%d"]`, line)), chromedp.NodeVisible),
		chromedp.WaitVisible(css("ol.source li.highlight")))
	highlighted := eval[string](t, b, "highlighted line", `(() => { const li = document.querySelector('ol.source li.highlight');
		return [...li.parentNode.children].indexOf(li) + 1 + '|' + li.textContent; })()`)
	if want := fmt.Sprintf("%d|%s", line, zipLine(t, invalid, file, line)); highlighted != want {
		t.Errorf("highlighted line %q, want %q", highlighted, want)
	}
	b.checkBasics(t, "file")
	b.shot(t, "problem-file")

	// The VNFD diagram: one node per VDU and CP, one edge per link.
	flavour, vdus, cps, edges := expectedGraph(t, valid)
	b.run(t, "package page", chromedp.Navigate(console+"#/packages/"+validID), chromedp.WaitVisible(css("svg.vnfd-graph")))
	counts := eval[[]int](t, b, "diagram", `[document.querySelectorAll('svg.vnfd-graph g.node[data-kind=vdu]').length,
		document.querySelectorAll('svg.vnfd-graph g.node[data-kind=cp], svg.vnfd-graph g.node[data-kind=extcp]').length,
		document.querySelectorAll('svg.vnfd-graph path.edge').length]`)
	if counts[0] != vdus || counts[1] != cps || counts[2] != edges {
		t.Errorf("flavour %s drawn with %d VDUs, %d CPs, %d edges; the VNFD has %d, %d, %d", flavour, counts[0], counts[1], counts[2], vdus, cps, edges)
	}
	b.run(t, "select a VDU", chromedp.Click(css(`svg.vnfd-graph g.node[data-kind=vdu]`), chromedp.NodeVisible),
		chromedp.WaitVisible(css(".node-details pre")))
	if details := eval[string](t, b, "node details", `document.querySelector('.node-details pre').textContent`); !strings.Contains(details, `"virtualCompute"`) {
		t.Errorf("clicking a VDU shows %q, want its properties", details)
	}
	// The keyboard reaches every node: Tab focus, Enter selects.
	b.run(t, "select a CP with the keyboard",
		chromedp.Focus(css(`svg.vnfd-graph g.node[data-kind=cp]`)),
		chromedp.KeyEvent("\r"),
		pollPage(`document.querySelector('.node-details h3')?.textContent.startsWith('Connection point')`))
	b.checkBasics(t, "package")
	b.shot(t, "package")

	// Filter the list by provider, then by state.
	rows := func(what string) []string {
		return eval[[]string](t, b, what, `[...document.querySelectorAll('main tbody tr')].map((r) => r.cells[0].textContent)`)
	}
	b.run(t, "filter by provider",
		chromedp.Navigate(console+"#/packages"),
		chromedp.WaitVisible(css("#f-provider")),
		chromedp.SendKeys(css("#f-provider"), "DemoLabs"),
		chromedp.Click(css("form.facets button[type=submit]"), chromedp.NodeVisible),
		pollPage(`document.querySelector('main p.summary')?.textContent.includes('DemoLabs')`))
	if got := rows("provider rows"); len(got) != 1 || got[0] != "Demo VNF" {
		t.Errorf("provider DemoLabs lists %v, want [Demo VNF]", got)
	}
	b.run(t, "filter by state", chromedp.Navigate(console+"#/packages?onboarding=ERROR"),
		pollPage(`document.querySelector('main p.summary')?.textContent.includes('ERROR')`))
	if got := rows("error rows"); len(got) != 1 || got[0] != invalidID {
		t.Errorf("onboarding ERROR lists %v, want [%s]", got, invalidID)
	}
	b.checkBasics(t, "list")
	b.shot(t, "list")

	// Narrow screen: the list and a package page fit 400 px.
	b.run(t, "narrow list", chromedp.EmulateViewport(400, 900), chromedp.Navigate(console+"#/packages"),
		chromedp.WaitVisible(css("main p.summary")))
	b.checkBasics(t, "list at 400 px")
	b.shot(t, "list-400px")
	b.run(t, "narrow package", chromedp.Navigate(console+"#/packages/"+validID), chromedp.WaitVisible(css("svg.vnfd-graph")))
	b.checkBasics(t, "package at 400 px")
	b.run(t, "wide", chromedp.EmulateViewport(1280, 1000))

	// A VIM: the capabilities its driver reports, its images and compute.
	// (It needs the sample kernel: without `make samples` only this part
	// is left out, except under CI, where sampleVNF fails.)
	if _, err := os.Stat(filepath.Join(testenv.RepoRoot(), "samples", "build", "vmlinuz")); err != nil && os.Getenv("CI") != "true" {
		t.Log("VIM page not checked: run make samples")
	} else {
		_, kernel := sampleVNF(t, true)
		v := s.registerLocal(t, kernel, nil)
		b.run(t, "VIM page",
			chromedp.Navigate(console+"#/vims"),
			chromedp.Click(css(`main tbody a`), chromedp.NodeVisible),
			chromedp.WaitVisible(css(`ul.caps`)))
		caps := eval[[]string](t, b, "capabilities", `[...document.querySelectorAll('ul.caps li')].map((l) => l.textContent)`)
		var info map[string]any
		s.do("GET", vims+"/"+v["id"].(string), nil).json(t, &info)
		if want := fmt.Sprint(info["info"].(map[string]any)["capabilities"]); fmt.Sprint(caps) != want {
			t.Errorf("the VIM page lists capabilities %v, the API %s", caps, want)
		}
		b.checkBasics(t, "VIM")
		b.shot(t, "vim")
	}

	// Disable, then delete: the API agrees at each step.
	b.run(t, "disable",
		chromedp.Navigate(console+"#/packages/"+validID),
		chromedp.Click(css(`button[data-action=disable]`), chromedp.NodeVisible),
		chromedp.WaitVisible(css(`button[data-action=enable]`)))
	s.do("GET", pkgs+"/"+validID, nil).json(t, &info)
	if info["operationalState"] != "DISABLED" {
		t.Fatalf("after Disable the API says %v", info["operationalState"])
	}
	b.run(t, "delete",
		chromedp.Click(css(`button[data-action=delete]`), chromedp.NodeVisible),
		pollPage(`location.hash === '#/packages'`))
	if r := s.do("GET", pkgs+"/"+validID, nil); r.status != 404 {
		t.Errorf("after Delete the package answers %d", r.status)
	}
	b.checkBasics(t, "after delete")
}

// forget drops the script errors recorded so far: a step that provokes
// one on purpose (a request refused for want of a token) clears it.
func (b *browser) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = nil
}

// TestConsoleSignInAndSubscriptions: with authentication on, the console
// shows the API's refusal until the user signs in with client credentials
// of the built-in authorization server (the token stays in the page's
// memory), then manages subscriptions whose callback test reaches a real
// receiver.
func TestConsoleSignInAndSubscriptions(t *testing.T) {
	b := startBrowser(t)
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	code, stdout, stderr := runBinary(t, "client", "add", "operator", "--scopes", "vnfpkgm:read,vnfpkgm:write", "--clients-file", clients)
	if code != 0 {
		t.Fatalf("client add: exit %d: %s", code, stderr)
	}
	m := regexp.MustCompile(`client_secret: (\S+)`).FindStringSubmatch(stdout)
	if m == nil {
		t.Fatalf("client add printed no secret: %q", stdout)
	}
	s := startServer(t, "", "--clients-file", clients)
	console := s.base + "/console/"
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }

	b.run(t, "list without a token",
		chromedp.Navigate(console+"#/packages"),
		pollPage(`document.querySelector('main .error-box')?.textContent.length > 0`))
	refusal := eval[string](t, b, "refusal", `document.querySelector('main .error-box').textContent`)
	if !strings.Contains(refusal, "401") && !strings.Contains(strings.ToLower(refusal), "token") {
		t.Errorf("without a token the list shows %q, want the API's 401", refusal)
	}
	b.forget()
	b.run(t, "sign in",
		chromedp.Click(css("#signin-button"), chromedp.NodeVisible),
		chromedp.SendKeys(css("#signin-client-id"), "operator"),
		chromedp.SendKeys(css("#signin-client-secret"), m[1]),
		chromedp.Click(css(`#signin-form button[value=signin]`), chromedp.NodeVisible),
		pollPage(`document.querySelector('main p.summary') !== null`))
	if stored := eval[int](t, b, "storage", `localStorage.length + sessionStorage.length + document.cookie.length`); stored != 0 {
		t.Errorf("signing in stored %d items in the browser; the token must stay in memory", stored)
	}
	b.checkBasics(t, "signed in")

	// A receiver for the callback test (GET answered 204).
	var tested atomic.Int32
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			tested.Add(1)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer recv.Close()
	callback := recv.URL + "/notifications"
	b.run(t, "subscribe",
		chromedp.Navigate(console+"#/subscriptions"),
		chromedp.WaitVisible(css("#s-callback")),
		chromedp.SendKeys(css("#s-callback"), callback),
		chromedp.Click(css(`input[value=VnfPackageOnboardingNotification]`), chromedp.NodeVisible),
		chromedp.Click(css(`form.sub-form button[type=submit]`), chromedp.NodeVisible),
		pollPage(fmt.Sprintf(`[...document.querySelectorAll('main tbody tr')].some((r) => r.textContent.includes(%q))`, callback)))
	if tested.Load() == 0 {
		t.Error("the subscription was listed without the callback test reaching the receiver")
	}
	b.checkBasics(t, "subscriptions")
	b.shot(t, "subscriptions")
	b.run(t, "unsubscribe",
		chromedp.Click(css(`main tbody tr button`), chromedp.NodeVisible),
		pollPage(`document.querySelector('main tbody td.empty') !== null`))
	b.checkBasics(t, "no subscriptions")
}
