package deploy_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
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
	"github.com/callfn/callfn/shared/forwarder"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
	"github.com/callfn/callfn/shared/webhook"
	"github.com/callfn/callfn/shared/yunxin"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
)

// deployable is one function as it is deployed: its resource in
// template.yaml, its scf component instance, and the code it runs. Adding
// a function to callfn means adding it here (TestEveryFunctionIsDeployed
// fails until then) and to both descriptors.
type deployable struct {
	SAMID   string            // logical id of its AWS::Serverless::Function in template.yaml
	SCFFile string            // its serverless.yml (component: scf), relative to the repo root
	Fn      platform.Function // built with SampleConfig, for its routes and schedule
	// Build makes the function for the samples' run through the adapters.
	Build func(cfg config.Config, st store.Store) (platform.Function, error)
	// SampleConfig is the configuration the samples under events/ are for.
	SampleConfig config.Config
	// Env is every variable the function reads: each descriptor sets these
	// and no others (the SCF file adds the AWS SDK's, for the table).
	Env []string
	// ScheduleState is how every schedule of the function deploys:
	// "ENABLED", or "DISABLED" (startcall: an enabled example would ring
	// people on the day of the deploy); "" for a function without one.
	ScheduleState string
	// NeedsTencent: the function cannot work without the Tencent app
	// (CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY), so its
	// enabled schedules are enabled only under the template condition
	// that both are set.
	NeedsTencent bool
	// Sandbox runs the samples against the local Tencent sandbox, served on
	// 127.0.0.1 (SampleConfig as sb.Config makes it); Seed, when set, adds
	// what Tencent should already know.
	Sandbox bool
	Seed    func(sb *sandbox.Sandbox, now time.Time)
	// Samples are the sample events every platform must have under
	// events/<platform>/<Fn.Name>/, by file name without .json; those named
	// schedule-NAME fire the schedule NAME, the others are API gateway
	// requests.
	Samples []string
	// Expect says what each sample does when delivered twice through an
	// adapter; a sample left out is answered 200 and stores one event.
	Expect map[string]expect
	// TableActions, when set, are the only DynamoDB actions the function
	// is granted on the table (and its indexes), by a policy statement of
	// its own instead of DynamoDBCrudPolicy: least privilege.
	TableActions []string
}

// expect is what delivering a sample twice through an adapter does.
type expect struct {
	Status int    // each delivery's HTTP status; 0 for a schedule sample
	Stored [2]int // events in the table after the first and the second delivery
	// Check, when set, looks at each delivery's answer: the reply body, or
	// the schedule's result as JSON.
	Check func(t *testing.T, run *sampleRun, delivery int, answer []byte)
}

func (d deployable) expect(name string) expect {
	if e, ok := d.Expect[name]; ok {
		return e
	}
	return expect{Status: 200, Stored: [2]int{1, 1}}
}

// sampleCallID is the CallId in the startcall and records samples' paths:
// the one in Tencent's documented start_call_by_robot answer, which no
// sandbox has started.
const sampleCallID = "35fd577d-1d10-4201-a40d-6d7316560986"

// envCommon are read by every function: the table, the Tencent app and
// region config.Load checks at start-up (the webhook asks Tencent nothing,
// but reads the app and is refused a bad region like the others), and the
// forwarding endpoints and secret (every stored event is owed to them in
// its own write; the forward function delivers them).
var envCommon = []string{"CALLFN_STORE", "CALLFN_RETENTION_DAYS", "CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_REGION",
	"CALLFN_FORWARD_URL", "CALLFN_FORWARD_SECRET"}

func deployables(t testing.TB) []deployable {
	t.Helper()
	// Each as its composition root (functions/<fn>/main.go) builds it.
	buildWebhook := func(cfg config.Config, st store.Store) (platform.Function, error) {
		return webhook.New(cfg, st, webhook.Options{})
	}
	buildStartcall := func(cfg config.Config, st store.Store) (platform.Function, error) {
		tc, err := rest.FromConfig(cfg, rest.Options{})
		if err != nil {
			return platform.Function{}, err
		}
		// The samples' runs are against the sandbox, which also answers
		// the Cloud API (StartStreamIngest) at its base URL.
		ingest, err := rest.IngesterFromConfig(cfg, tc, rest.IngestOptions{Endpoint: cfg.TencentEndpoint})
		if err != nil {
			return platform.Function{}, err
		}
		return startcall.New(cfg, st, startcall.Options{Client: tc, Ingester: ingest})
	}
	buildRecords := func(cfg config.Config, st store.Store) (platform.Function, error) {
		tc, err := rest.FromConfig(cfg, rest.Options{})
		if err != nil && !errors.Is(err, config.ErrNotConfigured) {
			return platform.Function{}, err
		}
		return records.New(cfg, st, records.Options{Client: tc})
	}
	buildForward := func(cfg config.Config, st store.Store) (platform.Function, error) {
		return forwarder.New(cfg, st, forwarder.Options{})
	}
	// The forwarding of the records and forward samples: an endpoint
	// nobody listens on (their table owes nothing to it).
	forwarding := func(c config.Config) config.Config {
		c.ForwardURLs, c.ForwardSecret = []string{"https://receiver.example/callfn"}, sampleForwardSecret
		return c
	}
	// The Tencent app of the startcall and records samples: the sandbox's
	// own key and administrator (not secrets), the samples' SDKAppID.
	tencentApp := config.Config{
		APIToken: deploy.SampleAPIToken, TencentAppID: deploy.SampleTencentAppID, TencentKey: sandbox.DefaultKey,
		TencentAdmin: sandbox.DefaultAdmin, TencentRegion: "china", TencentAPI: "v4",
	}
	ds := []deployable{{
		SAMID:   "WebhookFunction",
		SCFFile: "serverless.yml",
		Build:   buildWebhook,
		SampleConfig: config.Config{
			TencentAppID: deploy.SampleTencentAppID,
			YunxinAppKey: deploy.SampleYunxinAppKey,
			YunxinSecret: deploy.SampleYunxinAppSecret,
		},
		Env: append(slices.Clone(envCommon), "CALLFN_TENCENT_CALLBACK_TOKEN", "CALLFN_YUNXIN_APPKEY", "CALLFN_YUNXIN_APPSECRET"),
		Samples: []string{
			"tencent-v4-start-call", "tencent-v4-member-changed", "tencent-v4-end-call",
			"tencent-v1-status-normal-end", "tencent-v1-event-caller-start-call",
			"yunxin-callback-20-call-initiated", "yunxin-callback-21-room-created",
			"yunxin-copy-5-duration", "yunxin-copy-6-recording", "yunxin-copy-probe",
		},
		Expect: map[string]expect{
			"yunxin-copy-probe": {Status: 200}, // the address probe, answered {} and not stored
		},
	}, {
		SAMID:        "StartCallFunction",
		SCFFile:      "deploy/scf/startcall/serverless.yml",
		Build:        buildStartcall,
		SampleConfig: tencentApp,
		Env: append(slices.Clone(envCommon), "CALLFN_API_TOKEN", "CALLFN_TENCENT_SECRET_KEY", "CALLFN_TENCENT_ADMIN",
			"CALLFN_TENCENT_ENDPOINT", "TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY"),
		ScheduleState: "DISABLED",
		NeedsTencent:  true,
		Sandbox:       true,
		Samples:       []string{"start-call", "end-call", "schedule-example-call"},
		Expect: map[string]expect{
			// Every POST /calls rings: the second delivery starts a second call.
			"start-call": {Status: 200, Stored: [2]int{1, 2}, Check: checkStarted},
			// Tencent's documented CallId, which the sandbox never started.
			"end-call": {Status: 404, Check: checkErrorReply},
			// The firing is claimed: delivered twice, it starts its call once.
			"schedule-example-call": {Stored: [2]int{1, 1}, Check: checkClaimedOnce},
		},
	}, {
		SAMID:        "RecordsFunction",
		SCFFile:      "deploy/scf/records/serverless.yml",
		Build:        buildRecords,
		SampleConfig: forwarding(tencentApp),
		Env: append(slices.Clone(envCommon), "CALLFN_API_TOKEN", "CALLFN_TENCENT_SECRET_KEY", "CALLFN_TENCENT_ADMIN",
			"CALLFN_TENCENT_ENDPOINT", "CALLFN_TENCENT_API_VERSION"),
		ScheduleState: "ENABLED",
		NeedsTencent:  true,
		Sandbox:       true,
		Seed:          seedRecords,
		Samples:       []string{"get-record", "list-records", "list-tencent-records", "list-user-calls", "my-calls", "stats", "replay", "schedule-archive"},
		Expect: map[string]expect{
			// The table holds no event of Tencent's documented CallId.
			"replay": {Status: 404, Check: checkErrorReply},
			// Neither Tencent nor the table knows Tencent's documented CallId.
			"get-record": {Status: 404, Check: checkErrorReply},
			// Queries store nothing; result=normal_end picks one of the two.
			"list-tencent-records": {Status: 200, Check: checkListed},
			// Lists of the table, which holds nothing of the seeded calls
			// (they are Tencent's, not archived yet); my-calls' UserSig is
			// jack's, for the sample app with the sandbox's key.
			"list-records":    {Status: 200, Check: checkEmptyHistory},
			"list-user-calls": {Status: 200, Check: checkEmptyHistory},
			"my-calls":        {Status: 200, Check: checkEmptyHistory},
			"stats":           {Status: 200, Check: checkStats},
			// The archive stores both of Tencent's records, then nothing new.
			"schedule-archive": {Stored: [2]int{2, 2}, Check: checkArchived},
		},
	}, {
		SAMID:         "ForwardFunction",
		SCFFile:       "deploy/scf/forward/serverless.yml",
		Build:         buildForward,
		SampleConfig:  forwarding(config.Config{}),
		Env:           slices.Clone(envCommon),
		ScheduleState: "ENABLED",
		Samples:       []string{"schedule-drain"},
		Expect: map[string]expect{
			// An empty table owes nothing: a drain that attempts nothing.
			"schedule-drain": {Check: checkDrained},
		},
		// The outbox: read events and summaries, lease by the due index,
		// record outcomes.
		TableActions: []string{"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"},
	}}
	for i := range ds {
		fn, err := ds[i].Build(ds[i].SampleConfig, local.NewMemory(store.Options{}))
		if err != nil {
			t.Fatalf("%s: %v", ds[i].SAMID, err)
		}
		ds[i].Fn = fn
	}
	return ds
}

// pending are functions/<name> that exist in code but are not deployed
// yet: their descriptors are being written by whoever adds them. Take a
// name out of here when it joins deployables(); the test fails on a name
// that is in both, and on any function in neither.
var pending []string

// secretVars must come from NoEcho parameters in template.yaml.
var secretVars = []string{
	"CALLFN_TENCENT_SECRET_KEY", "CALLFN_TENCENT_CALLBACK_TOKEN", "CALLFN_API_TOKEN",
	"TENCENTCLOUD_SECRET_ID", "TENCENTCLOUD_SECRET_KEY",
	"CALLFN_YUNXIN_APPKEY", "CALLFN_YUNXIN_APPSECRET",
	"CALLFN_FORWARD_SECRET", "CALLFN_FORWARD_URL", // a URL may carry a token
}

// scfSDKVars are the AWS SDK's own variables an SCF function may carry,
// beyond config.Vars, to reach the DynamoDB table from outside AWS. A
// Lambda function gets them from its role and must not set them.
var scfSDKVars = []string{"AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ENDPOINT_URL_DYNAMODB"}

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
	r := testkit.Root(t)
	text := readFile(t, filepath.Join(r, "template.yaml"))
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	report(t, "template.yaml", checkTemplate(text, makefile, deployables(t)))
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
	} else if !strings.Contains(recipe, "GOARCH=$(call sam_goarch,") || strings.Contains(recipe, "GOARCH:-") || strings.Contains(recipe, "$(GOARCH)") {
		// TestMakeBuildsTheTemplatesArch runs it.
		bad("build-%s must take GOARCH from template.yaml ($(call sam_goarch,...)), never from the caller's GOARCH", d.SAMID)
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
	for _, msg := range checkEnv(sortedKeys(env), d.Env) {
		bad("%s", msg)
	}
	for _, msg := range checkParameters(tmpl, env) {
		bad("%s", msg)
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
	switch {
	case d.TableActions != nil:
		p = append(p, checkLeastPrivilege(tmpl, fn, d, table)...)
	case table != "" && !granted:
		bad("no DynamoDBCrudPolicy on !Ref %s", table)
	}
	p = append(p, checkStreamTrigger(tmpl, fn, d, table)...)

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
	scheds, err := fn.Schedules()
	if err != nil {
		bad("%v", err)
	}
	names := map[string]bool{}
	for _, s := range scheds {
		if s.Envelope == nil {
			bad("schedule %s has no Input: the Lambda adapter wants callfn's envelope {\"schedule\": NAME, \"time\": %q, \"payload\": ...}", s.Event, deploy.ScheduledTime)
			continue
		}
		switch {
		case s.Type == "ScheduleV2" && s.Envelope.Time != deploy.ScheduledTime:
			bad("schedule %s: Input time %q, want %q, so that a firing is known by the time it was scheduled for", s.Event, s.Envelope.Time, deploy.ScheduledTime)
		case s.Type == "Schedule" && s.Envelope.Time != "":
			bad("schedule %s: Input time %q: an EventBridge rule fills in no context attribute; leave time out", s.Event, s.Envelope.Time)
		}
		if names[s.Envelope.Schedule] {
			bad("two schedules are named %q: their firings would be taken for one another's", s.Envelope.Schedule)
		}
		names[s.Envelope.Schedule] = true
		if want := d.ScheduleState == "ENABLED"; s.Enabled != want {
			bad("schedule %s deploys enabled: %v, want %s", s.Event, s.Enabled, d.ScheduleState)
		}
		if s.Enabled && d.NeedsTencent {
			if msg := checkTencentCondition(tmpl, env, s.EnabledIf); msg != "" {
				bad("schedule %s needs Tencent, so State must be !If [CONDITION, ENABLED, DISABLED] with a condition that both are set: %s", s.Event, msg)
			}
		} else if s.EnabledIf != "" {
			bad("schedule %s is enabled only if %s, but the function needs no condition", s.Event, s.EnabledIf)
		}
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

// requiredVars are the settings a deploy needs: their parameters have no
// Default, so that `sam deploy --guided` asks for them and a deploy
// without them fails before it starts, instead of deploying functions
// that answer 503.
var requiredVars = []string{"CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_SECRET_KEY", "CALLFN_API_TOKEN"}

// patternSamples are values tried against a parameter's AllowedPattern and
// config.Load: the template must take exactly what start-up takes.
var patternSamples = map[string][]string{
	"CALLFN_TENCENT_SDKAPPID": {"", "1400000001", "1", "0", "00", "007", "-1", "1.5", "1e9", " 1", "abc", "99999999999999999999"},
	"CALLFN_RETENTION_DAYS":   {"0", "1", "30", "99999", "100000", "1.5", "-1", "+5", "1e3", "abc", " 7", "00030"},
}

// checkParameters holds the parameters behind env to what config.Load and
// the functions take.
func checkParameters(tmpl *deploy.Template, env map[string]any) []string {
	var p []string
	for _, name := range requiredVars {
		param, ok := deploy.Ref(env[name])
		if !ok {
			continue
		}
		if d, has := tmpl.Parameters[param]["Default"]; has {
			p = append(p, fmt.Sprintf("parameter %s (%s) is required: it must have no Default (has %q)", param, name, d))
		}
	}
	for name, values := range patternSamples {
		param, ok := deploy.Ref(env[name])
		if !ok {
			continue
		}
		def := tmpl.Parameters[param]
		if def["Type"] != "String" {
			p = append(p, fmt.Sprintf("parameter %s (%s) is a %v: AllowedPattern applies to String parameters only", param, name, def["Type"]))
		}
		pattern, _ := def["AllowedPattern"].(string)
		re, err := regexp.Compile(pattern)
		if pattern == "" || err != nil {
			p = append(p, fmt.Sprintf("parameter %s (%s) needs an AllowedPattern (%q: %v)", param, name, pattern, err))
			continue
		}
		for _, v := range values {
			// CloudFormation matches the whole value; config trims spaces.
			tmplTakes := re.MatchString(v) && re.FindString(v) == v
			_, err := config.Load(func(k string) string {
				if k == name {
					return v
				}
				return ""
			})
			// The template may refuse what start-up would trim (spaces), never
			// take what start-up refuses.
			codeTakes := err == nil
			if tmplTakes && !codeTakes || !tmplTakes && codeTakes && strings.TrimSpace(v) == v {
				p = append(p, fmt.Sprintf("parameter %s takes %q: %v, but start-up does: %v (%v)", param, v, tmplTakes, codeTakes, err))
			}
		}
	}
	return p
}

// checkTencentCondition says what is wrong with cond as the condition that
// the Tencent app behind env is configured: !And of !Not !Equals [!Ref P,
// ""] for the SDKAppID's and the key's parameters.
func checkTencentCondition(tmpl *deploy.Template, env map[string]any, cond string) string {
	if cond == "" {
		return "it is unconditional"
	}
	c, ok := tmpl.Conditions[cond]
	if !ok {
		return fmt.Sprintf("no condition %s under Conditions", cond)
	}
	want := map[string]bool{}
	for _, name := range []string{"CALLFN_TENCENT_SDKAPPID", "CALLFN_TENCENT_SECRET_KEY"} {
		param, ok := deploy.Ref(env[name])
		if !ok {
			return fmt.Sprintf("%s is not set from a parameter", name)
		}
		want[param] = true
	}
	got := map[string]bool{}
	for _, term := range asList(asMap(c)["Fn::And"]) {
		not := asList(asMap(term)["Fn::Not"])
		if len(not) != 1 {
			continue
		}
		eq := asList(asMap(not[0])["Fn::Equals"])
		if len(eq) != 2 || eq[1] != "" {
			continue
		}
		if ref, ok := deploy.Ref(eq[0]); ok {
			got[ref] = true
		}
	}
	if !maps.Equal(got, want) {
		return fmt.Sprintf("condition %s = %v; want !And of !Not [!Equals [!Ref P, \"\"]] for %v", cond, mustJSON(c), slices.Sorted(maps.Keys(want)))
	}
	return ""
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
	keys := []string{store.DynamoPK, store.DynamoSK, store.DynamoDuePK, store.DynamoDueSK}
	for _, ix := range store.DynamoIndexes {
		keys = append(keys, ix.PK, ix.SK)
	}
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
	for _, ix := range store.DynamoIndexes {
		index := globalIndex(props, ix.Name)
		if index == nil {
			bad("no global secondary index %s", ix.Name)
			continue
		}
		if got, want := keySchema(index["KeySchema"]), []string{ix.PK + " HASH", ix.SK + " RANGE"}; !slices.Equal(got, want) {
			bad("index %s KeySchema %v, want %v", ix.Name, got, want)
		}
		if asMap(index["Projection"])["ProjectionType"] != "ALL" {
			bad("index %s must project ALL", ix.Name)
		}
	}
	p = append(p, checkOutboxLayout(id, props)...)
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
	r := testkit.Root(t)
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	for _, d := range deployables(t) {
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
	// The CLI resolves src against the descriptor's directory.
	src := filepath.ToSlash(filepath.Join(filepath.Dir(d.SCFFile), in.Src.Src))
	if want := "dist/scf/" + d.Fn.Name + "-amd64"; src != want {
		rel, _ := filepath.Rel(filepath.Dir(d.SCFFile), want)
		bad("src %q is %s from the repo root, want %s (built by make build-scf)", in.Src.Src, src, filepath.ToSlash(rel))
	}

	for _, name := range sortedKeys(in.Environment.Variables) {
		if !slices.Contains(config.Vars, name) && !slices.Contains(scfSDKVars, name) {
			bad("environment variable %s is neither one callfn reads (config.Vars) nor the AWS SDK's %v", name, scfSDKVars)
		}
	}
	if s := in.Environment.Variables["CALLFN_STORE"]; !strings.HasPrefix(s, "dynamodb:") || len(s) == len("dynamodb:") {
		bad("CALLFN_STORE %q, want dynamodb:TABLE (an SCF instance's disk does not last)", s)
	}
	var own []string
	for name := range in.Environment.Variables {
		if !slices.Contains(scfSDKVars, name) {
			own = append(own, name)
		}
	}
	sort.Strings(own)
	for _, msg := range checkEnv(own, d.Env) {
		bad("%s", msg)
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
		var want []string
		for _, m := range regexp.MustCompile(`\{(\w+)\+?\}`).FindAllStringSubmatch(e.Path, -1) {
			want = append(want, m[1])
		}
		sort.Strings(want)
		if got := slices.Sorted(slices.Values(e.PathParams)); !slices.Equal(got, want) {
			bad("endpoint %s %s declares PATH params %v, want %v (param: name, position: PATH, as its path has them)", e.Method, e.Path, got, want)
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
	timers, err := in.Timers()
	if err != nil {
		bad("%v", err)
	}
	names := map[string]bool{}
	for _, tm := range timers {
		// SCF's rule for a timer's name; callfn needs one given, since it
		// names the firing (startcall claims firings by name and time).
		if !regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_-]{0,59}$`).MatchString(tm.Name) {
			bad("timer %q: give it a name of 1-60 letters, digits, - and _, starting with a letter (it names the firings)", tm.Name)
		}
		if names[tm.Name] {
			bad("two timers are named %q", tm.Name)
		}
		names[tm.Name] = true
		if n := len(strings.Fields(tm.Cron)); n != 7 {
			bad("timer %q: cronExpression %q has %d fields; SCF's have 7 (second minute hour day month weekday year)", tm.Name, tm.Cron, n)
		}
		if len(tm.Argument) > 4096 {
			bad("timer %q: argument is %d bytes; SCF takes 4 KB", tm.Name, len(tm.Argument))
		}
		if tm.Argument != "" && !json.Valid([]byte(tm.Argument)) {
			bad("timer %q: argument is not JSON: the schedule's payload is", tm.Name)
		}
		if want := d.ScheduleState == "ENABLED"; tm.Enabled != want {
			bad("timer %q deploys enabled: %v, want %s", tm.Name, tm.Enabled, d.ScheduleState)
		}
	}
	return p
}

// checkEnv compares the variables a descriptor sets with those the
// function reads.
func checkEnv(set, reads []string) []string {
	var p []string
	for _, name := range reads {
		if !slices.Contains(set, name) {
			p = append(p, fmt.Sprintf("does not set %s, which the function reads", name))
		}
	}
	for _, name := range set {
		if slices.Contains(config.Vars, name) && !slices.Contains(reads, name) {
			p = append(p, fmt.Sprintf("sets %s, which the function does not read", name))
		}
	}
	return p
}

// ---- every function is deployed ----

func TestEveryFunctionIsDeployed(t *testing.T) {
	r := testkit.Root(t)
	dirs, err := filepath.Glob(filepath.Join(r, "functions", "*", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, d := range deployables(t) {
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

// TestSCFProjectLayout holds the SCF descriptors to how Serverless Cloud
// Framework's CLI finds component instances: it reads serverless.yml (or
// .yaml, .json) and nothing else in a directory; `scf deploy` where one
// is deploys that instance; where none is, it deploys every instance in
// the sub-directories, which must share app and stage. So the webhook is
// the top-level serverless.yml, and the others live one a directory in a
// common parent without a serverless.yml of its own.
func TestSCFProjectLayout(t *testing.T) {
	r := testkit.Root(t)
	var paths []string
	for _, d := range deployables(t) {
		paths = append(paths, d.SCFFile)
	}
	report(t, "SCF layout", checkSCFLayout(paths, func(p string) ([]byte, error) { return os.ReadFile(filepath.Join(r, p)) }))
}

func checkSCFLayout(paths []string, read func(string) ([]byte, error)) []string {
	var p []string
	apps, names, dirs := map[string]bool{}, map[string]string{}, map[string]bool{}
	parents := map[string]bool{}
	for _, path := range paths {
		path = filepath.ToSlash(path)
		if filepath.Base(path) != "serverless.yml" {
			p = append(p, fmt.Sprintf("%s: the CLI reads only serverless.yml in an instance's directory", path))
		}
		dir := filepath.ToSlash(filepath.Dir(path))
		if dirs[dir] {
			p = append(p, fmt.Sprintf("%s: another instance is in the same directory", path))
		}
		dirs[dir] = true
		if dir != "." {
			parents[filepath.ToSlash(filepath.Dir(dir))] = true
		}
		data, err := read(path)
		if err != nil {
			p = append(p, err.Error())
			continue
		}
		inst, err := deploy.ParseSCF(data)
		if err != nil {
			p = append(p, fmt.Sprintf("%s: %v", path, err))
			continue
		}
		apps[inst.App+"/"+inst.Stage] = true
		if other, ok := names[inst.Name]; ok {
			p = append(p, fmt.Sprintf("%s and %s are both instance %q of app %s", other, path, inst.Name, inst.App))
		}
		names[inst.Name] = path
	}
	if len(apps) != 1 {
		p = append(p, fmt.Sprintf("instances of apps/stages %v: one app, one stage, so that they deploy and list together", slices.Sorted(maps.Keys(apps))))
	}
	if !dirs["."] {
		p = append(p, "no top-level serverless.yml (the product's contract names it)")
	}
	if len(parents) > 1 {
		p = append(p, fmt.Sprintf("the other instances are under %v: keep them in one directory, where `scf deploy` deploys them all", slices.Sorted(maps.Keys(parents))))
	}
	for parent := range parents {
		if parent == "." {
			p = append(p, "an instance is one directory below the top level, whose own serverless.yml keeps `scf deploy` there from deploying it")
		} else if dirs[parent] {
			p = append(p, fmt.Sprintf("%s holds a serverless.yml, so `scf deploy` there would not deploy the instances below it", parent))
		}
	}
	return p
}

// ---- events/ ----

func TestSamplesAreTriggerEvents(t *testing.T) {
	r := testkit.Root(t)
	now := time.Now()
	for _, d := range deployables(t) {
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
					if deploy.IsScheduleSample(f) {
						if d.Fn.Schedule == nil {
							t.Fatalf("%s handles no schedule, so it has no schedule samples", d.Fn.Name)
						}
						fr := loadFiring(t, platformName, f)
						if want := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), deploy.ScheduleSamplePrefix), ".json"); fr.name != want {
							t.Errorf("fires schedule %q; a sample of schedule %q is named schedule-%s.json", fr.name, fr.name, fr.name)
						}
						return
					}
					var s sample
					if platformName == deploy.PlatformLambda {
						s = lambdaSample(t, f)
					} else {
						s = scfSample(t, f)
					}
					for _, p := range checkSample(t, mux, s, now) {
						t.Error(p)
					}
				})
			}
		}
	}
}

// sample is what every platform's trigger event says about the request.
type sample struct {
	platform     string
	method, path string
	query        url.Values
	headers      map[string]string
	body         []byte
	routeKey     string                                          // Lambda: the route the gateway matched, "METHOD /path/{param}"
	routePath    string                                          // SCF: the matched API's path (requestContext.path)
	pathParams   map[string]string                               // the path parameters the gateway extracted
	resign       func(now time.Time) ([]byte, map[string]string) // body and headers after re-signing
}

func lambdaSample(t *testing.T, path string) sample {
	ev, err := deploy.LoadLambdaSample(path)
	if err != nil {
		t.Fatal(err)
	}
	h := ev.RequestContext.HTTP
	if ev.RawPath != h.Path || ev.RequestContext.RouteKey != ev.RouteKey || !strings.HasPrefix(ev.RouteKey, h.Method+" ") {
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
	if len(q) != len(ev.QueryStringParameters) {
		t.Errorf("rawQueryString has %d parameters, queryStringParameters %d", len(q), len(ev.QueryStringParameters))
	}
	body, err := deploy.LambdaBody(&ev)
	if err != nil {
		t.Fatalf("body: %v", err)
	}
	return sample{platform: deploy.PlatformLambda, method: h.Method, path: ev.RawPath, query: q, headers: ev.Headers, body: body,
		routeKey: ev.RouteKey, pathParams: ev.PathParameters,
		resign: func(now time.Time) ([]byte, map[string]string) {
			c := ev
			c.Headers = cloneHeaders(ev.Headers)
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
	if ev.Context.Method != ev.Method {
		t.Errorf("requestContext.httpMethod %s, httpMethod %s", ev.Context.Method, ev.Method)
	}
	if ev.Context.Stage == "" || ev.Context.ServiceID == "" || ev.Context.RequestID == "" {
		t.Errorf("requestContext lacks stage, serviceId or requestId")
	}
	var params struct { // scf-go-lib's struct leaves these out
		PathParameters map[string]string `json:"pathParameters"`
	}
	if err := json.Unmarshal([]byte(readFile(t, path)), &params); err != nil {
		t.Errorf("pathParameters: %v", err)
	}
	return sample{platform: deploy.PlatformSCF, method: ev.Method, path: ev.Path, query: url.Values(ev.QueryString), headers: ev.Headers, body: []byte(ev.Body),
		routePath: ev.Context.Path, pathParams: params.PathParameters,
		resign: func(now time.Time) ([]byte, map[string]string) {
			c := ev
			c.Headers = cloneHeaders(ev.Headers)
			deploy.ResignSCFSample(&c, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now)
			return []byte(c.Body), c.Headers
		}}
}

// checkSample lists what is wrong with an API gateway sample: it must take
// one of the function's routes, name that route as its gateway would, and
// carry what the route needs (the bearer token, the sample app's ids).
func checkSample(t *testing.T, mux *http.ServeMux, s sample, now time.Time) []string {
	t.Helper()
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	req := httptest.NewRequest(s.method, s.path, nil)
	_, pattern := mux.Handler(req)
	if pattern == "" {
		return []string{fmt.Sprintf("%s %s is no route the function serves", s.method, s.path)}
	}
	routes, err := deploy.RoutesOf(platform.Function{Routes: []platform.Route{{Pattern: pattern}}})
	if err != nil {
		return []string{err.Error()}
	}
	route := routes[0]
	switch s.platform {
	case deploy.PlatformLambda:
		if s.routeKey != route.String() {
			bad("routeKey %q, but %s %s takes the route %q", s.routeKey, s.method, s.path, route)
		}
	case deploy.PlatformSCF:
		if s.routePath != route.Path {
			bad("requestContext.path %q, but %s takes the API %q", s.routePath, s.path, route.Path)
		}
	}
	if want := pathParams(route.Path, s.path); !sameParams(want, s.pathParams) {
		bad("pathParameters %v, want %v (%s on %s)", s.pathParams, want, route.Path, s.path)
	}
	if len(s.body) > 0 && !json.Valid(s.body) {
		bad("body is not JSON: %q", s.body)
	}
	header := http.Header{}
	for k, v := range s.headers {
		header.Set(k, v)
	}
	switch {
	case s.path == "/me/calls":
		if !strings.HasPrefix(header.Get("Authorization"), "UserSig ") || header.Get("X-User-Id") == "" {
			bad("Authorization %q, X-User-Id %q: want a UserSig and the user it is for", header.Get("Authorization"), header.Get("X-User-Id"))
		}
	case strings.HasPrefix(s.path, "/calls") || strings.HasPrefix(s.path, "/records") ||
		strings.HasPrefix(s.path, "/users/") || s.path == "/stats" || s.path == "/replay":
		if got, want := header.Get("Authorization"), "Bearer "+deploy.SampleAPIToken; got != want {
			bad("Authorization %q, want %q", got, want)
		}
	case strings.HasPrefix(s.path, "/webhook/tencent"):
		id := ""
		for k, v := range s.query {
			if strings.EqualFold(k, "SdkAppid") && len(v) > 0 {
				id = v[0]
			}
		}
		if id != fmt.Sprint(deploy.SampleTencentAppID) {
			bad("SDKAppID in the query is %q, want %d", id, deploy.SampleTencentAppID)
		}
		if s.query.Get("Sign") != "" || s.query.Get("RequestTime") != "" {
			bad("Tencent samples are unsigned (no Sign, RequestTime)")
		}
	case strings.HasPrefix(s.path, "/webhook/yunxin/"):
		if got := header.Get("AppKey"); got != deploy.SampleYunxinAppKey {
			bad("AppKey %q, want %q", got, deploy.SampleYunxinAppKey)
		}
		// As stored, the signature is right but its CurTime is long past.
		err := yunxin.Verify(header, s.body, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now)
		if !errors.Is(err, yunxin.ErrTooOld) {
			bad("stored signature: %v, want %v (signed with the sample secret, stale)", err, yunxin.ErrTooOld)
		}
		body, headers := s.resign(now)
		fresh := http.Header{}
		for k, v := range headers {
			fresh.Set(k, v)
		}
		if err := yunxin.Verify(fresh, body, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now); err != nil {
			bad("re-signed: %v", err)
		}
		if len(headers) != len(s.headers) {
			bad("re-signing added headers: %d, was %d", len(headers), len(s.headers))
		}
	}
	return p
}

// pathParams matches a route's path (/calls/{callId}/end) against a
// request path, giving each parameter's value.
func pathParams(route, path string) map[string]string {
	out := map[string]string{}
	rs, ps := strings.Split(route, "/"), strings.Split(path, "/")
	for i, seg := range rs {
		if i >= len(ps) || !strings.HasPrefix(seg, "{") {
			continue
		}
		name := strings.TrimSuffix(strings.Trim(seg, "{}"), "+")
		out[name] = ps[i]
		if strings.HasSuffix(seg, "+}") {
			out[name] = strings.Join(ps[i:], "/")
		}
	}
	return out
}

func sameParams(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// muxOf routes like the function does, to tell which route a request takes.
func muxOf(fn platform.Function) *http.ServeMux {
	mux := http.NewServeMux()
	for _, rt := range fn.Routes {
		mux.HandleFunc(rt.Pattern, func(http.ResponseWriter, *http.Request) {})
	}
	return mux
}

// ---- schedules: template.yaml, the SCF file and the samples agree ----

// firing is a schedule sample: the schedule it names and the payload the
// function gets.
type firing struct {
	file    string
	name    string
	payload []byte
}

func loadFiring(t *testing.T, platformName, path string) firing {
	t.Helper()
	if platformName == deploy.PlatformLambda {
		in, err := deploy.LoadSchedulerSample(path)
		if err != nil {
			t.Fatal(err)
		}
		return firing{file: path, name: in.Schedule, payload: in.Payload}
	}
	ev, err := deploy.LoadTimerSample(path)
	if err != nil {
		t.Fatal(err)
	}
	return firing{file: path, name: ev.TriggerName, payload: []byte(ev.Message)}
}

func loadFirings(t *testing.T, r string, d deployable) map[string][]firing {
	out := map[string][]firing{}
	for _, platformName := range []string{deploy.PlatformLambda, deploy.PlatformSCF} {
		files, err := deploy.Samples(r, platformName, d.Fn.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if deploy.IsScheduleSample(f) {
				out[platformName] = append(out[platformName], loadFiring(t, platformName, f))
			}
		}
	}
	return out
}

// TestSchedulesAgree: each schedule is deployed alike on both platforms
// (the same name, the same payload), and each platform has a sample that
// fires it as deployed.
func TestSchedulesAgree(t *testing.T) {
	r := testkit.Root(t)
	tmpl := readFile(t, filepath.Join(r, "template.yaml"))
	for _, d := range deployables(t) {
		report(t, d.Fn.Name, checkSchedules(d, tmpl, readFile(t, filepath.Join(r, d.SCFFile)), loadFirings(t, r, d)))
	}
}

func checkSchedules(d deployable, tmplText, scfText string, firings map[string][]firing) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, d.Fn.Name+": "+fmt.Sprintf(format, args...)) }
	tmpl, err := deploy.ParseSAM([]byte(tmplText))
	if err != nil {
		return []string{err.Error()}
	}
	fn, err := tmpl.Function(d.SAMID)
	if err != nil {
		return []string{err.Error()}
	}
	scheds, err := fn.Schedules()
	if err != nil {
		return []string{err.Error()}
	}
	inst, err := deploy.ParseSCF([]byte(scfText))
	if err != nil {
		return []string{err.Error()}
	}
	timers, err := inst.Inputs.Timers()
	if err != nil {
		return []string{err.Error()}
	}
	declared := map[string]map[string][]byte{deploy.PlatformLambda: {}, deploy.PlatformSCF: {}}
	for _, s := range scheds {
		if s.Envelope != nil {
			declared[deploy.PlatformLambda][s.Envelope.Schedule] = s.Envelope.Payload
		}
	}
	for _, tm := range timers {
		declared[deploy.PlatformSCF][tm.Name] = []byte(tm.Argument)
	}
	sam, scf := declared[deploy.PlatformLambda], declared[deploy.PlatformSCF]
	for _, name := range sortedKeys(sam) {
		arg, ok := scf[name]
		if !ok {
			bad("template.yaml schedules %q; %s has no timer of that name", name, d.SCFFile)
		} else if !samePayload(sam[name], arg) {
			bad("schedule %q: template.yaml's payload %s and %s's timer argument %s differ", name, sam[name], d.SCFFile, arg)
		}
	}
	for _, name := range sortedKeys(scf) {
		if _, ok := sam[name]; !ok {
			bad("%s has timer %q; template.yaml schedules nothing of that name", d.SCFFile, name)
		}
	}
	for _, platformName := range []string{deploy.PlatformLambda, deploy.PlatformSCF} {
		sampled := map[string]bool{}
		for _, f := range firings[platformName] {
			sampled[f.name] = true
			want, ok := declared[platformName][f.name]
			if !ok {
				bad("%s fires schedule %q, which is not deployed on %s", filepath.Base(f.file), f.name, platformName)
			} else if !samePayload(want, f.payload) {
				bad("%s's payload %s is not the deployed schedule %q's %s", filepath.Base(f.file), f.payload, f.name, want)
			}
		}
		for _, name := range sortedKeys(declared[platformName]) {
			if !sampled[name] {
				bad("schedule %q has no sample events/%s/%s/%s%s.json", name, platformName, d.Fn.Name, deploy.ScheduleSamplePrefix, name)
			}
		}
	}
	return p
}

// samePayload: both empty (or null), or the same JSON value.
func samePayload(a, b []byte) bool {
	empty := func(x []byte) bool { s := strings.TrimSpace(string(x)); return s == "" || s == "null" }
	if empty(a) || empty(b) {
		return empty(a) && empty(b)
	}
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return string(a) == string(b)
	}
	return mustJSON(va) == mustJSON(vb)
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

// mistake is a mistake made in a descriptor: old replaced by new, and the
// problem its checks must then report.
type mistake struct{ name, old, new, want string }

// catchesMistakes holds check to what (text): no problem as it is, and
// each case's problem once its mistake is made, each in a subtest.
func catchesMistakes(t *testing.T, what, text string, check func(text string) []string, cases []mistake) {
	t.Helper()
	if p := check(text); len(p) != 0 {
		t.Fatalf("%s itself has problems, so the cases below prove nothing: %q", what, p)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, check(mutate(t, text, c.old, c.new)), c.want)
		})
	}
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

// archiveState is how the records archive's schedule deploys: on only when
// Tencent is configured.
const archiveState = "State: !If [TencentConfigured, ENABLED, DISABLED]"

func TestTemplateChecksCatchMistakes(t *testing.T) {
	r := testkit.Root(t)
	text := readFile(t, filepath.Join(r, "template.yaml"))
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	const fnProps = "      Description: Tencent and Yunxin call callbacks in, one stored event per delivery out\n"
	cases := []mistake{
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
		{"unknown variable", "          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n",
			"          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n          CALLFN_TYPO: x\n", "CALLFN_TYPO is not one callfn reads"},
		{"AWS variable on Lambda", "          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n",
			"          CALLFN_YUNXIN_APPSECRET: !Ref YunxinAppSecret\n          AWS_REGION: us-east-1\n", "AWS_REGION is not one callfn reads"},
		{"store gone from Globals", "        CALLFN_STORE: !Sub \"dynamodb:${CallsTable}\"\n", "", "CALLFN_STORE is <nil>"},
		{"store not DynamoDB", `!Sub "dynamodb:${CallsTable}"`, `!Sub "bolt:/tmp/${CallsTable}"`, "CALLFN_STORE is"},
		{"secret echoed", "which ships inside the client app: anyone can then store forged call events. Strongly recommended\n    NoEcho: true\n",
			"which ships inside the client app: anyone can then store forged call events. Strongly recommended\n",
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
		{"no URL output", "/webhook/yunxin/copy\"\n  StartCallUrl:", "/webhook/yunxin\"\n  StartCallUrl:", "no output gives the URL of POST /webhook/yunxin/copy"},
		{"no records URL", "${AWS::URLSuffix}/records\"\n", "${AWS::URLSuffix}/record\"\n", "no output gives the URL of GET /records"},
		// startcall and records
		{"missing parameter route", "Path: /calls/{callId}/end\n", "Path: /calls/{id}/end\n",
			"StartCallFunction: serves POST /calls/{callId}/end but declares no event"},
		{"route of the other function", "Method: GET\n            Path: /records\n", "Method: GET\n            Path: /calls\n",
			"RecordsFunction: declares GET /calls, which the code does not serve"},
		{"variable the function does not read", "          TENCENTCLOUD_SECRET_KEY: !Ref TencentCloudSecretKey\n",
			"          TENCENTCLOUD_SECRET_KEY: !Ref TencentCloudSecretKey\n          CALLFN_TENCENT_API_VERSION: !Ref TencentApiVersion\n",
			"StartCallFunction: sets CALLFN_TENCENT_API_VERSION, which the function does not read"},
		{"variable the function reads", "          CALLFN_TENCENT_API_VERSION: !Ref TencentApiVersion\n", "",
			"RecordsFunction: does not set CALLFN_TENCENT_API_VERSION, which the function reads"},
		{"token echoed", "e.g. openssl rand -hex 32\n    NoEcho: true\n", "e.g. openssl rand -hex 32\n",
			"secret CALLFN_API_TOKEN must come from a NoEcho parameter"},
		{"example schedule enabled", "State: DISABLED\n", "State: ENABLED\n", "schedule ExampleCall deploys enabled: true, want DISABLED"},
		{"archive disabled", archiveState, "State: DISABLED", "schedule Archive deploys enabled: false, want ENABLED"},
		{"bad State", archiveState, "State: ON", `State "ON", want ENABLED or DISABLED`},
		{"archive on without Tencent", archiveState, "State: ENABLED", "schedule Archive needs Tencent"},
		{"archive on another condition", archiveState, "State: !If [Other, ENABLED, DISABLED]", "no condition Other"},
		{"condition on one setting", "    - !Not [!Equals [!Ref TencentSecretKey, \"\"]]\n", "", "schedule Archive needs Tencent"},
		{"bad !If", archiveState, "State: !If [TencentConfigured, DISABLED, ENABLED]", "want ENABLED, DISABLED or !If"},
		{"required with a default", "    ConstraintDescription: the SDKAppID is a positive integer, such as 1400000001\n",
			"    ConstraintDescription: the SDKAppID is a positive integer, such as 1400000001\n    Default: \"\"\n", "TencentSdkAppId (CALLFN_TENCENT_SDKAPPID) is required"},
		{"SDKAppID 0 taken", `AllowedPattern: "^(0*[1-9][0-9]{0,18})?$"`, `AllowedPattern: "^[0-9]*$"`, `parameter TencentSdkAppId takes "0": true`},
		{"retention as a Number", "    Type: String # a Number would take 1.5, which start-up refuses\n", "    Type: Number\n", "parameter RetentionDays (CALLFN_RETENTION_DAYS) is a Number"},
		{"fractional retention taken", `AllowedPattern: "^[0-9]{1,5}$"`, `AllowedPattern: "^[0-9.]{1,5}$"`, `parameter RetentionDays takes "1.5": true`},
		{"schedule gone", "        Archive:\n          Type: ScheduleV2\n", "        Archive:\n          Type: HttpApi\n",
			"RecordsFunction: declares a schedule: false; the code handles one: true"},
		{"Input not the envelope", `'{"schedule": "archive", "time"`, `'{"schedule": "archive", "at"`, "unknown field \"at\""},
		{"Input without a name", `'{"schedule": "archive", `, `'{`, "the envelope names no schedule"},
		{"time not the scheduled time", `"archive", "time": "<aws.scheduler.scheduled-time>"}'`, `"archive", "time": "2025-01-01T00:00:00Z"}'`,
			`Input time "2025-01-01T00:00:00Z", want "<aws.scheduler.scheduled-time>"`},
		{"no Input", "            Input: '{\"schedule\": \"archive\", \"time\": \"<aws.scheduler.scheduled-time>\"}'\n", "",
			"schedule Archive has no Input"},
		{"Input as a mapping", "            Input: '{\"schedule\": \"archive\", \"time\": \"<aws.scheduler.scheduled-time>\"}'\n",
			"            Input:\n              schedule: archive\n", "Input must be a string holding JSON"},
		{"two schedules of one name", "        ExampleCall:\n          Type: ScheduleV2\n",
			"        Again:\n          Type: ScheduleV2\n          Properties:\n            ScheduleExpression: rate(1 day)\n            State: DISABLED\n" +
				"            Input: '{\"schedule\": \"example-call\", \"time\": \"<aws.scheduler.scheduled-time>\"}'\n" +
				"        ExampleCall:\n          Type: ScheduleV2\n",
			`StartCallFunction: two schedules are named "example-call"`},
		{"rule with a Scheduler attribute", "        Archive:\n          Type: ScheduleV2\n", "        Archive:\n          Type: Schedule\n",
			"an EventBridge rule fills in no context attribute"},
		{"stray function", "Outputs:\n",
			"  OtherFunction:\n    Type: AWS::Serverless::Function\n    Properties:\n      CodeUri: .\n\nOutputs:\n", "OtherFunction is declared"},
		{"not SAM", "Transform: AWS::Serverless-2016-10-31\n", "", "Transform is"},
		{"not YAML", "Resources:\n", "Resources: [\n", "yaml"},
	}
	catchesMistakes(t, "the template", text, func(text string) []string { return checkTemplate(text, makefile, deployables(t)) }, cases)
	t.Run("Makefile without the sam build target", func(t *testing.T) {
		mk := mutate(t, makefile, "build-WebhookFunction ", "")
		wantProblem(t, checkTemplate(text, mk, deployables(t)), "no build-WebhookFunction target")
	})
	t.Run("a route the code adds", func(t *testing.T) {
		ds := deployables(t)
		ds[0].Fn.Routes = append(ds[0].Fn.Routes, platform.Route{Pattern: "GET /webhook/health"})
		wantProblem(t, checkTemplate(text, makefile, ds), "serves GET /webhook/health but declares no event")
	})
	t.Run("a schedule the code drops", func(t *testing.T) {
		ds := deployables(t)
		ds[2].Fn.Schedule = nil
		wantProblem(t, checkTemplate(text, makefile, ds), "RecordsFunction: declares a schedule: true; the code handles one: false")
	})
	t.Run("a variable the code starts reading", func(t *testing.T) {
		ds := deployables(t)
		ds[1].Env = append(ds[1].Env, "CALLFN_TENCENT_API_VERSION")
		wantProblem(t, checkTemplate(text, makefile, ds), "StartCallFunction: does not set CALLFN_TENCENT_API_VERSION")
	})
	t.Run("Makefile without the records target", func(t *testing.T) {
		mk := mutate(t, makefile, " build-RecordsFunction ", " ")
		wantProblem(t, checkTemplate(text, mk, deployables(t)), "no build-RecordsFunction target")
	})
}

func TestSCFChecksCatchMistakes(t *testing.T) {
	r := testkit.Root(t)
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	const lastEndpoint = "            - path: /webhook/yunxin/copy\n"
	cases := map[string][]mistake{
		"WebhookFunction": {
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
			{"other build", "src: ./dist/scf/webhook-amd64", "src: ./dist/lambda/webhook-amd64", "want dist/scf/webhook-amd64"},
			{"unknown variable", "      CALLFN_YUNXIN_APPSECRET: ${env:CALLFN_YUNXIN_APPSECRET}\n",
				"      CALLFN_YUNXIN_APPSECRET: ${env:CALLFN_YUNXIN_APPSECRET}\n      YUNXIN_SECRET: x\n", "YUNXIN_SECRET is neither"},
			{"variable of another function", "      CALLFN_YUNXIN_APPSECRET: ${env:CALLFN_YUNXIN_APPSECRET}\n",
				"      CALLFN_YUNXIN_APPSECRET: ${env:CALLFN_YUNXIN_APPSECRET}\n      CALLFN_API_TOKEN: ${env:CALLFN_API_TOKEN}\n",
				"sets CALLFN_API_TOKEN, which the function does not read"},
			{"store on disk", "CALLFN_STORE: dynamodb:${env:CALLS_TABLE}", "CALLFN_STORE: bolt:/tmp/callfn.db", "want dynamodb:TABLE"},
			{"timer the code lacks", "  events:\n", "  events:\n    - timer:\n        parameters:\n          cronExpression: '0 0 3 * * * *'\n", "declares a timer: true"},
			{"other component", "component: scf\n", "component: multi-scf\n", `component "multi-scf"`},
		},
		"StartCallFunction": {
			{"missing parameter endpoint", "path: /calls/{callId}/end\n", "path: /calls/{id}/end\n", "serves POST /calls/{callId}/end but declares no apigw endpoint"},
			{"path param undeclared", "                - name: callId\n                  position: PATH\n                  required: true\n                  type: string\n                  desc: the CallId POST /calls answered\n",
				"", "declares PATH params [], want [callId]"},
			{"src from the top level", "src: ../../../dist/scf/startcall-amd64", "src: ./dist/scf/startcall-amd64",
				`src "./dist/scf/startcall-amd64" is deploy/scf/startcall/dist/scf/startcall-amd64 from the repo root, want ../../../dist/scf/startcall-amd64`},
			{"token not set", "      CALLFN_API_TOKEN: ${env:CALLFN_API_TOKEN}\n", "", "does not set CALLFN_API_TOKEN, which the function reads"},
			{"variable it does not read", "      TENCENTCLOUD_SECRET_KEY: ${env:TENCENTCLOUD_SECRET_KEY}\n",
				"      TENCENTCLOUD_SECRET_KEY: ${env:TENCENTCLOUD_SECRET_KEY}\n      CALLFN_TENCENT_CALLBACK_TOKEN: ${env:CALLFN_TENCENT_CALLBACK_TOKEN}\n",
				"sets CALLFN_TENCENT_CALLBACK_TOKEN, which the function does not read"},
			{"example enabled", "          enable: false\n", "          enable: true\n", `timer "example-call" deploys enabled: true, want DISABLED`},
			{"example enabled by a string", "          enable: false\n", "          enable: 'false'\n", `enable false is not a boolean`},
			{"five-field cron", "'0 0 9 * * 1-5 *'", "'0 9 * * 1-5'", "has 5 fields; SCF's have 7"},
			{"timer without a name", "        name: example-call # the tick's name: firings are claimed by name and time\n", "",
				`timer "": give it a name`},
			{"argument not JSON", "          argument: '{", "          argument: 'call jack {", "argument is not JSON"},
			{"argument as a mapping", "          argument: '{", "          argument:\n            Robot_Account: robot\n          x: '{",
				"argument must be a string"},
			{"timer gone", "    - timer:\n", "    - cos:\n", `event type "cos"`},
		},
		"RecordsFunction": {
			{"archive disabled", "          enable: true\n", "          enable: false\n", `timer "archive" deploys enabled: false, want ENABLED`},
			{"archive enable left out", "          enable: true\n", "", `timer "archive" deploys enabled: false, want ENABLED`},
			{"no timer", "    - timer:\n        name: archive\n        parameters:\n          cronExpression: '0 0 * * * * *'\n          enable: true\n", "",
				"declares a timer: false; the code handles a schedule: true"},
			{"two timers of one name", "    - timer:\n        name: archive\n",
				"    - timer:\n        name: archive\n        parameters:\n          cronExpression: '0 30 * * * * *'\n          enable: true\n    - timer:\n        name: archive\n",
				`two timers are named "archive"`},
			{"version not set", "      CALLFN_TENCENT_API_VERSION: ${env:CALLFN_TENCENT_API_VERSION}\n", "",
				"does not set CALLFN_TENCENT_API_VERSION, which the function reads"},
			{"not integrated", "                isIntegratedResponse: true # the function answers with status, headers and body\n",
				"                isIntegratedResponse: false\n", "endpoint GET /records/{callId} needs function.isIntegratedResponse: true"},
			{"argument too long", "          enable: true\n", "          enable: true\n          argument: '\"" + strings.Repeat("x", 4096) + "\"'\n", "SCF takes 4 KB"},
			{"replay not declared", "            - path: /replay\n", "            - path: /replays\n", "serves POST /replay but declares no apigw endpoint"},
		},
	}
	cases["ForwardFunction"] = forwardSCFCases
	for _, d := range deployables(t) {
		if len(cases[d.SAMID]) == 0 {
			t.Errorf("no cases for %s", d.SCFFile)
		}
		t.Run(d.Fn.Name, func(t *testing.T) {
			check := func(text string) []string { return checkSCF(text, makefile, d) }
			catchesMistakes(t, d.SCFFile, readFile(t, filepath.Join(r, d.SCFFile)), check, cases[d.SAMID])
		})
	}
}

func TestSCFLayoutChecksCatchMistakes(t *testing.T) {
	files := map[string]string{
		"serverless.yml":                            "app: callfn\ncomponent: scf\nname: webhook\n",
		"deploy/scf/startcall/serverless.yml":       "app: callfn\ncomponent: scf\nname: startcall\n",
		"deploy/scf/records/serverless.yml":         "app: callfn\ncomponent: scf\nname: records\n",
		"deploy/scf/serverless.yml":                 "app: callfn\ncomponent: scf\nname: other\n",
		"startcall/serverless.yml":                  "app: callfn\ncomponent: scf\nname: startcall\n",
		"deploy/scf/records/serverless.records.yml": "app: callfn\ncomponent: scf\nname: records\n",
		"deploy/scf/x/serverless.yml":               "app: other\ncomponent: scf\nname: x\n",
		"deploy/scf/y/serverless.yml":               "app: callfn\ncomponent: scf\nname: records\n",
		"elsewhere/records/serverless.yml":          "app: callfn\ncomponent: scf\nname: records2\n",
	}
	read := func(p string) ([]byte, error) {
		s, ok := files[p]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte(s), nil
	}
	good := []string{"serverless.yml", "deploy/scf/startcall/serverless.yml", "deploy/scf/records/serverless.yml"}
	if p := checkSCFLayout(good, read); len(p) != 0 {
		t.Fatalf("the layout itself has problems: %q", p)
	}
	cases := []struct {
		name  string
		paths []string
		want  string
	}{
		{"no top-level file", good[1:], "no top-level serverless.yml"},
		{"a name the CLI does not read", []string{"serverless.yml", "deploy/scf/records/serverless.records.yml"}, "the CLI reads only serverless.yml"},
		{"two in one directory", []string{"serverless.yml", "deploy/scf/records/serverless.yml", "deploy/scf/records/serverless.records.yml"}, "another instance is in the same directory"},
		{"under the top level", []string{"serverless.yml", "startcall/serverless.yml"}, "one directory below the top level"},
		{"a parent with its own file", append(slices.Clone(good), "deploy/scf/serverless.yml"), "deploy/scf holds a serverless.yml"},
		{"another app", append(slices.Clone(good), "deploy/scf/x/serverless.yml"), "one app, one stage"},
		{"one instance name twice", append(slices.Clone(good), "deploy/scf/y/serverless.yml"), `both instance "records"`},
		{"two parents", append(slices.Clone(good), "elsewhere/records/serverless.yml"), "keep them in one directory"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { wantProblem(t, checkSCFLayout(c.paths, read), c.want) })
	}
}

func TestScheduleChecksCatchMistakes(t *testing.T) {
	r := testkit.Root(t)
	tmpl := readFile(t, filepath.Join(r, "template.yaml"))
	ds := deployables(t)
	start, recs := ds[1], ds[2]
	startSCF := readFile(t, filepath.Join(r, start.SCFFile))
	recsSCF := readFile(t, filepath.Join(r, recs.SCFFile))
	startFirings, recsFirings := loadFirings(t, r, start), loadFirings(t, r, recs)
	for _, c := range []struct {
		d     deployable
		scf   string
		fires map[string][]firing
	}{{start, startSCF, startFirings}, {recs, recsSCF, recsFirings}} {
		if p := checkSchedules(c.d, tmpl, c.scf, c.fires); len(p) != 0 {
			t.Fatalf("the schedules themselves have problems: %q", p)
		}
	}
	without := func(fs map[string][]firing, platformName string) map[string][]firing {
		out := maps.Clone(fs)
		delete(out, platformName)
		return out
	}
	edited := func(fs map[string][]firing, platformName string, f func(*firing)) map[string][]firing {
		out := maps.Clone(fs)
		out[platformName] = slices.Clone(fs[platformName])
		f(&out[platformName][0])
		return out
	}
	t.Run("SCF argument differs", func(t *testing.T) {
		scf := mutate(t, startSCF, `"CalleeList_Account":["jack"]`, `"CalleeList_Account":["rose"]`)
		p := checkSchedules(start, tmpl, scf, startFirings)
		wantProblem(t, p, `schedule "example-call": template.yaml's payload`)
		wantProblem(t, p, `schedule-example-call.json's payload`)
	})
	t.Run("template payload differs", func(t *testing.T) {
		tm := mutate(t, tmpl, `"CalleeList_Account": ["jack"]`, `"CalleeList_Account": ["jack", "rose"]`)
		wantProblem(t, checkSchedules(start, tm, startSCF, startFirings), "and deploy/scf/startcall/serverless.yml's timer argument")
	})
	t.Run("timer renamed", func(t *testing.T) {
		scf := mutate(t, startSCF, "        name: example-call #", "        name: example #")
		p := checkSchedules(start, tmpl, scf, startFirings)
		wantProblem(t, p, `template.yaml schedules "example-call"; deploy/scf/startcall/serverless.yml has no timer of that name`)
		wantProblem(t, p, `has timer "example"; template.yaml schedules nothing of that name`)
		wantProblem(t, p, `fires schedule "example-call", which is not deployed on scf`)
	})
	t.Run("schedule renamed", func(t *testing.T) {
		tm := mutate(t, tmpl, `'{"schedule": "archive",`, `'{"schedule": "archives",`)
		wantProblem(t, checkSchedules(recs, tm, recsSCF, recsFirings), `template.yaml schedules "archives"`)
	})
	t.Run("no Lambda sample", func(t *testing.T) {
		wantProblem(t, checkSchedules(recs, tmpl, recsSCF, without(recsFirings, deploy.PlatformLambda)),
			`schedule "archive" has no sample events/lambda/records/schedule-archive.json`)
	})
	t.Run("no SCF sample", func(t *testing.T) {
		wantProblem(t, checkSchedules(start, tmpl, startSCF, without(startFirings, deploy.PlatformSCF)),
			`schedule "example-call" has no sample events/scf/startcall/schedule-example-call.json`)
	})
	t.Run("sample payload differs", func(t *testing.T) {
		fs := edited(startFirings, deploy.PlatformLambda, func(f *firing) { f.payload = []byte(`{"Robot_Account":"robot"}`) })
		wantProblem(t, checkSchedules(start, tmpl, startSCF, fs), `is not the deployed schedule "example-call"'s`)
	})
	t.Run("sample payload where none is deployed", func(t *testing.T) {
		fs := edited(recsFirings, deploy.PlatformSCF, func(f *firing) { f.payload = []byte(`{"since":"7d"}`) })
		wantProblem(t, checkSchedules(recs, tmpl, recsSCF, fs), `is not the deployed schedule "archive"'s`)
	})
	t.Run("sample of a schedule not deployed", func(t *testing.T) {
		fs := edited(recsFirings, deploy.PlatformLambda, func(f *firing) { f.name = "nightly" })
		wantProblem(t, checkSchedules(recs, tmpl, recsSCF, fs), `fires schedule "nightly", which is not deployed on lambda`)
	})
}

func TestSampleChecksCatchMistakes(t *testing.T) {
	r := testkit.Root(t)
	dir := t.TempDir()
	write := func(name, text string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	orig := readFile(t, filepath.Join(r, "events", "lambda", "webhook", "tencent-v4-start-call.json"))
	path := write("typo.json", mutate(t, orig, `"isBase64Encoded": false`, `"isBase64Encoded": false, "isbase64": true`))
	if _, err := deploy.LoadLambdaSample(path); err == nil {
		t.Error("a Lambda sample with an unknown field loaded")
	}
	orig = readFile(t, filepath.Join(r, "events", "scf", "webhook", "tencent-v4-start-call.json"))
	path = write("typo.json", mutate(t, orig, `"httpMethod": "POST",`+"\n  \"isBase64", `"httpMethod": "POST", "routeKey": "x",`+"\n  \"isBase64"))
	if _, err := deploy.LoadSCFSample(path); err == nil {
		t.Error("an SCF sample with a field the trigger does not send loaded")
	}
	ds := deployables(t)
	mux := muxOf(ds[0].Fn)
	if _, pattern := mux.Handler(httptest.NewRequest("POST", "/webhook/tencents", nil)); pattern != "" {
		t.Errorf("a path the function does not serve matched %q", pattern)
	}

	// Schedule samples load strictly.
	sched := readFile(t, filepath.Join(r, "events", "lambda", "records", "schedule-archive.json"))
	timer := readFile(t, filepath.Join(r, "events", "scf", "records", "schedule-archive.json"))
	for _, c := range []struct{ name, text string }{
		{"envelope field misspelt", mutate(t, sched, `"schedule"`, `"scheduled"`)},
		{"envelope without a time", mutate(t, sched, `"time": "2025-03-03T01:00:00Z"`, `"payload": {}`)},
		{"time left as Scheduler's keyword", mutate(t, sched, `"2025-03-03T01:00:00Z"`, `"<aws.scheduler.scheduled-time>"`)},
	} {
		if _, err := deploy.LoadSchedulerSample(write("s.json", c.text)); err == nil {
			t.Errorf("Scheduler sample, %s: loaded", c.name)
		}
	}
	for _, c := range []struct{ name, text string }{
		{"Type in lower case", mutate(t, timer, `"Type": "Timer"`, `"Type": "timer"`)},
		{"an unknown field", mutate(t, timer, `"Type": "Timer"`, `"Type": "Timer", "Argument": ""`)},
		{"no trigger name", mutate(t, timer, `"TriggerName": "archive"`, `"TriggerName": ""`)},
		{"time not RFC 3339", mutate(t, timer, `"2025-03-03T01:00:00Z"`, `"2025-03-03 01:00:00"`)},
	} {
		if _, err := deploy.LoadTimerSample(write("s.json", c.text)); err == nil {
			t.Errorf("timer sample, %s: loaded", c.name)
		}
	}

	// API gateway samples: the route as the gateway names it, the path
	// parameters, the token.
	startMux := muxOf(ds[1].Fn)
	end := func(platformName string) sample {
		if platformName == deploy.PlatformLambda {
			return lambdaSample(t, filepath.Join(r, "events", "lambda", "startcall", "end-call.json"))
		}
		return scfSample(t, filepath.Join(r, "events", "scf", "startcall", "end-call.json"))
	}
	now := time.Now()
	for _, platformName := range []string{deploy.PlatformLambda, deploy.PlatformSCF} {
		if p := checkSample(t, startMux, end(platformName), now); len(p) != 0 {
			t.Fatalf("%s end-call itself has problems: %q", platformName, p)
		}
		s := end(platformName)
		s.routeKey, s.routePath = "POST "+s.path, s.path
		want := `routeKey "POST /calls/` + sampleCallID + `/end", but POST /calls/` + sampleCallID + `/end takes the route "POST /calls/{callId}/end"`
		if platformName == deploy.PlatformSCF {
			want = `requestContext.path "/calls/` + sampleCallID + `/end", but /calls/` + sampleCallID + `/end takes the API "/calls/{callId}/end"`
		}
		wantProblem(t, checkSample(t, startMux, s, now), want)

		s = end(platformName)
		s.pathParams = map[string]string{"id": sampleCallID}
		wantProblem(t, checkSample(t, startMux, s, now), "pathParameters map[id:"+sampleCallID+"], want map[callId:"+sampleCallID+"]")

		s = end(platformName)
		s.headers = cloneHeaders(s.headers)
		s.headers["authorization"] = "Bearer dev-token"
		wantProblem(t, checkSample(t, startMux, s, now), `Authorization "Bearer dev-token", want "Bearer callfn-sample-token"`)

		s = end(platformName)
		s.path = "/calls/" + sampleCallID + "/stop"
		wantProblem(t, checkSample(t, startMux, s, now), "is no route the function serves")

		s = end(platformName)
		s.body = []byte("{nope")
		wantProblem(t, checkSample(t, startMux, s, now), "body is not JSON")
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

// globalIndex is the table's (props') global secondary index name, or nil.
func globalIndex(props map[string]any, name string) map[string]any {
	var index map[string]any
	for _, g := range asList(props["GlobalSecondaryIndexes"]) {
		if asMap(g)["IndexName"] == name {
			index = asMap(g)
		}
	}
	return index
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

func cloneHeaders(m map[string]string) map[string]string {
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
