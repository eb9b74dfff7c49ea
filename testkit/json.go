package testkit

import (
	"encoding/json"
	"testing"
)

// JSON is v as JSON; an error fails t.
func JSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
