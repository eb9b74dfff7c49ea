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
	"strings"
	"syscall"
	"testing"
	"time"
)

// callfnBin builds the callfn command once per test run.
func callfnBin(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "callfn")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func freeAddr(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
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
	addr := freeAddr(t)
	env := append(os.Environ(),
		"CALLFN_ADDR="+addr,
		"CALLFN_STORE=bolt:"+filepath.Join(t.TempDir(), "callfn.db"),
		"CALLFN_TENCENT_SDKAPPID=1400000001",
		"CALLFN_TENCENT_CALLBACK_TOKEN=",
		"CALLFN_YUNXIN_APPKEY=callfn-sample-appkey",
		"CALLFN_YUNXIN_APPSECRET=callfn-sample-appsecret",
	)
	srv := exec.Command(bin, "serve")
	srv.Env = env
	var srvLog bytes.Buffer
	srv.Stderr = &srvLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Process.Kill()
	waitHealthy(t, addr)

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
	after := readEvents(t, run(t, bin, env, "events"))
	if len(after) != stored {
		t.Fatalf("events after stop: %d lines, want %d", len(after), stored)
	}
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
