package run_test

// These tests build every function under functions/ as the Makefile does for
// AWS Lambda and for Tencent SCF, and run each binary under its platform's
// real invoke protocol: a local Lambda Runtime API for the bootstrap, net/rpc
// calls for SCF's main. Everything is reached over 127.0.0.1 (the SCF
// binary listens where scf-go-lib does, on every IPv4 address).

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/rpc"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/callfn/callfn/shared/platform/scf"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/testkit"
	"github.com/tencentyun/scf-go-lib/cloudfunction/messages"
	scfevents "github.com/tencentyun/scf-go-lib/events"
)

const (
	appID         = "1400000001"
	callbackToken = "invoke-test-callback-token"
)

// What no function binary may import (any package under these paths): the
// embedded table is local only (store/open), test support is for tests.
var neverImported = []string{"go.etcd.io/bbolt", "github.com/callfn/callfn/testkit"}

// What the webhook must not import besides: it answers Tencent's callbacks
// (tencent/callback) and sends Tencent nothing.
var webhookNeverImports = []string{"github.com/callfn/callfn/shared/tencent/rest", "github.com/tencentcloud/tencentcloud-sdk-go"}

// platformBuild is how the Makefile builds a function for one platform,
// and how the tests run the binary under the platform's invoke protocol.
type platformBuild struct {
	name, binary string
	tags         string
	mustNotLink  string // a module the binary must not contain
	mustLink     string // and one it must
	start        func(t *testing.T, bin, function string, env ...string) invoker
}

var builds = []platformBuild{
	{name: "lambda", binary: "bootstrap", tags: "lambda,lambda.norpc",
		mustNotLink: "github.com/tencentyun/scf-go-lib", mustLink: "github.com/aws/aws-lambda-go",
		start: func(t *testing.T, bin, function string, env ...string) invoker {
			return startLambda(t, bin, function, env...)
		}},
	{name: "scf", binary: "main", tags: "scf",
		mustNotLink: "github.com/aws/aws-lambda-go", mustLink: "github.com/tencentyun/scf-go-lib",
		start: func(t *testing.T, bin, function string, env ...string) invoker {
			return startSCF(t, bin, function, env...)
		}},
}

// extraChecks are function-specific invocations, beyond the checks every
// function gets (GET /healthz, bad events, still serving afterwards).
var extraChecks = map[string]func(t *testing.T, inv invoker){
	"webhook": webhookChecks,
}

func TestBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds every function twice; skipped in -short mode")
	}
	root := testkit.Root(t)
	fns := functionNames(t, root)
	bins := buildAll(t, root, fns, t.TempDir())

	t.Run("linking", func(t *testing.T) {
		for _, b := range builds {
			deps := functionDeps(t, root, b.tags)
			for _, fn := range fns {
				out, err := exec.Command(goTool(t), "version", "-m", bins[b.name][fn]).CombinedOutput()
				if err != nil {
					t.Fatalf("go version -m: %v\n%s", err, out)
				}
				mods := linkedModules(string(out))
				if mods[b.mustNotLink] {
					t.Errorf("%s/%s links %s", b.name, fn, b.mustNotLink)
				}
				if !mods[b.mustLink] {
					t.Errorf("%s/%s does not link %s; is it built for %s at all?", b.name, fn, b.mustLink, b.name)
				}
				banned := neverImported
				if fn == "webhook" {
					banned = append(slices.Clone(banned), webhookNeverImports...)
				}
				for _, pkg := range deps[fn] {
					for _, p := range banned {
						if pkg == p || strings.HasPrefix(pkg, p+"/") {
							t.Errorf("%s/%s imports %s", b.name, fn, pkg)
						}
					}
					// lambda.norpc: no net/rpc (aws-lambda-go's go1.x mode) in the bootstrap.
					if b.name == "lambda" && pkg == "net/rpc" {
						t.Errorf("lambda/%s imports net/rpc despite lambda.norpc", fn)
					}
				}
			}
		}
	})

	// A function missing settings, or given a wrong one, starts all the
	// same and answers 503 naming them, on every platform.
	for _, c := range notConfiguredCases {
		for _, b := range builds {
			t.Run(b.name+"/"+c.name, func(t *testing.T) {
				t.Parallel()
				notConfiguredChecks(t, b.start(t, bins[b.name][c.function], c.function, c.env...), c)
			})
		}
	}
	// Without a callback token the webhook serves, and warns once at start.
	t.Run("scf/webhook-without-token", func(t *testing.T) {
		t.Parallel()
		inv := startSCF(t, bins["scf"]["webhook"], "webhook", "CALLFN_TENCENT_CALLBACK_TOKEN=")
		if r := inv.http(t, request{method: "GET", path: "/healthz"}); r.status != 200 {
			t.Errorf("GET /healthz: %d %s", r.status, r.body)
		}
		if n := strings.Count(inv.proc.stderr.String(), tokenWarning); n != 1 {
			t.Errorf("the log warns %d times that the callback token is not set, want once:\n%s", n, inv.proc.stderr.String())
		}
	})
	t.Run("local/not-configured", func(t *testing.T) {
		t.Parallel()
		localNotConfigured(t, root)
	})

	for _, fn := range fns {
		for _, b := range builds {
			t.Run(b.name+"/"+fn, func(t *testing.T) {
				t.Parallel()
				inv := b.start(t, bins[b.name][fn], fn)
				commonChecks(t, inv)
				if extra := extraChecks[fn]; extra != nil {
					extra(t, inv)
				}
			})
		}
	}
}

// ---- building ----

func functionNames(t *testing.T, root string) []string {
	mains, err := filepath.Glob(filepath.Join(root, "functions", "*", "main.go"))
	if err != nil || len(mains) == 0 {
		t.Fatalf("no functions/*/main.go under %s (%v)", root, err)
	}
	var names []string
	for _, m := range mains {
		names = append(names, filepath.Base(filepath.Dir(m)))
	}
	return names
}

// goTool is the go command: go test puts its own GOROOT/bin first on the
// PATH of the tests it runs.
func goTool(t *testing.T) string {
	p, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build the functions with")
	}
	return p
}

// buildAll builds every function for every platform with the Makefile's
// flags (for this machine's OS and architecture, to run them), as
// dir/<platform>/<function>/<binary>. One go command a platform builds all
// the functions, and the platforms go one after the other: the second reuses
// the first's compiled dependencies, which on a cold cache (-trimpath and
// CGO_ENABLED=0 share nothing with ordinary builds) more than halves the time
// that parallel builds take.
func buildAll(t *testing.T, root string, fns []string, dir string) map[string]map[string]string {
	gobin := goTool(t)
	bins := make(map[string]map[string]string)
	for _, b := range builds {
		out := filepath.Join(dir, b.name, "out") + string(filepath.Separator)
		args := []string{"build", "-tags", b.tags, "-trimpath", "-ldflags=-s -w", "-o", out}
		for _, fn := range fns {
			args = append(args, "./functions/"+fn)
		}
		cmd := exec.Command(gobin, args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if msg, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s build: %v\n%s", b.name, err, msg)
		}
		bins[b.name] = make(map[string]string)
		for _, fn := range fns {
			bin := filepath.Join(dir, b.name, fn, b.binary)
			if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.Rename(filepath.Join(out, fn), bin); err != nil {
				t.Fatal(err)
			}
			bins[b.name][fn] = bin
		}
	}
	return bins
}

// linkedModules reads the module paths from `go version -m` output.
// functionDeps is, for each function under functions/, every package its
// binary built with tags imports, directly or not (go list -deps).
func functionDeps(t *testing.T, root, tags string) map[string][]string {
	t.Helper()
	list := exec.Command(goTool(t), "list", "-tags", tags, "-f", "{{.ImportPath}} {{join .Deps \" \"}}", "./functions/...")
	list.Dir = root
	out, err := list.Output()
	if err != nil {
		t.Fatalf("go list -tags %s: %v", tags, err)
	}
	deps := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		deps[path.Base(f[0])] = f[1:]
	}
	if len(deps) == 0 {
		t.Fatalf("go list -tags %s listed no function", tags)
	}
	return deps
}

func linkedModules(out string) map[string]bool {
	mods := make(map[string]bool)
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) >= 2 && (f[0] == "dep" || f[0] == "=>") {
			mods[f[1]] = true
		}
	}
	return mods
}

// ---- running a binary ----

// process is a running function binary.
type process struct {
	cmd    *exec.Cmd
	stderr *testkit.Buffer
	exited chan struct{} // closed when it has exited
	err    error         // its exit status, once exited
}

// start runs bin with exactly env (nothing inherited, so that no developer
// settings leak in), and kills it when the test ends.
func start(t *testing.T, bin string, env ...string) *process {
	p := &process{cmd: exec.Command(bin), stderr: &testkit.Buffer{}, exited: make(chan struct{})}
	p.cmd.Env = append([]string{
		"PATH=/usr/bin:/bin",
		"HOME=" + t.TempDir(),
		"CALLFN_STORE=memory:",
		"CALLFN_TENCENT_SDKAPPID=" + appID,
		"CALLFN_TENCENT_CALLBACK_TOKEN=" + callbackToken,
		"CALLFN_API_TOKEN=invoke-test-api-token",
		"CALLFN_TENCENT_SECRET_KEY=invoke-test-secret-key",
		"CALLFN_TENCENT_ENDPOINT=http://127.0.0.1:9", // nothing leaves the machine
	}, env...)
	p.cmd.Stdout = p.stderr
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		p.err = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.exited
		if t.Failed() {
			t.Logf("%s output:\n%s", filepath.Base(bin), p.stderr.String())
		}
	})
	return p
}

// await calls ready every 20ms until it succeeds, failing t if the
// process exits first, or if 15s pass, not yet what.
func (p *process) await(t *testing.T, what string, ready func() error) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		err := ready()
		if err == nil {
			return
		}
		select {
		case <-p.exited:
			p.exitedf(t, "exited before %s", what)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("not %s after 15s: %v\n%s", what, err, p.stderr.String())
		}
	}
}

func (p *process) exitedf(t *testing.T, format string, args ...any) {
	t.Helper()
	t.Fatalf("%s; the process exited (%v):\n%s", fmt.Sprintf(format, args...), p.err, p.stderr.String())
}

// invoker invokes a running function with an HTTP request, as its platform's
// API gateway would, or with any raw event.
type invoker interface {
	// http sends an API gateway event for the request; rest picks REST API
	// 1.0 over HTTP API 2.0 on Lambda (SCF has one kind).
	http(t *testing.T, r request) httpReply
	// raw sends event as it is and returns the invocation's error message
	// ("" when it succeeded).
	raw(t *testing.T, event []byte) (errorMessage string)
	// tickEvent is the platform's schedule event for a schedule named name
	// (EventBridge Scheduler input on Lambda, a timer trigger on SCF).
	tickEvent(name, payload string) []byte
	// process is the function's running binary.
	process() *process
}

func (l *lambdaInvoker) process() *process { return l.proc }
func (s *scfInvoker) process() *process    { return s.proc }

type request struct {
	method, path, rawQuery string
	header                 map[string]string
	body                   string
	base64                 bool // send the body base64-encoded, isBase64Encoded set
	rest                   bool
}

// event is the request's body as a gateway event carries it (base64
// when req.base64), and its query.
func (req request) event(t *testing.T) (body string, isBase64 bool, query url.Values) {
	t.Helper()
	body = req.body
	if req.base64 {
		body, isBase64 = base64.StdEncoding.EncodeToString([]byte(req.body)), true
	}
	query, err := url.ParseQuery(req.rawQuery)
	if err != nil {
		t.Fatal(err)
	}
	return body, isBase64, query
}

type httpReply struct {
	status int
	body   string
}

// ---- checks ----

func commonChecks(t *testing.T, inv invoker) {
	if r := inv.http(t, request{method: "GET", path: "/healthz"}); r.status != 200 || !strings.Contains(r.body, `"ok"`) {
		t.Errorf("GET /healthz over HTTP API 2.0: %d %s", r.status, r.body)
	}
	if r := inv.http(t, request{method: "GET", path: "/healthz", rest: true}); r.status != 200 {
		t.Errorf("GET /healthz over REST API 1.0: %d %s", r.status, r.body)
	}
	for _, ev := range []string{`garbage`, `{"hello":"world"}`} {
		if msg := inv.raw(t, []byte(ev)); msg == "" {
			t.Errorf("event %s: no invocation error", ev)
		}
	}
	// Still serving after the failed invocations.
	if r := inv.http(t, request{method: "GET", path: "/healthz"}); r.status != 200 {
		t.Errorf("GET /healthz after bad events: %d %s", r.status, r.body)
	}
}

// startCall is the seed sample of Call.CallbackAfterStartCall (spec
// upstream.md §1.3): User_Account as unquoted 18-digit numbers.
const startCall = `{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"055662e1-bc8a-469c-a334-1126c8c17d58","CallMediaType":"Audio","ChatGroupId":"","RoomId":"","RoomIdType":1},"UserList":[{"User_Account":144115212830834855,"Status":"Calling"},{"User_Account":144115212948889925,"Status":"Waiting"}],"EventTime":1740464128807}`

// tencentQuery is the query Tencent puts on a v4 callback URL, signed with token.
func tencentQuery(sdkAppID, token string, now time.Time) string {
	rt := strconv.FormatInt(now.Unix(), 10)
	return "SdkAppid=" + sdkAppID + "&CallbackCommand=Call.CallbackAfterStartCall&contenttype=json" +
		"&ClientIP=203.0.113.7&OptPlatform=Android&RequestTime=" + rt + "&Sign=" + callback.Sign(token, rt)
}

var tencentHeader = map[string]string{"Content-Type": "application/json", "User-Agent": "Go-http-client/1.1"}

// okReply is Tencent's documented success reply.
var okReply = map[string]any{"ActionStatus": "OK", "ErrorInfo": "", "ErrorCode": float64(0)}

// tokenWarning is how the webhook's start warns that Tencent callbacks are
// not signed.
const tokenWarning = `"level":"WARN","msg":"CALLFN_TENCENT_CALLBACK_TOKEN is not set`

func webhookChecks(t *testing.T, inv invoker) {
	if strings.Contains(inv.process().stderr.String(), tokenWarning) {
		t.Errorf("the webhook warns that the callback token is unset, but it is set")
	}
	callback := func(query string, rest, b64 bool) httpReply {
		return inv.http(t, request{method: "POST", path: "/webhook/tencent", rawQuery: query,
			header: tencentHeader, body: startCall, rest: rest, base64: b64})
	}
	isOK := func(what string, r httpReply) {
		t.Helper()
		var got map[string]any
		if err := json.Unmarshal([]byte(r.body), &got); r.status != 200 || err != nil || !reflect.DeepEqual(got, okReply) {
			t.Errorf("%s: %d %s, want 200 %v", what, r.status, r.body, okReply)
		}
	}
	now := time.Now()
	isOK("v4 callback over HTTP API 2.0", callback(tencentQuery(appID, callbackToken, now), false, false))
	// The same delivery again, through REST API 1.0 with a base64 body: a
	// duplicate, acknowledged all the same.
	isOK("v4 callback over REST API 1.0, base64 body", callback(tencentQuery(appID, callbackToken, now), true, true))

	for _, rest := range []bool{false, true} {
		if r := callback(tencentQuery("1400000002", callbackToken, now), rest, false); r.status < 400 || r.status > 499 {
			t.Errorf("callback for another SDKAppID (rest %v): %d %s, want 4xx", rest, r.status, r.body)
		}
		if r := callback(tencentQuery(appID, "not-the-token", now), rest, false); r.status < 400 || r.status > 499 {
			t.Errorf("callback with a bad Sign (rest %v): %d %s, want 4xx", rest, r.status, r.body)
		}
	}
	if msg := inv.raw(t, []byte(`{"version":"2.0"}`)); msg == "" {
		t.Error("half an event: no invocation error")
	}
	// The webhook has no schedule: a schedule firing it is an error.
	if msg := inv.raw(t, inv.tickEvent("nightly", `{"days":6}`)); !strings.Contains(msg, "no schedule") {
		t.Errorf("schedule at the webhook: error %q, want one saying it has no schedule", msg)
	}
	isOK("v4 callback after refusals and bad events", callback(tencentQuery(appID, callbackToken, time.Now()), false, false))
}

// ---- AWS Lambda: a local Runtime API ----

// runtimeAPI implements the Lambda Runtime API's documented endpoints
// (https://docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html) for one
// function process, one invocation at a time.
type runtimeAPI struct {
	t        *testing.T
	function string
	next     chan invocation // queued for GET .../invocation/next
	results  chan result

	mu       sync.Mutex
	inflight string
}

type invocation struct {
	id      string
	payload []byte
}

type result struct {
	id, kind  string // kind: response, error, init/error
	body      []byte
	errorType string // the Lambda-Runtime-Function-Error-Type header of an error
}

func (api *runtimeAPI) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /2018-06-01/runtime/invocation/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case inv := <-api.next:
			api.mu.Lock()
			api.inflight = inv.id
			api.mu.Unlock()
			h := w.Header()
			h.Set("Content-Type", "application/json")
			h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
			h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(time.Now().Add(30*time.Second).UnixMilli(), 10))
			h.Set("Lambda-Runtime-Invoked-Function-Arn", "arn:aws:lambda:ap-southeast-1:123456789012:function:"+api.function)
			h.Set("Lambda-Runtime-Trace-Id", "Root=1-67bd6c00-"+strings.Repeat("0", 23)+"1;Parent=0000000000000001;Sampled=0")
			w.Write(inv.payload)
		case <-r.Context().Done():
		}
	})
	post := func(kind string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			id := r.PathValue("id")
			if kind != "init/error" {
				api.mu.Lock()
				ok := id == api.inflight
				api.inflight = ""
				api.mu.Unlock()
				if !ok {
					w.Header().Set("Content-Type", "application/json")
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprintf(w, `{"errorMessage":"no invocation %s in progress","errorType":"InvalidRequestID"}`, id)
					api.t.Errorf("runtime posted a %s for %q, which is not the invocation in progress", kind, id)
					return
				}
			}
			api.results <- result{id: id, kind: kind, body: body, errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusAccepted)
			w.Write([]byte(`{"status":"OK"}`))
		}
	}
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/response", post("response"))
	mux.HandleFunc("POST /2018-06-01/runtime/invocation/{id}/error", post("error"))
	mux.HandleFunc("POST /2018-06-01/runtime/init/error", post("init/error"))
	return mux
}

type lambdaInvoker struct {
	api  *runtimeAPI
	proc *process
	n    int
}

func startLambda(t *testing.T, bin, function string, env ...string) *lambdaInvoker {
	api := &runtimeAPI{t: t, function: function, next: make(chan invocation, 1), results: make(chan result, 1)}
	srv := httptest.NewServer(api.handler()) // on 127.0.0.1
	t.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	addr := strings.TrimPrefix(srv.URL, "http://")
	proc := start(t, bin, append([]string{
		"AWS_LAMBDA_RUNTIME_API=" + addr,
		"AWS_LAMBDA_FUNCTION_NAME=" + function,
		"AWS_LAMBDA_FUNCTION_VERSION=$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128",
		"AWS_REGION=ap-southeast-1",
		"_HANDLER=bootstrap",
	}, env...)...)
	return &lambdaInvoker{api: api, proc: proc}
}

func (l *lambdaInvoker) invoke(t *testing.T, payload []byte) result {
	t.Helper()
	l.n++
	id := fmt.Sprintf("00000000-0000-4000-8000-%012d", l.n)
	select {
	case l.api.next <- invocation{id: id, payload: payload}:
	case <-l.proc.exited:
		l.proc.exitedf(t, "invocation %s not taken", id)
	}
	select {
	case r := <-l.api.results:
		if r.kind == "init/error" {
			t.Fatalf("the runtime reported an init error: %s", r.body)
		}
		if r.id != id {
			t.Fatalf("result for %s, want %s", r.id, id)
		}
		return r
	case <-l.proc.exited:
		l.proc.exitedf(t, "no result for invocation %s", id)
	case <-time.After(20 * time.Second):
		t.Fatalf("no result for invocation %s in 20s:\n%s", id, l.proc.stderr.String())
	}
	return result{}
}

func (l *lambdaInvoker) tickEvent(name, payload string) []byte {
	b, _ := json.Marshal(map[string]any{"schedule": name, "time": time.Now().UTC().Format(time.RFC3339), "payload": json.RawMessage(payload)})
	return b
}

func (l *lambdaInvoker) raw(t *testing.T, event []byte) string {
	t.Helper()
	r := l.invoke(t, event)
	if r.kind != "error" {
		return ""
	}
	var e struct {
		Message string `json:"errorMessage"`
		Type    string `json:"errorType"`
	}
	if err := json.Unmarshal(r.body, &e); err != nil || e.Message == "" {
		t.Errorf("error post is not Lambda's error JSON: %s", r.body)
		return string(r.body)
	}
	return e.Message
}

func (l *lambdaInvoker) http(t *testing.T, req request) httpReply {
	t.Helper()
	body, isB64, query := req.event(t)
	const host = "a1b2c3d4e5.execute-api.ap-southeast-1.amazonaws.com"
	var event any
	if req.rest {
		e := events.APIGatewayProxyRequest{
			Resource: req.path, Path: req.path, HTTPMethod: req.method,
			Headers:           map[string]string{"Host": host, "X-Forwarded-For": "43.132.0.10"},
			MultiValueHeaders: map[string][]string{"Host": {host}, "X-Forwarded-For": {"43.132.0.10"}},
			RequestContext: events.APIGatewayProxyRequestContext{
				AccountID: "123456789012", Stage: "prod", RequestID: "rest-" + strconv.Itoa(l.n),
				DomainName: host, HTTPMethod: req.method, Path: "/prod" + req.path, APIID: "a1b2c3d4e5",
				Identity: events.APIGatewayRequestIdentity{SourceIP: "43.132.0.10"},
			},
			Body: body, IsBase64Encoded: isB64,
		}
		for k, v := range req.header {
			e.Headers[k], e.MultiValueHeaders[k] = v, []string{v}
		}
		if len(query) > 0 {
			e.QueryStringParameters, e.MultiValueQueryStringParameters = map[string]string{}, map[string][]string(query)
			for k := range query {
				e.QueryStringParameters[k] = query.Get(k)
			}
		}
		event = e
	} else {
		e := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RouteKey: req.method + " " + req.path, RawPath: req.path, RawQueryString: req.rawQuery,
			Headers: map[string]string{"host": host, "x-forwarded-for": "43.132.0.10", "x-forwarded-proto": "https"},
			RequestContext: events.APIGatewayV2HTTPRequestContext{
				RouteKey: req.method + " " + req.path, AccountID: "123456789012", Stage: "$default",
				RequestID: "v2-" + strconv.Itoa(l.n), APIID: "a1b2c3d4e5", DomainName: host, DomainPrefix: "a1b2c3d4e5",
				TimeEpoch: time.Now().UnixMilli(),
				HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription{
					Method: req.method, Path: req.path, Protocol: "HTTP/1.1", SourceIP: "43.132.0.10", UserAgent: "Go-http-client/1.1",
				},
			},
			Body: body, IsBase64Encoded: isB64,
		}
		for k, v := range req.header {
			e.Headers[strings.ToLower(k)] = v
		}
		if len(query) > 0 {
			e.QueryStringParameters = map[string]string{}
			for k, vs := range query {
				e.QueryStringParameters[k] = strings.Join(vs, ",")
			}
		}
		event = e
	}
	payload, _ := json.Marshal(event)
	r := l.invoke(t, payload)
	if r.kind != "response" {
		t.Fatalf("%s %s: invocation %s: %s", req.method, req.path, r.kind, r.body)
	}
	var resp struct {
		StatusCode      int    `json:"statusCode"`
		Body            string `json:"body"`
		IsBase64Encoded bool   `json:"isBase64Encoded"`
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("response is not an API Gateway response: %v: %s", err, r.body)
	}
	return httpReply{status: resp.StatusCode, body: decoded(t, resp.Body, resp.IsBase64Encoded)}
}

func decoded(t *testing.T, body string, isBase64 bool) string {
	if !isBase64 {
		return body
	}
	b, err := base64.StdEncoding.DecodeString(body)
	if err != nil {
		t.Fatalf("response body: %v", err)
	}
	return string(b)
}

// ---- Tencent SCF: net/rpc ----

type scfInvoker struct {
	client *rpc.Client
	proc   *process
	n      int
}

func freePort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

func startSCF(t *testing.T, bin, function string, env ...string) *scfInvoker {
	port := freePort(t)
	proc := start(t, bin, append([]string{
		"_LAMBDA_SERVER_PORT=" + port,
		"SCF_FUNCTIONNAME=" + function,
		"SCF_NAMESPACE=default",
		"TENCENTCLOUD_REGION=ap-singapore",
	}, env...)...)
	addr := net.JoinHostPort("127.0.0.1", port)
	var client *rpc.Client
	proc.await(t, "listening on "+addr, func() (err error) {
		client, err = rpc.Dial("tcp", addr)
		return err
	})
	t.Cleanup(func() { client.Close() })

	var pong messages.PingResponse
	if err := client.Call("Function.Ping", &messages.PingRequest{}, &pong); err != nil {
		t.Errorf("Function.Ping: %v", err)
	}
	listensLikeTheLib(t, port)
	return &scfInvoker{client: client, proc: proc}
}

// listensLikeTheLib checks, in /proc/net/tcp and tcp6 (Linux), that the
// function listens on its port at scf-go-lib's own address, scf.ListenHost:
// the wildcard, as the Go functions SCF runs with the lib do (Go listens on
// "0.0.0.0" with a dual-stack socket where it can, hence tcp6). Nothing is
// dialled but loopback.
func listensLikeTheLib(t *testing.T, port string) {
	p, _ := strconv.Atoi(port)
	suffix := fmt.Sprintf(":%04X", p)
	var found []string
	read := 0
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		data, err := os.ReadFile(table)
		if err != nil {
			continue
		}
		read++
		for _, line := range strings.Split(string(data), "\n")[1:] {
			f := strings.Fields(line)
			if len(f) > 3 && f[3] == "0A" && strings.HasSuffix(f[1], suffix) { // 0A: LISTEN
				found = append(found, strings.TrimSuffix(f[1], suffix))
			}
		}
	}
	if read == 0 {
		t.Log("no /proc/net/tcp; the listen address is not checked")
		return
	}
	if len(found) != 1 || strings.Trim(found[0], "0") != "" {
		t.Errorf("the SCF runtime port %s listens at %v (/proc/net/tcp*, hex), want only the wildcard address: scf.ListenHost %q, where scf-go-lib listens", port, found, scf.ListenHost)
	}
}

func (s *scfInvoker) invoke(t *testing.T, payload []byte) messages.InvokeResponse {
	t.Helper()
	s.n++
	dl := time.Now().Add(30 * time.Second)
	req := &messages.InvokeRequest{
		Payload:            payload,
		RequestId:          fmt.Sprintf("scf-%08d-0000-4000-8000-000000000000", s.n),
		Deadline:           messages.InvokeRequest_Timestamp{Seconds: dl.Unix(), Nanos: int64(dl.Nanosecond())},
		Namespace:          "default",
		FunctionName:       "callfn",
		FunctionVersion:    "$LATEST",
		MemoryLimitInMb:    128,
		TimeLimitInMs:      30000,
		TencentcloudRegion: "ap-singapore",
	}
	var resp messages.InvokeResponse
	call := s.client.Go("Function.Invoke", req, &resp, make(chan *rpc.Call, 1))
	select {
	case <-call.Done:
		if call.Error != nil {
			t.Fatalf("Function.Invoke: %v\n%s", call.Error, s.proc.stderr.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("Function.Invoke: no reply in 20s:\n%s", s.proc.stderr.String())
	}
	return resp
}

func (s *scfInvoker) tickEvent(name, payload string) []byte {
	b, _ := json.Marshal(scfevents.TimerEvent{Type: "Timer", TriggerName: name, Time: time.Now().UTC().Format(time.RFC3339), Message: payload})
	return b
}

func (s *scfInvoker) raw(t *testing.T, event []byte) string {
	t.Helper()
	resp := s.invoke(t, event)
	if resp.Error == nil {
		return ""
	}
	if resp.Error.ShouldExit {
		t.Errorf("invocation error asks the runtime to restart the process: %+v", resp.Error)
	}
	return resp.Error.Message
}

func (s *scfInvoker) http(t *testing.T, req request) httpReply {
	t.Helper()
	body, isB64, query := req.event(t)
	const host = "service-k3x9q2ab-1250000000.sg.apigw.tencentcs.com"
	id := fmt.Sprintf("4c1a7e0b9d2f%020d", s.n+1)
	e := struct {
		scfevents.APIGatewayRequest
		IsBase64Encoded       bool              `json:"isBase64Encoded"`
		HeaderParameters      map[string]string `json:"headerParameters"`
		PathParameters        map[string]string `json:"pathParameters"`
		QueryStringParameters map[string]string `json:"queryStringParameters"`
	}{
		APIGatewayRequest: scfevents.APIGatewayRequest{
			Headers: map[string]string{"host": host, "x-forwarded-for": "43.132.0.10", "x-api-requestid": id,
				"endpoint-timeout": "15", "x-qualifier": "$DEFAULT"},
			Method:      req.method,
			Path:        req.path,
			QueryString: scfevents.APIGatewayQueryString(query),
			Body:        body,
			Context: scfevents.APIGatewayRequestContext{ServiceID: "service-k3x9q2ab", RequestID: id,
				Method: req.method, Path: req.path, SourceIP: "43.132.0.10", Stage: "release"},
		},
		IsBase64Encoded:       isB64,
		HeaderParameters:      map[string]string{},
		PathParameters:        map[string]string{},
		QueryStringParameters: map[string]string{},
	}
	for k, v := range req.header {
		e.Headers[strings.ToLower(k)] = v
	}
	payload, _ := json.Marshal(e)
	resp := s.invoke(t, payload)
	if resp.Error != nil {
		t.Fatalf("%s %s: invocation error %+v", req.method, req.path, resp.Error)
	}
	var r scfevents.APIGatewayResponse
	if err := json.Unmarshal(resp.Payload, &r); err != nil {
		t.Fatalf("payload is not an API gateway response: %v: %s", err, resp.Payload)
	}
	return httpReply{status: r.StatusCode, body: decoded(t, r.Body, r.IsBase64Encoded)}
}

// ---- functions that are not configured ----

type notConfiguredCase struct {
	name, function string
	env            []string // on top of start's settings
	route          request  // one of the function's own routes
	schedule       string   // a schedule to fire, "" for none
	want           []string // what every answer names
}

var notConfiguredCases = []notConfiguredCase{{
	// sam deploy with the Tencent app left empty: startcall cannot sign a
	// single request.
	name: "startcall-without-tencent", function: "startcall",
	env:      []string{"CALLFN_TENCENT_SDKAPPID=", "CALLFN_TENCENT_SECRET_KEY="},
	route:    request{method: "POST", path: "/calls", header: map[string]string{"Authorization": "Bearer invoke-test-api-token"}, body: `{}`},
	schedule: "example-call",
	want:     []string{"not configured: missing CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY"},
}, {
	// A value config.Load refuses, such as a fractional retention.
	name: "webhook-bad-retention", function: "webhook",
	env:   []string{"CALLFN_RETENTION_DAYS=1.5"},
	route: request{method: "POST", path: "/webhook/tencent", rawQuery: "SdkAppid=" + appID, header: tencentHeader, body: startCall},
	want:  []string{"CALLFN_RETENTION_DAYS", `1.5`},
}}

// notConfiguredMessage is what run.Main logs, once, when it starts a
// function that is not configured.
const notConfiguredMessage = `"msg":"not configured: answering every request 503`

func notConfiguredChecks(t *testing.T, inv invoker, c notConfiguredCase) {
	names := func(what, got string) {
		t.Helper()
		for _, w := range c.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %s does not name %q", what, got, w)
			}
		}
	}
	for _, rest := range []bool{false, true} {
		r := inv.http(t, request{method: "GET", path: "/healthz", rest: rest})
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("GET /healthz (rest %v): %d %s, want 503", rest, r.status, r.body)
		}
		names("GET /healthz", r.body)
		req := c.route
		req.rest = rest
		r = inv.http(t, req)
		if r.status != http.StatusServiceUnavailable {
			t.Errorf("%s %s (rest %v): %d %s, want 503", req.method, req.path, rest, r.status, r.body)
		}
		names(req.method+" "+req.path, r.body)
		var e struct{ Error string }
		if json.Unmarshal([]byte(r.body), &e) != nil || e.Error == "" {
			t.Errorf("%s %s: %s is not {\"error\": ...}", req.method, req.path, r.body)
		}
	}
	if c.schedule != "" {
		msg := inv.raw(t, inv.tickEvent(c.schedule, `{}`))
		if msg == "" {
			t.Errorf("schedule %s: no invocation error", c.schedule)
		}
		names("schedule "+c.schedule, msg)
	}
	// Still running, and it said so once.
	if r := inv.http(t, request{method: "GET", path: "/healthz"}); r.status != http.StatusServiceUnavailable {
		t.Errorf("GET /healthz at the end: %d %s", r.status, r.body)
	}
	out := inv.process().stderr.String()
	if n := strings.Count(out, notConfiguredMessage); n != 1 {
		t.Errorf("the log says %d times that the function is not configured, want once:\n%s", n, out)
	}
	names("the log", out)
}

// localNotConfigured runs startcall built for the local platform (plain
// HTTP on CALLFN_ADDR) without its Tencent app.
func localNotConfigured(t *testing.T, root string) {
	bin := filepath.Join(t.TempDir(), "startcall")
	cmd := exec.Command(goTool(t), "build", "-trimpath", "-o", bin, "./functions/startcall")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("local build: %v\n%s", err, out)
	}
	addr := "127.0.0.1:" + freePort(t)
	proc := start(t, bin, "CALLFN_ADDR="+addr, "CALLFN_TENCENT_SDKAPPID=", "CALLFN_TENCENT_SECRET_KEY=")
	get := func(method, path string) (int, string) {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(`{}`))
		req.Header.Set("Authorization", "Bearer invoke-test-api-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	proc.await(t, "serving on "+addr, func() error {
		if status, body := get("GET", "/healthz"); status == 0 {
			return fmt.Errorf("GET /healthz: %s", body)
		}
		return nil
	})
	const want = "not configured: missing CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY"
	for _, r := range [][2]string{{"GET", "/healthz"}, {"POST", "/calls"}, {"POST", "/calls/x/end"}} {
		if status, body := get(r[0], r[1]); status != http.StatusServiceUnavailable || !strings.Contains(body, want) {
			t.Errorf("%s %s: %d %s, want 503 naming the missing variables", r[0], r[1], status, body)
		}
	}
	if n := strings.Count(proc.stderr.String(), notConfiguredMessage); n != 1 {
		t.Errorf("the log says %d times that the function is not configured, want once:\n%s", n, proc.stderr.String())
	}
}
