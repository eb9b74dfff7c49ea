package deploy_test

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/testkit"
)

// dynamoOps are DynamoDB API operations, as the Go SDK's client methods
// name them.
var dynamoOps = []string{
	"BatchExecuteStatement", "BatchGetItem", "BatchWriteItem", "CreateTable", "DeleteItem", "DeleteTable",
	"DescribeTable", "DescribeTimeToLive", "ExecuteStatement", "ExecuteTransaction", "GetItem", "ListTables",
	"PutItem", "Query", "Scan", "TransactGetItems", "TransactWriteItems", "UpdateItem", "UpdateTable", "UpdateTimeToLive",
}

// notForFunctions are calls the table code makes for callfn's own tools,
// never from a function: creating the table, or giving an older one the
// indexes and stream it lacks and its calls' place in the history's
// indexes (callfn create-table), and listing every event or delivery
// (callfn events, callfn deliveries).
var notForFunctions = []string{"CreateTable", "DescribeTable", "DescribeTimeToLive", "UpdateTimeToLive", "UpdateTable", "Scan"}

// TestREADMEPolicyIsTheStores: the IAM policy the README gives an SCF
// deployment's DynamoDB key allows exactly the DynamoDB calls the table
// code (shared/store, every file below it) makes on a function's behalf.
// A transaction's items need their own actions (Put: PutItem, Update:
// UpdateItem, Delete: DeleteItem, ConditionCheck: ConditionCheckItem).
func TestREADMEPolicyIsTheStores(t *testing.T) {
	r := testkit.Root(t)
	used := map[string]bool{}
	call := regexp.MustCompile(`\.(` + strings.Join(dynamoOps, "|") + `)\(`)
	// The SDK's paginators make their operation's calls.
	paginator := regexp.MustCompile(`\bNew(` + strings.Join(dynamoOps, "|") + `)Paginator\(`)
	txItem := regexp.MustCompile(`\b(Put|Update|Delete|ConditionCheck):\s*&?(types\.)?`)
	err := filepath.WalkDir(filepath.Join(r, "shared", "store"), func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, m := range call.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
		for _, m := range paginator.FindAllStringSubmatch(string(src), -1) {
			used[m[1]] = true
		}
		if strings.Contains(string(src), "TransactWriteItem{") {
			for _, m := range txItem.FindAllStringSubmatch(string(src), -1) {
				used[map[string]string{"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem", "ConditionCheck": "ConditionCheckItem"}[m[1]]] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	delete(used, "TransactWriteItems") // no IAM action of its own: its items' actions
	for _, op := range notForFunctions {
		delete(used, op)
	}
	var want []string
	for op := range used {
		want = append(want, "dynamodb:"+op)
	}
	slices.Sort(want)
	if len(want) < 3 {
		t.Fatalf("found only %v in shared/store: is the table code elsewhere now?", want)
	}

	readme := readFile(t, filepath.Join(r, "README.md"))
	i := strings.Index(readme, `"Sid": "CallfnTable"`)
	start := strings.LastIndex(readme[:max(i, 0)], "```json\n")
	end := strings.Index(readme[max(i, 0):], "```")
	if i < 0 || start < 0 || end < 0 {
		t.Fatal("README: no ```json block with the CallfnTable policy")
	}
	var policy struct {
		Statement []struct {
			Sid      string
			Effect   string
			Action   []string
			Resource []string
		}
	}
	if err := json.Unmarshal([]byte(readme[start+len("```json\n"):i+end]), &policy); err != nil {
		t.Fatalf("README's policy is not JSON: %v", err)
	}
	if len(policy.Statement) != 1 || policy.Statement[0].Effect != "Allow" {
		t.Fatalf("README's policy: %+v, want one Allow statement", policy)
	}
	st := policy.Statement[0]
	got := slices.Sorted(slices.Values(st.Action))
	if !slices.Equal(got, want) {
		t.Errorf("README's policy allows %v; the table code calls %v", got, want)
	}
	resources := []string{"arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE"}
	for _, ix := range append(slices.Clone(store.DynamoIndexes), store.DynamoIndex{Name: store.DynamoIndexDue}) {
		resources = append(resources, "arn:aws:dynamodb:REGION:ACCOUNT:table/TABLE/index/"+ix.Name)
	}
	if !slices.Equal(st.Resource, resources) {
		t.Errorf("README's policy is on %v, want %v: the table and its indexes", st.Resource, resources)
	}
}
