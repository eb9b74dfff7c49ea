package scf

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/rpc"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/testkit"
	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
	"github.com/tencentyun/scf-go-lib/events"
	"github.com/tencentyun/scf-go-lib/functioncontext"
)

// serve runs Serve with handler on a loopback port and returns a client.
func serve(t *testing.T, handler func(context.Context, json.RawMessage) (any, error)) *rpc.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, handler) }()
	c, err := rpc.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve after cancel: %v", err)
			}
		case <-time.After(5 * time.Second):
			t.Error("Serve did not return after its context was done")
		}
	})
	return c
}

func deadline(d time.Duration) messages.InvokeRequest_Timestamp {
	t := time.Now().Add(d)
	return messages.InvokeRequest_Timestamp{Seconds: t.Unix(), Nanos: int64(t.Nanosecond())}
}

func TestRPCPing(t *testing.T) {
	c := serve(t, Handler(platform.Function{Name: "x"}))
	var resp messages.PingResponse
	if err := c.Call("Function.Ping", &messages.PingRequest{}, &resp); err != nil {
		t.Fatal(err)
	}
}

func TestRPCInvokeAPIGateway(t *testing.T) {
	var got seen
	c := serve(t, Handler(echo(&got, []byte(`{"ok":true}`))))
	req := &messages.InvokeRequest{
		Payload:      testkit.Fixture(t, "apigw-request.json"),
		RequestId:    "scf-invoke-1",
		Deadline:     deadline(30 * time.Second),
		FunctionName: "webhook",
		Namespace:    "default",
	}
	var resp messages.InvokeResponse
	if err := c.Call("Function.Invoke", req, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error != nil {
		t.Fatalf("invocation error: %+v", resp.Error)
	}
	var r events.APIGatewayResponse
	if err := json.Unmarshal(resp.Payload, &r); err != nil {
		t.Fatalf("%v: %s", err, resp.Payload)
	}
	if r.StatusCode != 201 || r.Body != `{"ok":true}` || r.IsBase64Encoded {
		t.Errorf("response %s", resp.Payload)
	}
	if got.RequestID != "scf-invoke-1" || got.Path != "/test/value" || !got.HasDeadline {
		t.Errorf("handler saw request id %q, path %q, deadline %v", got.RequestID, got.Path, got.HasDeadline)
	}
}

func TestRPCInvokeContext(t *testing.T) {
	type result struct {
		Deadline    time.Time
		HasDeadline bool
		FC          *functioncontext.FunctionContext
		Env         string
	}
	c := serve(t, func(ctx context.Context, event json.RawMessage) (any, error) {
		var r result
		r.Deadline, r.HasDeadline = ctx.Deadline()
		r.FC, _ = functioncontext.FromContext(ctx)
		r.Env = os.Getenv("CALLFN_TEST_SCF_ENV")
		return r, nil
	})
	t.Cleanup(func() { os.Unsetenv("CALLFN_TEST_SCF_ENV") })

	dl := deadline(time.Minute)
	var resp messages.InvokeResponse
	err := c.Call("Function.Invoke", &messages.InvokeRequest{
		Payload: []byte(`{}`), RequestId: "r1", Deadline: dl, FunctionName: "records", Namespace: "ns",
		TencentcloudRegion: "ap-guangzhou", ClientContext: []byte(`{"env":{"a":"b"}}`),
		Environment: `{"CALLFN_TEST_SCF_ENV":"set by SCF"}`,
	}, &resp)
	if err != nil || resp.Error != nil {
		t.Fatal(err, resp.Error)
	}
	var r result
	if err := json.Unmarshal(resp.Payload, &r); err != nil {
		t.Fatal(err)
	}
	if !r.HasDeadline || r.Deadline.Unix() != dl.Seconds {
		t.Errorf("deadline %v (set %v), want %d", r.Deadline, r.HasDeadline, dl.Seconds)
	}
	if r.FC == nil || r.FC.RequestID != "r1" || r.FC.FunctionName != "records" || r.FC.Namespace != "ns" ||
		r.FC.TencentcloudRegion != "ap-guangzhou" || r.FC.ClientContext.Env["a"] != "b" {
		t.Errorf("function context %+v", r.FC)
	}
	if r.Env != "set by SCF" {
		t.Errorf("Environment not applied: %q", r.Env)
	}

	// No deadline in the request: none in the context (the lib would cancel at once).
	resp = messages.InvokeResponse{}
	if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte(`{}`)}, &resp); err != nil || resp.Error != nil {
		t.Fatal(err, resp.Error)
	}
	json.Unmarshal(resp.Payload, &r)
	if r.HasDeadline {
		t.Errorf("zero Deadline gave the context a deadline %v", r.Deadline)
	}

	resp = messages.InvokeResponse{}
	if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte(`{}`), ClientContext: []byte(`{`)}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error == nil {
		t.Error("malformed ClientContext: no error")
	}
}

func TestRPCInvokeErrors(t *testing.T) {
	c := serve(t, Handler(platform.Function{Name: "webhook"}))
	call := func(payload string) messages.InvokeResponse {
		t.Helper()
		var resp messages.InvokeResponse
		if err := c.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte(payload), Deadline: deadline(time.Minute)}, &resp); err != nil {
			t.Fatal(err)
		}
		return resp
	}
	for _, p := range []string{`garbage`, `{"hello":"world"}`, string(testkit.Fixture(t, "timer-event.json"))} {
		resp := call(p)
		if resp.Error == nil || resp.Error.Message == "" || resp.Error.ShouldExit || resp.Payload != nil {
			t.Errorf("%.40s: %+v, want an invocation error", p, resp)
		}
	}
	// Still serving.
	if resp := call(string(testkit.Fixture(t, "apigw-request.json"))); resp.Error != nil {
		t.Errorf("after errors: %+v", resp.Error)
	}

	panicking := serve(t, func(context.Context, json.RawMessage) (any, error) { panic(errors.New("wild")) })
	var resp messages.InvokeResponse
	if err := panicking.Call("Function.Invoke", &messages.InvokeRequest{Payload: []byte(`{}`)}, &resp); err != nil {
		t.Fatal(err)
	}
	if resp.Error == nil || resp.Error.Message != "wild" || !resp.Error.ShouldExit || resp.Error.Type != "errorString" {
		t.Errorf("panic: %+v", resp.Error)
	}
}

func TestStart(t *testing.T) {
	t.Setenv(PortEnv, "")
	if err := Start(context.Background(), platform.Function{}); err == nil {
		t.Error("Start without a port: no error")
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	t.Setenv(PortEnv, port)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Start(ctx, platform.Function{Name: "x"}) }()
	var c *rpc.Client
	for i := 0; ; i++ {
		if c, err = rpc.Dial("tcp", net.JoinHostPort("127.0.0.1", port)); err == nil {
			break
		}
		if i == 100 {
			t.Fatal(err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	var resp messages.PingResponse
	if err := c.Call("Function.Ping", &messages.PingRequest{}, &resp); err != nil {
		t.Fatal(err)
	}
	c.Close()
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Start after cancel: %v", err)
	}
}

// TestListenHostIsTheLibs holds ListenHost to the address scf-go-lib's own
// cloudfunction.StartHandler listens on, read from the source of the
// version go.mod requires.
func TestListenHostIsTheLibs(t *testing.T) {
	const mod = "github.com/tencentyun/scf-go-lib"
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to find scf-go-lib's source with")
	}
	out, err := exec.Command(gobin, "list", "-m", "-f", "{{.Dir}}", mod).Output()
	dir := strings.TrimSpace(string(out))
	if err != nil || dir == "" {
		t.Skipf("scf-go-lib's source is not in the module cache (go mod download): %v", err)
	}
	src, err := os.ReadFile(filepath.Join(dir, "cloudfunction", "entry.go"))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`net\.Listen\("tcp", "([^"]*):" ?\+ ?port\)`).FindSubmatch(src)
	if m == nil {
		t.Fatalf("cannot find the listen call in %s/cloudfunction/entry.go; read it and update ListenHost and this test", dir)
	}
	if lib := string(m[1]); lib != ListenHost {
		t.Errorf("scf-go-lib listens on %q, callfn on ListenHost %q: follow the lib (see rpc.go)", lib, ListenHost)
	}
}
