package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/platform"
)

func TestLoopbackOnly(t *testing.T) {
	h := loopbackOnly(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	for addr, want := range map[string]int{
		"127.0.0.1:5000": http.StatusNoContent, "[::1]:5000": http.StatusNoContent,
		"192.0.2.7:5000": http.StatusForbidden, "[2001:db8::1]:5000": http.StatusForbidden, "garbage": http.StatusForbidden,
	} {
		r := httptest.NewRequest(http.MethodGet, "/_callfn/events", nil)
		r.RemoteAddr = addr
		r.Host = "localhost:8080"
		w := httptest.NewRecorder()
		h(w, r)
		if w.Code != want {
			t.Errorf("from %s: %d, want %d", addr, w.Code, want)
		}
	}
}

// TestScheduleRoute checks the firing route's own checks: the Tick it
// builds, and the requests it refuses before any schedule runs.
func TestScheduleRoute(t *testing.T) {
	var got []platform.Tick
	fns := []platform.Function{
		{Name: "ticker", Schedule: func(_ context.Context, tk platform.Tick) (any, error) {
			got = append(got, tk)
			return map[string]string{"ok": "yes"}, nil
		}},
		{Name: "plain"},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+scheduleRoute, scheduleHandler(fns))
	fire := func(path, body string) int {
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, httptest.NewRequest(http.MethodPost, path, strings.NewReader(body)))
		return w.Code
	}
	if c := fire("/_callfn/schedule/ticker?name=n&time=2030-01-02T09:00:00Z", `{"a":1}`); c != http.StatusOK {
		t.Fatalf("good firing: %d", c)
	}
	if len(got) != 1 || got[0].Name != "n" || got[0].Time.Format("2006-01-02T15:04") != "2030-01-02T09:00" || string(got[0].Payload) != `{"a":1}` {
		t.Fatalf("tick: %+v", got)
	}
	if c := fire("/_callfn/schedule/ticker", ""); c != http.StatusOK || got[1].Name != "local" || got[1].Payload != nil {
		t.Fatalf("defaults: %d %+v", c, got[1])
	}
	for path, body := range map[string]string{
		"/_callfn/schedule/ticker?time=yesterday": "",
		"/_callfn/schedule/ticker?name=bad":       "{not json",
	} {
		if c := fire(path, body); c != http.StatusBadRequest {
			t.Errorf("%s %q: %d, want 400", path, body, c)
		}
	}
	for _, name := range []string{"plain", "nosuch"} {
		if c := fire("/_callfn/schedule/"+name, ""); c != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", name, c)
		}
	}
	if len(got) != 2 {
		t.Fatalf("a refused firing ran the schedule: %d runs", len(got))
	}
}
