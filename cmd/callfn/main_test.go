package main

import (
	"archive/zip"
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/testkit"
)

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
	buildDir  string
)

// callfnBin builds the callfn command once for all tests.
func callfnBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "callfn-test")
		if buildErr != nil {
			return
		}
		builtBin = filepath.Join(buildDir, "callfn")
		if out, err := exec.Command("go", "build", "-o", builtBin, ".").CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// serveEnv is the environment of a `callfn serve` on a free loopback
// address (addr) over an embedded table of its own, with vars added.
func serveEnv(t *testing.T, vars ...string) (addr string, env []string) {
	addr = freeAddr(t)
	env = append(os.Environ(), "CALLFN_ADDR="+addr, "CALLFN_STORE=bolt:"+filepath.Join(t.TempDir(), "callfn.db"))
	return addr, append(env, vars...)
}

// run runs the callfn binary with env and returns its standard output.
func run(t *testing.T, bin string, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("callfn %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

type printedEvent struct {
	Provider  *string `json:"provider"`
	CallID    *string `json:"callId"`
	Event     *string `json:"event"`
	EventTime *int64  `json:"eventTime"`
	Raw       *string `json:"raw"`
}

// readEvents parses `callfn events` output, checking every line has the
// documented fields.
func readEvents(t *testing.T, out string) []printedEvent {
	t.Helper()
	var evs []printedEvent
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var ev printedEvent
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			t.Fatalf("not a JSON line: %q: %v", sc.Text(), err)
		}
		if ev.Provider == nil || ev.CallID == nil || ev.Event == nil || ev.EventTime == nil || ev.Raw == nil {
			t.Fatalf("line lacks provider, callId, event, eventTime or raw: %s", sc.Text())
		}
		if *ev.EventTime < 1e12 || *ev.Raw == "" {
			t.Fatalf("eventTime not in ms, or raw empty: %s", sc.Text())
		}
		evs = append(evs, ev)
	}
	return evs
}

// TestServeSendEvents is the README's walk-through: serve, send every
// sample, list what was stored — while the server holds the embedded table
// and after it has stopped.
func TestServeSendEvents(t *testing.T) {
	bin := callfnBin(t)
	addr, env := serveEnv(t,
		"CALLFN_TENCENT_SDKAPPID=1400000001",
		"CALLFN_TENCENT_CALLBACK_TOKEN=",
		"CALLFN_YUNXIN_APPKEY=callfn-sample-appkey",
		"CALLFN_YUNXIN_APPSECRET=callfn-sample-appsecret",
	)
	srv, srvLog := startServe(t, bin, env, addr)

	samples, _ := filepath.Glob("../../events/lambda/webhook/*.json")
	if len(samples) < 10 {
		t.Fatalf("found %d samples", len(samples))
	}
	for _, f := range samples {
		out := run(t, bin, env, "send", "http://"+addr, f)
		if !strings.HasPrefix(out, "200 OK") {
			t.Fatalf("%s: %s", f, out)
		}
	}
	// A redelivery is acknowledged and not stored again.
	run(t, bin, env, "send", "http://"+addr, "../../events/lambda/webhook/tencent-v4-start-call.json")

	stored := len(samples) - 1 // the {} probe is answered, not stored
	live := readEvents(t, run(t, bin, env, "events"))
	if len(live) != stored {
		t.Fatalf("events while serving: %d lines, want %d", len(live), stored)
	}
	const callID = "055662e1-bc8a-469c-a334-1126c8c17d58"
	// The v4 samples are one call: started, member changed, ended.
	one := readEvents(t, run(t, bin, env, "events", "--call", callID))
	if len(one) != 3 {
		t.Fatalf("events --call: %d lines, want 3", len(one))
	}
	for _, ev := range one {
		if *ev.CallID != callID || *ev.Provider != "tencent" {
			t.Fatalf("events --call printed another call's event: %s %s", *ev.Provider, *ev.CallID)
		}
	}
	if *one[0].Event != "call_started" || !strings.Contains(*one[0].Raw, "144115212830834855") {
		t.Fatalf("first event is %s, raw %s", *one[0].Event, *one[0].Raw)
	}

	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly on SIGTERM: %v\n%s", err, srvLog.String())
	}
	if !strings.Contains(srvLog.String(), "callfn: stopped\n") {
		t.Errorf("serve did not say it stopped:\n%s", srvLog.String())
	}
	after := readEvents(t, run(t, bin, env, "events"))
	if len(after) != stored {
		t.Fatalf("events after stop: %d lines, want %d", len(after), stored)
	}
}

// startServe starts `callfn serve` and waits until it answers /healthz; the
// process is killed when the test ends.
func startServe(t *testing.T, bin string, env []string, addr string) (*exec.Cmd, *testkit.Buffer) {
	t.Helper()
	srv := exec.Command(bin, "serve")
	srv.Env = env
	srvLog := &testkit.Buffer{}
	srv.Stderr = srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Kill(); srv.Wait() })
	waitHealthy(t, addr)
	return srv, srvLog
}

// waitOutput waits until the process's output holds want.
func waitOutput(t *testing.T, b *testkit.Buffer, want string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if s := b.String(); strings.Contains(s, want) {
			return s
		}
	}
	t.Fatalf("the output never said %q:\n%s", want, b.String())
	return ""
}

func waitHealthy(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("no /healthz on %s", addr)
}

func TestZip(t *testing.T) {
	bin := callfnBin(t)
	dir := t.TempDir()
	payload := filepath.Join(dir, "bootstrap")
	os.WriteFile(payload, []byte("#!/bin/sh\necho hi\n"), 0o755)
	out := filepath.Join(dir, "fn.zip")
	run(t, bin, os.Environ(), "zip", "-o", out, payload)
	zr, err := zip.OpenReader(out)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Fatalf("zip holds %v", fmt.Sprint(zr.File[0].Name, zr.File[0].Mode()))
	}
}

// TestSandboxCall is the README's robot call: with no Tencent credentials,
// serve plays Tencent; one POST /calls starts a call whose signed callbacks
// land in the table, and /records answers it with the bearer token only.
func TestSandboxCall(t *testing.T) {
	bin := callfnBin(t)
	addr, env := serveEnv(t,
		"CALLFN_API_TOKEN=callfn-sample-token", // the token the events/ samples carry
		"CALLFN_TENCENT_SECRET_KEY=", "CALLFN_TENCENT_ENDPOINT=", "CALLFN_TENCENT_SDKAPPID=",
		"CALLFN_TENCENT_CALLBACK_TOKEN=sandbox-callback-token",
	)
	srv, srvLog := startServe(t, bin, env, addr)

	// serve prints the sandbox's app, for other tools to use.
	out := waitOutput(t, srvLog, "  export CALLFN_TENCENT_SDKAPPID=")
	m := regexp.MustCompile(`export (CALLFN_TENCENT_SDKAPPID=\S+) (CALLFN_TENCENT_SECRET_KEY=\S+) (CALLFN_TENCENT_ENDPOINT=\S+)\n`).FindStringSubmatch(out)
	if m == nil || m[2] != "CALLFN_TENCENT_SECRET_KEY="+sandbox.DefaultKey || m[3] != "CALLFN_TENCENT_ENDPOINT=http://"+addr+"/sandbox/tencent" {
		t.Fatalf("serve does not print the sandbox's app as it is:\n%s", out)
	}
	sandboxApp := m[1:]

	post := func(path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return do(t, req)
	}
	call := `{"Robot_Account":"robot","CalleeList_Account":["jack"],"Timeout":30000,"UserData":"[sandbox ring=100ms talk=200ms]","CallInfo":{"MediaType":"Audio"}}`
	if code, _ := post("/calls", "", call); code != http.StatusUnauthorized {
		t.Fatalf("POST /calls without a token: %d", code)
	}
	code, reply := post("/calls", "callfn-sample-token", call)
	callID, _ := reply["CallId"].(string)
	if code != http.StatusOK || callID == "" || reply["CallResult"] == nil {
		t.Fatalf("POST /calls: %d %v", code, reply)
	}

	// The sandbox signs its callbacks with the token; the webhook checks it.
	var evs []printedEvent
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		evs = readEvents(t, run(t, bin, env, "events", "--call", callID))
		if len(evs) > 0 && *evs[len(evs)-1].Event == "call_ended" {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var commands []string
	for _, ev := range evs {
		commands = append(commands, *ev.Provider+":"+*ev.Event)
	}
	want := []string{"callfn:call_started", "tencent:call_started", "tencent:call_ended"}
	for _, w := range want {
		if !strings.Contains(strings.Join(commands, " "), w) {
			t.Fatalf("events of %s: %v, missing %s\n%s", callID, commands, w, srvLog.String())
		}
	}

	// A sample trigger event is sent with its own method, path and token;
	// a schedule sample is refused, not posted.
	if out := run(t, bin, env, "send", "http://"+addr, "../../events/lambda/startcall/start-call.json"); !strings.HasPrefix(out, "200 OK") || !strings.Contains(out, `"CallId"`) {
		t.Fatalf("send start-call sample: %s", out)
	}
	sched := exec.Command(bin, "send", "http://"+addr, "../../events/lambda/startcall/schedule-example-call.json")
	sched.Env = env
	if out, err := sched.CombinedOutput(); err == nil || !strings.Contains(string(out), "schedule event") {
		t.Fatalf("send of a schedule sample: %v %s", err, out)
	}

	get := func(path, token string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		return do(t, req)
	}
	if code, _ := get("/records/"+callID, "wrong-token"); code != http.StatusUnauthorized {
		t.Fatalf("GET /records with a wrong token: %d", code)
	}
	code, rec := get("/records/"+callID, "callfn-sample-token")
	if code != http.StatusOK || rec["callId"] != callID || rec["status"] != "ended" || rec["source"] == nil {
		t.Fatalf("GET /records/%s: %d %v", callID, code, rec)
	}
	code, list := get("/records", "callfn-sample-token")
	if code != http.StatusOK || !strings.Contains(fmt.Sprint(list["records"]), callID) {
		t.Fatalf("GET /records: %d %v", code, list)
	}

	// Schedules, fired by hand: startcall's twice for the same time rings
	// once; the records archive stores what the sandbox played.
	fire := func(path, payload string) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+path, strings.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		return do(t, req)
	}
	const at = "/_callfn/schedule/startcall?name=morning&time=2030-01-02T09:00:00Z"
	code, first := fire(at, call)
	if code != http.StatusOK || first["claimed"] != true || len(first["calls"].([]any)) != 1 {
		t.Fatalf("first firing: %d %v", code, first)
	}
	if code, again := fire(at, call); code != http.StatusOK || again["claimed"] != false || again["calls"] != nil {
		t.Fatalf("second firing of the same time: %d %v", code, again)
	}
	code, report := fire("/_callfn/schedule/records", `{"since":"1d"}`)
	if code != http.StatusOK || report["records"].(float64) < 1 || report["done"] != true {
		t.Fatalf("archive: %d %v", code, report)
	}
	if code, _ := fire("/_callfn/schedule/webhook", ""); code != http.StatusNotFound {
		t.Fatalf("firing a function with no schedule: %d", code)
	}

	// With the printed app, `callfn archive` asks the running sandbox (into
	// a table of its own: serve holds the embedded one).
	archiveEnv := append(append(slices.Clone(env), sandboxApp...), "CALLFN_STORE=memory:")
	if out := run(t, bin, archiveEnv, "archive", "--since", "1d"); !regexp.MustCompile(`\b[1-9]\d* records in .*: [1-9]\d* new`).MatchString(out) {
		t.Errorf("callfn archive against the printed sandbox app: %s", out)
	}

	// What a web page could send, through DNS rebinding or cross-site, is
	// refused before any schedule runs or any event is read.
	rang := countRang(t, bin, env)
	for _, c := range []struct {
		name, method, path, host, origin, ctype string
	}{
		{"cross-site simple POST", "POST", "/_callfn/schedule/startcall?name=evil", "", "https://attacker.example", "text/plain"},
		{"text/plain without Origin", "POST", "/_callfn/schedule/startcall?name=evil", "", "", "text/plain"},
		{"a form", "POST", "/_callfn/schedule/startcall?name=evil", "", "", "application/x-www-form-urlencoded"},
		{"JSON from a foreign Origin", "POST", "/_callfn/schedule/startcall?name=evil", "", "https://attacker.example", "application/json"},
		{"rebound Host", "POST", "/_callfn/schedule/startcall?name=evil", "attacker.example:" + strings.Split(addr, ":")[1], "", "application/json"},
		{"events under a rebound Host", "GET", "/_callfn/events", "attacker.example", "", ""},
		{"events from a foreign Origin", "GET", "/_callfn/events", "", "http://attacker.example", ""},
	} {
		req, _ := http.NewRequest(c.method, "http://"+addr+c.path, strings.NewReader(call))
		if c.host != "" {
			req.Host = c.host
		}
		if c.origin != "" {
			req.Header.Set("Origin", c.origin)
		}
		if c.ctype != "" {
			req.Header.Set("Content-Type", c.ctype)
		}
		if code, body := do(t, req); code != http.StatusForbidden {
			t.Errorf("%s: %d %v, want 403", c.name, code, body)
		}
	}
	if n := countRang(t, bin, env); n != rang {
		t.Errorf("a refused request started a call: %d calls before, %d after", rang, n)
	}
	// Stopping serve ends the sandbox's calls in flight: their last
	// callbacks reach the webhook before it stops, so the table holds no
	// call in progress for ever.
	defer func() {
		_, long := post("/calls", "callfn-sample-token", `{"Robot_Account":"robot","CalleeList_Account":["jack"],"Timeout":30000,"UserData":"[sandbox ring=100ms talk=1h]","CallInfo":{"MediaType":"Audio"}}`)
		longID, _ := long["CallId"].(string)
		if longID == "" {
			t.Fatalf("POST /calls: %v", long)
		}
		time.Sleep(500 * time.Millisecond) // answered, talking
		srv.Process.Signal(syscall.SIGTERM)
		if err := srv.Wait(); err != nil {
			t.Fatalf("serve did not stop cleanly: %v\n%s", err, srvLog.String())
		}
		log := srvLog.String()
		if !regexp.MustCompile(`the sandbox ended [1-9]\d* calls in progress`).MatchString(log) || !strings.Contains(log, "callfn: stopped\n") {
			t.Errorf("serve's stop does not say what it did:\n%s", log)
		}
		evs := readEvents(t, run(t, bin, env, "events", "--call", longID)) // the table itself, now free
		var got []string
		for _, ev := range evs {
			got = append(got, *ev.Provider+":"+*ev.Event)
		}
		if !slices.Contains(got, "tencent:call_ended") {
			t.Errorf("the call in flight at the stop: events %v, want Tencent's call_ended among them", got)
		}
	}()

	for _, host := range []string{"localhost:" + strings.Split(addr, ":")[1], "127.0.0.1"} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/_callfn/events", nil)
		req.Host = host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET /_callfn/events with Host %s: %d, want 200", host, resp.StatusCode)
		}
	}
}

// countRang counts the calls startcall recorded (callfn start_call events).
func countRang(t *testing.T, bin string, env []string) int {
	n := 0
	for _, ev := range readEvents(t, run(t, bin, env, "events")) {
		if *ev.Provider == "callfn" && *ev.Event == "call_started" {
			n++
		}
	}
	return n
}

func do(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, body := testkit.Do(t, req)
	var v map[string]any
	json.NewDecoder(bytes.NewReader(body)).Decode(&v)
	return resp.StatusCode, v
}
