package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/deploy"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/webhook"
	"github.com/callfn/callfn/shared/yunxin"
)

// deployable is one function as it is deployed: its resource in
// template.yaml, its scf component instance, and the code it runs. Adding
// a function to callfn means adding it here (TestEveryFunctionIsDeployed
// fails until then) and to both descriptors.
type deployable struct {
	SAMID   string            // logical id of its AWS::Serverless::Function in template.yaml
	SCFFile string            // its serverless.yml (component: scf), relative to the repo root
	Fn      platform.Function // built with an empty configuration, for its routes
	// Build makes the function for the samples' run through the adapters.
	Build func(cfg config.Config, st store.Store) platform.Function
	// SampleConfig is the configuration the samples under events/ are for.
	SampleConfig config.Config
	// Samples are the sample events every platform must have under
	// events/<platform>/<Fn.Name>/, by file name without .json;
	// NotStored are those that are answered but store no event.
	Samples, NotStored []string
}

func deployables() []deployable {
	buildWebhook := func(cfg config.Config, st store.Store) platform.Function { return webhook.New(cfg, st, nil) }
	return []deployable{{
		SAMID:   "WebhookFunction",
		SCFFile: "serverless.yml",
		Fn:      buildWebhook(config.Config{}, store.NewMemory(store.Options{})),
		Build:   buildWebhook,
		SampleConfig: config.Config{
			TencentAppID: deploy.SampleTencentAppID,
			YunxinAppKey: deploy.SampleYunxinAppKey,
			YunxinSecret: deploy.SampleYunxinAppSecret,
		},
		Samples: []string{
			"tencent-v4-start-call", "tencent-v4-member-changed", "tencent-v4-end-call",
			"tencent-v1-status-normal-end", "tencent-v1-event-caller-start-call",
			"yunxin-callback-20-call-initiated", "yunxin-callback-21-room-created",
			"yunxin-copy-5-duration", "yunxin-copy-6-recording", "yunxin-copy-probe",
		},
		NotStored: []string{"yunxin-copy-probe"}, // the address probe, answered {}
	}}
}

// pending are functions/<name> that exist in code but are not deployed
// yet: their descriptors are being written by whoever adds them. Take a
// name out of here when it joins deployables(); the test fails on a name
// that is in both, and on any function in neither.
var pending = []string{"startcall"}

// secretVars must come from NoEcho parameters in template.yaml.
var secretVars = []string{
	"CALLFN_TENCENT_SECRET_KEY", "CALLFN_TENCENT_CALLBACK_TOKEN", "CALLFN_API_TOKEN",
	"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY",
	"CALLFN_YUNXIN_APPKEY", "CALLFN_YUNXIN_APPSECRET",
}

// scfSDKVars are the AWS SDK's own variables an SCF function may carry,
// beyond config.Vars, to reach the DynamoDB table from outside AWS. A
// Lambda function gets them from its role and must not set them.
var scfSDKVars = []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB"}

// lambdaArch maps Go's GOARCH to Lambda's architecture names.
var lambdaArch = map[string]string{"amd64": "x86_64", "arm64": "arm64"}

func root(t *testing.T) string {
	t.Helper()
	r, err := deploy.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func report(t *testing.T, what string, problems []string) {
	t.Helper()
	for _, p := range problems {
		t.Errorf("%s: %s", what, p)
	}
}

// ---- template.yaml ----

func TestTemplateMatchesCode(t *testing.T) {
	r := root(t)
	text := readFile(t, filepath.Join(r, "template.yaml"))
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	report(t, "template.yaml", checkTemplate(text, makefile, deployables()))
}

// checkTemplate lists what is wrong with a SAM template for ds.
func checkTemplate(text, makefile string, ds []deployable) []string {
	tmpl, err := deploy.ParseSAM([]byte(text))
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	if tmpl.Transform != "AWS::Serverless-2016-10-31" {
		p = append(p, fmt.Sprintf("Transform is %v, want AWS::Serverless-2016-10-31", tmpl.Transform))
	}
	want := map[string]bool{}
	for _, d := range ds {
		want[d.SAMID] = true
		p = append(p, checkSAMFunction(tmpl, makefile, d)...)
	}
	for _, id := range tmpl.IDs(deploy.TypeFunction) {
		if !want[id] {
			p = append(p, fmt.Sprintf("%s is declared but deploys no callfn function this test knows", id))
		}
	}
	return p
}

func checkSAMFunction(tmpl *deploy.Template, makefile string, d deployable) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, d.SAMID+": "+fmt.Sprintf(format, args...)) }
	fn, err := tmpl.Function(d.SAMID)
	if err != nil {
		return []string{err.Error()}
	}

	// Runtime and build: the Makefile's build-<LogicalId> makes bootstrap.
	if got := fn.String("Runtime"); got != "provided.al2023" {
		bad("Runtime %q, want provided.al2023", got)
	}
	if got := fn.String("Handler"); got != "bootstrap" {
		bad("Handler %q, want bootstrap", got)
	}
	archs := fn.Architectures()
	if len(archs) != 1 || (archs[0] != "x86_64" && archs[0] != "arm64") {
		bad("Architectures %v, want exactly one of x86_64, arm64", archs)
	}
	if got := fn.String("CodeUri"); got != "." {
		bad("CodeUri %q, want . (the module root, where the Makefile is)", got)
	}
	if got, _ := fn.Metadata["BuildMethod"].(string); got != "makefile" {
		bad("Metadata.BuildMethod %q, want makefile", got)
	}
	if name := strings.ToLower(strings.TrimSuffix(d.SAMID, "Function")); name != d.Fn.Name {
		bad("the Makefile builds ./functions/%s for this logical id, but the function is %q", name, d.Fn.Name)
	}
	recipe, ok := makeTargets(makefile)["build-"+d.SAMID]
	if !ok {
		bad("the Makefile has no build-%s target for sam build", d.SAMID)
	} else if m := regexp.MustCompile(`GOARCH:-(\w+)`).FindStringSubmatch(recipe); m == nil {
		bad("build-%s sets no default GOARCH", d.SAMID)
	} else if len(archs) == 1 && lambdaArch[m[1]] != archs[0] {
		bad("Architectures %v, but the Makefile's build-%s builds GOARCH=%s", archs, d.SAMID, m[1])
	}

	// Environment: only callfn's variables; secrets from NoEcho parameters.
	env := fn.Environment()
	for _, name := range sortedKeys(env) {
		if !slices.Contains(config.Vars, name) {
			bad("environment variable %s is not one callfn reads (config.Vars)", name)
		}
		param, isRef := deploy.Ref(env[name])
		if isRef {
			if _, ok := tmpl.Parameters[param]; !ok && !isResource(tmpl, param) {
				bad("%s refers to %s, which is neither a parameter nor a resource", name, param)
			}
		}
		if slices.Contains(secretVars, name) {
			if !isRef || tmpl.Parameters[param]["NoEcho"] != true {
				bad("secret %s must come from a NoEcho parameter", name)
			}
		}
		if isRef && name == "CALLFN_TENCENT_REGION" && !sameStrings(tmpl.Parameters[param]["AllowedValues"], config.Regions) {
			bad("parameter %s AllowedValues %v, want config.Regions %v", param, tmpl.Parameters[param]["AllowedValues"], config.Regions)
		}
		if isRef && name == "CALLFN_TENCENT_API_VERSION" && !sameStrings(tmpl.Parameters[param]["AllowedValues"], []string{"v4", "v1"}) {
			bad("parameter %s AllowedValues %v, want v4, v1", param, tmpl.Parameters[param]["AllowedValues"])
		}
	}

	// The table: CALLFN_STORE names it, a policy grants it, and its layout
	// is the store's.
	table := ""
	if s, ok := deploy.Sub(env["CALLFN_STORE"]); !ok || !regexp.MustCompile(`^dynamodb:\$\{(\w+)\}$`).MatchString(s) {
		bad("CALLFN_STORE is %v, want !Sub \"dynamodb:${Table}\"", env["CALLFN_STORE"])
	} else {
		table = strings.TrimSuffix(strings.TrimPrefix(s, "dynamodb:${"), "}")
		p = append(p, checkTable(tmpl, table)...)
	}
	granted := false
	for _, pol := range fn.Policies() {
		if ref, ok := deploy.Ref(asMap(asMap(pol)["DynamoDBCrudPolicy"])["TableName"]); ok && ref == table {
			granted = true
		}
	}
	if table != "" && !granted {
		bad("no DynamoDBCrudPolicy on !Ref %s", table)
	}

	// Routes: exactly those the code serves, as HttpApi events on the one API.
	served, err := deploy.RoutesOf(d.Fn)
	if err != nil {
		bad("%v", err)
	}
	missing, extra, twice := deploy.DiffRoutes(served, fn.HTTPRoutes())
	for _, r := range missing {
		bad("serves %s but declares no event for it", r)
	}
	for _, r := range extra {
		bad("declares %s, which the code does not serve", r)
	}
	for _, r := range twice {
		bad("declares %s twice", r)
	}
	hasSchedule := false
	for _, ev := range fn.Events() {
		switch ev.Type {
		case "HttpApi":
			api, ok := deploy.Ref(ev.Properties["ApiId"])
			if !ok || tmpl.Resources[api].Type != deploy.TypeHttpApi {
				bad("event %s: ApiId must be !Ref of the template's %s", ev.Name, deploy.TypeHttpApi)
			}
			if v, ok := ev.Properties["PayloadFormatVersion"]; ok && v != "2.0" {
				bad("event %s: PayloadFormatVersion %v; the samples and adapter speak 2.0", ev.Name, v)
			}
		case "Schedule", "ScheduleV2":
			hasSchedule = true
		default:
			bad("event %s has type %q; callfn functions take HttpApi and schedules", ev.Name, ev.Type)
		}
	}
	if hasSchedule != (d.Fn.Schedule != nil) {
		bad("declares a schedule: %v; the code handles one: %v", hasSchedule, d.Fn.Schedule != nil)
	}

	// Outputs: a URL for every route without parameters.
	for _, r := range served {
		if strings.Contains(r.Path, "{") {
			continue
		}
		found := false
		for _, out := range tmpl.Outputs {
			if s, ok := deploy.Sub(out["Value"]); ok && strings.HasSuffix(s, "}"+r.Path) {
				found = true
			}
		}
		if !found {
			bad("no output gives the URL of %s", r)
		}
	}
	return p
}

func checkTable(tmpl *deploy.Template, id string) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, id+": "+fmt.Sprintf(format, args...)) }
	res, ok := tmpl.Resources[id]
	if !ok || res.Type != deploy.TypeTable {
		return []string{fmt.Sprintf("%s is not an %s", id, deploy.TypeTable)}
	}
	props := res.Properties
	if props["BillingMode"] != "PAY_PER_REQUEST" {
		bad("BillingMode %v, want PAY_PER_REQUEST", props["BillingMode"])
	}
	if got, want := keySchema(props["KeySchema"]), []string{store.DynamoPK + " HASH", store.DynamoSK + " RANGE"}; !slices.Equal(got, want) {
		bad("KeySchema %v, want %v", got, want)
	}
	attrs := map[string]string{}
	for _, a := range asList(props["AttributeDefinitions"]) {
		m := asMap(a)
		name, _ := m["AttributeName"].(string)
		typ, _ := m["AttributeType"].(string)
		attrs[name] = typ
	}
	keys := []string{store.DynamoPK, store.DynamoSK, store.DynamoIndexPK, store.DynamoIndexSK}
	for _, k := range keys {
		if attrs[k] != "S" {
			bad("attribute %s is %q, want S", k, attrs[k])
		}
	}
	for name := range attrs {
		if !slices.Contains(keys, name) {
			bad("attribute %s is defined but is no key (CloudFormation refuses that)", name)
		}
	}
	var index map[string]any
	for _, g := range asList(props["GlobalSecondaryIndexes"]) {
		if asMap(g)["IndexName"] == store.DynamoIndexByTime {
			index = asMap(g)
		}
	}
	if index == nil {
		bad("no global secondary index %s", store.DynamoIndexByTime)
	} else {
		if got, want := keySchema(index["KeySchema"]), []string{store.DynamoIndexPK + " HASH", store.DynamoIndexSK + " RANGE"}; !slices.Equal(got, want) {
			bad("index %s KeySchema %v, want %v", store.DynamoIndexByTime, got, want)
		}
		if asMap(index["Projection"])["ProjectionType"] != "ALL" {
			bad("index %s must project ALL", store.DynamoIndexByTime)
		}
	}
	ttl := asMap(props["TimeToLiveSpecification"])
	if ttl["AttributeName"] != store.DynamoTTL || ttl["Enabled"] != true {
		bad("TimeToLiveSpecification %v, want %s enabled", ttl, store.DynamoTTL)
	}
	if asMap(props["PointInTimeRecoverySpecification"])["PointInTimeRecoveryEnabled"] != true {
		bad("point-in-time recovery is off")
	}
	return p
}

// ---- serverless.yml ----

func TestSCFMatchesCode(t *testing.T) {
	r := root(t)
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	for _, d := range deployables() {
		text := readFile(t, filepath.Join(r, d.SCFFile))
		report(t, d.SCFFile, checkSCF(text, makefile, d))
	}
}

func checkSCF(text, makefile string, d deployable) []string {
	inst, err := deploy.ParseSCF([]byte(text))
	if err != nil {
		return []string{err.Error()}
	}
	var p []string
	bad := func(format string, args ...any) { p = append(p, d.Fn.Name+": "+fmt.Sprintf(format, args...)) }
	in := &inst.Inputs
	if inst.Component != "scf" {
		bad("component %q, want scf", inst.Component)
	}
	if in.Type != "" && in.Type != "event" {
		bad("type %q: the SCF adapter takes event functions", in.Type)
	}
	if in.Runtime != "Go1" {
		bad("runtime %q, want Go1", in.Runtime)
	}
	if in.Handler != "main" {
		bad("handler %q, want main (the binary build-scf makes)", in.Handler)
	}
	// make build-scf puts the binary `main` in dist/scf/<fn>-<arch>/.
	if !strings.Contains(makefile, "out=dist/scf/$$fn-$$arch") || !strings.Contains(makefile, "-o $$out/main") {
		bad("the Makefile's build-scf no longer builds dist/scf/<fn>-<arch>/main; update this test and serverless.yml")
	}
	if want := "dist/scf/" + d.Fn.Name + "-amd64"; filepath.ToSlash(filepath.Clean(in.Src.Src)) != want {
		bad("src %q, want ./%s (built by make build-scf)", in.Src.Src, want)
	}

	for _, name := range sortedKeys(in.Environment.Variables) {
		if !slices.Contains(config.Vars, name) && !slices.Contains(scfSDKVars, name) {
			bad("environment variable %s is neither one callfn reads (config.Vars) nor the AWS SDK's %v", name, scfSDKVars)
		}
	}
	if s := in.Environment.Variables["CALLFN_STORE"]; !strings.HasPrefix(s, "dynamodb:") || len(s) == len("dynamodb:") {
		bad("CALLFN_STORE %q, want dynamodb:TABLE (an SCF instance's disk does not last)", s)
	}

	served, err := deploy.RoutesOf(d.Fn)
	if err != nil {
		bad("%v", err)
	}
	declared, err := in.HTTPRoutes()
	if err != nil {
		bad("%v", err)
	}
	missing, extra, twice := deploy.DiffRoutes(served, declared)
	for _, r := range missing {
		bad("serves %s but declares no apigw endpoint for it", r)
	}
	for _, r := range extra {
		bad("declares %s, which the code does not serve", r)
	}
	for _, r := range twice {
		bad("declares %s twice", r)
	}
	eps, _ := in.Endpoints()
	for _, e := range eps {
		if !e.IsIntegratedResponse {
			bad("endpoint %s %s needs function.isIntegratedResponse: true, or the gateway answers 200 with the adapter's JSON as body", e.Method, e.Path)
		}
	}
	hasTimer := false
	for _, typ := range in.EventTypes() {
		switch typ {
		case "apigw":
		case "timer":
			hasTimer = true
		default:
			bad("event type %q; callfn functions take apigw and timer", typ)
		}
	}
	if hasTimer != (d.Fn.Schedule != nil) {
		bad("declares a timer: %v; the code handles a schedule: %v", hasTimer, d.Fn.Schedule != nil)
	}
	return p
}

// ---- every function is deployed ----

func TestEveryFunctionIsDeployed(t *testing.T) {
	r := root(t)
	dirs, err := filepath.Glob(filepath.Join(r, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, d := range deployables() {
		if known[d.Fn.Name] {
			t.Errorf("%s is listed twice", d.Fn.Name)
		}
		known[d.Fn.Name] = true
		if _, err := os.Stat(filepath.Join(r, "functions", d.Fn.Name, "main.go")); err != nil {
			t.Errorf("%s: no functions/%s/main.go for the Makefile to build", d.Fn.Name, d.Fn.Name)
		}
	}
	for _, main := range dirs {
		name := filepath.Base(filepath.Dir(main))
		switch {
		case known[name] && slices.Contains(pending, name):
			t.Errorf("functions/%s is deployed now: take it out of pending", name)
		case slices.Contains(pending, name):
			t.Logf("functions/%s is not deployed yet (pending): no template.yaml or SCF descriptor checks for it", name)
		case !known[name]:
			t.Errorf("functions/%s is not deployed: add it to deployables() here, to template.yaml and to an SCF descriptor", name)
		}
	}
	for _, name := range pending {
		if _, err := os.Stat(filepath.Join(r, "functions", name, "main.go")); err != nil {
			t.Errorf("pending lists %s, which is no function: take it out", name)
		}
	}
}

// ---- events/ ----

func TestSamplesAreTriggerEvents(t *testing.T) {
	r := root(t)
	now := time.Now()
	for _, d := range deployables() {
		mux := muxOf(d.Fn)
		for _, platformName := range []string{deploy.PlatformLambda, deploy.PlatformSCF} {
			files, err := deploy.Samples(r, platformName, d.Fn.Name)
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, f := range files {
				names = append(names, strings.TrimSuffix(filepath.Base(f), ".json"))
			}
			want := slices.Clone(d.Samples)
			sort.Strings(want)
			if !slices.Equal(names, want) {
				t.Errorf("events/%s/%s: samples %v, want %v", platformName, d.Fn.Name, names, want)
			}
			for _, f := range files {
				rel, _ := filepath.Rel(r, f)
				t.Run(rel, func(t *testing.T) {
					var s sample
					if platformName == deploy.PlatformLambda {
						s = lambdaSample(t, f)
					} else {
						s = scfSample(t, f)
					}
					checkSample(t, mux, s, now)
				})
			}
		}
	}
}

// sample is what every platform's trigger event says about the request.
type sample struct {
	method, path string
	query        url.Values
	headers      map[string]string
	body         []byte
	resign       func(now time.Time) ([]byte, map[string]string) // body and headers after re-signing
}

func lambdaSample(t *testing.T, path string) sample {
	ev, err := deploy.LoadLambdaSample(path)
	if err != nil {
		t.Fatal(err)
	}
	h := ev.RequestContext.HTTP
	if ev.RawPath != h.Path || ev.RouteKey != h.Method+" "+h.Path || ev.RequestContext.RouteKey != ev.RouteKey {
		t.Errorf("rawPath %q, routeKey %q/%q and http %s %s disagree", ev.RawPath, ev.RouteKey, ev.RequestContext.RouteKey, h.Method, h.Path)
	}
	q, err := url.ParseQuery(ev.RawQueryString)
	if err != nil {
		t.Errorf("rawQueryString: %v", err)
	}
	for k, v := range ev.QueryStringParameters {
		if q.Get(k) != v {
			t.Errorf("queryStringParameters[%s]=%q but rawQueryString has %q", k, v, q.Get(k))
		}
	}
	body, err := deploy.LambdaBody(&ev)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return sample{method: h.Method, path: ev.RawPath, query: q, headers: ev.Headers, body: body,
		resign: func(now time.Time) ([]byte, map[string]string) {
			c := ev
			c.Headers = maps(ev.Headers)
			if err := deploy.ResignLambdaSample(&c, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now); err != nil {
				t.Fatal(err)
			}
			b, _ := deploy.LambdaBody(&c)
			return b, c.Headers
		}}
}

func scfSample(t *testing.T, path string) sample {
	ev, err := deploy.LoadSCFSample(path)
	if err != nil {
		t.Fatal(err)
	}
	if ev.Context.Method != ev.Method || ev.Context.Path != ev.Path {
		t.Errorf("requestContext %s %s, request %s %s: this API's path has no parameters, they must agree",
			ev.Context.Method, ev.Context.Path, ev.Method, ev.Path)
	}
	if ev.Context.Stage == "" || ev.Context.ServiceID == "" || ev.Context.RequestID == "" {
		t.Errorf("requestContext lacks stage, serviceId or requestId")
	}
	return sample{method: ev.Method, path: ev.Path, query: url.Values(ev.QueryString), headers: ev.Headers, body: []byte(ev.Body),
		resign: func(now time.Time) ([]byte, map[string]string) {
			c := ev
			c.Headers = maps(ev.Headers)
			deploy.ResignSCFSample(&c, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now)
			return []byte(c.Body), c.Headers
		}}
}

func checkSample(t *testing.T, mux *http.ServeMux, s sample, now time.Time) {
	t.Helper()
	req := httptest.NewRequest(s.method, s.path, nil)
	if _, pattern := mux.Handler(req); pattern == "" {
		t.Fatalf("%s %s is no route the function serves", s.method, s.path)
	}
	if !json.Valid(s.body) {
		t.Errorf("body is not JSON: %q", s.body)
	}
	header := http.Header{}
	for k, v := range s.headers {
		header.Set(k, v)
	}
	switch {
	case strings.HasPrefix(s.path, "/webhook/tencent"):
		id := ""
		for k, v := range s.query {
			if strings.EqualFold(k, "SdkAppid") && len(v) > 0 {
				id = v[0]
			}
		}
		if id != fmt.Sprint(deploy.SampleTencentAppID) {
			t.Errorf("SDKAppID in the query is %q, want %d", id, deploy.SampleTencentAppID)
		}
		if s.query.Get("Sign") != "" || s.query.Get("RequestTime") != "" {
			t.Errorf("Tencent samples are unsigned (no Sign, RequestTime)")
		}
	case strings.HasPrefix(s.path, "/webhook/yunxin/"):
		if got := header.Get("AppKey"); got != deploy.SampleYunxinAppKey {
			t.Errorf("AppKey %q, want %q", got, deploy.SampleYunxinAppKey)
		}
		// As stored, the signature is right but its CurTime is long past.
		err := yunxin.Verify(header, s.body, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now)
		if !errors.Is(err, yunxin.ErrTooOld) {
			t.Errorf("stored signature: %v, want %v (signed with the sample secret, stale)", err, yunxin.ErrTooOld)
		}
		body, headers := s.resign(now)
		fresh := http.Header{}
		for k, v := range headers {
			fresh.Set(k, v)
		}
		if err := yunxin.Verify(fresh, body, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now); err != nil {
			t.Errorf("re-signed: %v", err)
		}
		if len(headers) != len(s.headers) {
			t.Errorf("re-signing added headers: %d, was %d", len(headers), len(s.headers))
		}
	}
}

// muxOf routes like the function does, to tell which route a request takes.
func muxOf(fn platform.Function) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range fn.Routes {
		mux.HandleFunc(rt.Pattern, func(http.ResponseWriter, *http.Request) {})
	}
	return mux
}

// ---- the checks can fail ----

// mutate replaces old by new in text exactly once, so that a negative
// case cannot pass because its edit silently missed.
func mutate(t *testing.T, text, old, new string) string {
	t.Helper()
	if n := strings.Count(text, old); n != 1 {
		t.Fatalf("the edit's anchor occurs %d times, want 1: %q", n, old)
	}
	return strings.Replace(text, old, new, 1)
}

func wantProblem(t *testing.T, problems []string, want string) {
	t.Helper()
	for _, p := range problems {
		if strings.Contains(p, want) {
			return
		}
	}
	t.Errorf("no problem mentions %q; got %q", want, problems)
}

func TestTemplateChecksCatchMistakes(t *testing.T) {
	r := root(t)
	text := readFile(t, filepath.Join(r, "template.yaml"))
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	const fnProps = "      Description: Tencent and Yunxin call callbacks in, one stored event per delivery out\n"
	cases := []struct{ name, old, new, want string }{
		{"extra route", "        YunxinCopy:\n",
			"        Extra:\n          Type: HttpApi\n          Properties:\n            ApiId: !Ref CallsApi\n            Method: GET\n            Path: /extra\n        YunxinCopy:\n",
			"declares GET /extra, which the code does not serve"},
		{"missing route", "Path: /webhook/yunxin/copy\n", "Path: /webhook/yunxin/copied\n",
			"serves POST /webhook/yunxin/copy but declares no event"},
		{"wrong method", "Method: POST\n            Path: /webhook/tencent\n", "Method: PUT\n            Path: /webhook/tencent\n",
			"declares PUT /webhook/tencent"},
		{"route on another API", "ApiId: !Ref CallsApi\n            Method: POST\n            Path: /webhook/tencent\n",
			"ApiId: !Ref CallsTable\n            Method: POST\n            Path: /webhook/tencent\n", "ApiId must be !Ref"},
		{"wrong runtime", "    Runtime: provided.al2023\n", "    Runtime: go1.x\n", `Runtime "go1.x"`},
		{"function overrides Globals", fnProps, fnProps + "      Runtime: nodejs20.x\n", `Runtime "nodejs20.x"`},
		{"wrong handler", "    Handler: bootstrap\n", "    Handler: main\n", `Handler "main"`},
		{"lists add up", fnProps, fnProps + "      Architectures: [x86_64]\n", "want exactly one of x86_64, arm64"},
		{"arch the Makefile does not build", "Architectures: [arm64]", "Architectures: [x86_64]", "builds GOARCH=arm64"},
		{"unknown variable", "          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n",
			"          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n          CALLFN_TYPO: x\n", "CALLFN_TYPO is not one callfn reads"},
		{"AWS variable on Lambda", "          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n",
			"          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n          AWS_REGION: us-east-1\n", "AWS_REGION is not one callfn reads"},
		{"store gone from Globals", "        CALLFN_STORE: !Sub \"dynamodb:${CallsTable}\"\n", "", "CALLFN_STORE is <nil>"},
		{"store not DynamoDB", `!Sub "dynamodb:${CallsTable}"`, `!Sub "bolt:/tmp/${CallsTable}"`, "CALLFN_STORE is"},
		{"secret echoed", "callbacks must carry a valid Sign/RequestTime\n    NoEcho: true\n", "callbacks must carry a valid Sign/RequestTime\n",
			"secret CALLFN_TENCENT_CALLBACK_TOKEN must come from a NoEcho parameter"},
		{"regions drift", "mumbai, siliconvalley, jakarta]", "mumbai, siliconvalley]", "want config.Regions"},
		{"no grant", "        - DynamoDBCrudPolicy:\n            TableName: !Ref CallsTable\n", "        - DynamoDBReadPolicy:\n            TableName: !Ref CallsTable\n",
			"no DynamoDBCrudPolicy on !Ref CallsTable"},
		{"TTL attribute", "        AttributeName: expiresAt\n", "        AttributeName: ttl\n", "TimeToLiveSpecification"},
		{"index name", "IndexName: byTime", "IndexName: byDate", "no global secondary index byTime"},
		{"index key", "            - AttributeName: gsi1sk\n              KeyType: RANGE\n", "            - AttributeName: sk\n              KeyType: RANGE\n",
			"index byTime KeySchema"},
		{"table key", "        - AttributeName: sk\n          KeyType: RANGE\n", "        - AttributeName: gsi1sk\n          KeyType: RANGE\n", "KeySchema [pk HASH gsi1sk RANGE]"},
		{"no PITR", "PointInTimeRecoveryEnabled: true", "PointInTimeRecoveryEnabled: false", "point-in-time recovery is off"},
		{"schedule the code lacks", "        YunxinCopy:\n",
			"        Nightly:\n          Type: ScheduleV2\n          Properties:\n            ScheduleExpression: rate(1 day)\n        YunxinCopy:\n",
			"declares a schedule: true; the code handles one: false"},
		{"no URL output", "/webhook/yunxin/copy\"\n  CallsTableName:", "/webhook/yunxin\"\n  CallsTableName:", "no output gives the URL of POST /webhook/yunxin/copy"},
		{"stray function", "Outputs:\n",
			"  OtherFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n\nOutputs:\n", "OtherFunction is declared"},
		{"not SAM", "Transform: AWS::Serverless-2016-10-31\n", "", "Transform is"},
		{"not YAML", "Resources:\n", "Resources: [\n", "yaml"},
	}
	if p := checkTemplate(text, makefile, deployables()); len(p) != 0 {
		t.Fatalf("the template itself has problems, so the cases below prove nothing: %q", p)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, checkTemplate(mutate(t, text, c.old, c.new), makefile, deployables()), c.want)
		})
	}
	t.Run("Makefile without the sam build target", func(t *testing.T) {
		mk := mutate(t, makefile, "build-WebhookFunction ", "")
		wantProblem(t, checkTemplate(text, mk, deployables()), "no build-WebhookFunction target")
	})
	t.Run("a route the code adds", func(t *testing.T) {
		ds := deployables()
		ds[0].Fn.Routes = append(ds[0].Fn.Routes, platform.Route{Pattern: "GET /webhook/health"})
		wantProblem(t, checkTemplate(text, makefile, ds), "serves GET /webhook/health but declares no event")
	})
}

func TestSCFChecksCatchMistakes(t *testing.T) {
	r := root(t)
	d := deployables()[0]
	text := readFile(t, filepath.Join(r, d.SCFFile))
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	const lastEndpoint = "            - path: /webhook/yunxin/copy\n"
	cases := []struct{ name, old, new, want string }{
		{"extra endpoint", lastEndpoint,
			"            - path: /extra\n              method: GET\n              function:\n                isIntegratedResponse: true\n" + lastEndpoint,
			"declares GET /extra, which the code does not serve"},
		{"missing endpoint", "path: /webhook/yunxin/copy\n", "path: /webhook/yunxin/copies\n", "serves POST /webhook/yunxin/copy but declares no apigw endpoint"},
		{"method left out is ANY", "              method: POST\n              apiName: webhook_tencent\n", "              apiName: webhook_tencent\n", "declares ANY /webhook/tencent"},
		{"not integrated", "                isIntegratedResponse: true # the function answers with status, headers and body\n",
			"                isIntegratedResponse: false\n", "needs function.isIntegratedResponse: true"},
		{"wrong runtime", "  runtime: Go1\n", "  runtime: Nodejs12.16\n", `runtime "Nodejs12.16"`},
		{"wrong handler", "  handler: main", "  handler: index.main_handler", `handler "index.main_handler"`},
		{"web function", "  type: event\n", "  type: web\n", `type "web"`},
		{"other build", "src: ./dist/scf/webhook-amd64", "src: ./dist/lambda/webhook-amd64", "want ./dist/scf/webhook-amd64"},
		{"unknown variable", "      CALLFN_YUNXIN_APPSECRET: ${env:CALLFN_YUNXIN_APPSECRET}\n",
			"      CALLFN_YUNXIN_APPSECRET: ${env:CALLFN_YUNXIN_APPSECRET}\n      YUNXIN_SECRET: x\n", "YUNXIN_SECRET is neither"},
		{"store on disk", "CALLFN_STORE: dynamodb:${env:CALLS_TABLE}", "CALLFN_STORE: bolt:/tmp/callfn.db", "want dynamodb:TABLE"},
		{"timer the code lacks", "  events:\n", "  events:\n    - timer:\n        parameters:\n          cronExpression: '0 0 3 * * * *'\n", "declares a timer: true"},
		{"other component", "component: scf\n", "component: multi-scf\n", `component "multi-scf"`},
	}
	if p := checkSCF(text, makefile, d); len(p) != 0 {
		t.Fatalf("serverless.yml itself has problems, so the cases below prove nothing: %q", p)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, checkSCF(mutate(t, text, c.old, c.new), makefile, d), c.want)
		})
	}
}

func TestSampleChecksCatchMistakes(t *testing.T) {
	r := root(t)
	dir := t.TempDir()
	orig := readFile(t, filepath.Join(r, "events", "lambda", "webhook", "tencent-v4-start-call.json"))
	bad := mutate(t, orig, `"isBase64Encoded": false`, `"isBase64Encoded": false, "isbase64": true`)
	path := filepath.Join(dir, "typo.json")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := deploy.LoadLambdaSample(path); err == nil {
		t.Error("a Lambda sample with an unknown field loaded")
	}
	orig = readFile(t, filepath.Join(r, "events", "scf", "webhook", "tencent-v4-start-call.json"))
	bad = mutate(t, orig, `"httpMethod": "POST",`+"\n  \"isBase64", `"httpMethod": "POST", "routeKey": "x",`+"\n  \"isBase64")
	if err := os.WriteFile(path, []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := deploy.LoadSCFSample(path); err == nil {
		t.Error("an SCF sample with a field the trigger does not send loaded")
	}
	mux := muxOf(deployables()[0].Fn)
	if _, pattern := mux.Handler(httptest.NewRequest("POST", "/webhook/tencents", nil)); pattern != "" {
		t.Errorf("a path the function does not serve matched %q", pattern)
	}
}

// ---- the readers ----

func TestDecodeCFNLongForms(t *testing.T) {
	doc, err := deploy.DecodeCFN([]byte(`
A: !Ref Table
B: !Sub "dynamodb:${Table}"
C: !GetAtt Table.StreamArn
D: !Join [":", [a, !Ref B]]
E: !If [Cond, !Sub "x", !Ref "AWS::NoValue"]
F: !Select [0, !GetAZs ""]
G: !Sub
  - "${X}-y"
  - X: !Ref Z
H: plain
`))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"A": map[string]any{"Ref": "Table"},
		"B": map[string]any{"Fn::Sub": "dynamodb:${Table}"},
		"C": map[string]any{"Fn::GetAtt": []any{"Table", "StreamArn"}},
		"D": map[string]any{"Fn::Join": []any{":", []any{"a", map[string]any{"Ref": "B"}}}},
		"E": map[string]any{"Fn::If": []any{"Cond", map[string]any{"Fn::Sub": "x"}, map[string]any{"Ref": "AWS::NoValue"}}},
		"F": map[string]any{"Fn::Select": []any{0, map[string]any{"Fn::GetAZs": ""}}},
		"G": map[string]any{"Fn::Sub": []any{"${X}-y", map[string]any{"X": map[string]any{"Ref": "Z"}}}},
		"H": "plain",
	}
	for k, w := range want {
		if g, _ := json.Marshal(doc[k]); string(g) != mustJSON(w) {
			t.Errorf("%s: %s, want %s", k, g, mustJSON(w))
		}
	}
	if _, err := deploy.DecodeCFN([]byte("A: !Reff X\n")); err == nil {
		t.Error("an unknown tag decoded")
	}
	if _, err := deploy.DecodeCFN([]byte("A: !GetAtt NoDot\n")); err == nil {
		t.Error("!GetAtt without an attribute decoded")
	}
}

func TestMergeGlobals(t *testing.T) {
	global := map[string]any{
		"Runtime": "provided.al2023", "Timeout": 10, "Architectures": []any{"arm64"},
		"Environment": map[string]any{"Variables": map[string]any{"A": "1", "B": "2"}},
	}
	local := map[string]any{
		"Timeout": 3, "Architectures": []any{"x86_64"},
		"Environment": map[string]any{"Variables": map[string]any{"B": "b", "C": "3"}},
	}
	got := mustJSON(deploy.MergeGlobals(global, local))
	want := mustJSON(map[string]any{
		"Runtime": "provided.al2023", "Timeout": 3, "Architectures": []any{"arm64", "x86_64"},
		"Environment": map[string]any{"Variables": map[string]any{"A": "1", "B": "b", "C": "3"}},
	})
	if got != want {
		t.Errorf("merged %s, want %s", got, want)
	}
	if g := mustJSON(global); !strings.Contains(g, `"B":"2"`) || strings.Contains(g, "x86_64") {
		t.Errorf("merging changed Globals: %s", g)
	}
}

func TestRoutesOf(t *testing.T) {
	fn := platform.Function{Name: "x", Routes: []platform.Route{
		{Pattern: "POST /calls/{callId}/end"}, {Pattern: "get /records/{rest...}"},
		{Pattern: "GET /records/{$}"}, {Pattern: "/any"},
	}}
	got, err := deploy.RoutesOf(fn)
	if err != nil {
		t.Fatal(err)
	}
	want := []deploy.Route{{"ANY", "/any"}, {"POST", "/calls/{callId}/end"}, {"GET", "/records/"}, {"GET", "/records/{rest+}"}}
	if !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
	if _, err := deploy.RoutesOf(platform.Function{Routes: []platform.Route{{Pattern: "GET example.com/x"}}}); err == nil {
		t.Error("a host pattern was accepted")
	}
}

// ---- helpers ----

// makeTargets maps every target of a Makefile to its recipe.
func makeTargets(makefile string) map[string]string {
	out := map[string]string{}
	var current []string
	for _, line := range strings.Split(makefile, "\n") {
		if strings.HasPrefix(line, "\t") {
			for _, t := range current {
				out[t] += line + "\n"
			}
			continue
		}
		current = nil
		head, _, found := strings.Cut(line, ":")
		if !found || strings.HasPrefix(line, "#") || strings.Contains(head, "=") || strings.HasPrefix(line, ".") {
			continue
		}
		for _, t := range strings.Fields(head) {
			current = append(current, t)
			out[t] += ""
		}
	}
	return out
}

func keySchema(v any) []string {
	var out []string
	for _, k := range asList(v) {
		m := asMap(k)
		out = append(out, fmt.Sprint(m["AttributeName"], " ", m["KeyType"]))
	}
	return out
}

func isResource(tmpl *deploy.Template, id string) bool {
	_, ok := tmpl.Resources[id]
	return ok
}

func sameStrings(v any, want []string) bool {
	var got []string
	for _, x := range asList(v) {
		s, _ := x.(string)
		got = append(got, s)
	}
	return slices.Equal(got, want)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func maps(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}
