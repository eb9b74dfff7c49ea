package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/store"
)

// CreateTable creates table as callfn lays it out (on-demand capacity, the
// key, the byTime and due indexes, the stream), waits until it is ACTIVE and
// turns on TTL on store.DynamoTTL. An existing table is kept, checked for
// the same key and byTime index, gets the due index and the stream if it
// has none (a table made before forwarding), and TTL turned on.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	s := types.ScalarAttributeTypeS
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:   &table,
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String(store.DynamoPK), AttributeType: s},
			{AttributeName: aws.String(store.DynamoSK), AttributeType: s},
			{AttributeName: aws.String(store.DynamoIndexPK), AttributeType: s},
			{AttributeName: aws.String(store.DynamoIndexSK), AttributeType: s},
			{AttributeName: aws.String(store.DynamoDuePK), AttributeType: s},
			{AttributeName: aws.String(store.DynamoDueSK), AttributeType: s},
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
		}, dueIndex()},
		StreamSpecification: streamSpec(),
	})
	var inUse *types.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("store: create table %s: %w", table, err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay, o.MaxDelay = time.Second, 10*time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &table}, 10*time.Minute); err != nil {
		return fmt.Errorf("store: table %s did not become active: %w", table, err)
	}
	desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("store: describe table %s: %w", table, err)
	}
	if err := checkLayout(desc.Table); err != nil {
		return fmt.Errorf("store: table %s: %w", table, err)
	}
	if err := upgradeOutbox(ctx, client, table, desc.Table); err != nil {
		return fmt.Errorf("store: table %s: %w", table, err)
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &table})
	if err != nil {
		return fmt.Errorf("store: table %s: describe TTL: %w", table, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil {
		switch d.TimeToLiveStatus {
		case types.TimeToLiveStatusEnabled, types.TimeToLiveStatusEnabling:
			if a := aws.ToString(d.AttributeName); a != store.DynamoTTL {
				return fmt.Errorf("store: table %s: TTL is on attribute %q, want %q", table, a, store.DynamoTTL)
			}
			return nil
		}
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &table,
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(store.DynamoTTL),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("store: table %s: turn on TTL: %w", table, err)
	}
	return nil
}

// checkLayout reports an existing table whose key or byTime index is not
// the one callfn uses.
func checkLayout(t *types.TableDescription) error {
	if t == nil {
		return errors.New("no table description")
	}
	keyIs := func(ks []types.KeySchemaElement, hash, rng string) bool {
		var h, r string
		for _, k := range ks {
			switch k.KeyType {
			case types.KeyTypeHash:
				h = aws.ToString(k.AttributeName)
			case types.KeyTypeRange:
				r = aws.ToString(k.AttributeName)
			}
		}
		return h == hash && r == rng
	}
	if !keyIs(t.KeySchema, store.DynamoPK, store.DynamoSK) {
		return fmt.Errorf("key is not (%s, %s)", store.DynamoPK, store.DynamoSK)
	}
	for _, g := range t.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) != store.DynamoIndexByTime {
			continue
		}
		if !keyIs(g.KeySchema, store.DynamoIndexPK, store.DynamoIndexSK) {
			return fmt.Errorf("index %s key is not (%s, %s)", store.DynamoIndexByTime, store.DynamoIndexPK, store.DynamoIndexSK)
		}
		if g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeAll {
			return fmt.Errorf("index %s does not project ALL attributes", store.DynamoIndexByTime)
		}
		return nil
	}
	return fmt.Errorf("no index %s", store.DynamoIndexByTime)
}
