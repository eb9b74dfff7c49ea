package dynamo_test

// The behavioural suite on DynamoDB Local, and the checks only the DynamoDB
// table has: its item layout and TTL, the number of requests its reads and
// writes take, and its failures. On a machine without Java or DynamoDB
// Local they are skipped, unless the environment requires them (see
// testkit/dynamolocal).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/dynamolocal"
	"github.com/callfn/callfn/testkit/storetest"
)

// The tests share one DynamoDB Local (dynamolocal.Shared); each gets tables
// of its own.
func TestMain(m *testing.M) { dynamolocal.Main(m) }

var (
	ctx = context.Background()
	t0  = storetest.T0
)

// client is a client of the shared DynamoDB Local; t is skipped (or fails)
// when there is none.
func client(t testing.TB) *dynamodb.Client {
	t.Helper()
	return dynamolocal.Shared(t).Client()
}

// countedClient is a client of the shared DynamoDB Local whose requests
// the Counter records.
func countedClient(t testing.TB) (*dynamodb.Client, *dynamolocal.Counter) {
	t.Helper()
	return dynamolocal.Counting(client(t))
}

var tableSeq atomic.Int64

// newTable creates a fresh, empty table and returns its name.
func newTable(t testing.TB) string {
	t.Helper()
	db := client(t)
	name := fmt.Sprintf("callfn-test-%d", tableSeq.Add(1))
	if err := dynamo.CreateTable(ctx, db, name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTable(db, name) })
	return name
}

// rawTable creates a table as in says, not as CreateTable makes it, named
// callfn-test-KIND-N; it is deleted after the test.
func rawTable(t testing.TB, kind string, in dynamodb.CreateTableInput) string {
	t.Helper()
	db := client(t)
	name := fmt.Sprintf("callfn-test-%s-%d", kind, tableSeq.Add(1))
	in.TableName = aws.String(name)
	if _, err := db.CreateTable(ctx, &in); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { deleteTable(db, name) })
	return name
}

// oldTable is a table as releases before the byUser index and forwarding
// made it: the keys and the byTime index, no other index and no stream.
func oldTable(t testing.TB) string {
	t.Helper()
	s := types.ScalarAttributeTypeS
	return rawTable(t, "old", dynamodb.CreateTableInput{
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(store.DynamoPK), AttributeType: s}, {AttributeName: aws.String(store.DynamoSK), AttributeType: s},
			{AttributeName: aws.String(store.DynamoIndexPK), AttributeType: s}, {AttributeName: aws.String(store.DynamoIndexSK), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(store.DynamoPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(store.DynamoSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(store.DynamoIndexByTime),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String(store.DynamoIndexPK), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String(store.DynamoIndexSK), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
		}},
	})
}

func TestStore(t *testing.T) {
	db := client(t)
	storetest.Run(t, func(t *testing.T, opts store.Options) store.Store {
		return dynamo.New(db, newTable(t), opts)
	})
}

func deleteTable(db *dynamodb.Client, name string) {
	db.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)})
}

// rawItem reads one item as DynamoDB holds it (nil when there is none).
func rawItem(t *testing.T, table, pk, sk string) map[string]any {
	t.Helper()
	out, err := client(t).GetItem(ctx, &dynamodb.GetItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			store.DynamoPK: &types.AttributeValueMemberS{Value: pk},
			store.DynamoSK: &types.AttributeValueMemberS{Value: sk},
		},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.Item == nil {
		return nil
	}
	var m map[string]any
	if err := attributevalue.UnmarshalMap(out.Item, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// num is a number attribute as an int64 (-1 when absent).
func num(t *testing.T, item map[string]any, attr string) int64 {
	t.Helper()
	v, ok := item[attr]
	if !ok {
		return -1
	}
	f, ok := v.(float64)
	if !ok {
		t.Fatalf("%s is %T, want a number", attr, v)
	}
	return int64(f)
}

func TestDynamoLayoutAndTTL(t *testing.T) {
	table := newTable(t)
	clk := testkit.NewClock(time.UnixMilli(t0))
	st := dynamo.New(client(t), table, store.Options{Retention: 24 * time.Hour, Now: clk.Now})
	defer st.Close()
	day := int64(24 * 3600)

	first := storetest.Event("c1", "start", t0, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: t0})
	storetest.Put(t, st, first)
	evItem := rawItem(t, table, "CALL#c1", "EVENT#"+store.EventKey(first))
	if evItem == nil {
		t.Fatalf("no event item at CALL#c1 / EVENT#%s", store.EventKey(first))
	}
	if got, want := num(t, evItem, store.DynamoTTL), t0/1000+day; got != want {
		t.Errorf("event %s = %d, want %d", store.DynamoTTL, got, want)
	}
	if evItem["raw"] != first.Raw || evItem["callId"] != "c1" {
		t.Errorf("event item attributes: %v", evItem)
	}
	sum := rawItem(t, table, "CALL#c1", "SUMMARY")
	if sum == nil {
		t.Fatal("no summary item at CALL#c1 / SUMMARY")
	}
	if sum[store.DynamoIndexPK] != "CALLS#2024-03" || sum[store.DynamoIndexSK] != fmt.Sprintf("%013d#c1", t0) {
		t.Errorf("summary index keys %v / %v", sum[store.DynamoIndexPK], sum[store.DynamoIndexSK])
	}
	if num(t, sum, "version") != 1 || num(t, sum, store.DynamoTTL) != t0/1000+day || num(t, sum, "eventCount") != 1 {
		t.Errorf("summary item: %v", sum)
	}
	for _, u := range []string{"alice", "bob"} {
		ui := rawItem(t, table, "USER#"+u, "CALL#c1")
		if ui == nil || num(t, ui, store.DynamoTTL) != t0/1000+day {
			t.Errorf("user item of %s: %v", u, ui)
		}
	}

	// A newer event moves the summary's expiry, and the user items' with it.
	later := storetest.Event("c1", "end", t0+3600_000, call.Facts{Status: call.StatusEnded, Callees: []string{"carol"}})
	storetest.Put(t, st, later)
	sum = rawItem(t, table, "CALL#c1", "SUMMARY")
	if num(t, sum, "version") != 2 || num(t, sum, store.DynamoTTL) != t0/1000+3600+day {
		t.Errorf("summary after a newer event: %v", sum)
	}
	for _, u := range []string{"alice", "bob", "carol"} {
		ui := rawItem(t, table, "USER#"+u, "CALL#c1")
		if ui == nil || num(t, ui, store.DynamoTTL) != t0/1000+3600+day {
			t.Errorf("user item of %s after a newer event: %v", u, ui)
		}
	}

	until := time.UnixMilli(t0).Add(time.Hour)
	if ok, err := st.Claim(ctx, "job", until); err != nil || !ok {
		t.Fatal(ok, err)
	}
	if c := rawItem(t, table, "CLAIM#job", "CLAIM"); num(t, c, store.DynamoTTL) != until.Unix() {
		t.Errorf("claim item: %v", c)
	}
	if err := st.PutMeta(ctx, "cursor", "x"); err != nil {
		t.Fatal(err)
	}
	if m := rawItem(t, table, "META#cursor", "META"); m == nil || m["value"] != "x" {
		t.Errorf("meta item: %v", m)
	}
	// A busy call's folder: a token, and an expiry that is also its TTL;
	// gone once its holder has folded.
	ok, fold, err := dynamo.TakeFolder(ctx, st, "c1")
	if !ok || err != nil {
		t.Fatalf("TakeFolder = %v, %v", ok, err)
	}
	if f := rawItem(t, table, "CALL#c1", "FOLDER"); f == nil || f["token"] == "" || num(t, f, store.DynamoTTL) != clk.Now().Add(dynamo.FolderFor).Unix() {
		t.Errorf("folder item: %v", f)
	}
	if err := fold(); err != nil {
		t.Fatal(err)
	}
	if f := rawItem(t, table, "CALL#c1", "FOLDER"); f != nil {
		t.Errorf("folder item after its fold: %v", f)
	}
	orphan := storetest.Event("", "probe", t0, call.Facts{})
	storetest.Put(t, st, orphan)
	if rawItem(t, table, "NOCALL#"+orphan.DeliveryID, "EVENT#"+store.EventKey(orphan)) == nil {
		t.Error("no item for an event without a call at NOCALL#<deliveryId>")
	}

	ttl, err := client(t).DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	if d := ttl.TimeToLiveDescription; d == nil || d.TimeToLiveStatus != types.TimeToLiveStatusEnabled || aws.ToString(d.AttributeName) != store.DynamoTTL {
		t.Errorf("TTL: %+v, want ENABLED on %s", d, store.DynamoTTL)
	}

	// Without retention nothing but claims (and busy calls' folders)
	// carries the TTL attribute.
	table2 := newTable(t)
	keep := dynamo.New(client(t), table2, store.Options{})
	storetest.Put(t, keep, first)
	for _, k := range [][2]string{{"CALL#c1", "EVENT#" + store.EventKey(first)}, {"CALL#c1", "SUMMARY"}, {"USER#alice", "CALL#c1"}} {
		item := rawItem(t, table2, k[0], k[1])
		if item == nil {
			t.Fatalf("no item %v", k)
		}
		if _, ok := item[store.DynamoTTL]; ok {
			t.Errorf("item %v has %s without retention", k, store.DynamoTTL)
		}
	}
}

func TestDynamoRequests(t *testing.T) {
	table := newTable(t)
	db, cnt := countedClient(t)
	st := dynamo.New(db, table, store.Options{})
	defer st.Close()

	check := func(what string, want ...string) {
		t.Helper()
		if got := cnt.Take(); strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("%s: requests %v, want %v", what, got, want)
		}
	}
	storetest.Put(t, st, storetest.Event("c1", "start", t0, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: t0}))
	// One read (the summary, the event, the month), one transaction (the
	// month's item in it, the first time).
	check("first event of the month's first call", "BatchGetItem", "TransactWriteItems")
	storetest.Put(t, st, storetest.Event("c2", "start", t0, call.Facts{Caller: "alice", StartTime: t0}))
	check("first event of a call", "BatchGetItem", "TransactWriteItems")
	e := storetest.Event("c1", "end", t0+1000, call.Facts{Status: call.StatusEnded})
	storetest.Put(t, st, e)
	check("next event", "BatchGetItem", "TransactWriteItems")
	if stored, err := st.PutEvent(ctx, e); err != nil || stored {
		t.Fatal(stored, err)
	}
	// The read finds the event: no write.
	check("redelivery", "BatchGetItem")
	if _, evs, err := st.GetCall(ctx, "c1"); err != nil || len(evs) != 2 {
		t.Fatal(evs, err)
	}
	check("GetCall", "Query")
	if calls, err := st.UserCalls(ctx, "alice", 0); err != nil || len(calls) != 2 {
		t.Fatal(calls, err)
	}
	check("UserCalls", "Query", "BatchGetItem")
	if page, err := st.ListCalls(ctx, store.CallQuery{}); err != nil || len(page.Calls) != 2 {
		t.Fatal(page, err)
	}
	check("ListCalls over one month", "Query", "Query")
	first, err := st.ListCalls(ctx, store.CallQuery{Limit: 1})
	if err != nil || len(first.Calls) != 1 || first.Next == "" {
		t.Fatal(first, err)
	}
	check("ListCalls, a first page", "Query", "Query")
	next, err := st.ListCalls(ctx, store.CallQuery{Limit: 1, Cursor: first.Next})
	if err != nil || len(next.Calls) != 1 || next.Calls[0].CallID == first.Calls[0].CallID {
		t.Fatal(next, err)
	}
	// The cursor's own call is in the index range; the query reads one
	// more for it rather than a second page.
	check("ListCalls, the page after a cursor", "Query", "Query")
}

func TestDynamoManyUsers(t *testing.T) {
	// More users than a transaction can hold items for.
	table := newTable(t)
	clk := testkit.NewClock(time.UnixMilli(t0))
	st := dynamo.New(client(t), table, store.Options{Retention: time.Hour, Now: clk.Now})
	defer st.Close()
	var callees []string
	for i := range 150 {
		callees = append(callees, fmt.Sprintf("user-%03d", i))
	}
	first := storetest.Event("big", "start", t0, call.Facts{Caller: "host", Callees: callees, CallType: call.TypeGroup})
	storetest.Put(t, st, first)
	later := storetest.Event("big", "end", t0+60_000, call.Facts{Status: call.StatusEnded})
	storetest.Put(t, st, later)
	for _, u := range append([]string{"host"}, callees...) {
		calls, err := st.UserCalls(ctx, u, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || calls[0].CallID != "big" || calls[0].EventCount != 2 {
			t.Fatalf("UserCalls(%s) = %v", u, storetest.CallIDs(calls))
		}
		if got, want := num(t, rawItem(t, table, "USER#"+u, "CALL#big"), store.DynamoTTL), (t0+60_000)/1000+3600; got != want {
			t.Errorf("user item of %s expires at %d, want %d", u, got, want)
		}
	}
	s, _, err := st.GetCall(ctx, "big")
	if err != nil {
		t.Fatal(err)
	}
	storetest.SameSummary(t, "big", s, storetest.Fold(first, later))
}

func TestDynamoMissingTable(t *testing.T) {
	st := dynamo.New(client(t), "no-such-table", store.Options{})
	defer st.Close()
	_, err1 := st.PutEvent(ctx, storetest.Event("c1", "start", t0, call.Facts{}))
	_, err2 := st.PutEvent(ctx, storetest.Event("", "probe", t0, call.Facts{}))
	_, _, err3 := st.GetCall(ctx, "c1")
	err4 := st.ListEvents(ctx, "", func(*call.Event) error { return nil })
	err5 := st.ListEvents(ctx, "c1", func(*call.Event) error { return nil })
	_, err6 := st.UserCalls(ctx, "alice", 0)
	_, err7 := st.ListCalls(ctx, store.CallQuery{})
	_, err8 := st.Claim(ctx, "k", time.Now())
	_, err9 := st.GetMeta(ctx, "k")
	err10 := st.PutMeta(ctx, "k", "v")
	for i, err := range []error{err1, err2, err3, err4, err5, err6, err7, err8, err9, err10} {
		var nf *types.ResourceNotFoundException
		if err == nil || errors.Is(err, store.ErrNotFound) || !errors.As(err, &nf) || !strings.Contains(err.Error(), "no-such-table") {
			t.Errorf("call %d on a missing table: %v; want a wrapped ResourceNotFoundException naming the table", i+1, err)
		}
	}
}

func TestDynamoBadItems(t *testing.T) {
	table := newTable(t)
	st := dynamo.New(client(t), table, store.Options{})
	defer st.Close()
	storetest.Put(t, st, storetest.Event("c1", "start", t0, call.Facts{Caller: "alice", StartTime: t0}))
	// Someone else's hand-written summary, with a string where a number
	// belongs.
	_, err := client(t).UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: aws.String(table),
		Key: map[string]types.AttributeValue{
			store.DynamoPK: &types.AttributeValueMemberS{Value: "CALL#c1"},
			store.DynamoSK: &types.AttributeValueMemberS{Value: "SUMMARY"},
		},
		UpdateExpression:          aws.String("SET eventCount = :x"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":x": &types.AttributeValueMemberS{Value: "many"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.GetCall(ctx, "c1"); err == nil {
		t.Error("GetCall of a malformed summary: no error")
	}
	if _, err := st.PutEvent(ctx, storetest.Event("c1", "end", t0+1, call.Facts{})); err == nil {
		t.Error("PutEvent onto a malformed summary: no error")
	}
	if _, err := st.UserCalls(ctx, "alice", 0); err == nil {
		t.Error("UserCalls with a malformed summary: no error")
	}
	if _, err := st.ListCalls(ctx, store.CallQuery{}); err == nil {
		t.Error("ListCalls with a malformed summary: no error")
	}
}

func TestCreateDynamoTable(t *testing.T) {
	table := newTable(t)
	if err := dynamo.CreateTable(ctx, client(t), table); err != nil {
		t.Fatalf("creating an existing table again: %v", err)
	}
	desc, err := client(t).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	d := desc.Table
	var indexes []string
	for _, g := range d.GlobalSecondaryIndexes {
		indexes = append(indexes, aws.ToString(g.IndexName))
	}
	slices.Sort(indexes)
	if d.TableStatus != types.TableStatusActive || d.BillingModeSummary == nil ||
		d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest ||
		!slices.Equal(indexes, []string{store.DynamoIndexByTime, store.DynamoIndexByUser, store.DynamoIndexDue}) {
		t.Errorf("table: %+v, indexes %v", d, indexes)
	}

	// A table made before the byUser index gets it, built from the items
	// already there.
	old := oldTable(t)
	if err := dynamo.CreateTable(ctx, client(t), old); err != nil {
		t.Fatalf("a table without byUser: %v", err)
	}
	oldSt := dynamo.New(client(t), old, store.Options{})
	storetest.Put(t, oldSt, storetest.Event("c1", "start", t0, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: t0}))
	if page, err := oldSt.ListCalls(ctx, store.CallQuery{User: "bob"}); err != nil || len(page.Calls) != 1 {
		t.Errorf("byUser on the old table: %v %v", page, err)
	}
	if s := d.StreamSpecification; s == nil || !aws.ToBool(s.StreamEnabled) || string(s.StreamViewType) != store.DynamoStreamView {
		t.Errorf("stream: %+v", s)
	}

	// A table of the same name with another layout is refused.
	other := rawTable(t, "other", dynamodb.CreateTableInput{
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{{AttributeName: aws.String("id"), AttributeType: types.ScalarAttributeTypeS}},
		KeySchema:            []types.KeySchemaElement{{AttributeName: aws.String("id"), KeyType: types.KeyTypeHash}},
	})
	if err := dynamo.CreateTable(ctx, client(t), other); err == nil || !strings.Contains(err.Error(), other) {
		t.Errorf("a table with another key: %v, want an error naming it", err)
	}
}

// Every page of every listing is a bounded number of Query and
// BatchGetItem requests, the same deep in the listing as on its first
// page, and no Scan; Stats is one Query per rollup shard.
func TestDynamoPageRequests(t *testing.T) {
	table := newTable(t)
	db, cnt := countedClient(t)
	st := dynamo.New(db, table, store.Options{ScanLimit: 20})
	defer st.Close()
	// 90 calls a day apart over three months; every third one Yunxin's.
	for i := range 90 {
		at := t0 + int64(i)*24*3600_000
		e := storetest.Event(fmt.Sprintf("p-%02d", i), "start", at, call.Facts{Caller: "alice", Callees: []string{"bob"}, StartTime: at, Status: call.StatusRinging})
		if i%3 == 0 {
			e.Provider = call.Yunxin
		}
		storetest.Put(t, st, e)
	}
	cnt.Take()
	for _, q := range []store.CallQuery{
		{Limit: 7, Desc: true},
		{Limit: 7},
		{Limit: 7, Provider: call.Yunxin, Desc: true},
		{Limit: 7, User: "bob", Desc: true},
		{Limit: 7, User: "bob", Provider: call.Yunxin},
	} {
		listed := 0
		var perPage []int
		for pages := 0; ; pages++ {
			if pages > 90 {
				t.Fatalf("%+v: no last page", q)
			}
			page, err := st.ListCalls(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			ops := cnt.Take()
			for _, op := range ops {
				if op != "Query" && op != "BatchGetItem" {
					t.Fatalf("%+v: a page sent %s (%v)", q, op, ops)
				}
			}
			// The months (byTime), at most 8 Queries, one BatchGetItem
			// (per user).
			if len(ops) > 10 {
				t.Errorf("%+v: page %d took %d requests: %v", q, pages+1, len(ops), ops)
			}
			perPage = append(perPage, len(ops))
			listed += len(page.Calls)
			if page.Next == "" {
				break
			}
			q.Cursor = page.Next
		}
		want := 90
		if q.Provider != "" {
			want = 30
		}
		if listed != want {
			t.Errorf("%+v: %d calls listed, want %d", q, listed, want)
		}
		t.Logf("%+v: requests per page %v", q, perPage)
	}
	// Stats: one Query per shard for the hours; for days that start inside
	// an hour (India's), one BatchGetItem for those hours' quarters.
	day := int64(24 * 3600_000)
	utc := []int64{t0 - t0%day, t0 - t0%day + 90*day}
	india := []int64{utc[0] - 330*60_000, utc[0] - 330*60_000 + day, utc[1] - 330*60_000}
	for _, c := range []struct {
		bounds []int64
		want   string
	}{
		{utc, strings.Repeat("Query ", dynamo.StatsShards)},
		{india, "BatchGetItem " + strings.Repeat("Query ", dynamo.StatsShards)},
	} {
		days, err := st.Stats(ctx, c.bounds)
		if err != nil {
			t.Fatal(err)
		}
		ops := cnt.Take()
		slices.Sort(ops)
		if got := strings.Join(ops, " ") + " "; got != c.want {
			t.Errorf("Stats(%v): %s, want %s", c.bounds, got, c.want)
		}
		var total store.Counts
		for _, d := range days {
			total.Add(d)
		}
		if total.Calls != 90 {
			t.Errorf("Stats(%v) counts %d calls, want 90", c.bounds, total.Calls)
		}
	}
}

// Import, which fills the benchmarks' tables, leaves what PutEvent leaves:
// the same listings and the same rollups.
func TestImport(t *testing.T) {
	evs := storetest.HistoryEvents(60, t0, 7*3600_000)
	folded, imported := dynamo.New(client(t), newTable(t), store.Options{}), dynamo.New(client(t), newTable(t), store.Options{})
	storetest.PutAll(t, folded, evs, 8)
	var sums []call.Summary
	for _, e := range evs {
		sums = append(sums, storetest.Fold(e))
	}
	if err := dynamo.Import(ctx, imported, sums, true, true, 4); err != nil {
		t.Fatal(err)
	}
	for _, q := range []store.CallQuery{{Desc: true}, {User: "alice", Limit: 7}, {Provider: call.Yunxin, Desc: true}, {User: "dave", Result: call.ResultNotAnswer}} {
		a, err1 := folded.ListCalls(ctx, q)
		b, err2 := imported.ListCalls(ctx, q)
		if err1 != nil || err2 != nil || fmt.Sprint(storetest.CallIDs(a.Calls), a.Next) != fmt.Sprint(storetest.CallIDs(b.Calls), b.Next) || len(a.Calls) == 0 {
			t.Errorf("%+v: folded %v %q %v, imported %v %q %v", q, storetest.CallIDs(a.Calls), a.Next, err1, storetest.CallIDs(b.Calls), b.Next, err2)
		}
	}
	from := store.BucketOf(t0) - 5*store.StatsBucketMs
	bounds := []int64{from, from + 24*3600_000, from + 30*24*3600_000}
	a, err1 := folded.Stats(ctx, bounds)
	b, err2 := imported.Stats(ctx, bounds)
	if err1 != nil || err2 != nil || fmt.Sprint(a) != fmt.Sprint(b) || a[0].Calls == 0 {
		t.Errorf("Stats: folded %v %v, imported %v %v", a, err1, b, err2)
	}
}

// A table from before the history's indexes: its calls are missing from
// the per-user lists and the rollups until Backfill puts them there, once;
// a call folded before Backfill is indexed by its fold, from scratch.
func TestBackfill(t *testing.T) {
	st := dynamo.New(client(t), newTable(t), store.Options{})
	evs := storetest.HistoryEvents(30, t0, 3600_000)
	var sums []call.Summary
	for _, e := range evs {
		sums = append(sums, storetest.Fold(e))
	}
	if err := dynamo.ImportOld(ctx, st, sums); err != nil {
		t.Fatal(err)
	}
	day := int64(24 * 3600_000)
	bounds := []int64{t0 - t0%day, t0 - t0%day + 3*day}
	count := func(what string, wantListed int, wantCalls int64) {
		t.Helper()
		page, err := st.ListCalls(ctx, store.CallQuery{User: "alice", Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		stats, err := st.Stats(ctx, bounds)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Calls) != wantListed || stats[0].Calls != wantCalls || stats[0].InProgress < 0 {
			t.Errorf("%s: alice has %d calls listed, the rollups %+v; want %d and %d calls", what, len(page.Calls), stats[0], wantListed, wantCalls)
		}
	}
	count("before", 0, 0)
	// The first call (alice's) gets a late event before the backfill.
	late := storetest.Event(evs[0].CallID, "late", evs[0].EventTime+1000, call.Facts{Callees: []string{"erin"}})
	storetest.Put(t, st, late)
	count("one call folded", 1, 1)
	n, err := dynamo.Backfill(ctx, st)
	if err != nil || n != 29 {
		t.Fatalf("Backfill: %d %v, want 29", n, err)
	}
	count("after", 15, 30)
	if n, err := dynamo.Backfill(ctx, st); err != nil || n != 0 {
		t.Errorf("Backfill again: %d %v, want 0", n, err)
	}
	count("after again", 15, 30)
}
