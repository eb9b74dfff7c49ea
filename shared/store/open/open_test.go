package open_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/shared/store/open"
	"github.com/callfn/callfn/testkit/dynamolocal"
	"github.com/callfn/callfn/testkit/storetest"
)

func TestMain(m *testing.M) { dynamolocal.Main(m) }

var ctx = context.Background()

func TestSpecs(t *testing.T) {
	for _, c := range []struct{ spec, wantErr string }{
		{"memory:", ""},
		{"bolt:", `store: "bolt:": bolt needs a file path, as bolt:PATH`},
		{"dynamodb:", `store: "dynamodb:": dynamodb needs a table name, as dynamodb:TABLE`},
		{"", `store: unknown store "": want memory:, bolt:PATH or dynamodb:TABLE`},
		{"redis:x", `store: unknown store "redis:x": want memory:, bolt:PATH or dynamodb:TABLE`},
		{"memory", ""},
	} {
		st, err := open.Open(ctx, c.spec, store.Options{})
		if c.wantErr == "" {
			if err != nil {
				t.Errorf("Open(%q): %v", c.spec, err)
				continue
			}
			storetest.Put(t, st, storetest.Event("c1", "start", storetest.T0, call.Facts{}))
			st.Close()
			continue
		}
		if err == nil || err.Error() != c.wantErr {
			t.Errorf("Open(%q) = %v, want %s", c.spec, err, c.wantErr)
		}
	}
}

func TestOpenDynamoFromEnvironment(t *testing.T) {
	server := dynamolocal.Shared(t)
	table := "callfn-open-test"
	if err := dynamo.CreateTable(ctx, server.Client(), table); err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_ENDPOINT_URL_DYNAMODB", server.Endpoint())
	t.Setenv("AWS_ACCESS_KEY_ID", "callfntest") // DynamoDB Local accepts letters and digits only
	t.Setenv("AWS_SECRET_ACCESS_KEY", "callfntestsecret")
	t.Setenv("AWS_REGION", "ap-singapore-1")

	st, err := open.Open(ctx, "dynamodb:"+table, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	e := storetest.Event("c1", "start", storetest.T0, call.Facts{Caller: "alice"})
	storetest.Put(t, st, e)
	if _, evs, err := st.GetCall(ctx, "c1"); err != nil || len(evs) != 1 || evs[0].Raw != e.Raw {
		t.Fatalf("GetCall through Open: %v, %v", evs, err)
	}

	if _, err := open.Open(ctx, "dynamodb:", store.Options{}); err == nil {
		t.Error(`Open("dynamodb:"): no error`)
	}
	t.Setenv("AWS_REGION", "")
	t.Setenv("AWS_DEFAULT_REGION", "")
	_, err = open.Open(ctx, "dynamodb:"+table, store.Options{})
	if err == nil || !strings.Contains(err.Error(), "AWS_REGION") {
		t.Errorf("Open with no region: %v, want an error naming AWS_REGION", err)
	}
	if err != nil && strings.Contains(err.Error(), "callfntestsecret") {
		t.Error("the error shows the secret key")
	}
}
