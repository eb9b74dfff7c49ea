// Package dashboard is callfn's call dashboard: one page, with its script,
// style sheet and icon embedded in the binary, that reads the records
// function's HTTP API (recent and missed calls, a call's timeline, a user's
// history, calls and talk minutes per day) with the API token the person
// signs in with. The page holds no data of its own and asks nothing of any
// other origin; the records function mounts Routes beside its own, so the
// dashboard is served wherever the API is (Lambda, SCF, `make run`).
//
// # Routes
//
//	GET /dashboard          the page (no token needed: it holds no data)
//	GET /dashboard/{asset}  its assets: app.js, app.css, icon.svg
//
// The page names its assets and the API relative to its own URL
// ("dashboard/app.js", "records"), so it works under a gateway's stage
// prefix too (SCF's https://<domain>/release/dashboard). Assets are flat:
// one path segment, which both API gateways route as a path parameter.
//
// # Headers
//
// Every answer carries ContentSecurityPolicy (a policy that allows
// the page's own scripts, styles, images and API requests and nothing else,
// no framing, and Trusted Types so that no string ever becomes HTML),
// X-Frame-Options: DENY, X-Content-Type-Options: nosniff and
// Referrer-Policy: no-referrer. The page is revalidated on every load
// (Cache-Control: no-cache, with an ETag); it names each asset with its
// content hash (app.js?v=<hash>), and an asset asked for by its current
// hash may be cached for a year, since that URL never names other bytes.
package dashboard

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"net/http"
	"path"
	"time"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/platform"
)

// Routes.
const (
	RoutePage  = "GET /dashboard"
	RouteAsset = "GET /dashboard/{asset}"
)

// ContentSecurityPolicy is the Content-Security-Policy of every dashboard answer.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// Cache-Control values.
const (
	CacheRevalidate = "no-cache"                            // the page, and an asset asked for without its current hash
	CacheImmutable  = "public, max-age=31536000, immutable" // an asset asked for by its current hash
)

//go:embed static
var static embed.FS

// file is one embedded file, ready to serve.
type file struct {
	body        []byte
	contentType string
	hash        string // hex, first 16 digits of the SHA-256 of body
}

var (
	page   file
	assets = map[string]file{}
)

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".svg": "image/svg+xml",
}

func hashOf(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:8])
}

func init() {
	entries, err := fs.ReadDir(static, "static")
	if err != nil {
		panic(err)
	}
	html, err := static.ReadFile("static/index.html")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		name := e.Name()
		if name == "index.html" {
			continue
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			panic("dashboard: no content type for " + name)
		}
		b, err := static.ReadFile("static/" + name)
		if err != nil {
			panic(err)
		}
		f := file{body: b, contentType: ct, hash: hashOf(b)}
		assets[name] = f
		// The page names the asset by its hash, so a browser never runs
		// an old script with a new page or the reverse.
		ref := `"dashboard/` + name + `"`
		if !bytes.Contains(html, []byte(ref)) {
			panic("dashboard: index.html does not name " + ref)
		}
		html = bytes.ReplaceAll(html, []byte(ref), []byte(`"dashboard/`+name+`?v=`+f.hash+`"`))
	}
	page = file{body: html, contentType: "text/html; charset=utf-8", hash: hashOf(html)}
}

// Routes are the dashboard's routes, for the records function to serve.
func Routes() []platform.Route {
	return []platform.Route{
		{Pattern: RoutePage, Handler: servePage},
		{Pattern: RouteAsset, Handler: serveAsset},
	}
}

// AssetURL is the path, relative to the page's directory, under which the
// page names an asset ("dashboard/app.js?v=..."), or "" for no such asset.
func AssetURL(name string) string {
	f, ok := assets[name]
	if !ok {
		return ""
	}
	return "dashboard/" + name + "?v=" + f.hash
}

func secure(h http.Header) {
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	h.Set("Cross-Origin-Resource-Policy", "same-origin")
}

func servePage(w http.ResponseWriter, r *http.Request) {
	secure(w.Header())
	serve(w, r, page, CacheRevalidate)
}

func serveAsset(w http.ResponseWriter, r *http.Request) {
	secure(w.Header())
	f, ok := assets[r.PathValue("asset")]
	if !ok {
		w.Header().Set("Cache-Control", CacheRevalidate)
		api.Error(w, http.StatusNotFound, "no such dashboard asset: the page is at GET /dashboard")
		return
	}
	cache := CacheRevalidate
	if r.URL.Query().Get("v") == f.hash {
		cache = CacheImmutable
	}
	serve(w, r, f, cache)
}

func serve(w http.ResponseWriter, r *http.Request, f file, cache string) {
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", cache)
	h.Set("ETag", `"`+f.hash+`"`)
	// ServeContent answers If-None-Match with 304, and HEAD without a body.
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(f.body))
}
