package dashboard_test

// The browser the tests drive: Debian's chromium, headless, through
// chromedp. One browser serves every test (each test opens its own tab,
// whose sessionStorage is its own); it starts with the first test that
// needs it and stops when the tests end.
//
// Without chromium the browser tests skip, saying so, except under CI=true,
// where they fail: CI installs chromium (.ci/run).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/testkit"
	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

var browser struct {
	once    sync.Once
	ctx     context.Context // the browser's chromedp context
	cancel  func()
	profile string
	err     error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if browser.cancel != nil {
		browser.cancel()
	}
	if browser.profile != "" {
		os.RemoveAll(browser.profile)
	}
	os.Exit(code)
}

// chromium is the browser's executable: $CALLFN_CHROMIUM, else chromium
// (or chromium-browser) on the PATH; "" when there is none.
func chromium() string {
	if p := os.Getenv("CALLFN_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// browserContext starts the browser once, or skips (fails under CI=true)
// when there is no chromium.
func browserContext(t *testing.T) context.Context {
	t.Helper()
	path := chromium()
	if path == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("chromium is not installed; CI needs it for the dashboard's browser tests (.ci/run installs it: apt-get install chromium)")
		}
		t.Skip("chromium is not installed: the dashboard's browser tests need it (Debian: apt-get install chromium; or set CALLFN_CHROMIUM to a Chrome/Chromium binary)")
	}
	browser.once.Do(func() {
		browser.profile, browser.err = os.MkdirTemp("", "callfn-chromium-")
		if browser.err != nil {
			return
		}
		alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(),
			chromedp.ExecPath(path),
			chromedp.Headless,
			chromedp.NoSandbox,
			chromedp.DisableGPU,
			chromedp.NoFirstRun,
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("disable-dev-shm-usage", true), // containers have a small /dev/shm
			chromedp.UserDataDir(browser.profile),
		)
		ctx, cancelBrowser := chromedp.NewContext(alloc)
		browser.ctx = ctx
		browser.cancel = func() { cancelBrowser(); cancelAlloc() }
		// The first Do starts the browser; its context must not time out.
		browser.err = chromedp.Do(ctx)
	})
	if browser.err != nil {
		t.Fatalf("starting chromium (%s): %v", path, browser.err)
	}
	return browser.ctx
}

// tab is one browser tab on a site. Every tab checks, when its test ends,
// that the page threw nothing, broke no rule of its security policy,
// opened no dialog, and asked nothing of any origin but the site.
type tab struct {
	t    *testing.T
	ctx  context.Context
	site *site

	mu       sync.Mutex
	problems []string
	desktop  [2]int64
}

// cspRecorder runs in every document the tab loads, before the page's own
// script: it keeps the page's security-policy violations for the test.
const cspRecorder = `window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + (e.sample || '')));`

func newTab(t *testing.T, s *site) *tab {
	t.Helper()
	tabCtx, cancelTab := chromedp.NewContext(browserContext(t))
	t.Cleanup(cancelTab)
	if err := chromedp.Do(tabCtx); err != nil { // opens the tab
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(tabCtx, 90*time.Second)
	t.Cleanup(cancel)
	tb := &tab{t: t, ctx: ctx, site: s, desktop: [2]int64{1280, 860}}
	origin := s.URL + "/"
	err := chromedp.Listen(tabCtx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			desc := ""
			if d.Exception != nil {
				desc = d.Exception.Description
			}
			tb.problem("uncaught exception: %s %s (%s:%d:%d)", d.Text, desc, d.URL, d.LineNumber+1, d.ColumnNumber+1)
		case *page.EventJavascriptDialogOpening:
			tb.problem("the page opened a %s dialog: %q", ev.Type, ev.Message)
			go chromedp.Call(tabCtx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: false})
		case *network.EventRequestWillBeSent:
			// data: URLs are the browser's own (its date picker's icon).
			if u := ev.Request.URL; !strings.HasPrefix(u, origin) && !strings.HasPrefix(u, "data:") && u != "about:blank" {
				tb.problem("a request to another origin: %s", u)
			}
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	tb.do(
		command(emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: testTZ}),
		command(emulation.SetLocaleOverride, emulation.SetLocaleOverrideParams{Locale: "en-US"}),
		chromedp.EmulateViewport(tb.desktop[0], tb.desktop[1]),
		command(page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspRecorder}),
	)
	t.Cleanup(tb.check) // runs before the tab closes
	return tb
}

// command is a protocol command as an action.
func command[P, R any](cmd cdp.Command[P, R], params P) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, cmd, params)
		return err
	})
}

func (tb *tab) problem(format string, args ...any) {
	tb.mu.Lock()
	tb.problems = append(tb.problems, fmt.Sprintf(format, args...))
	tb.mu.Unlock()
}

func (tb *tab) check() {
	if csp, err := chromedp.Run(tb.ctx, chromedp.Evaluate[[]string](`window.__csp || []`)); err == nil {
		for _, v := range csp {
			tb.problem("security policy violation: %s", v)
		}
	}
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Error(p)
	}
}

func (tb *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	if err := chromedp.Do(tb.ctx, steps...); err != nil {
		tb.t.Fatal(err)
	}
}

// eval evaluates a JavaScript expression in the page.
func eval[T any](tb *tab, expr string) T {
	tb.t.Helper()
	v, err := chromedp.Run(tb.ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		tb.t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// js quotes s as a JavaScript string.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// open loads the dashboard afresh with fragment ("#/calls?..."), as a
// link opened in this tab would (the tab's sessionStorage stays). It leaves
// the page first: a navigation that changes only the fragment loads nothing.
func (tb *tab) open(fragment string) {
	tb.t.Helper()
	tb.do(chromedp.Navigate("about:blank"), chromedp.Navigate(tb.site.URL+"/dashboard"+fragment))
}

// goTo changes the view as a link would, without reloading the page.
func (tb *tab) goTo(fragment string) {
	tb.t.Helper()
	eval[chromedp.Void](tb, `location.hash = `+js(fragment))
}

// wait waits until a JavaScript expression is truthy, failing with what
// the page shows after 20 s.
func (tb *tab) wait(what, expr string) {
	tb.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var err error
	for {
		_, err = chromedp.Run(tb.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(time.Until(deadline))))
		// A poll that began on the page before a navigation loses its context.
		if err == nil || !strings.Contains(err.Error(), "context") || time.Now().After(deadline) || tb.ctx.Err() != nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		main, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if errors.Is(err, chromedp.ErrPollingTimeout) {
			tb.t.Fatalf("waiting for %s: timed out; the page shows:\n%s", what, main)
		}
		tb.t.Fatalf("waiting for %s: %v; the page shows:\n%s", what, err, main)
	}
}

// signedIn opens the dashboard signed in through the #token= link, on
// fragment's view.
func (tb *tab) signedIn(fragment string) {
	tb.t.Helper()
	tb.open("#token=" + url.QueryEscape(apiToken))
	tb.wait("the signed-in page", `!document.getElementById('top').hidden`)
	if fragment != "" {
		tb.goTo(fragment)
	}
}

// text is the text of the first element matching a CSS selector, "" when none.
func (tb *tab) text(sel string) string {
	return eval[string](tb, `(document.querySelector(`+js(sel)+`) || {textContent: ''}).textContent.trim()`)
}

// rows is the call ids of the listed calls, in order.
func (tb *tab) rows() []string {
	return eval[[]string](tb, `[...document.querySelectorAll('table.calls tbody tr')].map((tr) => tr.dataset.callId)`)
}

// waitRows waits for the call list to be shown (rows, or an empty or
// error state).
func (tb *tab) waitRows() []string {
	tb.t.Helper()
	// The page marks a list settled for the view in the address bar: a
	// list of the view before (a filter just applied) does not count.
	tb.wait("the call list", `document.body.dataset.listed === location.hash && document.querySelector('table.calls tbody tr, main .empty, main .error-box')`)
	if e := tb.text("main .error-box"); e != "" {
		tb.t.Fatalf("the list shows an error: %s", e)
	}
	return tb.rows()
}

// shot saves screenshots of the page as it is, at the desktop size and at
// 375 px wide (a phone: the whole page, and its first screen), under
// .artifacts/screenshots/ for a person to look at. With
// CALLFN_UPDATE_SCREENSHOT=1, the desktop's first screen also goes to
// readme (a path from the repository's root), when not "".
func (tb *tab) shot(name, readme string) {
	tb.t.Helper()
	dir := filepath.Join(testkit.Root(tb.t), ".artifacts", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.t.Fatal(err)
	}
	save := func(file string, png []byte) {
		if err := os.WriteFile(file, png, 0o644); err != nil {
			tb.t.Fatal(err)
		}
		tb.t.Logf("screenshot: %s", file)
	}
	png := tb.screenshot()
	save(filepath.Join(dir, name+"-desktop.png"), png)
	if readme != "" && os.Getenv("CALLFN_UPDATE_SCREENSHOT") == "1" {
		screen, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()) // the first screen, not the whole list
		if err != nil {
			tb.t.Fatal(err)
		}
		save(filepath.Join(testkit.Root(tb.t), readme), screen)
	}
	tb.do(chromedp.EmulateViewport(375, 812, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulateTouch))
	tb.settle()
	save(filepath.Join(dir, name+"-375.png"), tb.screenshot())
	first, err := chromedp.Run(tb.ctx, chromedp.CaptureScreenshot()) // what a phone shows first
	if err != nil {
		tb.t.Fatal(err)
	}
	save(filepath.Join(dir, name+"-375-screen.png"), first)
	tb.do(chromedp.EmulateViewport(tb.desktop[0], tb.desktop[1]), command(emulation.SetTouchEmulationEnabled, emulation.SetTouchEmulationEnabledParams{}))
	tb.settle()
}

func (tb *tab) screenshot() []byte {
	tb.t.Helper()
	png, err := chromedp.Run(tb.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		tb.t.Fatal(err)
	}
	return png
}

// settle lets the page react to a resize (the charts redraw).
func (tb *tab) settle() {
	tb.do(chromedp.Sleep(400 * time.Millisecond))
}
