package dynamo_test

import (
	"fmt"
	"regexp"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/forward"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/storetest"
)

// A delivery row sits in its event's partition; while Pending it carries
// the due index's keys (and fresh until leased), and leaves the index once
// Delivered.
func TestDynamoOutboxLayout(t *testing.T) {
	table := newTable(t)
	clk := testkit.NewClock(storetest.Owed)
	st := dynamo.New(client(t), table, store.Options{Now: clk.Now, ForwardTo: []string{storetest.EndpointA}})
	defer st.Close()
	e := storetest.Event("c1", "start", t0, call.Facts{Caller: "alice"})
	storetest.Put(t, st, e)
	sk := store.DynamoOutboxSK + e.DeliveryID + "#" + storetest.EndpointA
	row := rawItem(t, table, "CALL#c1", sk)
	if row == nil {
		t.Fatalf("no row at CALL#c1 / %s", sk)
	}
	due := regexp.MustCompile(`^\d{20}$`)
	if row[store.DynamoDuePK] != "DUE#"+storetest.EndpointA || !due.MatchString(fmt.Sprint(row[store.DynamoDueSK])) ||
		row[store.DynamoFresh] != "1" || row["state"] != "pending" || row["endpoint"] != storetest.EndpointA {
		t.Errorf("owed row: %v", row)
	}
	if _, ok := row[store.DynamoTTL]; ok {
		t.Errorf("row has %s without retention", store.DynamoTTL)
	}
	leased, err := st.Lease(ctx, storetest.EndpointA, storetest.Owed, storetest.Owed.Add(time.Minute), 10)
	if err != nil || len(leased) != 1 {
		t.Fatalf("lease: %v %v", leased, err)
	}
	row = rawItem(t, table, "CALL#c1", sk)
	if _, ok := row[store.DynamoFresh]; ok || row[store.DynamoDueSK] == nil {
		t.Errorf("leased row: %v", row)
	}
	d := leased[0]
	d.State, d.NextAt, d.Attempts = forward.Delivered, time.Time{}, 1
	if err := st.Record(ctx, d); err != nil {
		t.Fatal(err)
	}
	row = rawItem(t, table, "CALL#c1", sk)
	for _, a := range []string{store.DynamoDuePK, store.DynamoDueSK, store.DynamoFresh} {
		if _, ok := row[a]; ok {
			t.Errorf("delivered row still has %s: %v", a, row)
		}
	}
	// An event of no call: its rows sit in its own partition.
	lone := storetest.Event("", "probe", t0, call.Facts{})
	storetest.Put(t, st, lone)
	if rawItem(t, table, "NOCALL#"+lone.DeliveryID, store.DynamoOutboxSK+lone.DeliveryID+"#"+storetest.EndpointA) == nil {
		t.Error("no row for the event of no call")
	}
	if stored, err := st.PutEvent(ctx, lone); err != nil || stored {
		t.Errorf("redelivery of the event of no call: %v %v", stored, err)
	}
}

// With many users and every endpoint, PutEvent's transaction stays within
// DynamoDB's 100 actions: the rows are in it, the users that do not fit
// go first in a batch.
func TestDynamoOutboxManyUsersAndEndpoints(t *testing.T) {
	table := newTable(t)
	var eps []string
	for i := range 10 {
		eps = append(eps, fmt.Sprintf("https://e%d.example/hook", i))
	}
	st := dynamo.New(client(t), table, store.Options{ForwardTo: eps})
	defer st.Close()
	var callees []string
	for i := range 120 {
		callees = append(callees, fmt.Sprintf("user-%03d", i))
	}
	e := storetest.Event("big", "start", t0, call.Facts{Caller: "host", Callees: callees})
	storetest.Put(t, st, e)
	if rows := storetest.Rows(t, st, "big"); len(rows) != 10 {
		t.Errorf("%d rows, want 10", len(rows))
	}
	if calls, err := st.UserCalls(ctx, "user-119", 0); err != nil || len(calls) != 1 {
		t.Errorf("UserCalls: %v %v", calls, err)
	}
}

// Lease reads the due index, never the table: a Query and an UpdateItem a
// row taken, whatever else the table holds.
func TestDynamoLeaseRequests(t *testing.T) {
	table := newTable(t)
	db, cnt := countedClient(t)
	clk := testkit.NewClock(storetest.Owed)
	st := dynamo.New(db, table, store.Options{Now: clk.Now, ForwardTo: []string{storetest.EndpointA}})
	defer st.Close()
	for i := range 3 {
		storetest.Put(t, st, storetest.Event(fmt.Sprintf("c%d", i), "start", t0, call.Facts{}))
	}
	cnt.Take()
	got, err := st.Lease(ctx, storetest.EndpointA, storetest.Owed, storetest.Owed.Add(time.Minute), 2)
	if err != nil || len(got) != 2 {
		t.Fatalf("lease: %v %v", got, err)
	}
	if ops := cnt.Take(); !slices.Equal(ops, []string{"Query", "UpdateItem", "UpdateItem"}) {
		t.Errorf("requests %v, want a Query of the index and an UpdateItem a row", ops)
	}
}

// A table made before forwarding gets the due index and the stream from
// CreateTable, its items kept.
func TestCreateDynamoTableUpgrades(t *testing.T) {
	db := client(t)
	name := oldTable(t)
	old := dynamo.New(db, name, store.Options{})
	storetest.Put(t, old, storetest.Event("c1", "start", t0, call.Facts{Caller: "alice"}))
	if err := dynamo.CreateTable(ctx, db, name); err != nil {
		t.Fatalf("upgrading: %v", err)
	}
	desc, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)})
	if err != nil {
		t.Fatal(err)
	}
	hasDue := slices.ContainsFunc(desc.Table.GlobalSecondaryIndexes, func(g types.GlobalSecondaryIndexDescription) bool {
		return aws.ToString(g.IndexName) == store.DynamoIndexDue
	})
	if sp := desc.Table.StreamSpecification; !hasDue || sp == nil || !aws.ToBool(sp.StreamEnabled) {
		t.Fatalf("after the upgrade: due index %v, stream %+v", hasDue, sp)
	}
	st := dynamo.New(db, name, store.Options{ForwardTo: []string{storetest.EndpointA}})
	if _, _, err := st.GetCall(ctx, "c1"); err != nil {
		t.Errorf("the old call: %v", err)
	}
	e := storetest.Event("c2", "start", t0, call.Facts{})
	storetest.Put(t, st, e)
	if got, err := st.Lease(ctx, storetest.EndpointA, time.Now(), time.Now().Add(time.Minute), 10); err != nil || len(got) != 1 {
		t.Errorf("lease on the upgraded table: %v %v", got, err)
	}
	// Again: nothing left to do.
	if err := dynamo.CreateTable(ctx, db, name); err != nil {
		t.Errorf("a second upgrade: %v", err)
	}
}
