package testkit

import (
	"io"
	"net/http"
	"testing"
)

// Do sends req with http.DefaultClient and reads the whole answer, failing
// t if either fails; the response's body is closed.
func Do(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}
