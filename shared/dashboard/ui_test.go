package dashboard_test

// The dashboard in a real browser, against the records function (its
// call-history routes: the paged list, /users/{id}/calls, /stats) over a
// seeded table whose list requests examine few calls each (scanLimit), so
// that short pages with a next cursor come up as on a large table. The
// "Call-history API" notes say which routes a test reads.

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/dashboard"
)

// The page and its assets come with their security headers through the
// records function's own handler.
func TestSecurityHeadersThroughRecords(t *testing.T) {
	s := newSite(t)
	for _, path := range []string{"/dashboard", "/" + dashboard.AssetURL("app.js"), "/dashboard/nope.js"} {
		resp, err := http.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		if h.Get("Content-Security-Policy") != dashboard.ContentSecurityPolicy || h.Get("X-Frame-Options") != "DENY" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s: %d, headers %v", path, resp.StatusCode, h)
		}
	}
}

// Sign-in: the form, a wrong token, the right one, signing out, and the
// #token= link (right and wrong). Only the token is kept, in sessionStorage.
func TestSignIn(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.open("")
	tb.wait("the sign-in form", `document.getElementById('token')`)
	if n := eval[int](tb, `sessionStorage.length + localStorage.length`); n != 0 {
		t.Errorf("%d items stored before signing in", n)
	}
	tb.shot("signin", "")

	// A wrong token: said so, back on the form, nothing kept.
	tb.do(chromedp.SendKeys(chromedp.ID("token"), "not-the-token"), chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)))
	tb.wait("the wrong-token message", `!document.getElementById('signin-error').hidden`)
	if msg := tb.text("#signin-error"); !strings.Contains(msg, "Wrong token") || !strings.Contains(msg, "401") {
		t.Errorf("wrong token: %q", msg)
	}
	if eval[bool](tb, `!document.getElementById('top').hidden || sessionStorage.length > 0`) {
		t.Error("a wrong token signed in, or was kept")
	}

	// The right one.
	eval[chromedp.Void](tb, `document.getElementById('token').value = ''`)
	tb.do(chromedp.SendKeys(chromedp.ID("token"), apiToken), chromedp.Click(chromedp.CSS(`#signin button[type=submit]`)))
	tb.wait("the signed-in page", `!document.getElementById('top').hidden && document.getElementById('view-title')`)
	if got := tb.text("#view-title"); got != "Calls" {
		t.Errorf("first view %q, want Calls", got)
	}
	stored := eval[map[string]any](tb, `({session: Object.keys(sessionStorage), local: localStorage.length, cookie: document.cookie,
		token: sessionStorage.getItem('callfn.apiToken')})`)
	if fmt.Sprint(stored["session"]) != "[callfn.apiToken]" || stored["local"] != 0.0 || stored["cookie"] != "" || stored["token"] != apiToken {
		t.Errorf("kept in the browser: %v; want only the token in sessionStorage", stored)
	}

	// Signing out forgets it.
	tb.do(chromedp.Click(chromedp.ID("signout")))
	tb.wait("the sign-in form", `document.getElementById('token') && sessionStorage.length === 0`)

	// The #token= link signs in and leaves the address bar at once.
	tb.open("#token=" + url.QueryEscape(apiToken))
	tb.wait("the signed-in page", `!document.getElementById('top').hidden`)
	if href := eval[string](tb, `location.href`); strings.Contains(href, "token") || strings.Contains(href, apiToken) {
		t.Errorf("the token stays in the URL: %s", href)
	}

	// A wrong token in the link: the API's 401 brings the form back, saying so.
	tb.do(chromedp.Click(chromedp.ID("signout")))
	tb.open("#token=wrong")
	tb.wait("the refused-token message", `document.getElementById('signin-error') && !document.getElementById('signin-error').hidden`)
	if msg := tb.text("#signin-error"); !strings.Contains(msg, "refused the token") {
		t.Errorf("wrong token in the link: %q", msg)
	}
	if eval[int](tb, `sessionStorage.length`) != 0 {
		t.Error("a refused token was kept")
	}

	// The form checked each token with GET /records?limit=1 (200 for the
	// token, 401 for another: TestSignInCheck).
	for _, tok := range []string{"not-the-token", apiToken} {
		if !slices.Contains(s.Requests(), request{http.MethodGet, "/records", "limit=1", "Bearer " + tok}) {
			t.Errorf("no GET /records?limit=1 with the token %q checked", tok)
		}
	}

	// Data requests carried the token as a bearer token; the page's own
	// files were asked without it.
	for _, r := range s.Requests() {
		page := r.Path == "/dashboard" || strings.HasPrefix(r.Path, "/dashboard/")
		switch {
		case page && r.Auth != "":
			t.Errorf("%s %s carried Authorization", r.Method, r.Path)
		case !page && r.Auth != "Bearer "+apiToken && r.Auth != "Bearer wrong" && r.Auth != "Bearer not-the-token":
			t.Errorf("%s %s?%s: Authorization %q", r.Method, r.Path, r.Query, r.Auth)
		}
	}
}

// One call: its summary, its timeline in event-time order (the callbacks
// were stored newest first), each raw body on demand, Tencent's record.
func TestCallTimeline(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/call/" + url.PathEscape(idEnded))
	tb.wait("the timeline", `document.querySelector('ol.timeline')`)
	c := s.call(idEnded)

	if got := tb.text("#view-title .ident"); got != idEnded {
		t.Errorf("title id %q", got)
	}
	summary := tb.text("dl.summary")
	for _, want := range []string{"alice", "bob", "Ended normally", "Tencent", "Video", "3m 05s", "6s", "callfn’s table, with Tencent’s record"} {
		if !strings.Contains(summary, want) {
			t.Errorf("summary lacks %q: %s", want, summary)
		}
	}
	// Start time in the browser's time zone.
	wantStart := c.Start.In(s.TZ).Format("Jan 2, 2006, 03:04:05 PM")
	if !strings.Contains(summary, wantStart) {
		t.Errorf("summary lacks the start time in %s, %q: %s", testTZ, wantStart, summary)
	}

	names := eval[[]string](tb, `[...document.querySelectorAll('ol.timeline .event-name')].map((e) => e.textContent)`)
	if want := []string{"call_started", "member_changed", "call_ended", "record"}; !slices.Equal(names, want) {
		t.Errorf("timeline %v, want %v", names, want)
	}
	times := eval[[]string](tb, `[...document.querySelectorAll('ol.timeline .event-head time')].map((e) => e.getAttribute('datetime'))`)
	if !slices.IsSorted(times) || len(times) != 4 {
		t.Errorf("timeline times %v, not in order", times)
	}

	// Raw bodies: closed until asked for.
	if n := eval[int](tb, `document.querySelectorAll('details.raw[open]').length`); n != 0 {
		t.Errorf("%d raw bodies open at first", n)
	}
	tb.do(chromedp.Click(chromedp.CSS(`ol.timeline li:first-child details.raw summary`)))
	tb.wait("the first raw body", `document.querySelector('ol.timeline li:first-child details.raw[open] pre')`)
	raw := tb.text(`ol.timeline li:first-child details.raw pre`)
	if !strings.Contains(raw, `"CallbackCommand": "Call.CallbackAfterStartCall"`) || !strings.Contains(raw, idEnded) {
		t.Errorf("raw body %q", raw)
	}

	// Tencent's record.
	tencent := tb.text(`section[aria-labelledby="tc-h"]`)
	if !strings.Contains(tencent, "v4") || !strings.Contains(tencent, "Ended normally") {
		t.Errorf("Tencent's record: %s", tencent)
	}
	tb.shot("call", "")

	// A call nobody knows.
	tb.goTo("#/call/" + url.PathEscape("no-such-call"))
	tb.wait("the no-such-call state", `document.querySelector('#view-title .ident')?.textContent === 'no-such-call' && document.querySelector('main .empty')`)
	if got := tb.text("main .empty"); !strings.Contains(got, "No such call") {
		t.Errorf("unknown call: %q", got)
	}
}

// A call id and a user id that hold HTML are shown as text: no element is
// made of them and no script runs (the tab fails the test on a dialog).
func TestHTMLShownAsText(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/call/" + url.PathEscape(htmlID))
	tb.wait("the timeline", `document.querySelector('ol.timeline')`)
	if got := tb.text("#view-title .ident"); got != htmlID {
		t.Errorf("title id %q, want %q", got, htmlID)
	}
	if got := tb.text(`dl.summary a.user`); got != mallory {
		t.Errorf("caller %q, want %q", got, mallory)
	}
	noElements := `document.querySelectorAll('main img, main b, main script, main [onerror]').length`
	if n := eval[int](tb, noElements); n != 0 {
		t.Errorf("%d elements made of data", n)
	}
	tb.do(chromedp.Click(chromedp.CSS(`ol.timeline li:first-child details.raw summary`)))
	if raw := tb.text(`ol.timeline li:first-child details.raw pre`); !strings.Contains(raw, htmlID) {
		t.Errorf("raw body %q", raw)
	}

	// The user's history, whose id holds HTML: its heading is text.
	tb.do(chromedp.Click(chromedp.CSS(`dl.summary a.user`)))
	// (The call's page has a #view-title .ident too: wait for the user's
	// heading, "Calls of …", before reading its id.)
	tb.wait("the user's page", `document.getElementById('view-title')?.textContent.startsWith('Calls of ')`)
	if got := tb.text("#view-title .ident"); got != mallory {
		t.Errorf("user title %q, want %q", got, mallory)
	}
	if n := eval[int](tb, noElements); n != 0 {
		t.Errorf("%d elements made of data", n)
	}

	t.Run("in the list", func(t *testing.T) { // GET /records
		parent := tb.t
		tb.t = t
		defer func() { tb.t = parent }()
		tb.goTo("#/calls")
		tb.waitRows()
		got := eval[string](tb, `(() => { const tr = [...document.querySelectorAll('table.calls tbody tr')].find((tr) => tr.dataset.callId === `+js(htmlID)+`);
			return tr ? tr.querySelector('code.callid').textContent + '|' + tr.querySelector('td[data-label=Caller]').textContent : ''; })()`)
		if got != htmlID+"|"+mallory {
			t.Errorf("row %q, want the id and caller as text", got)
		}
		if n := eval[int](tb, noElements); n != 0 {
			t.Errorf("%d elements made of data", n)
		}
	})
}

// The page runs under its own policy: nothing refused (every test's tab
// checks that), and no string can become HTML (Trusted Types).
func TestPolicyEnforced(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	resp, err := chromedp.RunResponse(tb.ctx, chromedp.Navigate(s.URL+"/dashboard"))
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(resp.Headers["Content-Security-Policy"]); got != dashboard.ContentSecurityPolicy {
		t.Errorf("the browser got Content-Security-Policy %q", got)
	}
	if got := fmt.Sprint(resp.Headers["X-Frame-Options"]); got != "DENY" {
		t.Errorf("X-Frame-Options %q", got)
	}
	tb.wait("the sign-in form", `document.getElementById('token')`)
	got := eval[string](tb, `(() => { try { document.createElement('div').innerHTML = '<b>x</b>'; return 'allowed'; } catch (e) { return 'refused'; } })()`)
	if got != "refused" {
		t.Errorf("innerHTML with a string: %s, want refused by Trusted Types", got)
	}
	eval[chromedp.Void](tb, `window.__csp = []`) // that refusal was the point
}

// The list: newest first, ringing and talking badges, start times in the
// browser's zone, talk time, and paging with the next cursor.
// Call-history API: GET /records?limit&cursor → {records, next}.
func TestCallList(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/calls")
	rows := tb.waitRows()
	all := newestFirst(s.Calls)
	if want := ids(all[:25]); !slices.Equal(rows, want) {
		t.Fatalf("first page\n got  %q\n want %q", rows, want)
	}
	// The table answered pages shorter than asked (scanLimit): the page
	// followed next until it had its 25 calls.
	if follows := listRequests(s, "/records", "cursor"); len(follows) == 0 {
		t.Errorf("the first page took no request with a cursor: %v", listRequests(s, "/records", ""))
	}
	badge := func(id string) string {
		return eval[string](tb, `(() => { const tr = [...document.querySelectorAll('table.calls tbody tr')].find((tr) => tr.dataset.callId === `+js(id)+`);
			return tr ? tr.querySelector('td[data-label=Result]').textContent + '|' + tr.querySelector('td[data-label="Talk time"]').textContent + '|' + tr.querySelector('th time').textContent : ''; })()`)
	}
	for id, want := range map[string][]string{
		idRinging: {"Ringing", "—"},
		idTalking: {"Talking", "so far"},
		idEnded:   {"Ended normally", "3m 05s"},
		idMissed:  {"Not answered", "—"},
	} {
		got := strings.Split(badge(id), "|")
		if len(got) != 3 || got[0] != want[0] || !strings.Contains(got[1], want[1]) {
			t.Errorf("%s: %q, want %q", id, got, want)
			continue
		}
		if start := s.call(id).Start.In(s.TZ).Format("Jan 2, 2006, 03:04:05 PM"); got[2] != start {
			t.Errorf("%s: start %q, want %q (%s)", id, got[2], start, testTZ)
		}
	}
	tb.shot("calls", "docs/dashboard.png")

	tb.do(chromedp.Click(chromedp.CSS(`button.more`)))
	tb.wait("the second page", `document.querySelectorAll('table.calls tbody tr').length > 25`)
	if rows := tb.rows(); !slices.Equal(rows, ids(all)) {
		t.Errorf("both pages\n got  %q\n want %q", rows, ids(all))
	}
	if !eval[bool](tb, `document.querySelector('.more-wrap').hidden`) || !strings.Contains(tb.text("p.count"), "that is all") {
		t.Errorf("after the last page: %q", tb.text("p.count"))
	}
}

// listRequests is the site's GET requests of path whose query has param
// ("" for any).
func listRequests(s *site, path, param string) []string {
	var out []string
	for _, r := range s.Requests() {
		q, _ := url.ParseQuery(r.Query)
		if r.Method == http.MethodGet && r.Path == path && (param == "" || q.Has(param)) {
			out = append(out, r.Query)
		}
	}
	return out
}

// missedBy is whether user missed c: a callee (not the caller) of a call
// not answered, cancelled, busy or offline (the API's result=missed).
func missedBy(c seedCall, user string) bool {
	return c.Caller != user && slices.Contains(c.Callees, user) &&
		slices.Contains([]string{call.ResultNotAnswer, call.ResultCancel, call.ResultBusy, call.ResultOffline}, c.Result)
}

// A filter, kept in the URL: result from the link, provider from the form,
// and the same view again from the URL alone.
// Call-history API: GET /records?result&provider.
func TestFilter(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/calls?result=not_answer")
	rows := tb.waitRows()
	missed := s.where(func(c seedCall) bool { return c.Result == call.ResultNotAnswer })
	if !slices.Equal(rows, ids(missed)) {
		t.Errorf("result=not_answer\n got  %q\n want %q", rows, ids(missed))
	}
	if v := eval[string](tb, `document.querySelector('form.filters select[name=result]').value`); v != "not_answer" {
		t.Errorf("the form shows result %q", v)
	}
	tb.do(chromedp.SetValue(chromedp.CSS(`form.filters select[name=provider]`), "yunxin"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	tb.wait("the filtered list", `location.hash.includes('provider=yunxin')`)
	rows = tb.waitRows()
	want := ids(s.where(func(c seedCall) bool { return c.Result == call.ResultNotAnswer && c.Provider == call.Yunxin }))
	if !slices.Equal(rows, want) {
		t.Errorf("result=not_answer&provider=yunxin\n got  %q\n want %q", rows, want)
	}
	shared := eval[string](tb, `location.hash`)
	tb.shot("filter", "")

	// The URL is the view: another tab opening it sees the same.
	other := newTab(t, s)
	other.signedIn("")
	other.open(shared)
	if rows := other.waitRows(); !slices.Equal(rows, want) {
		t.Errorf("the shared URL shows %q, want %q", rows, want)
	}

	// Missed calls at a glance: those nobody answered (the API's missed
	// needs a user)...
	tb.goTo("#/missed")
	if rows := tb.waitRows(); !slices.Equal(rows, ids(missed)) {
		t.Errorf("missed view\n got  %q\n want %q", rows, ids(missed))
	}
	// ...and with a user, the calls that user missed.
	tb.goTo("#/missed?user=alice")
	tb.wait("alice's missed calls", `document.getElementById('view-title').textContent.includes('alice')`)
	aliceMissed := ids(s.where(func(c seedCall) bool { return missedBy(c, "alice") }))
	if rows := tb.waitRows(); !slices.Equal(rows, aliceMissed) {
		t.Errorf("missed view for alice\n got  %q\n want %q", rows, aliceMissed)
	}
	if len(aliceMissed) < 3 {
		t.Errorf("the seed gives alice %d missed calls; the view tests little", len(aliceMissed))
	}
	if got := listRequests(s, "/records", "user"); len(got) == 0 || !strings.Contains(got[0], "result=missed") {
		t.Errorf("the missed view for a user asked %q, want result=missed&user=alice", got)
	}
}

// A filter the API refuses: the 400's field names the filter, which is
// marked as refused. GET /records takes result=missed with a user only.
func TestRefusedFilter(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/calls?result=missed")
	tb.wait("the error", `document.querySelector('main .error-box')`)
	if got := tb.text("main .error-box"); !strings.Contains(got, "refused the Result filter: missed calls are a user's: give user too") {
		t.Errorf("refused filter: %q", got)
	}
	marked := eval[[]string](tb, `[...document.querySelectorAll('form.filters [aria-invalid=true]')].map((el) => el.name + '>' +
		(document.getElementById(el.getAttribute('aria-describedby')) || {className: ''}).className)`)
	if !slices.Equal(marked, []string{"result>error-box"}) {
		t.Errorf("marked as refused: %q, want the result filter, described by the error", marked)
	}
	tb.shot("refused", "")

	// With a user it is that user's missed calls.
	tb.do(chromedp.SendKeys(chromedp.CSS(`form.filters input[name=user]`), "alice"), chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	tb.wait("the list", `location.hash.includes('user=alice')`)
	want := ids(s.where(func(c seedCall) bool { return missedBy(c, "alice") }))
	if rows := tb.waitRows(); !slices.Equal(rows, want) {
		t.Errorf("result=missed&user=alice\n got  %q\n want %q", rows, want)
	}
}

// A selective filter over a table whose requests each examine one call:
// a page follows next through empty pages, gives up after its requests
// saying that older calls remain, and the button searches on.
func TestShortPages(t *testing.T) {
	s := newSiteScan(t, func(now time.Time) []seedCall {
		var calls []seedCall
		for i := range 30 {
			calls = append(calls, seedCall{ID: fmt.Sprintf("tc-%02d", i), Provider: call.Tencent, Caller: "alice", Callees: []string{"bob"},
				Media: call.MediaAudio, Type: call.TypeSingle, Start: now.Add(-time.Duration(i+1) * time.Minute), End: 5 * time.Second, Result: call.ResultReject})
		}
		return append(calls, seedCall{ID: "yx-old", Provider: call.Yunxin, Caller: "carol", Callees: []string{"dave"},
			Media: call.MediaAudio, Type: call.TypeSingle, Start: now.Add(-time.Hour), End: 5 * time.Second, Result: call.ResultCancel})
	}, 1)
	tb := newTab(t, s)
	tb.signedIn("#/calls?provider=yunxin")
	tb.wait("the search state", `document.querySelector('p.count, main .empty, main .error-box')`)
	if got := tb.text("p.count"); !strings.Contains(got, "older calls remain") || len(tb.rows()) != 0 {
		t.Fatalf("after the first page's requests: %q, rows %q", got, tb.rows())
	}
	if n := len(listRequests(s, "/records", "provider")); n != 20 {
		t.Errorf("the first page took %d requests, want 20", n)
	}
	if got := tb.text("button.more"); got != "Search older calls" {
		t.Errorf("the button says %q", got)
	}
	tb.do(chromedp.Click(chromedp.CSS(`button.more`)))
	tb.wait("the older call", `document.querySelectorAll('table.calls tbody tr').length > 0 && document.querySelector('.more-wrap').hidden`)
	if rows := tb.rows(); !slices.Equal(rows, []string{"yx-old"}) {
		t.Errorf("rows %q, want yx-old", rows)
	}
	if got := tb.text("p.count"); !strings.Contains(got, "1 call, newest first; that is all") {
		t.Errorf("at the end: %q", got)
	}
}

// One user's history, from the search box.
// Call-history API: GET /users/{userId}/calls.
func TestUserHistory(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/calls")
	tb.do(chromedp.SendKeys(chromedp.ID("usersearch-id"), "alice"), chromedp.Click(chromedp.CSS(`#usersearch button`)))
	tb.wait("alice's page", `location.hash === '#/user/alice'`)
	rows := tb.waitRows()
	alice := s.where(func(c seedCall) bool { return c.has("alice") })
	if !slices.Equal(rows, ids(alice)) {
		t.Errorf("alice's calls\n got  %q\n want %q", rows, ids(alice))
	}
	dirs := eval[[]string](tb, `[...document.querySelectorAll('td[data-label=Direction]')].map((td) => td.textContent)`)
	for i, c := range alice {
		want := "Incoming"
		if c.Caller == "alice" {
			want = "Outgoing"
		}
		if i < len(dirs) && dirs[i] != want {
			t.Errorf("%s: %s, want %s", c.ID, dirs[i], want)
		}
	}
	tb.shot("user", "")

	// Her missed calls: those she was called in and did not answer, the
	// caller cancelled, or that found her busy or offline (the API's
	// result=missed); none she talked in, none she refused or made.
	tb.do(chromedp.SetValue(chromedp.CSS(`form.filters select[name=result]`), "missed"),
		chromedp.Click(chromedp.CSS(`form.filters button[type=submit]`)))
	tb.wait("the missed filter", `location.hash.includes('result=missed')`)
	rows = tb.waitRows()
	if !slices.Contains(rows, idMissed) {
		t.Errorf("alice's missed calls %q lack %s", rows, idMissed)
	}
	for _, c := range alice {
		if c.Answer > 0 && slices.Contains(rows, c.ID) {
			t.Errorf("alice's missed calls list %s, which was answered", c.ID)
		}
	}
	if want := ids(s.where(func(c seedCall) bool { return missedBy(c, "alice") })); !slices.Equal(rows, want) {
		t.Errorf("alice's missed calls\n got  %q\n want %q", rows, want)
	}
}

// The sign-in check the page makes, GET /records?limit=1: 200 for the
// API token, 401 for another or none, 403 when the API has no token.
func TestSignInCheck(t *testing.T) {
	s := newSite(t)
	closed := newSiteToken(t, "")
	for _, c := range []struct {
		site *site
		auth string
		want int
	}{
		{s, "Bearer " + apiToken, http.StatusOK},
		{s, "Bearer not-the-token", http.StatusUnauthorized},
		{s, "", http.StatusUnauthorized},
		{closed, "Bearer " + apiToken, http.StatusForbidden},
	} {
		req, err := http.NewRequest(http.MethodGet, c.site.URL+"/records?limit=1", nil)
		if err != nil {
			t.Fatal(err)
		}
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET /records?limit=1 with %q: %d, want %d", c.auth, resp.StatusCode, c.want)
		}
	}
}

// The charts: calls per day by result and talk minutes per day, drawn as
// SVG, matching the stored calls day by day in the browser's zone.
// Call-history API: GET /stats?from&to&tz.
func TestCharts(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.signedIn("#/stats?days=7")
	tb.wait("the charts", `document.querySelector('svg#chart-calls') || document.querySelector('main .error-box')`)
	if e := tb.text("main .error-box"); e != "" {
		t.Fatalf("the charts show an error: %s", e)
	}
	type day struct {
		calls, normal int
		talk          time.Duration
		going         bool
	}
	want := map[string]*day{}
	from := time.Now().In(s.TZ)
	from = time.Date(from.Year(), from.Month(), from.Day()-6, 0, 0, 0, 0, s.TZ)
	for _, c := range s.Calls {
		if c.Start.Before(from) {
			continue
		}
		key := c.Start.In(s.TZ).Format(time.DateOnly)
		if want[key] == nil {
			want[key] = &day{}
		}
		d := want[key]
		d.calls++
		if c.Result == call.ResultNormalEnd {
			d.normal++
		}
		d.talk += c.talk()
		d.going = d.going || c.End == 0
	}
	got := eval[map[string][]float64](tb, `Object.fromEntries([...document.querySelectorAll('svg#chart-calls g.day')].map((g) => [g.dataset.date, [
		[...g.querySelectorAll('rect.bar')].reduce((s, r) => s + Number(r.dataset.value), 0),
		Number((g.querySelector('rect.bar[data-key=normal_end]') || {dataset: {value: 0}}).dataset.value)]]))`)
	talk := eval[map[string]float64](tb, `Object.fromEntries([...document.querySelectorAll('svg#chart-talk g.day')].map((g) => [g.dataset.date,
		Number((g.querySelector('rect.bar') || {dataset: {value: 0}}).dataset.value)]))`)
	if len(got) != 7 || len(talk) != 7 {
		t.Errorf("%d and %d days drawn, want 7", len(got), len(talk))
	}
	for key, v := range got {
		w := want[key]
		if w == nil {
			w = &day{}
		}
		if int(v[0]) != w.calls || int(v[1]) != w.normal {
			t.Errorf("%s: %v calls (normal_end %v), want %d (%d)", key, v[0], v[1], w.calls, w.normal)
		}
		if wantTalk := float64(int(w.talk.Seconds()/6+0.5)) / 10; !w.going && talk[key] != wantTalk {
			t.Errorf("%s: %v talk minutes, want %v", key, talk[key], wantTalk)
		}
	}
	if legend := tb.text("ul.legend"); !strings.Contains(legend, "Ended normally") || !strings.Contains(legend, "Not answered") {
		t.Errorf("legend %q", legend)
	}
	tb.shot("charts", "")
}

// The keyboard alone: the token field has focus, Enter signs in, a view's
// heading takes focus, Tab reaches a raw body and Enter opens it.
func TestKeyboard(t *testing.T) {
	s := newSite(t)
	tb := newTab(t, s)
	tb.open("")
	tb.wait("the sign-in form", `document.activeElement && document.activeElement.id === 'token'`)
	tb.do(chromedp.KeyEvent(apiToken + "\r"))
	tb.wait("the signed-in page", `!document.getElementById('top').hidden`)

	tb.goTo("#/call/" + url.PathEscape(idEnded))
	tb.wait("the timeline", `document.querySelector('ol.timeline')`)
	if id := eval[string](tb, `document.activeElement.id`); id != "view-title" {
		t.Errorf("focus on %q after changing views, want the view's heading", id)
	}
	reached := false
	for range 60 {
		tb.do(chromedp.KeyEvent("\t"))
		if eval[bool](tb, `document.activeElement.matches('ol.timeline details.raw summary')`) {
			reached = true
			break
		}
	}
	if !reached {
		t.Fatal("Tab never reached a timeline event's raw body")
	}
	tb.do(chromedp.KeyEvent("\r"))
	tb.wait("the raw body open", `document.activeElement.parentElement.open`)
}

// Empty and error states say what to do: no calls yet (where to point the
// providers), no calls in a chart's range, an API that does not answer.
// The first two read the call-history API (the list, /stats).
func TestEmptyAndErrorStates(t *testing.T) {
	s := newSiteWith(t, nil)
	tb := newTab(t, s)
	tb.signedIn("#/calls")
	tb.wait("the empty list", `document.querySelector('main .empty, main .error-box')`)
	if got := tb.text("main .empty"); !strings.Contains(got, "No calls yet") || !strings.Contains(got, s.URL+"/webhook/tencent") ||
		!strings.Contains(got, s.URL+"/webhook/yunxin/callback") {
		t.Errorf("empty list: %q (error: %q)", got, tb.text("main .error-box"))
	}
	tb.shot("empty", "")

	tb.goTo("#/stats")
	// (The list's own empty state stays until the hash change renders the
	// charts' view: wait for its heading too.)
	tb.wait("the empty charts", `document.getElementById('view-title')?.textContent === 'Calls per day' && document.querySelector('main .empty, main .error-box')`)
	if got := tb.text("main .empty"); !strings.Contains(got, "No calls in the last 14 days") {
		t.Errorf("empty charts: %q (error: %q)", got, tb.text("main .error-box"))
	}

	// The API goes away: the page says so and offers to retry.
	s.srv.Close()
	tb.goTo("#/call/" + idEnded)
	tb.wait("the error", `document.querySelector('main .error-box')`)
	if got := tb.text("main .error-box"); !strings.Contains(got, "The API did not answer") || !strings.Contains(got, "callfn is running") {
		t.Errorf("API down: %q", got)
	}
	if n := eval[int](tb, `document.querySelectorAll('main .error-box button').length`); n != 1 {
		t.Errorf("%d retry buttons", n)
	}
}
