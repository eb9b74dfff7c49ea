package receiver

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/config"
)

// SecretKey is the base64 of a test signing key, which a test checks never
// shows in an error or a log; Secret is it as a Standard Webhooks secret.
var (
	SecretKey = base64.StdEncoding.EncodeToString([]byte("callfn-forward-test-key-0123456789"))
	Secret    = "whsec_" + SecretKey
)

// Config is the configuration config.Load makes of forwarding to
// endpoints, signed with Secret.
func Config(t testing.TB, endpoints ...string) config.Config {
	t.Helper()
	vars := map[string]string{"CALLFN_FORWARD_URL": strings.Join(endpoints, ","), "CALLFN_FORWARD_SECRET": Secret}
	c, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatal(err)
	}
	return c
}
