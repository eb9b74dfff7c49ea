package main

// Forwarding under `callfn serve`, end to end: the real binary, the
// samples sent as their providers send them, a receiver that verifies
// every signature with the standard-webhooks library's Verify.

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/testkit/deploy"
	"github.com/callfn/callfn/testkit/receiver"
)

var fwdSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("callfn-serve-forward-test-key-01"))

// forwardEnv is the walk-through's environment, forwarding to url.
func forwardEnv(t *testing.T, addr, db, url string) []string {
	return append(os.Environ(),
		"CALLFN_ADDR="+addr,
		"CALLFN_STORE=bolt:"+db,
		"CALLFN_TENCENT_SDKAPPID=1400000001",
		"CALLFN_TENCENT_CALLBACK_TOKEN=",
		"CALLFN_YUNXIN_APPKEY=callfn-sample-appkey",
		"CALLFN_YUNXIN_APPSECRET=callfn-sample-appsecret",
		"CALLFN_FORWARD_URL="+url,
		"CALLFN_FORWARD_SECRET="+fwdSecret,
		"CALLFN_API_TOKEN=callfn-sample-token",
	)
}

// sampleBodies maps each webhook sample's body (what the webhook stores
// as the event's raw) to its file.
func sampleBodies(t *testing.T) map[string]string {
	t.Helper()
	files, _ := filepath.Glob("../../events/lambda/webhook/*.json")
	out := map[string]string{}
	for _, f := range files {
		ev, err := deploy.LoadLambdaSample(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := deploy.LambdaBody(&ev)
		if err != nil {
			t.Fatal(err)
		}
		out[string(b)] = f
	}
	return out
}

// forwarded is a received message's body.
type forwarded struct {
	Type      string `json:"type"`
	Timestamp string `json:"timestamp"`
	Data      struct {
		Event struct {
			CallID     string `json:"callId"`
			DeliveryID string `json:"deliveryId"`
			Raw        string `json:"raw"`
		} `json:"event"`
		Summary json.RawMessage `json:"summary"`
	} `json:"data"`
}

func decodeForwarded(t *testing.T, m receiver.Message) forwarded {
	t.Helper()
	var f forwarded
	if err := json.Unmarshal(m.Body, &f); err != nil || f.Type != forward.Type || f.Data.Event.DeliveryID == "" {
		t.Fatalf("message %s: %v %s", m.ID, err, m.Body)
	}
	return f
}

// runOut runs the binary and returns its stdout and stderr.
func runOut(t *testing.T, bin string, env []string, args ...string) (string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("callfn %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String(), stderr.String()
}

// TestServeForwards is the forwarding walk-through: with
// CALLFN_FORWARD_URL pointing at a receiver that fails each message's first
// attempt, every event stored during `callfn serve` reaches it, signed,
// its first attempt within 5 s of the callback's acknowledgment and its
// retry seconds later, under one webhook-id; `callfn deliveries` shows
// them delivered; `callfn replay` sends a call's events, and a range's,
// again under the same ids.
func TestServeForwards(t *testing.T) {
	bin := callfnBin(t)
	rc := receiver.Start(t, fwdSecret)
	rc.Respond(receiver.FailFirst(1, 503))
	addr := freeAddr(t)
	env := forwardEnv(t, addr, filepath.Join(t.TempDir(), "callfn.db"), rc.URL)
	srv, srvLog := startServe(t, bin, env, addr)

	bodies := sampleBodies(t)
	acked := map[string]time.Time{} // sample file -> when the webhook answered
	for _, f := range bodies {
		if out := run(t, bin, env, "send", "http://"+addr, f); !strings.HasPrefix(out, "200 OK") {
			t.Fatalf("%s: %s", f, out)
		}
		acked[f] = time.Now()
	}
	stored := len(bodies) - 1 // the Yunxin probe is answered, not stored
	acc := rc.Await(stored, 60*time.Second)
	if len(acc) != stored {
		t.Fatalf("%d accepted, want %d\n%s", len(acc), stored, srvLog)
	}
	ids := map[string]string{} // webhook-id -> raw
	for _, m := range acc {
		f := decodeForwarded(t, m)
		file, ok := bodies[f.Data.Event.Raw]
		if !ok {
			t.Fatalf("message %s forwards an event no sample sent: %s", m.ID, f.Data.Event.Raw)
		}
		if _, dup := ids[m.ID]; dup {
			t.Errorf("%s accepted twice", m.ID)
		}
		ids[m.ID] = file
		if m.ID != forward.MessageID(f.Data.Event.DeliveryID, rc.URL) { // rc.URL is canonical
			t.Errorf("%s: webhook-id is not the delivery's", file)
		}
		// Every attempt of the message carries its id: the refused first
		// one, soon after the acknowledgment, and the accepted retry.
		var first *receiver.Message
		n := 0
		for _, x := range rc.Messages() {
			if x.ID == m.ID {
				n++
				if x.Attempt == 1 {
					first = &x
				}
			}
		}
		if n != 2 || first == nil || first.Status != 503 || m.Attempt != 2 {
			t.Errorf("%s: %d requests under its id (first %+v), want the refused one and the accepted retry", file, n, first)
			continue
		}
		if d := first.At.Sub(acked[file]); d > 5*time.Second {
			t.Errorf("%s: first attempt %s after the acknowledgment, want within 5 s", file, d)
		}
		if d := m.At.Sub(first.At); d < 5*time.Second || d > 20*time.Second {
			t.Errorf("%s: retried %s after the first attempt, want the schedule's 5 s (+ jitter, + a tick)", file, d)
		}
	}

	// callfn deliveries, while serve holds the table: every one delivered.
	out := run(t, bin, env, "deliveries")
	if want := strconv.Itoa(stored) + " deliveries: " + strconv.Itoa(stored) + " delivered, 0 pending, 0 failed"; !strings.Contains(out, want) {
		t.Errorf("callfn deliveries:\n%s\nwant %q", out, want)
	}
	if !strings.Contains(out, "WEBHOOK-ID") || !strings.Contains(out, "LAST ATTEMPT") || !strings.Contains(out, "  204  ") {
		t.Errorf("callfn deliveries lacks the columns or the last attempt:\n%s", out)
	}
	const callID = "055662e1-bc8a-469c-a334-1126c8c17d58"
	lines := strings.Split(strings.TrimSpace(run(t, bin, env, "deliveries", "--call", callID, "--json")), "\n")
	if len(lines) != 3 {
		t.Fatalf("deliveries --call --json: %d lines:\n%s", len(lines), strings.Join(lines, "\n"))
	}
	var callIDs []string
	for _, l := range lines {
		var d struct {
			CallID    string `json:"callId"`
			WebhookID string `json:"webhookId"`
			State     string `json:"state"`
			Attempts  int    `json:"attempts"`
		}
		if err := json.Unmarshal([]byte(l), &d); err != nil || d.CallID != callID || d.State != "delivered" || d.Attempts != 2 || ids[d.WebhookID] == "" {
			t.Errorf("delivery line %s", l)
		}
		callIDs = append(callIDs, d.WebhookID)
	}
	if out := run(t, bin, env, "deliveries", "--failed"); !strings.Contains(out, "no deliveries") {
		t.Errorf("deliveries --failed: %s", out)
	}
	// GET /records/{callId}: each event's deliveries.
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/records/"+callID, nil)
	req.Header.Set("Authorization", "Bearer callfn-sample-token")
	if code, rec := do(t, req); code != http.StatusOK || len(rec["events"].([]any)) != 3 {
		t.Errorf("GET /records/%s: %d %v", callID, code, rec)
	} else {
		for _, ev := range rec["events"].([]any) {
			ds, _ := ev.(map[string]any)["deliveries"].([]any)
			if len(ds) != 1 || ds[0].(map[string]any)["state"] != "delivered" || !slicesContains(callIDs, ds[0].(map[string]any)["webhookId"].(string)) {
				t.Errorf("event's deliveries %v", ds)
			}
		}
	}

	// callfn replay --call: the call's three events again, same ids.
	out, _ = runOut(t, bin, env, "replay", "--call", callID)
	if !strings.Contains(out, "replayed 3 events: 3 deliveries queued") {
		t.Fatalf("replay --call: %s", out)
	}
	acc = rc.Await(stored+3, 10*time.Second)
	for _, m := range acc[stored:] {
		if !slicesContains(callIDs, m.ID) || m.Attempt != 3 {
			t.Errorf("replayed message %s (attempt %d) is not one of the call's ids %v", m.ID, m.Attempt, callIDs)
		}
	}

	// callfn replay --since: a range, with a progress bar; every stored
	// event (the samples' times are within ten years) again, same ids.
	out, errOut := runOut(t, bin, env, "replay", "--since", "3650d")
	m := regexp.MustCompile(`replayed (\d+) events`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(errOut, "100%") || !strings.Contains(errOut, "calls ") {
		t.Fatalf("replay --since: %q, progress %q", out, errOut)
	}
	n, _ := strconv.Atoi(m[1])
	if n < 3 || n > stored {
		t.Errorf("replay --since replayed %d events of %d", n, stored)
	}
	acc = rc.Await(stored+3+n, 10*time.Second)
	for _, m := range acc[stored+3:] {
		if ids[m.ID] == "" {
			t.Errorf("replayed message %s under an id never sent before", m.ID)
		}
	}

	srv.Process.Signal(syscall.SIGTERM)
	if err := srv.Wait(); err != nil {
		t.Fatalf("serve did not stop cleanly: %v\n%s", err, srvLog)
	}
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestServeKill9LosesNothing kills `callfn serve` (SIGKILL) while a
// delivery hangs in flight and the others wait, owed: the next `callfn
// serve` on the same table gives the dead process's lease back at once and
// delivers every stored event, the interrupted one under the id it was
// first sent with. The callbacks were acknowledged at once all along.
func TestServeKill9LosesNothing(t *testing.T) {
	bin := callfnBin(t)
	rc := receiver.Start(t, fwdSecret)
	rc.Respond(receiver.Hang())
	addr := freeAddr(t)
	env := forwardEnv(t, addr, filepath.Join(t.TempDir(), "callfn.db"), rc.URL)
	srv, _ := startServe(t, bin, env, addr)
	bodies := sampleBodies(t)
	for _, f := range bodies {
		// The receiver hangs; the callbacks' acknowledgments do not wait.
		start := time.Now()
		if out := run(t, bin, env, "send", "http://"+addr, f); !strings.HasPrefix(out, "200 OK") || time.Since(start) > 3*time.Second {
			t.Errorf("%s: %s after %s", f, out, time.Since(start))
		}
	}
	stored := len(bodies) - 1
	// The first event's attempt hangs (and holds its endpoint's drain:
	// the others wait, owed, not yet attempted).
	deadline := time.Now().Add(10 * time.Second)
	for len(rc.Messages()) < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	inFlight := rc.Messages()
	if len(inFlight) == 0 {
		t.Fatal("no attempt in flight")
	}
	srv.Process.Signal(syscall.SIGKILL)
	srv.Wait()

	rc.Respond(receiver.Status(204))
	_, srvLog := startServe(t, bin, env, addr)
	acc := rc.Await(stored, 30*time.Second)
	seen := map[string]bool{}
	for _, m := range acc {
		if seen[m.ID] {
			t.Errorf("%s accepted twice", m.ID)
		}
		seen[m.ID] = true
		decodeForwarded(t, m)
	}
	if len(seen) != stored {
		t.Fatalf("%d events delivered after the kill, want %d\n%s", len(seen), stored, srvLog)
	}
	for _, m := range inFlight {
		if !seen[m.ID] {
			t.Errorf("the attempt in flight at the kill (%s) was never delivered under its id", m.ID)
		}
	}
}
