package deploy_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
)

// requireLinters turns a missing cfn-lint or aws-sam-translator from a skip
// into a failure (CALLFN_REQUIRE_LINTERS=1), for machines that must have
// them. They are Python packages (pip install cfn-lint==1.51.0
// aws-sam-translator==1.110.0); .ci/run installs them when pip can.
func requireLinters(t *testing.T, what string) {
	t.Helper()
	if os.Getenv("CALLFN_REQUIRE_LINTERS") == "1" {
		t.Fatalf("%s is missing and CALLFN_REQUIRE_LINTERS=1", what)
	}
	t.Skipf("%s is missing (pip install cfn-lint==1.51.0 aws-sam-translator==1.110.0); set CALLFN_REQUIRE_LINTERS=1 to fail instead", what)
}

// samTranslate is AWS's own SAM translator (python aws-sam-translator, the
// code CloudFormation's AWS::Serverless transform runs), given a template
// as `sam package` leaves it: local CodeUris replaced by S3 locations. The
// managed-policy loader answers with no policies, so nothing asks AWS.
const samTranslate = `
import json, sys
from samtranslator.translator.transform import transform
from samtranslator.model.exceptions import InvalidDocumentException
from samtranslator.yaml_helper import yaml_parse

class NoManagedPolicies:
    def load(self):
        return {}

with open(sys.argv[1]) as f:
    tmpl = yaml_parse(f.read())
for rid, r in tmpl.get("Resources", {}).items():
    p = r.get("Properties") or {}
    if r.get("Type") == "AWS::Serverless::Function" and isinstance(p.get("CodeUri"), str):
        p["CodeUri"] = "s3://callfn-artifacts/" + rid + ".zip"
try:
    out = transform(tmpl, {}, NoManagedPolicies())
except InvalidDocumentException as e:
    for c in e.causes:
        print(c.message, file=sys.stderr)
    sys.exit(1)
json.dump(out, sys.stdout)
`

// translate runs samTranslate over the template at path.
func translate(t *testing.T, path string) (map[string]any, string, error) {
	t.Helper()
	py, err := exec.LookPath("python3")
	if err != nil {
		requireLinters(t, "python3")
	}
	if out, err := exec.Command(py, "-c", "import samtranslator").CombinedOutput(); err != nil {
		requireLinters(t, "the python module samtranslator (aws-sam-translator): "+strings.TrimSpace(string(out)))
	}
	cmd := exec.Command(py, "-c", samTranslate, path)
	cmd.Env = append(os.Environ(), "AWS_DEFAULT_REGION=ap-southeast-1") // pseudo parameters; nothing is called
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, stderr.String(), err
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		t.Fatalf("the translator's output is not JSON: %v", err)
	}
	return doc, stderr.String(), nil
}

// TestTemplateTranslatesWithSAM turns template.yaml into CloudFormation
// with aws-sam-translator and checks what the stack would hold: the HTTP
// API routes are exactly the code's, every function has the template's
// runtime and architecture, and the schedules that need Tencent are
// enabled only under the TencentConfigured condition.
func TestTemplateTranslatesWithSAM(t *testing.T) {
	t.Parallel() // a second of Python
	r := testkit.Root(t)
	doc, stderr, err := translate(t, filepath.Join(r, "template.yaml"))
	if err != nil {
		t.Fatalf("aws-sam-translator refuses template.yaml: %v\n%s", err, stderr)
	}
	res := asMap(doc["Resources"])
	byType := map[string][]string{}
	for id, v := range res {
		typ, _ := asMap(v)["Type"].(string)
		byType[typ] = append(byType[typ], id)
	}
	for _, ids := range byType {
		slices.Sort(ids)
	}
	for _, typ := range []string{"AWS::Serverless::Function", "AWS::Serverless::HttpApi"} {
		if len(byType[typ]) > 0 {
			t.Errorf("%s left after the transform: %v", typ, byType[typ])
		}
	}

	// Functions.
	ds := deployables(t)
	var served []deploy.Route
	for _, d := range ds {
		fn := asMap(asMap(res[d.SAMID])["Properties"])
		if asMap(res[d.SAMID])["Type"] != "AWS::Lambda::Function" {
			t.Errorf("%s is not an AWS::Lambda::Function after the transform", d.SAMID)
			continue
		}
		if fn["Runtime"] != "provided.al2023" || fn["Handler"] != "bootstrap" {
			t.Errorf("%s: Runtime %v, Handler %v", d.SAMID, fn["Runtime"], fn["Handler"])
		}
		if a := asList(fn["Architectures"]); len(a) != 1 || goarchOf[a[0].(string)] == "" {
			t.Errorf("%s: Architectures %v", d.SAMID, a)
		}
		env := asMap(asMap(fn["Environment"])["Variables"])
		if got := sortedKeys(env); !slices.Equal(got, slices.Sorted(slices.Values(d.Env))) {
			t.Errorf("%s: environment %v, want %v", d.SAMID, got, slices.Sorted(slices.Values(d.Env)))
		}
		rs, err := deploy.RoutesOf(d.Fn)
		if err != nil {
			t.Fatal(err)
		}
		served = append(served, rs...)
	}

	// The HTTP API's routes, as its OpenAPI body has them.
	var declared []deploy.Route
	for _, id := range byType["AWS::ApiGatewayV2::Api"] {
		for path, ops := range asMap(asMap(asMap(asMap(res[id])["Properties"])["Body"])["paths"]) {
			for method := range asMap(ops) {
				if strings.HasPrefix(method, "x-amazon-apigateway-any-method") {
					method = "ANY"
				}
				declared = append(declared, deploy.NewRoute(strings.ToUpper(method), path))
			}
		}
	}
	deploy.SortRoutes(served)
	missing, extra, twice := deploy.DiffRoutes(served, declared)
	if len(missing)+len(extra)+len(twice) > 0 {
		t.Errorf("the HTTP API after the transform: missing %v, extra %v, twice %v", missing, extra, twice)
	}

	// Schedules: EventBridge Scheduler schedules with the adapter's envelope.
	conds := asMap(doc["Conditions"])
	enabledIf := map[string]any{}
	for _, id := range byType["AWS::Scheduler::Schedule"] {
		props := asMap(asMap(res[id])["Properties"])
		in, _ := asMap(props["Target"])["Input"].(string)
		env, err := deploy.DecodeSchedulerInput([]byte(in))
		if err != nil {
			t.Errorf("schedule %s: Input %q: %v", id, in, err)
			continue
		}
		enabledIf[env.Schedule] = props["State"]
	}
	if st := asMap(enabledIf["archive"]); len(asList(st["Fn::If"])) != 3 || asList(st["Fn::If"])[0] != "TencentConfigured" {
		t.Errorf("the archive schedule's State is %v, want !If [TencentConfigured, ENABLED, DISABLED]", enabledIf["archive"])
	}
	if enabledIf["example-call"] != "DISABLED" {
		t.Errorf("the example-call schedule's State is %v, want DISABLED", enabledIf["example-call"])
	}
	if _, ok := conds["TencentConfigured"]; !ok {
		t.Errorf("no TencentConfigured condition after the transform: %v", sortedKeys(conds))
	}
	if _, ok := asMap(doc["Rules"])["YunxinTogether"]; !ok {
		t.Errorf("the YunxinTogether rule is gone after the transform")
	}

	// The translator does refuse a broken template.
	broken := filepath.Join(t.TempDir(), "template.yaml")
	text := strings.Replace(readFile(t, filepath.Join(r, "template.yaml")), "          Type: HttpApi\n", "          Type: HttpApiX\n", 1)
	if err := os.WriteFile(broken, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := translate(t, broken); err == nil || !strings.Contains(stderr, "HttpApiX") {
		t.Errorf("aws-sam-translator took an event of Type HttpApiX (err %v): %s", err, stderr)
	}
}
