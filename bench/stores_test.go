package bench

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/store/open"
)

// The benchmarks' only uses of the table's constructors.

// openTable opens the table a CALLFN_STORE spec names (the webhook role).
func openTable(spec string) (store.Store, error) {
	return open.Open(context.Background(), spec, store.Options{})
}

// memoryTable is a new table in memory.
func memoryTable() store.Store { return local.NewMemory(store.Options{}) }

// countStored counts the events in the embedded file at path, which no
// server holds open any more.
func countStored(path string) (int64, error) {
	st, err := bolt.Open(path, store.Options{})
	if err != nil {
		return 0, err
	}
	defer st.Close()
	var n int64
	err = st.ListEvents(context.Background(), "", func(*call.Event) error { n++; return nil })
	return n, err
}

// dynamoTable creates table through client and returns the store on it.
func dynamoTable(client *dynamodb.Client, table string) (store.Store, error) {
	if err := dynamo.CreateTable(context.Background(), client, table); err != nil {
		return nil, err
	}
	return dynamo.New(client, table, store.Options{}), nil
}
