package store

import "context"

// OpenDynamo opens the DynamoDB table. (Being written.)
func OpenDynamo(ctx context.Context, table string, opts Options) (Store, error) {
	panic("todo")
}
