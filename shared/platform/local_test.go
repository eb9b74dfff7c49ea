package platform

import (
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestLocalOnly sends real requests over a real loopback listener, as a
// browser page, a DNS-rebound page and callfn's own tools would.
func TestLocalOnly(t *testing.T) {
	srv := httptest.NewServer(LocalOnly(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})))
	defer srv.Close()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(srv.URL, "http://"))

	send := func(method, host, origin, contentType, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+"/_callfn/schedule/startcall", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if host != "" {
			req.Host = host
		}
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		if contentType != "" {
			req.Header.Set("Content-Type", contentType)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	const json = "application/json"
	for _, c := range []struct {
		name                              string
		method, host, origin, ctype, body string
		want                              int
	}{
		{"the tools' own GET", "GET", "", "", "", "", http.StatusNoContent},
		{"localhost", "GET", "localhost:" + port, "", "", "", http.StatusNoContent},
		{"localhost without port", "GET", "localhost", "", "", "", http.StatusNoContent},
		{"LOCALHOST.", "GET", "LOCALHOST.:" + port, "", "", "", http.StatusNoContent},
		{"[::1]", "GET", "[::1]:" + port, "", "", "", http.StatusNoContent},
		{"[::1] without port", "GET", "[::1]", "", "", "", http.StatusNoContent},
		{"127.0.0.1 without port", "GET", "127.0.0.1", "", "", "", http.StatusNoContent},
		{"JSON POST", "POST", "", "", json, `{}`, http.StatusNoContent},
		{"JSON POST with charset", "POST", "", "", "application/json; charset=utf-8", `{}`, http.StatusNoContent},
		{"a loopback Origin", "POST", "", "http://localhost:" + port, json, `{}`, http.StatusNoContent},

		{"DNS rebinding", "GET", "attacker.example:" + port, "", "", "", http.StatusForbidden},
		{"a rebound name without port", "GET", "attacker.example", "", "", "", http.StatusForbidden},
		{"a LAN address as Host", "GET", "192.168.1.5:" + port, "", "", "", http.StatusForbidden},
		{"a name that only starts like localhost", "GET", "localhost.attacker.example", "", "", "", http.StatusForbidden},
		{"a foreign Origin", "POST", "", "https://attacker.example", json, `{}`, http.StatusForbidden},
		{"a foreign Origin on GET", "GET", "", "https://attacker.example", "", "", http.StatusForbidden},
		{"Origin null", "POST", "", "null", json, `{}`, http.StatusForbidden},
		{"text/plain, a cross-site simple request", "POST", "", "", "text/plain", `{"Robot_Account":"robot"}`, http.StatusForbidden},
		{"a form", "POST", "", "", "application/x-www-form-urlencoded", `a=1`, http.StatusForbidden},
		{"multipart", "POST", "", "", "multipart/form-data; boundary=x", "--x--", http.StatusForbidden},
		{"no Content-Type", "POST", "", "", "", `{}`, http.StatusForbidden},
	} {
		if got, body := send(c.method, c.host, c.origin, c.ctype, c.body); got != c.want {
			t.Errorf("%s: %d %s, want %d", c.name, got, body, c.want)
		}
	}
}
