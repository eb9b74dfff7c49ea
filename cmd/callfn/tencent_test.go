package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// tencentEnv is a sandbox served on loopback and the environment that
// points callfn at it.
type tencentEnv struct {
	sb  *sandbox.Sandbox
	srv *httptest.Server
	env map[string]string
}

func newTencentEnv(t *testing.T) *tencentEnv {
	t.Helper()
	sb := sandbox.New(sandbox.Options{Scale: sandbox.Instant, Logger: slog.New(slog.DiscardHandler)})
	srv := httptest.NewServer(sb)
	t.Cleanup(func() { srv.Close(); sb.Close() })
	return &tencentEnv{sb: sb, srv: srv, env: map[string]string{
		"CALLFN_TENCENT_SDKAPPID":   fmt.Sprint(sb.SDKAppID()),
		"CALLFN_TENCENT_SECRET_KEY": sandbox.DefaultKey,
		"CALLFN_TENCENT_ENDPOINT":   srv.URL,
	}}
}

// run runs `callfn tencent args` in-process.
func (e *tencentEnv) run(args ...string) (code int, stdout, stderr string) {
	return runTencentWith(e.env, args...)
}

func runTencentWith(env map[string]string, args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = runTencent(context.Background(), args, func(k string) string { return env[k] }, &out, &errOut)
	return code, out.String(), errOut.String()
}

// callbackRequests counts the callback configuration requests that reached
// the sandbox.
func (e *tencentEnv) callbackRequests() int {
	n := 0
	for _, c := range []string{"set_callback", "get_callback", "delete_callback", "callback/set", "callback/get", "callback/delete"} {
		n += e.sb.Requests(c)
	}
	return n
}

// hookServer records the callbacks it receives.
type hookServer struct {
	srv      *httptest.Server
	mu       sync.Mutex
	commands []string
}

func newHookServer(t *testing.T) *hookServer {
	h := &hookServer{}
	h.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.mu.Lock()
		if r.URL.Path == webhookPath {
			h.commands = append(h.commands, r.URL.Query().Get("CallbackCommand"))
		}
		h.mu.Unlock()
		w.Write([]byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`))
	}))
	t.Cleanup(h.srv.Close)
	return h
}

// set-callback configures every callback the webhook reads, reads it back,
// and Tencent (the sandbox) then sends a call's callbacks there;
// get-callback shows it, delete-callback removes it.
func TestTencentSetCallback(t *testing.T) {
	e := newTencentEnv(t)
	hook := newHookServer(t)
	hookURL := hook.srv.URL + "/webhook/tencent"
	code, out, errOut := e.run("set-callback", "--url", hookURL)
	if code != 0 {
		t.Fatalf("set-callback: exit %d\n%s%s", code, out, errOut)
	}
	all := callback.Commands(tencent.V4)
	wantLine := "  commands  " + strings.Join(all, ", ")
	if strings.Count(out, "  url       "+hookURL+"\n") != 2 || strings.Count(out, wantLine+"\n") != 2 ||
		!strings.Contains(out, "read back:") || !strings.HasSuffix(out, "ok\n") {
		t.Fatalf("set-callback printed:\n%s", out)
	}
	if !strings.Contains(errOut, "CALLFN_TENCENT_CALLBACK_TOKEN is not set") || strings.Contains(errOut, "warning") {
		t.Errorf("set-callback stderr: %q", errOut)
	}

	code, out, _ = e.run("get-callback")
	if code != 0 || !strings.Contains(out, "v4 callback of SDKAppID") || !strings.Contains(out, hookURL) || !strings.Contains(out, wantLine) {
		t.Fatalf("get-callback: exit %d\n%s", code, out)
	}

	// Tencent now sends a call's callbacks to the URL.
	client, err := rest.New(rest.Options{SDKAppID: e.sb.SDKAppID(), Key: sandbox.DefaultKey, Endpoint: e.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	req := &rest.StartCallRequest{Robot_Account: "robot", CalleeList_Account: []string{"jack"}, Timeout: 30000,
		UserData: "[sandbox outcome=NormalEnd]", CallInfo: rest.CallInfo{MediaType: "Audio"}}
	if _, _, err := client.StartCallByRobot(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if err := e.sb.Wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	hook.mu.Lock()
	got := slices.Compact(slices.Sorted(slices.Values(hook.commands)))
	hook.mu.Unlock()
	if !slices.Equal(got, slices.Sorted(slices.Values(all))) {
		t.Fatalf("the webhook got callbacks %v, want each of %v", got, all)
	}

	code, out, _ = e.run("delete-callback")
	if code != 0 || !strings.HasPrefix(out, "deleted the v4 callback") {
		t.Fatalf("delete-callback: exit %d %q", code, out)
	}
	code, out, errOut = e.run("get-callback")
	if code != 1 || out != "" || !strings.Contains(errOut, "no v4 callback of SDKAppID") || !strings.Contains(errOut, "is configured") {
		t.Fatalf("get-callback after delete: exit %d %q %q", code, out, errOut)
	}
}

// v1 takes its own commands (actions), by flag or by
// CALLFN_TENCENT_API_VERSION, and keeps its configuration apart from v4's.
func TestTencentSetCallbackV1(t *testing.T) {
	e := newTencentEnv(t)
	const hookURL = "https://calls.example.com/release/webhook/tencent"
	code, out, errOut := e.run("set-callback", "--api", "v1", "--url", hookURL, "--commands", "caller_start_call, normal_end,caller_start_call")
	if code != 0 || strings.Count(out, "  commands  caller_start_call, normal_end\n") != 2 || errOut != "" {
		t.Fatalf("set-callback v1: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, _ := e.run("get-callback"); code != 1 {
		t.Fatalf("the v4 configuration after a v1 set: exit %d, want 1 (none)", code)
	}
	e.env["CALLFN_TENCENT_API_VERSION"] = "v1"
	code, out, _ = e.run("get-callback")
	if code != 0 || !strings.Contains(out, "v1 callback") || !strings.Contains(out, hookURL) || !strings.Contains(out, "caller_start_call, normal_end") {
		t.Fatalf("get-callback v1: exit %d\n%s", code, out)
	}
	// By default, every v1 command the webhook reads.
	if code, out, errOut = e.run("set-callback", "--url", hookURL); code != 0 {
		t.Fatalf("set-callback v1, default commands: exit %d\n%s%s", code, out, errOut)
	}
	cfg := e.v1Config(t)
	if !slices.Equal(cfg.Commands, callback.Commands(tencent.V1)) || cfg.URL != hookURL {
		t.Fatalf("the sandbox holds %+v", cfg)
	}
	if code, out, _ = e.run("delete-callback", "--api", "v1"); code != 0 || !strings.HasPrefix(out, "deleted the v1 callback") {
		t.Fatalf("delete-callback v1: exit %d %q", code, out)
	}
	if code, _, _ = e.run("get-callback", "--api", "v1"); code != 1 {
		t.Fatalf("get-callback v1 after delete: exit %d", code)
	}
}

func (e *tencentEnv) v1Config(t *testing.T) rest.CallbackConfig {
	t.Helper()
	client, err := rest.New(rest.Options{SDKAppID: e.sb.SDKAppID(), Key: sandbox.DefaultKey, Endpoint: e.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	cfg, _, err := client.GetCallback(context.Background(), tencent.V1)
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// Without the app's SDKAppID and key, the command names what to set and
// exits 2, before any request.
func TestTencentMissingConfig(t *testing.T) {
	args := []string{"set-callback", "--url", "https://calls.example.com/webhook/tencent"}
	for _, c := range []struct {
		env           map[string]string
		want, notWant []string
	}{
		{map[string]string{}, []string{"CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY", "not configured"}, nil},
		{map[string]string{"CALLFN_TENCENT_SDKAPPID": "1400000000"}, []string{"set CALLFN_TENCENT_SECRET_KEY"}, []string{"set CALLFN_TENCENT_SDKAPPID"}},
		{map[string]string{"CALLFN_TENCENT_SECRET_KEY": "k"}, []string{"set CALLFN_TENCENT_SDKAPPID "}, []string{"and CALLFN_TENCENT_SECRET_KEY"}},
		{map[string]string{"CALLFN_TENCENT_SDKAPPID": "abc", "CALLFN_TENCENT_SECRET_KEY": "k"}, []string{"CALLFN_TENCENT_SDKAPPID", "not a positive integer"}, nil},
		{map[string]string{"CALLFN_TENCENT_SDKAPPID": "1", "CALLFN_TENCENT_SECRET_KEY": "k", "CALLFN_TENCENT_REGION": "mars"}, []string{"CALLFN_TENCENT_REGION"}, nil},
	} {
		for _, a := range [][]string{args, {"get-callback"}, {"delete-callback"}} {
			code, out, errOut := runTencentWith(c.env, a...)
			if code != 2 || out != "" {
				t.Errorf("%v with %v: exit %d, stdout %q", a, c.env, code, out)
			}
			for _, w := range c.want {
				if !strings.Contains(errOut, w) {
					t.Errorf("%v with %v: stderr %q lacks %q", a, c.env, errOut, w)
				}
			}
			for _, w := range c.notWant {
				if strings.Contains(errOut, w) {
					t.Errorf("%v with %v: stderr %q has %q", a, c.env, errOut, w)
				}
			}
		}
	}
}

// URLs Tencent should not be given are refused with exit 2 before any
// request; a path that is not the webhook's is only warned about.
func TestTencentSetCallbackBadURL(t *testing.T) {
	e := newTencentEnv(t)
	for raw, want := range map[string]string{
		"":                                  "--url is required",
		"calls.example.com/webhook/tencent": "not an absolute URL",
		"/webhook/tencent":                  "not an absolute URL",
		"http://calls.example.com/webhook/tencent":          "plain http",
		"http://192.0.2.7:8080/webhook/tencent":             "plain http",
		"ftp://calls.example.com/webhook/tencent":           "want an https URL",
		"https://calls.example.com/webhook/tencent?x=1":     "query",
		"https://calls.example.com/webhook/tencent#top":     "fragment",
		"https://calls.example.com/webhook/tencent?":        "query",
		"https://user:pw@calls.example.com/webhook/tencent": "password",
		"https:///webhook/tencent":                          "not an absolute URL",
	} {
		args := []string{"set-callback"}
		if raw != "" {
			args = append(args, "--url", raw)
		}
		code, out, errOut := e.run(args...)
		if code != 2 || out != "" || !strings.Contains(errOut, want) || strings.Contains(errOut, "pw@") {
			t.Errorf("--url %q: exit %d, stdout %q, stderr %q; want exit 2 and %q", raw, code, out, errOut, want)
		}
	}
	for _, c := range [][]string{
		{"--commands", "Call.CallbackAfterStart"},               // a typo
		{"--commands", "caller_start_call"},                     // a v1 command for v4
		{"--api", "v1", "--commands", callback.CmdAfterEndCall}, // and the reverse
		{"--commands", " , "},
		{"--api", "v2"},
	} {
		code, _, errOut := e.run(append([]string{"set-callback", "--url", "https://calls.example.com/webhook/tencent"}, c...)...)
		if code != 2 || !strings.Contains(errOut, "--") {
			t.Errorf("%v: exit %d %q", c, code, errOut)
		}
	}
	if n := e.callbackRequests(); n != 0 {
		t.Fatalf("%d requests reached Tencent", n)
	}

	// http on loopback is the local sandbox's; another path is a warning.
	for raw, warn := range map[string]string{
		"http://127.0.0.1:8080/webhook/tencent":         "",
		"http://localhost:8080/webhook/tencent":         "",
		"http://[::1]:8080/webhook/tencent":             "",
		"http://127.0.0.1:8080/tencent":                 "does not end in /webhook/tencent",
		"http://127.0.0.1:8080/webhook/tencent/":        "does not end in /webhook/tencent",
		"http://127.0.0.1:8080/release/webhook/tencent": "",
	} {
		code, out, errOut := e.run("set-callback", "--url", raw)
		if code != 0 || !strings.Contains(out, raw) || (warn == "") != !strings.Contains(errOut, "warning") || !strings.Contains(errOut, warn) {
			t.Errorf("--url %q: exit %d, stderr %q, want warning %q", raw, code, errOut, warn)
		}
	}
	// Tencent's own servers cannot reach loopback.
	if w, err := checkHookURL("http://127.0.0.1:8080/webhook/tencent", true); err != nil || len(w) != 1 || !strings.Contains(w[0], "cannot reach") {
		t.Errorf("loopback for real Tencent: %v %v", w, err)
	}
}

// A refusal by Tencent exits 1 with Tencent's error.
func TestTencentSetCallbackRefused(t *testing.T) {
	e := newTencentEnv(t)
	e.sb.Inject(sandbox.Fault{Command: "call_config/set_callback", Code: 100002, Info: "injected bad parameter"})
	code, out, errOut := e.run("set-callback", "--url", "https://calls.example.com/webhook/tencent")
	if code != 1 || out != "" || !strings.Contains(errOut, "100002") || !strings.Contains(errOut, "injected bad parameter") {
		t.Fatalf("exit %d %q %q", code, out, errOut)
	}
	e.env["CALLFN_TENCENT_SECRET_KEY"] = "not-the-key"
	code, _, errOut = e.run("get-callback")
	if code != 1 || !strings.Contains(errOut, "UserSig") || strings.Contains(errOut, "usersig=") {
		t.Fatalf("wrong key: exit %d %q", code, errOut)
	}
}

func TestTencentHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"set-callback", "--help"}, {"get-callback", "-h"}, {"delete-callback", "--help"}} {
		code, out, errOut := runTencentWith(nil, args...)
		if code != 0 || !strings.Contains(out, "set-callback --url URL") || errOut != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
	for _, args := range [][]string{{}, {"set"}, {"get-callback", "--url", "x"}, {"get-callback", "extra"}} {
		code, out, errOut := runTencentWith(nil, args...)
		if code != 2 || out != "" || errOut == "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}
}

// The binary's exit statuses: 0 for help, 2 without configuration.
func TestTencentExitStatus(t *testing.T) {
	bin := callfnBin(t)
	env := append(os.Environ(), "CALLFN_TENCENT_SDKAPPID=", "CALLFN_TENCENT_SECRET_KEY=", "CALLFN_TENCENT_ENDPOINT=")
	status := func(args ...string) (int, string, string) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), out.String(), errOut.String()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, out.String(), errOut.String()
	}
	if code, out, _ := status("tencent", "set-callback", "--help"); code != 0 || !strings.Contains(out, "set-callback") {
		t.Errorf("--help: exit %d %q", code, out)
	}
	if code, _, errOut := status("tencent", "set-callback", "--url", "https://calls.example.com/webhook/tencent"); code != 2 ||
		!strings.Contains(errOut, "CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY") {
		t.Errorf("missing configuration: exit %d %q", code, errOut)
	}
}
