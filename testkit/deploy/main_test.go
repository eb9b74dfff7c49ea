package deploy_test

import (
	"io"
	"log/slog"
	"os"
	"testing"
)

// TestMain silences the functions' request logs, which the adapter runs
// would otherwise print by the dozen; failures say what went wrong.
func TestMain(m *testing.M) {
	slog.SetDefault(slog.New(slog.NewTextHandler(io.Discard, nil)))
	os.Exit(m.Run())
}
