//go:build lambda || scf

package open_test

import (
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/open"
)

// TestNoBoltInTheCloud is the cloud builds': bolt: is refused, by name.
func TestNoBoltInTheCloud(t *testing.T) {
	_, err := open.Open(ctx, "bolt:/tmp/callfn.db", store.Options{})
	if err == nil || !strings.Contains(err.Error(), `"bolt:/tmp/callfn.db"`) || !strings.Contains(err.Error(), "dynamodb:TABLE") {
		t.Fatalf("bolt: in a cloud build: %v", err)
	}
}
