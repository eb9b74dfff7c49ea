package testkit

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"
)

// Invoke runs a platform adapter's handler h on the event in the test's
// testdata/file under a minute's deadline, as an invocation has one, and
// returns its answer; an error fails t.
func Invoke(t testing.TB, h func(context.Context, json.RawMessage) (any, error), file string) any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := h(ctx, Fixture(t, file))
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// HasHeaders fails t for each header of want that got does not hold with
// want's value.
func HasHeaders(t testing.TB, got http.Header, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if g := got.Get(k); g != v {
			t.Errorf("header %s = %q, want %q", k, g, v)
		}
	}
}
