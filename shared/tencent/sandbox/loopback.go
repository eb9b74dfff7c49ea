package sandbox

import (
	"errors"

	"github.com/callfn/callfn/shared/loopback"
)

// The sandbox is a local stand-in: it answers only requests addressed to a
// loopback Host, so a web page cannot drive it through DNS rebinding, and it
// delivers callbacks only to loopback URLs, so no caller can have it sign
// requests (with the configured callback token) to anywhere else.

// errNotLoopback is a callback URL the sandbox will not deliver to.
var errNotLoopback = errors.New("the sandbox delivers callbacks only to http(s) URLs on this machine (localhost, 127.0.0.1, [::1])")

// checkCallbackURL refuses a callback URL that is not on loopback.
func checkCallbackURL(raw string) error {
	if !loopback.URL(raw) {
		return errNotLoopback
	}
	return nil
}
