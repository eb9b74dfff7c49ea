package awslambda

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/testkit"
)

// DynamoDB stream records run the function's Changes, one Change a record,
// with the images' scalar attributes as text.
func TestDynamoDBStream(t *testing.T) {
	var got []platform.Change
	var id string
	fn := platform.Function{Name: "changes", Changes: func(ctx context.Context, batch []platform.Change) error {
		got, id = batch, platform.RequestID(ctx)
		return nil
	}}
	ctx := lambdacontext.NewContext(context.Background(), &lambdacontext.LambdaContext{AwsRequestID: "inv-1"})
	out, err := Handler(fn)(ctx, testkit.Fixture(t, "dynamodb-event.json"))
	if err != nil || out != nil {
		t.Fatalf("out %v, err %v", out, err)
	}
	if len(got) != 2 || id != "inv-1" {
		t.Fatalf("batch %+v, request id %q", got, id)
	}
	c := got[0]
	if c.ID != "f07f8ca4b0b26cb9c4e5e77e69f274ee" || c.Op != "INSERT" || c.Keys["key"] != "binary" || c.New["val"] != "data" {
		t.Errorf("change %+v", c)
	}
	if _, ok := c.New["asdf1"]; ok {
		t.Errorf("a binary attribute kept: %+v", c.New)
	}

	// Numbers, booleans, and a REMOVE (no new image).
	ev := json.RawMessage(`{"Records":[
		{"eventID":"1","eventName":"MODIFY","eventSource":"aws:dynamodb","dynamodb":{"Keys":{"pk":{"S":"a"}},
		 "NewImage":{"pk":{"S":"a"},"n":{"N":"42"},"b":{"BOOL":true},"l":{"L":[{"S":"x"}]}}}},
		{"eventID":"2","eventName":"REMOVE","eventSource":"aws:dynamodb","dynamodb":{"Keys":{"pk":{"S":"b"}}}}]}`)
	if _, err := Handler(fn)(context.Background(), ev); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].New["n"] != "42" || got[0].New["b"] != "true" || got[0].New["l"] != "" ||
		got[1].Op != "REMOVE" || got[1].New != nil || got[1].Keys["pk"] != "b" {
		t.Errorf("batch %+v", got)
	}

	// The handler's error is the invocation's: the mapping retries.
	boom := errors.New("boom")
	fn.Changes = func(context.Context, []platform.Change) error { return boom }
	if _, err := Handler(fn)(context.Background(), ev); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
	fn.Changes = func(context.Context, []platform.Change) error { panic("bad") }
	if _, err := Handler(fn)(context.Background(), ev); err == nil {
		t.Error("a panic: no error")
	}
	// A function that takes no changes refuses them.
	if _, err := Handler(platform.Function{Name: "plain"})(context.Background(), ev); !errors.Is(err, platform.ErrNoChanges) {
		t.Errorf("no Changes: %v", err)
	}
	if _, err := Handler(fn)(context.Background(), json.RawMessage(`{"Records":[{"eventSource":"aws:dynamodb","dynamodb":7}]}`)); !errors.Is(err, platform.ErrUnknownEvent) {
		t.Errorf("malformed records: %v", err)
	}
}
