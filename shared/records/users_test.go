package records_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tencentyun/tls-sig-api-v2-golang/tencentyun"

	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// getAs sends GET path to the records function with a UserSig and a user id.
func (e *env) getAs(path, sig, user string, out any) (int, http.Header, map[string]any) {
	e.t.Helper()
	req, err := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if sig != "" {
		req.Header.Set("Authorization", "UserSig "+sig)
	}
	if user != "" {
		req.Header.Set("X-User-Id", user)
	}
	return do(e.t, req, out)
}

func userSig(t *testing.T, appID uint64, key, user string, ttl time.Duration) string {
	t.Helper()
	sig, err := tencentyun.GenUserSig(int(appID), key, user, int(ttl/time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

// GET /me/calls answers the user a valid UserSig was made for, with their
// calls only, and refuses every other credential.
func TestMyCalls(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	seedHistory(e)
	app := e.sb.SDKAppID()
	bob := userSig(t, app, sandbox.DefaultKey, "bob", time.Hour)
	var h records.History
	if status, _, raw := e.getAs("/me/calls", bob, "bob", &h); status != http.StatusOK || historyIDs(h) != "t-ringing,y-missed,t-ended" {
		t.Fatalf("bob: %d %v", status, raw)
	}
	if status, _, raw := e.getAs("/me/calls?result=missed", bob, "bob", &h); status != http.StatusOK || historyIDs(h) != "y-missed" {
		t.Errorf("bob's missed calls: %d %v", status, raw)
	}
	dave := userSig(t, app, sandbox.DefaultKey, "dave", time.Hour)
	if status, _, raw := e.getAs("/me/calls", dave, "dave", &h); status != http.StatusOK || historyIDs(h) != "t-ringing" {
		t.Errorf("dave: %d %v", status, raw)
	}
	// Only the user's own calls, whatever the query says.
	if status, _, raw := e.getAs("/me/calls?user=alice", bob, "bob", nil); status != http.StatusBadRequest || raw["field"] != "user" {
		t.Errorf("user=alice: %d %v", status, raw)
	}

	refused := map[string]struct{ sig, user, errHas string }{
		"no credential":  {"", "", "missing UserSig"},
		"no user id":     {bob, "", "X-User-Id"},
		"another user's": {bob, "alice", "another user"},
		"another app's":  {userSig(t, app+1, sandbox.DefaultKey, "bob", time.Hour), "bob", "not for this app"},
		"forged":         {userSig(t, app, "not-the-key", "bob", time.Hour), "bob", "not signed with this app's key"},
		"garbage":        {"eJyrVkrOzFOyUkrOz8nPS-UuILnozUpqwC", "bob", "UserSig"},
		"too long":       {strings.Repeat("x", records.MaxUserSig+1), "bob", "too long"},
		"expired":        {userSig(t, app, sandbox.DefaultKey, "bob", time.Minute), "bob", "expired"},
	}
	e.clk.Add(2 * time.Minute)
	for name, c := range refused {
		status, hdr, raw := e.getAs("/me/calls", c.sig, c.user, nil)
		if status != http.StatusUnauthorized || !strings.Contains(raw["error"].(string), c.errHas) || hdr.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %v, want 401 saying %q", name, status, raw, c.errHas)
		}
		if strings.Contains(raw["error"].(string), sandbox.DefaultKey) {
			t.Errorf("%s: the answer holds the key", name)
		}
	}
	// The bearer token is not a UserSig.
	if status, _, raw := getWith(t, e.srv.URL+"/me/calls", "Bearer "+token, nil); status != http.StatusUnauthorized {
		t.Errorf("bearer token: %d %v", status, raw)
	}

	// With no key configured, the route says why it cannot answer.
	closed := newEnv(t, "v4", envOptions{noKey: true})
	status, _, raw := closed.getAs("/me/calls", bob, "bob", nil)
	if status != http.StatusServiceUnavailable || !strings.Contains(raw["error"].(string), "CALLFN_TENCENT_SECRET_KEY") {
		t.Errorf("no key: %d %v", status, raw)
	}
}
