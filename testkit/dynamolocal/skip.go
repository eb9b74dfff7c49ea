package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Required reports whether the environment, read through getenv, says
// tests that need DynamoDB Local must run: CI or CALLFN_REQUIRE_DYNAMODB
// set to a true value (1, true, ...).
func Required(getenv func(string) string) bool {
	for _, name := range []string{"CI", EnvRequire} {
		if on, err := strconv.ParseBool(getenv(name)); err == nil && on {
			return true
		}
	}
	return false
}

// SkipReason decides what a test does when Start failed with err: it
// returns the message to skip with when err says the machine lacks Java or
// DynamoDB Local (ErrMissing) and getenv does not make DynamoDB tests
// Required, and "" when the test must fail instead.
func SkipReason(err error, getenv func(string) string) string {
	if err == nil || !errors.Is(err, ErrMissing) || Required(getenv) {
		return ""
	}
	return fmt.Sprintf("skipping the DynamoDB tests: %v (set %s=1, or CI=true, to make this a failure)", err, EnvRequire)
}

// SkipOrFail ends tb, whose DynamoDB Local failed to start with err:
// skipped when SkipReason says so, failed otherwise. go test prints a
// skipped benchmark's reason only with -v, so a benchmark's is printed here
// too.
func SkipOrFail(tb testing.TB, err error) {
	tb.Helper()
	if reason := SkipReason(err, os.Getenv); reason != "" {
		if _, ok := tb.(*testing.B); ok {
			fmt.Printf("--- SKIP: %s: %s\n", tb.Name(), reason)
		}
		tb.Skip(reason)
	}
	tb.Fatalf("DynamoDB Local (`make deps` installs it): %v", err)
}

var shared struct {
	once   sync.Once
	server *Server
	err    error
}

// Shared returns the DynamoDB Local that every test of the test binary
// shares, started on the first call. When it cannot start, tb is skipped
// or failed as SkipOrFail says. Stop it after the tests with CloseShared,
// from the package's TestMain (Main does both).
func Shared(tb testing.TB) *Server {
	tb.Helper()
	shared.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		shared.server, shared.err = Start(ctx)
	})
	if shared.err != nil {
		SkipOrFail(tb, shared.err)
	}
	return shared.server
}

// CloseShared stops the server Shared started, if it did.
func CloseShared() {
	if shared.server != nil {
		shared.server.Close()
	}
}

// Main is the TestMain of a package whose tests use Shared: it runs the
// tests, stops the shared server and exits with the tests' code.
func Main(m *testing.M) {
	code := m.Run()
	CloseShared()
	os.Exit(code)
}
