package deploy_test

// Forwarding's part of the descriptors: the forward function's
// least-privilege policy, the table's stream into it (its mapping and
// filter), the due index and the stream view.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/forwarder"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
)

// sampleForwardSecret signs the samples' deliveries (none is made: their
// tables owe nothing).
var sampleForwardSecret = "whsec_" + base64.StdEncoding.EncodeToString([]byte("callfn-sample-forward-secret-0123"))

// checkDrained: a drain of an empty table attempts nothing.
func checkDrained(t *testing.T, run *sampleRun, delivery int, answer []byte) {
	t.Helper()
	var st forwarder.Stats
	if err := json.Unmarshal(answer, &st); err != nil || st != (forwarder.Stats{}) {
		t.Errorf("delivery %d: %s (%v), want a drain that attempts nothing", delivery, answer, err)
	}
}

// grant is one Allow statement of a function's policies.
type grant struct {
	actions   []string
	resources []any
}

// grants reads a function's policy statements; other policies (SAM policy
// templates) are reported.
func grants(fn *deploy.Function) ([]grant, []string) {
	var out []grant
	var others []string
	list := func(v any) []any {
		if l, ok := v.([]any); ok {
			return l
		}
		return []any{v}
	}
	for _, pol := range fn.Policies() {
		stmts, ok := asMap(pol)["Statement"]
		if !ok {
			others = append(others, fmt.Sprint(slices.Sorted(func(yield func(string) bool) {
				for k := range asMap(pol) {
					if !yield(k) {
						return
					}
				}
			})))
			continue
		}
		for _, st := range list(stmts) {
			m := asMap(st)
			if m["Effect"] != "Allow" {
				continue
			}
			var g grant
			for _, a := range list(m["Action"]) {
				s, _ := a.(string)
				g.actions = append(g.actions, s)
			}
			g.resources = list(m["Resource"])
			out = append(out, g)
		}
	}
	return out, others
}

// resourceIs names what a policy resource is: "table", "index/NAME",
// "stream", "streams", "queue:ID", or "other".
func resourceIs(tmpl *deploy.Template, r any, table string) string {
	if res, attr, ok := deploy.GetAtt(r); ok {
		switch {
		case res == table && attr == "Arn":
			return "table"
		case res == table && attr == "StreamArn":
			return "stream"
		case tmpl.Resources[res].Type == "AWS::SQS::Queue" && attr == "Arn":
			return "queue:" + res
		}
	}
	if s, ok := deploy.Sub(r); ok {
		switch {
		case strings.HasPrefix(s, "${"+table+".Arn}/index/"):
			return "index/" + strings.TrimPrefix(s, "${"+table+".Arn}/index/")
		case s == "${"+table+".Arn}/stream/*":
			return "streams"
		}
	}
	return "other"
}

// checkLeastPrivilege holds a function with TableActions to a policy of
// its own: exactly those DynamoDB actions on the table and its indexes,
// the stream's read actions on its stream when it takes one, sqs:SendMessage
// on its failure queue, nothing on "*", and no policy template.
func checkLeastPrivilege(tmpl *deploy.Template, fn *deploy.Function, d deployable, table string) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, d.SAMID+": "+fmt.Sprintf(format, args...)) }
	gs, others := grants(fn)
	for _, o := range others {
		bad("policy %s is not a statement of its own: least privilege names each action and resource", o)
	}
	var onTable []string
	queue := ""
	for _, m := range tmpl.StreamMappings(d.SAMID) {
		if res, _, ok := deploy.GetAtt(asMap(asMap(m.Properties["DestinationConfig"])["OnFailure"])["Destination"]); ok {
			queue = "queue:" + res
		}
	}
	streamRead := []string{"dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"}
	for _, g := range gs {
		for _, r := range g.resources {
			what := resourceIs(tmpl, r, table)
			for _, a := range g.actions {
				switch {
				case a == "*" || strings.HasSuffix(a, ":*"):
					bad("grants %s: name each action", a)
				case what == "table" || strings.HasPrefix(what, "index/"):
					if what == "index/"+store.DynamoIndexDue || what == "table" {
						if !slices.Contains(onTable, a) {
							onTable = append(onTable, a)
						}
					} else {
						bad("grants %s on %s, an index the function does not read", a, what)
					}
				case what == "stream" && slices.Contains(streamRead, a):
				case what == "streams" && a == "dynamodb:ListStreams":
				case what == queue && a == "sqs:SendMessage":
				default:
					bad("grants %s on %v (%s), which it has no use for", a, r, what)
				}
			}
		}
	}
	slices.Sort(onTable)
	if want := slices.Sorted(slices.Values(d.TableActions)); !slices.Equal(onTable, want) {
		bad("grants %v on the table, want exactly %v", onTable, want)
	}
	return p
}

// checkStreamTrigger: a function that takes the table's changes has one
// event source mapping from the table's stream, which splits a failing
// batch, bounds its retries and the age of what it retries, sends what it
// gives up on to an SQS queue, and lets through only delivery rows just
// owed or replayed; a function that takes none has no mapping.
func checkStreamTrigger(tmpl *deploy.Template, fn *deploy.Function, d deployable, table string) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, d.SAMID+": "+fmt.Sprintf(format, args...)) }
	ms := tmpl.StreamMappings(d.SAMID)
	if d.Fn.Changes == nil {
		for _, m := range ms {
			bad("stream mapping %s, but the code takes no table changes", m.ID)
		}
		return p
	}
	if len(ms) != 1 {
		bad("%d stream mappings, want one from the table's stream (the code takes its changes)", len(ms))
		return p
	}
	m := ms[0]
	props := m.Properties
	if res, attr, ok := deploy.GetAtt(props["EventSourceArn"]); !ok || res != table || attr != "StreamArn" {
		bad("%s: EventSourceArn %v, want !GetAtt %s.StreamArn", m.ID, props["EventSourceArn"], table)
	}
	if props["BisectBatchOnFunctionError"] != true {
		bad("%s: BisectBatchOnFunctionError is not true: a failing batch must be split", m.ID)
	}
	if n, ok := props["MaximumRecordAgeInSeconds"].(int); !ok || n < 60 || n > 3600 {
		bad("%s: MaximumRecordAgeInSeconds %v, want a bound of 60..3600 (the schedule delivers what is older)", m.ID, props["MaximumRecordAgeInSeconds"])
	}
	if n, ok := props["MaximumRetryAttempts"].(int); !ok || n < 0 || n > 10 {
		bad("%s: MaximumRetryAttempts %v, want a bound of 0..10", m.ID, props["MaximumRetryAttempts"])
	}
	if s, _ := props["StartingPosition"].(string); s != "LATEST" && s != "TRIM_HORIZON" {
		bad("%s: StartingPosition %v, want LATEST or TRIM_HORIZON", m.ID, props["StartingPosition"])
	}
	dest := asMap(asMap(props["DestinationConfig"])["OnFailure"])["Destination"]
	if res, attr, ok := deploy.GetAtt(dest); !ok || attr != "Arn" || tmpl.Resources[res].Type != "AWS::SQS::Queue" {
		bad("%s: DestinationConfig.OnFailure.Destination %v, want !GetAtt of the template's AWS::SQS::Queue", m.ID, dest)
	}
	if t, _ := fn.Properties["Timeout"].(int); time.Duration(t)*time.Second <= forward.DefaultTimeout+forwarder.DefaultMargin {
		bad("Timeout %v s leaves no room for an attempt (%s) before the drain's margin (%s)", fn.Properties["Timeout"], forward.DefaultTimeout, forwarder.DefaultMargin)
	}
	pats, err := m.FilterPatterns()
	if err != nil {
		bad("%v", err)
	}
	if len(pats) == 0 {
		bad("%s: no FilterCriteria: every write to the table would fire the function", m.ID)
	}
	for _, c := range streamRecords() {
		got := false
		for _, pat := range pats {
			ok, err := deploy.MatchFilter(pat, []byte(c.record))
			if err != nil {
				bad("%s: filter %s: %v", m.ID, pat, err)
			}
			got = got || ok
		}
		if got != c.fires {
			bad("%s: the filter lets %s through: %v, want %v", m.ID, c.name, got, c.fires)
		}
	}
	return p
}

// streamRecord is a stream record as Lambda's filter sees it, and whether
// it should fire the forward function.
type streamRecord struct {
	name, record string
	fires        bool
}

// streamRecords are records of the writes the table makes, in the item
// layout of store/dynamo (its own tests, and the forwarder's stream test
// against DynamoDB Local, hold the real records to the same filter).
func streamRecords() []streamRecord {
	row := func(op, state string, fresh bool) string {
		img := fmt.Sprintf(`"pk":{"S":"CALL#c1"},"sk":{"S":"%sd1#https://a.example/hook"},"state":{"S":%q},"attempts":{"N":"0"}`, store.DynamoOutboxSK, state)
		if fresh {
			img += fmt.Sprintf(`,%q:{"S":"1"}`, store.DynamoFresh)
		}
		return fmt.Sprintf(`{"eventName":%q,"eventSource":"aws:dynamodb","dynamodb":{"Keys":{"pk":{"S":"CALL#c1"}},"NewImage":{%s},"StreamViewType":"NEW_IMAGE"}}`, op, img)
	}
	return []streamRecord{
		{"a row owed with its event (INSERT, fresh)", row("INSERT", "pending", true), true},
		{"a row replayed (MODIFY, fresh)", row("MODIFY", "pending", true), true},
		{"a row leased (MODIFY, not fresh)", row("MODIFY", "pending", false), false},
		{"a row delivered", row("MODIFY", "delivered", false), false},
		{"a row expired (REMOVE)", `{"eventName":"REMOVE","eventSource":"aws:dynamodb","dynamodb":{"Keys":{"pk":{"S":"CALL#c1"}}}}`, false},
		{"an event", `{"eventName":"INSERT","eventSource":"aws:dynamodb","dynamodb":{"NewImage":{"pk":{"S":"CALL#c1"},"sk":{"S":"EVENT#d1"}}}}`, false},
		{"a summary", `{"eventName":"MODIFY","eventSource":"aws:dynamodb","dynamodb":{"NewImage":{"pk":{"S":"CALL#c1"},"sk":{"S":"SUMMARY"}}}}`, false},
	}
}

// checkOutboxLayout: the table's due index and stream, as store/dynamo
// lays them out.
func checkOutboxLayout(id string, props map[string]any) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, id+": "+fmt.Sprintf(format, args...)) }
	index := globalIndex(props, store.DynamoIndexDue)
	if index == nil {
		bad("no global secondary index %s (forwarding's due deliveries)", store.DynamoIndexDue)
	} else {
		if got, want := keySchema(index["KeySchema"]), []string{store.DynamoDuePK + " HASH", store.DynamoDueSK + " RANGE"}; !slices.Equal(got, want) {
			bad("index %s KeySchema %v, want %v", store.DynamoIndexDue, got, want)
		}
		proj := asMap(index["Projection"])
		var attrs []string
		for _, a := range asList(proj["NonKeyAttributes"]) {
			s, _ := a.(string)
			attrs = append(attrs, s)
		}
		if proj["ProjectionType"] != "ALL" && !(proj["ProjectionType"] == "INCLUDE" && containsAll(attrs, store.DynamoDueProjected)) {
			bad("index %s projects %v %v, want at least %v", store.DynamoIndexDue, proj["ProjectionType"], attrs, store.DynamoDueProjected)
		}
	}
	if v := asMap(props["StreamSpecification"])["StreamViewType"]; v != store.DynamoStreamView && v != "NEW_AND_OLD_IMAGES" {
		bad("StreamSpecification.StreamViewType %v, want %s (the forward function's filter reads new images)", v, store.DynamoStreamView)
	}
	return p
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

func TestForwardChecksCatchMistakes(t *testing.T) {
	r := testkit.Root(t)
	text := readFile(t, filepath.Join(r, "template.yaml"))
	makefile := readFile(t, filepath.Join(r, "Makefile"))
	cases := []mistake{
		{"no bisect", "BisectBatchOnFunctionError: true", "BisectBatchOnFunctionError: false", "BisectBatchOnFunctionError is not true"},
		{"unbounded age", "MaximumRecordAgeInSeconds: 600", "MaximumRecordAgeInSeconds: -1", "MaximumRecordAgeInSeconds -1"},
		{"unbounded retries", "MaximumRetryAttempts: 3", "MaximumRetryAttempts: -1", "MaximumRetryAttempts -1"},
		{"no failure destination", "          Destination: !GetAtt ForwardFailures.Arn\n", "          Destination: arn:aws:sqs:us-east-1:123456789012:q\n",
			"DestinationConfig.OnFailure.Destination"},
		{"another source", "      EventSourceArn: !GetAtt CallsTable.StreamArn\n", "      EventSourceArn: !GetAtt ForwardFailures.Arn\n", "want !GetAtt CallsTable.StreamArn"},
		{"no filter", `          - Pattern: '{"eventName": ["INSERT", "MODIFY"], "dynamodb": {"NewImage": {"sk": {"S": [{"prefix": "OUT#"}]}, "fresh": {"S": ["1"]}}}}'` + "\n",
			`          - Pattern: '{"eventName": ["INSERT", "MODIFY"]}'` + "\n", "the filter lets a row leased (MODIFY, not fresh) through: true"},
		{"filter on inserts only", `{"eventName": ["INSERT", "MODIFY"], "dynamodb"`, `{"eventName": ["INSERT"], "dynamodb"`,
			"the filter lets a row replayed (MODIFY, fresh) through: false"},
		{"no mapping", "    Type: AWS::Lambda::EventSourceMapping\n", "    Type: AWS::Lambda::Permission\n", "0 stream mappings"},
		{"crud instead", "        - Statement:\n            - Sid: Outbox\n", "        - DynamoDBCrudPolicy:\n            TableName: !Ref CallsTable\n        - Statement:\n            - Sid: Outbox\n",
			"is not a statement of its own"},
		{"an action more", "Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Query]",
			"Action: [dynamodb:GetItem, dynamodb:PutItem, dynamodb:UpdateItem, dynamodb:Query, dynamodb:Scan]", "grants [dynamodb:GetItem dynamodb:PutItem dynamodb:Query dynamodb:Scan dynamodb:UpdateItem] on the table"},
		{"everything", "              Action: sqs:SendMessage\n              Resource: !GetAtt ForwardFailures.Arn\n",
			"              Action: sqs:SendMessage\n              Resource: \"*\"\n", "grants sqs:SendMessage on *"},
		{"short timeout", "      Timeout: 300\n      Policies:\n        # Least privilege", "      Timeout: 20\n      Policies:\n        # Least privilege", "Timeout 20 s"},
		{"no due index", "        - IndexName: due\n", "        - IndexName: overdue\n", "no global secondary index due"},
		{"keys only", "            ProjectionType: INCLUDE\n            NonKeyAttributes: [expiresAt]\n", "            ProjectionType: KEYS_ONLY\n", "index due projects KEYS_ONLY"},
		{"old images", "        StreamViewType: NEW_IMAGE\n", "        StreamViewType: KEYS_ONLY\n", "StreamViewType KEYS_ONLY"},
		{"forward URL echoed", "NoEcho: true # a URL may carry a token", "NoEcho: false # a URL may carry a token",
			"secret CALLFN_FORWARD_URL must come from a NoEcho parameter"},
	}
	catchesMistakes(t, "the template", text, func(text string) []string { return checkTemplate(text, makefile, deployables(t)) }, cases)
	t.Run("a mapping into a function that takes no changes", func(t *testing.T) {
		ds := deployables(t)
		ds[3].Fn.Changes = nil
		wantProblem(t, checkTemplate(text, makefile, ds), "ForwardFunction: stream mapping ForwardStream, but the code takes no table changes")
	})
}

// The filter matcher itself: the operators the template uses, and those
// it refuses to guess.
func TestMatchFilter(t *testing.T) {
	ev := `{"eventName":"INSERT","dynamodb":{"NewImage":{"sk":{"S":"OUT#d1"},"n":{"N":"3"},"tags":{"SS":["a","b"]}}}}`
	for pat, want := range map[string]bool{
		`{"eventName":["INSERT"]}`:                                     true,
		`{"eventName":["MODIFY","REMOVE"]}`:                            false,
		`{"dynamodb":{"NewImage":{"sk":{"S":[{"prefix":"OUT#"}]}}}}`:   true,
		`{"dynamodb":{"NewImage":{"sk":{"S":[{"prefix":"EVENT#"}]}}}}`: false,
		`{"dynamodb":{"NewImage":{"sk":{"S":[{"suffix":"d1"}]}}}}`:     true,
		`{"dynamodb":{"NewImage":{"fresh":[{"exists":false}]}}}`:       true,
		`{"dynamodb":{"NewImage":{"fresh":[{"exists":true}]}}}`:        false,
		`{"dynamodb":{"NewImage":{"fresh":{"S":["1"]}}}}`:              false,
		`{"dynamodb":{"NewImage":{"n":{"N":["3"]}}}}`:                  true,
		`{"dynamodb":{"NewImage":{"tags":{"SS":["b"]}}}}`:              true,
		`{"eventName":[{"anything-but":["REMOVE"]}]}`:                  true,
		`{"eventName":[{"equals-ignore-case":"insert"}]}`:              true,
		`{"dynamodb":{"OldImage":{"sk":{"S":["x"]}}}}`:                 false,
	} {
		got, err := deploy.MatchFilter(pat, []byte(ev))
		if err != nil || got != want {
			t.Errorf("%s: %v %v, want %v", pat, got, err, want)
		}
	}
	if _, err := deploy.MatchFilter(`{"n":[{"numeric":[">",1]}]}`, []byte(ev)); err == nil {
		t.Error("an operator it does not know, on a field the event lacks: no error")
	}
	if _, err := deploy.MatchFilter(`{"eventName":[{"wildcard":"IN*"}]}`, []byte(ev)); err == nil {
		t.Error("an operator it does not know: no error")
	}
}

// forwardSCFCases are TestSCFChecksCatchMistakes' cases for the forward
// function's SCF file.
var forwardSCFCases = []mistake{
	{"timer disabled", "          enable: true\n", "          enable: false\n", `timer "drain" deploys enabled: false, want ENABLED`},
	{"no timer", "    - timer:\n", "    - cos:\n", `event type "cos"`},
	{"secret not set", "      CALLFN_FORWARD_SECRET: ${env:CALLFN_FORWARD_SECRET}\n", "", "does not set CALLFN_FORWARD_SECRET"},
	{"a route it does not serve", "  events:\n",
		"  events:\n    - apigw:\n        name: x\n        parameters:\n          endpoints:\n            - path: /drain\n              method: POST\n              function:\n                isIntegratedResponse: true\n",
		"declares POST /drain, which the code does not serve"},
	{"another binary", "dist/scf/forward-amd64", "dist/scf/records-amd64", "want ../../../dist/scf/forward-amd64"},
}
