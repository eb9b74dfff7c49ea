package dashboard

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/awslambda"
	"github.com/callfn/callfn/shared/platform/scf"
	"github.com/callfn/callfn/testkit"
)

func server(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(platform.Function{Name: "dashboard", Routes: Routes()}.Handler())
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, header map[string]string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, b := testkit.Do(t, req)
	return resp, string(b)
}

func checkSecure(t *testing.T, what string, h http.Header) {
	t.Helper()
	want := map[string]string{
		"Content-Security-Policy": ContentSecurityPolicy,
		"X-Frame-Options":         "DENY",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "no-referrer",
	}
	for k, v := range want {
		if got := h.Get(k); got != v {
			t.Errorf("%s: %s %q, want %q", what, k, got, v)
		}
	}
}

// The policy allows the page's own origin for scripts, styles, images and
// requests, nothing else, and no framing.
func TestContentSecurityPolicy(t *testing.T) {
	directives := map[string]string{}
	for _, d := range strings.Split(ContentSecurityPolicy, ";") {
		name, value, _ := strings.Cut(strings.TrimSpace(d), " ")
		directives[name] = value
	}
	want := map[string]string{
		"default-src": "'none'", "script-src": "'self'", "style-src": "'self'", "img-src": "'self'",
		"connect-src": "'self'", "frame-ancestors": "'none'", "base-uri": "'none'",
		"require-trusted-types-for": "'script'",
	}
	for k, v := range want {
		if directives[k] != v {
			t.Errorf("%s %q, want %q (policy %q)", k, directives[k], v, ContentSecurityPolicy)
		}
	}
	for k, v := range directives {
		if strings.Contains(v, "unsafe") || strings.Contains(v, "http") || strings.Contains(v, "*") || strings.Contains(v, "data:") {
			t.Errorf("%s allows %q", k, v)
		}
	}
}

func TestPage(t *testing.T) {
	srv := server(t)
	resp, body := get(t, srv.URL+"/dashboard", nil)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /dashboard: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	checkSecure(t, "page", resp.Header)
	if cc := resp.Header.Get("Cache-Control"); cc != CacheRevalidate {
		t.Errorf("page Cache-Control %q, want %q", cc, CacheRevalidate)
	}
	// The page names each asset by its hash, relative to itself.
	for _, name := range []string{"app.js", "app.css", "icon.svg"} {
		if !strings.Contains(body, `"`+AssetURL(name)+`"`) || !strings.HasPrefix(AssetURL(name), "dashboard/"+name+"?v=") {
			t.Errorf("the page does not name %s as %q", name, AssetURL(name))
		}
	}
	if m := regexp.MustCompile(`(?i)(src|href)="(/|https?:|//)`).FindString(body); m != "" {
		t.Errorf("the page names an absolute URL: %s", m)
	}
	if strings.Contains(body, "<script>") || strings.Contains(body, "style=") || regexp.MustCompile(`\son[a-z]+=`).MatchString(body) {
		t.Error("the page has inline script or style, which its policy refuses")
	}
	// Revalidation: the same ETag gets 304.
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	resp, body = get(t, srv.URL+"/dashboard", map[string]string{"If-None-Match": etag})
	if resp.StatusCode != http.StatusNotModified || body != "" {
		t.Errorf("If-None-Match: %d, %d bytes", resp.StatusCode, len(body))
	}
	checkSecure(t, "page 304", resp.Header)
}

func TestAssets(t *testing.T) {
	srv := server(t)
	types := map[string]string{"app.js": "text/javascript; charset=utf-8", "app.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}
	for name, ct := range types {
		want, err := fs.ReadFile(static, "static/"+name)
		if err != nil {
			t.Fatal(err)
		}
		resp, body := get(t, srv.URL+"/"+AssetURL(name), nil)
		if resp.StatusCode != 200 || body != string(want) {
			t.Errorf("%s: %d, %d bytes, want %d", name, resp.StatusCode, len(body), len(want))
		}
		checkSecure(t, name, resp.Header)
		if got := resp.Header.Get("Content-Type"); got != ct {
			t.Errorf("%s: Content-Type %q, want %q", name, got, ct)
		}
		if got := resp.Header.Get("Cache-Control"); got != CacheImmutable {
			t.Errorf("%s by its hash: Cache-Control %q, want %q", name, got, CacheImmutable)
		}
		// Without the hash, or with an old one: revalidate.
		for _, q := range []string{"", "?v=0123456789abcdef"} {
			resp, _ := get(t, srv.URL+"/dashboard/"+name+q, nil)
			if resp.StatusCode != 200 || resp.Header.Get("Cache-Control") != CacheRevalidate {
				t.Errorf("%s%s: %d Cache-Control %q", name, q, resp.StatusCode, resp.Header.Get("Cache-Control"))
			}
		}
	}
	for _, path := range []string{"/dashboard/index.html", "/dashboard/nope.js", "/dashboard/static%2Fapp.js", "/dashboard/..%2Fdashboard.go"} {
		resp, body := get(t, srv.URL+path, nil)
		if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, "no such dashboard asset") {
			t.Errorf("%s: %d %s", path, resp.StatusCode, body)
		}
		checkSecure(t, path, resp.Header)
	}
}

func TestHead(t *testing.T) {
	srv := server(t)
	resp, err := http.Head(srv.URL + "/dashboard")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("HEAD /dashboard: %d", resp.StatusCode)
	}
	checkSecure(t, "HEAD", resp.Header)
}

// The script shows every value as text: no HTML sinks, no eval, no
// requests to anywhere but the page's own API.
func TestScriptUsesNoHTMLSinks(t *testing.T) {
	b, err := fs.ReadFile(static, "static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	js := string(b)
	for _, sink := range []string{"innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function", "createContextualFragment", "srcdoc", "localStorage", "document.cookie", "indexedDB"} {
		if strings.Contains(js, sink) {
			t.Errorf("app.js uses %s", sink)
		}
	}
	if m := regexp.MustCompile(`https?://`).FindAllString(js, -1); len(m) != 1 { // the SVG namespace
		t.Errorf("app.js names %d URLs, want only the SVG namespace", len(m))
	}
}

// Through the Lambda (HTTP API 2.0) and SCF (API gateway) adapters, as
// deployed: the page and an asset, with their headers, the SCF one from
// behind the stage prefix the browser sees (/release/dashboard).
func TestThroughAdapters(t *testing.T) {
	fn := platform.Function{Name: "records", Routes: Routes()}
	lambdaEvent := func(path, query, route string) string {
		return fmt.Sprintf(`{"version": "2.0", "routeKey": %q, "rawPath": %q, "rawQueryString": %q, "headers": {"host": "abc.execute-api.ap-southeast-1.amazonaws.com"},
			"requestContext": {"http": {"method": "GET", "path": %q, "sourceIp": "203.0.113.20"}, "requestId": "r1", "routeKey": %q, "stage": "$default"}, "isBase64Encoded": false}`,
			route, path, query, path, route)
	}
	scfEvent := func(path, query, route string) string {
		q := map[string]string{}
		if k, v, ok := strings.Cut(query, "="); ok {
			q[k] = v
		}
		qs, _ := json.Marshal(q)
		return fmt.Sprintf(`{"httpMethod": "GET", "path": %q, "headers": {"host": "service-x.sg.apigw.tencentcs.com"}, "queryString": %s, "body": "",
			"requestContext": {"httpMethod": "GET", "path": %q, "requestId": "r1", "serviceId": "service-x", "sourceIp": "203.0.113.20", "stage": "release"},
			"isBase64Encoded": false}`, path, qs, strings.TrimPrefix(route, "GET "))
	}
	adapters := map[string]struct {
		handler func(platform.Function) func(context.Context, json.RawMessage) (any, error)
		event   func(path, query, route string) string
	}{
		"lambda": {awslambda.Handler, lambdaEvent},
		"scf":    {scf.Handler, scfEvent},
	}
	css, _ := fs.ReadFile(static, "static/app.css")
	_, hash, _ := strings.Cut(AssetURL("app.css"), "?v=")
	for name, a := range adapters {
		for _, c := range []struct{ path, query, route, ct, cache, body string }{
			{"/dashboard", "", "GET /dashboard", "text/html; charset=utf-8", CacheRevalidate, string(page.body)},
			{"/dashboard/app.css", "v=" + hash, "GET /dashboard/{asset}", "text/css; charset=utf-8", CacheImmutable, string(css)},
		} {
			out, err := a.handler(fn)(context.Background(), json.RawMessage(a.event(c.path, c.query, c.route)))
			if err != nil {
				t.Fatalf("%s %s: %v", name, c.path, err)
			}
			b, _ := json.Marshal(out)
			var resp struct {
				StatusCode      int               `json:"statusCode"`
				Headers         map[string]string `json:"headers"`
				Body            string            `json:"body"`
				IsBase64Encoded bool              `json:"isBase64Encoded"`
			}
			if err := json.Unmarshal(b, &resp); err != nil {
				t.Fatal(err)
			}
			h := http.Header{}
			for k, v := range resp.Headers {
				h.Set(k, v)
			}
			if resp.StatusCode != 200 || resp.IsBase64Encoded || resp.Body != c.body || h.Get("Content-Type") != c.ct || h.Get("Cache-Control") != c.cache {
				t.Errorf("%s %s: %d base64 %v, %d bytes, headers %v", name, c.path, resp.StatusCode, resp.IsBase64Encoded, len(resp.Body), resp.Headers)
			}
			checkSecure(t, name+" "+c.path, h)
		}
	}
}
