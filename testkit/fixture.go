package testkit

import (
	"os"
	"path/filepath"
	"testing"
)

// Fixture is the file at path, relative to the test's own testdata folder
// (path elements are joined); a missing file fails the test.
func Fixture(t testing.TB, path ...string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(append([]string{"testdata"}, path...)...))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
