package deploy_test

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
)

// keys is the shape of a serverless.yml that Tencent's scf component
// reads: a mapping's keys (each with the shape of its value), a list's
// items, or an event (one key naming the trigger type). A nil *keys takes
// any value.
type keys struct {
	fields map[string]*keys
	items  *keys
	events map[string]*keys
	anyMap bool // a mapping with any keys (environment variables)
}

func fields(m map[string]*keys) *keys { return &keys{fields: m} }
func listOf(k *keys) *keys            { return &keys{items: k} }

// scfSchema is every key callfn's SCF descriptors may use, each checked
// against the code that reads it, so that a key the component ignores (as
// apigw `description` was: the service's description is serviceDesc) fails
// the test instead of being silently dropped at deploy time:
//
//   - the framework: org, app, stage, component, name, inputs; src.src with
//     exclude/include is zipped by the CLI;
//   - serverless-components/tencent-scf src/utils.js formatInputs (the
//     component, which depends on tencent-component-toolkit ^2.23):
//     region, src (src, bucket, object), runtime, handler, name,
//     description, events (apigw, timer, ...; apigw parameters serviceName,
//     serviceId; the event's name);
//   - tencent-component-toolkit 2.27.6 (npm), lib/modules/scf/utils.js
//     formatFunctionInputs: name, type, namespace, runtime, handler,
//     timeout, memorySize, initTimeout, description, environment.variables,
//     role, publicAccess, eip, l5Enable, installDependency, diskSize,
//     asyncRunEnable, traceEnable, vpcConfig, cls, layers, deadLetter, cfs,
//     tags; lib/modules/triggers/apigw.js formatInputs: parameters
//     protocols, environment, serviceId, serviceName, serviceDesc,
//     namespace, instanceId, netTypes, endpoints; lib/modules/apigw/entities/
//     api.js formatInput: an endpoint's path, method, apiName, description,
//     protocolType, authType, businessType, serviceType, serviceTimeout,
//     responseType, enableCORS, isBase64Encoded, param (request parameters:
//     name, position, type, required, desc, defaultValue), function
//     (isIntegratedResponse, functionQualifier, functionNamespace, type);
//     lib/modules/triggers/timer.js formatInputs: parameters name,
//     qualifier, cronExpression, enable, argument.
//
// Only keys callfn has a use for are listed; add one here after reading
// the code that takes it.
var scfSchema = fields(map[string]*keys{
	"org": nil, "app": nil, "stage": nil, "component": nil, "name": nil,
	"inputs": fields(map[string]*keys{
		"name": nil, "type": nil, "namespace": nil, "description": nil,
		"src":     fields(map[string]*keys{"src": nil, "exclude": nil, "include": nil, "bucket": nil, "object": nil}),
		"handler": nil, "runtime": nil, "region": nil, "memorySize": nil, "timeout": nil, "initTimeout": nil,
		"role": nil, "publicAccess": nil, "tags": nil,
		"environment": fields(map[string]*keys{"variables": {anyMap: true}}),
		"events": listOf(&keys{events: map[string]*keys{
			"apigw": fields(map[string]*keys{
				"name": nil,
				"parameters": fields(map[string]*keys{
					"serviceName": nil, "serviceId": nil, "serviceDesc": nil, "protocols": nil,
					"netTypes": nil, "environment": nil,
					"endpoints": listOf(fields(map[string]*keys{
						"path": nil, "method": nil, "apiName": nil, "description": nil,
						"serviceTimeout": nil, "enableCORS": nil, "responseType": nil, "isBase64Encoded": nil,
						"param": listOf(fields(map[string]*keys{
							"name": nil, "position": nil, "type": nil, "required": nil, "desc": nil, "defaultValue": nil,
						})),
						"function": fields(map[string]*keys{
							"isIntegratedResponse": nil, "functionQualifier": nil, "functionNamespace": nil,
						}),
					})),
				}),
			}),
			"timer": fields(map[string]*keys{
				"name": nil,
				"parameters": fields(map[string]*keys{
					"name": nil, "qualifier": nil, "cronExpression": nil, "enable": nil, "argument": nil,
				}),
			}),
		}}),
	}),
})

// unknownKeys lists the keys of n that schema k does not know, by path.
func unknownKeys(n *yaml.Node, k *keys, path string) []string {
	if k == nil {
		return nil
	}
	if n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	var out []string
	switch {
	case k.items != nil:
		if n.Kind != yaml.SequenceNode {
			return []string{fmt.Sprintf("%s (line %d): want a list", path, n.Line)}
		}
		for i, c := range n.Content {
			out = append(out, unknownKeys(c, k.items, fmt.Sprintf("%s[%d]", path, i))...)
		}
	case k.events != nil:
		if n.Kind != yaml.MappingNode || len(n.Content) != 2 {
			return []string{fmt.Sprintf("%s (line %d): an event is a mapping with one key, its type", path, n.Line)}
		}
		typ := n.Content[0].Value
		sub, ok := k.events[typ]
		if !ok {
			return []string{fmt.Sprintf("%s (line %d): trigger type %q is not one callfn's descriptors use", path, n.Line, typ)}
		}
		out = append(out, unknownKeys(n.Content[1], sub, path+"."+typ)...)
	case k.anyMap:
		if n.Kind != yaml.MappingNode {
			return []string{fmt.Sprintf("%s (line %d): want a mapping", path, n.Line)}
		}
	case k.fields != nil:
		if n.Kind != yaml.MappingNode {
			return []string{fmt.Sprintf("%s (line %d): want a mapping", path, n.Line)}
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := n.Content[i].Value
			sub, ok := k.fields[key]
			if !ok {
				out = append(out, fmt.Sprintf("%s.%s (line %d): Tencent's scf component does not read this key", path, key, n.Content[i].Line))
				continue
			}
			out = append(out, unknownKeys(n.Content[i+1], sub, path+"."+key)...)
		}
	}
	return out
}

func checkSCFKeys(text string) []string {
	var n yaml.Node
	if err := yaml.Unmarshal([]byte(text), &n); err != nil {
		return []string{err.Error()}
	}
	return unknownKeys(&n, scfSchema, "")
}

// TestSCFKeysAreRead: every key of every SCF descriptor is one Tencent's
// scf component reads.
func TestSCFKeysAreRead(t *testing.T) {
	r := testkit.Root(t)
	for _, d := range deployables(t) {
		report(t, d.SCFFile, checkSCFKeys(readFile(t, filepath.Join(r, d.SCFFile))))
	}
	text := readFile(t, filepath.Join(r, "serverless.yml"))
	for _, c := range []struct{ name, old, new, want string }{
		{"apigw description", "serviceDesc: callfn routes", "description: callfn routes", ".parameters.description (line"},
		{"typo in an endpoint", "apiName: webhook_tencent\n              serviceTimeout: 10\n", "apiName: webhook_tencent\n              serviceTimout: 10\n", "serviceTimout"},
		{"typo in the function", "  memorySize: 128\n", "  memory: 128\n", "inputs.memory (line"},
		{"unknown trigger", "  events:\n    - apigw:\n", "  events:\n    - apigateway:\n", `trigger type "apigateway"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			wantProblem(t, checkSCFKeys(mutate(t, text, c.old, c.new)), c.want)
		})
	}
}

// TestSCFSamplesTimeout: an SCF API gateway sample carries the
// endpoint-timeout header the gateway would send: its endpoint's
// serviceTimeout.
func TestSCFSamplesTimeout(t *testing.T) {
	r := testkit.Root(t)
	for _, d := range deployables(t) {
		inst, err := deploy.LoadSCF(filepath.Join(r, d.SCFFile))
		if err != nil {
			t.Fatal(err)
		}
		timeouts := map[string]int{} // "METHOD /path" -> serviceTimeout
		for _, ev := range inst.Inputs.Events {
			if ev.Type != "apigw" {
				continue
			}
			for _, e := range asList(ev.Parameters["endpoints"]) {
				m := asMap(e)
				n, _ := m["serviceTimeout"].(int)
				timeouts[fmt.Sprint(m["method"], " ", m["path"])] = n
			}
		}
		paths, err := deploy.Samples(r, "scf", d.Fn.Name)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			if deploy.IsScheduleSample(p) {
				continue
			}
			ev, err := deploy.LoadSCFSample(p)
			if err != nil {
				t.Fatal(err)
			}
			want, found := 0, false
			for route, n := range timeouts {
				method, path, _ := strings.Cut(route, " ")
				re := "^" + regexp.MustCompile(`\\\{\w+\\\}`).ReplaceAllString(regexp.QuoteMeta(path), "[^/]+") + "$"
				if method == ev.Method && regexp.MustCompile(re).MatchString(ev.Path) {
					want, found = n, true
				}
			}
			rel, _ := filepath.Rel(r, p)
			if !found {
				t.Errorf("%s: %s %s is no endpoint of %s", rel, ev.Method, ev.Path, d.SCFFile)
				continue
			}
			if got := ev.Headers["endpoint-timeout"]; got != strconv.Itoa(want) {
				t.Errorf("%s: endpoint-timeout %q, but the endpoint's serviceTimeout in %s is %d", rel, got, d.SCFFile, want)
			}
		}
	}
}
