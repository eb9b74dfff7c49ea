package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestHistoryWhileRinging is issue 8's "done when", as the README walks
// it: with serve playing Tencent, a robot call that still rings and a
// Yunxin call still going on (a copy callback sent with `callfn send`)
// are both in GET /records at once, and in GET /users/{userId}/calls for
// each participant; GET /me/calls answers a user holding a valid UserSig
// (from `callfn usersig`) and refuses everyone else.
func TestHistoryWhileRinging(t *testing.T) {
	bin := callfnBin(t)
	addr := freeAddr(t)
	env := append(os.Environ(),
		"CALLFN_ADDR="+addr,
		"CALLFN_STORE=bolt:"+filepath.Join(t.TempDir(), "callfn.db"),
		"CALLFN_API_TOKEN=dev-token",
		"CALLFN_TENCENT_SECRET_KEY=", "CALLFN_TENCENT_ENDPOINT=", "CALLFN_TENCENT_SDKAPPID=", "CALLFN_TENCENT_CALLBACK_TOKEN=",
		"CALLFN_YUNXIN_APPKEY=callfn-sample-appkey", "CALLFN_YUNXIN_APPSECRET=callfn-sample-appsecret",
	)
	startServe(t, bin, env, addr)
	req := func(method, path, auth, user, body string) (int, map[string]any) {
		r, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if user != "" {
			r.Header.Set("X-User-Id", user)
		}
		return do(t, r)
	}
	// The README's robot call, ringing a minute.
	code, reply := req(http.MethodPost, "/calls", "Bearer dev-token", "",
		`{"Robot_Account":"robot","CalleeList_Account":["jack"],"Timeout":300000,"UserData":"[sandbox ring=60s talk=5s]","CallInfo":{"MediaType":"Video","RoomId":"roomid-test","RoomIdType":2}}`)
	callID, _ := reply["CallId"].(string)
	if code != http.StatusOK || callID == "" {
		t.Fatalf("POST /calls: %d %v", code, reply)
	}
	// The README's Yunxin call, going on (running: true), from standard input.
	send := exec.Command(bin, "send", "http://"+addr+"/webhook/yunxin/copy", "-")
	send.Env = env
	send.Stdin = strings.NewReader(`{"channelId":"6290737000999815989","createtime":"1573459861008","duration":"12","eventType":"5","live":"0","members":"[{\"accid\":\"rss02\",\"caller\":true},{\"accid\":\"rss01\"}]","running":true,"status":"SUCCESS","type":"AUDIO"}`)
	if out, err := send.CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "200 OK") {
		t.Fatalf("callfn send: %v %s", err, out)
	}

	records := func(path, auth, user string) map[string]map[string]any {
		t.Helper()
		code, page := req(http.MethodGet, path, auth, user, "")
		if code != http.StatusOK {
			t.Fatalf("GET %s: %d %v", path, code, page)
		}
		byID := map[string]map[string]any{}
		list, _ := page["records"].([]any)
		for _, r := range list {
			rec := r.(map[string]any)
			byID[rec["callId"].(string)] = rec
		}
		return byID
	}
	all := records("/records", "Bearer dev-token", "")
	if r := all[callID]; r == nil || r["status"] != "ringing" || r["provider"] != "tencent" {
		t.Errorf("the robot call: %v", r)
	}
	if r := all["6290737000999815989"]; r == nil || r["status"] != "in_progress" || r["provider"] != "yunxin" {
		t.Errorf("the Yunxin call: %v", r)
	}
	for user, want := range map[string]string{"robot": callID, "jack": callID, "rss01": "6290737000999815989", "rss02": "6290737000999815989"} {
		got := records("/users/"+user+"/calls", "Bearer dev-token", "")
		if len(got) != 1 || got[want] == nil {
			t.Errorf("/users/%s/calls: %v, want %s", user, got, want)
		}
	}

	jack := strings.TrimSpace(run(t, bin, env, "usersig", "jack"))
	if got := records("/me/calls", "UserSig "+jack, "jack"); len(got) != 1 || got[callID] == nil {
		t.Errorf("/me/calls as jack: %v", got)
	}
	for name, c := range map[string][2]string{
		"another user's UserSig": {"UserSig " + jack, "rss01"},
		"the bearer token":       {"Bearer dev-token", "jack"},
		"nothing":                {"", ""},
	} {
		if code, body := req(http.MethodGet, "/me/calls", c[0], c[1], ""); code != http.StatusUnauthorized {
			t.Errorf("/me/calls with %s: %d %v", name, code, body)
		}
	}
	if code, body := req(http.MethodGet, "/stats", "Bearer dev-token", "", ""); code != http.StatusOK || fmt.Sprint(body["total"]) == "" {
		t.Errorf("/stats: %d %v", code, body)
	}
}
