package forwarder_test

// The AWS path end to end on DynamoDB Local, which serves DynamoDB Streams:
// events stored in the table, the stream read with the SDK's
// dynamodbstreams client, its records turned into the events.DynamoDBEvent
// Lambda would deliver and filtered by template.yaml's FilterCriteria, the
// forward function's Lambda handler invoked with them; then its schedule.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodbstreams"
	stypes "github.com/aws/aws-sdk-go-v2/service/dynamodbstreams/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/forwarder"
	"github.com/callfn/callfn/shared/platform/awslambda"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/deploy"
	"github.com/callfn/callfn/testkit/dynamolocal"
	"github.com/callfn/callfn/testkit/receiver"
	"github.com/callfn/callfn/testkit/storetest"
)

func TestMain(m *testing.M) { dynamolocal.Main(m) }

// stream reads a table's stream from its start, shard by shard, as Lambda
// does.
type stream struct {
	t         *testing.T
	client    *dynamodbstreams.Client
	arn       string
	iterators map[string]*string // shard id -> next iterator
}

func openStream(t *testing.T, endpoint string, db *dynamodb.Client, table string) *stream {
	t.Helper()
	desc, err := db.DescribeTable(context.Background(), &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		t.Fatal(err)
	}
	if desc.Table.LatestStreamArn == nil {
		t.Fatalf("table %s has no stream", table)
	}
	c := dynamodbstreams.New(dynamodbstreams.Options{
		Region:       dynamolocal.Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider(dynamolocal.AccessKey, dynamolocal.SecretKey, ""),
	})
	return &stream{t: t, client: c, arn: *desc.Table.LatestStreamArn, iterators: map[string]*string{}}
}

// read returns every record written since the last read, as Lambda's
// events.DynamoDBEventRecord JSON.
func (s *stream) read() []json.RawMessage {
	s.t.Helper()
	ctx := context.Background()
	desc, err := s.client.DescribeStream(ctx, &dynamodbstreams.DescribeStreamInput{StreamArn: &s.arn})
	if err != nil {
		s.t.Fatal(err)
	}
	var out []json.RawMessage
	for _, sh := range desc.StreamDescription.Shards {
		id := aws.ToString(sh.ShardId)
		it, ok := s.iterators[id]
		if !ok {
			res, err := s.client.GetShardIterator(ctx, &dynamodbstreams.GetShardIteratorInput{
				StreamArn: &s.arn, ShardId: sh.ShardId, ShardIteratorType: stypes.ShardIteratorTypeTrimHorizon,
			})
			if err != nil {
				s.t.Fatal(err)
			}
			it = res.ShardIterator
		}
		for it != nil {
			res, err := s.client.GetRecords(ctx, &dynamodbstreams.GetRecordsInput{ShardIterator: it})
			if err != nil {
				s.t.Fatal(err)
			}
			for _, r := range res.Records {
				out = append(out, lambdaRecord(s.t, r, s.arn))
			}
			s.iterators[id] = res.NextShardIterator
			if len(res.Records) == 0 {
				break
			}
			it = res.NextShardIterator
		}
	}
	return out
}

// lambdaRecord is a stream record as an event source mapping hands it to
// Lambda (aws-lambda-go's events.DynamoDBEventRecord, DynamoDB JSON
// attribute values).
func lambdaRecord(t *testing.T, r stypes.Record, arn string) json.RawMessage {
	t.Helper()
	d := r.Dynamodb
	rec := map[string]any{
		"eventID":        aws.ToString(r.EventID),
		"eventName":      string(r.EventName),
		"eventVersion":   aws.ToString(r.EventVersion),
		"eventSource":    "aws:dynamodb",
		"awsRegion":      dynamolocal.Region,
		"eventSourceARN": arn,
		"dynamodb": map[string]any{
			"ApproximateCreationDateTime": aws.ToTime(d.ApproximateCreationDateTime).Unix(),
			"Keys":                        image(d.Keys),
			"NewImage":                    image(d.NewImage),
			"SequenceNumber":              aws.ToString(d.SequenceNumber),
			"SizeBytes":                   aws.ToInt64(d.SizeBytes),
			"StreamViewType":              string(d.StreamViewType),
		},
	}
	if d.NewImage == nil {
		delete(rec["dynamodb"].(map[string]any), "NewImage")
	}
	b, err := json.Marshal(rec)
	if err != nil {
		t.Fatal(err)
	}
	// Lambda's own type reads it back.
	var check events.DynamoDBEventRecord
	if err := json.Unmarshal(b, &check); err != nil {
		t.Fatalf("not an events.DynamoDBEventRecord: %v\n%s", err, b)
	}
	return b
}

func image(m map[string]stypes.AttributeValue) map[string]any {
	if m == nil {
		return nil
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = attr(v)
	}
	return out
}

// attr is an attribute value in DynamoDB's JSON form.
func attr(v stypes.AttributeValue) map[string]any {
	switch v := v.(type) {
	case *stypes.AttributeValueMemberS:
		return map[string]any{"S": v.Value}
	case *stypes.AttributeValueMemberN:
		return map[string]any{"N": v.Value}
	case *stypes.AttributeValueMemberBOOL:
		return map[string]any{"BOOL": v.Value}
	case *stypes.AttributeValueMemberNULL:
		return map[string]any{"NULL": v.Value}
	case *stypes.AttributeValueMemberB:
		return map[string]any{"B": base64.StdEncoding.EncodeToString(v.Value)}
	case *stypes.AttributeValueMemberSS:
		return map[string]any{"SS": v.Value}
	case *stypes.AttributeValueMemberNS:
		return map[string]any{"NS": v.Value}
	case *stypes.AttributeValueMemberBS:
		var l []string
		for _, b := range v.Value {
			l = append(l, base64.StdEncoding.EncodeToString(b))
		}
		return map[string]any{"BS": l}
	case *stypes.AttributeValueMemberL:
		var l []any
		for _, x := range v.Value {
			l = append(l, attr(x))
		}
		return map[string]any{"L": l}
	case *stypes.AttributeValueMemberM:
		return map[string]any{"M": image(v.Value)}
	}
	panic(fmt.Sprintf("attribute value %T", v))
}

// filtered keeps the records template.yaml's ForwardStream lets through.
func filtered(t *testing.T, recs []json.RawMessage) []json.RawMessage {
	t.Helper()
	root, err := deploy.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := deploy.LoadSAM(filepath.Join(root, "template.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	ms := tmpl.StreamMappings("ForwardFunction")
	if len(ms) != 1 {
		t.Fatalf("%d stream mappings into ForwardFunction", len(ms))
	}
	pats, err := ms[0].FilterPatterns()
	if err != nil || len(pats) == 0 {
		t.Fatalf("patterns %v: %v", pats, err)
	}
	var out []json.RawMessage
	for _, r := range recs {
		for _, p := range pats {
			ok, err := deploy.MatchFilter(p, r)
			if err != nil {
				t.Fatal(err)
			}
			if ok {
				out = append(out, r)
				break
			}
		}
	}
	return out
}

// batch is the event Lambda invokes the function with.
func batch(t *testing.T, recs []json.RawMessage) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(map[string]any{"Records": recs})
	if err != nil {
		t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil || len(ev.Records) != len(recs) {
		t.Fatalf("not an events.DynamoDBEvent: %v", err)
	}
	return b
}

func TestStreamOnDynamoDBLocal(t *testing.T) {
	srv := dynamolocal.Shared(t)
	db := srv.Client()
	ctx := context.Background()
	table := fmt.Sprintf("callfn-forward-%d", time.Now().UnixNano())
	if err := dynamo.CreateTable(ctx, db, table); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &table}) })

	rc := receiver.Start(t, secret)
	rc.Respond(receiver.FailFirst(1, 503))
	cfg := forwardConfig(t, rc.URL)
	ep := cfg.ForwardURLs[0]
	clk := testkit.NewClock(time.Now())
	st := dynamo.New(db, table, store.Options{Now: clk.Now, ForwardTo: cfg.ForwardURLs})
	fn, err := forwarder.New(cfg, st, forwarder.Options{Now: clk.Now, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	h := awslambda.Handler(fn)
	s := openStream(t, srv.Endpoint(), db, table)

	evs := []*call.Event{
		storetest.Event("c1", "call_started", storetest.T0, call.Facts{Caller: "alice", Callees: []string{"bob"}}),
		storetest.Event("c1", "call_ended", storetest.T0+1000, call.Facts{Status: call.StatusEnded}),
		storetest.Event("", "lone", storetest.T0, call.Facts{}),
	}
	storetest.Put(t, st, evs...)
	recs := s.read()
	owed := filtered(t, recs)
	// The events, the summary and the rows are on the stream; only the
	// rows pass the filter.
	if len(owed) != 3 || len(recs) < 6 {
		t.Fatalf("%d records, %d through the filter, want 3 of at least 6", len(recs), len(owed))
	}
	invoke := func(event json.RawMessage) any {
		t.Helper()
		ictx, cancel := context.WithTimeout(ctx, 5*time.Minute) // the function's Timeout
		defer cancel()
		out, err := h(ictx, event)
		if err != nil {
			t.Fatalf("invocation: %v", err)
		}
		return out
	}
	invoke(batch(t, owed))
	if n := len(rc.Messages()); n != 3 {
		t.Fatalf("%d attempts after the stream batch, want 3 (first attempts, refused)", n)
	}
	// Leases and outcomes are on the stream too, and fire nothing.
	if again := filtered(t, s.read()); len(again) != 0 {
		t.Fatalf("%d records of leases and outcomes through the filter", len(again))
	}

	// The schedule, a minute later: the retries.
	clk.Add(time.Minute)
	out := invoke(json.RawMessage(fmt.Sprintf(`{"schedule":"drain","time":%q}`, clk.Now().UTC().Format(time.RFC3339))))
	if got := out.(forwarder.Stats); got != (forwarder.Stats{Attempts: 3, Delivered: 3}) {
		t.Fatalf("schedule: %+v", got)
	}
	acc := rc.Accepted()
	if len(acc) != 3 {
		t.Fatalf("%d accepted", len(acc))
	}
	for _, e := range evs {
		id := forward.MessageID(e.DeliveryID, ep)
		n := 0
		for _, m := range rc.Messages() {
			if m.ID == id {
				n++
			}
		}
		if n != 2 {
			t.Errorf("event %s: %d requests under %s, want 2 (the refused one and its retry)", e.Event, n, id)
		}
	}

	// A replay owes one event again: its row passes the filter, and the
	// stream delivers it under the same id.
	d, err := forward.New(cfg, st, st, forward.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Replay(ctx, evs[0], "", clk.Now()); err != nil {
		t.Fatal(err)
	}
	replayed := filtered(t, s.read())
	if len(replayed) != 1 {
		t.Fatalf("%d records of the replay through the filter, want 1", len(replayed))
	}
	invoke(batch(t, replayed))
	acc = rc.Accepted()
	if len(acc) != 4 || acc[3].ID != forward.MessageID(evs[0].DeliveryID, ep) {
		t.Fatalf("after the replay: %d accepted, last %+v", len(acc), acc[len(acc)-1].ID)
	}
	for _, r := range storetest.Rows(t, st, "") {
		if r.State != forward.Delivered {
			t.Errorf("row %+v", r)
		}
	}
}
