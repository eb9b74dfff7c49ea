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
// key, the byTime, byUser and due indexes, the stream), waits until it is
// ACTIVE and turns on TTL on store.DynamoTTL. An existing table is kept,
// gets the indexes it lacks (a table made before the call history or before
// forwarding; DynamoDB builds an index from the items already there, and
// CreateTable waits until it has) and the stream, is checked for the same
// key and indexes, and gets TTL turned on if it has none.
func CreateTable(ctx context.Context, client *dynamodb.Client, table string) error {
	var indexes []types.GlobalSecondaryIndex
	for _, ix := range store.DynamoIndexes {
		indexes = append(indexes, gsi(ix))
	}
	_, err := client.CreateTable(ctx, &dynamodb.CreateTableInput{
		TableName:            &table,
		BillingMode:          types.BillingModePayPerRequest,
		AttributeDefinitions: attributeDefinitions(),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(store.DynamoPK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(store.DynamoSK), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: append(indexes, dueIndex()),
		StreamSpecification:    streamSpec(),
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
	if desc.Table, err = addIndexes(ctx, client, desc.Table); err != nil {
		return fmt.Errorf("store: table %s: %w", table, err)
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
	for _, ix := range store.DynamoIndexes {
		g := findIndex(t, ix.Name)
		if g == nil {
			return fmt.Errorf("no index %s", ix.Name)
		}
		if !keyIs(g.KeySchema, ix.PK, ix.SK) {
			return fmt.Errorf("index %s key is not (%s, %s)", ix.Name, ix.PK, ix.SK)
		}
		if g.Projection == nil || g.Projection.ProjectionType != types.ProjectionTypeAll {
			return fmt.Errorf("index %s does not project ALL attributes", ix.Name)
		}
	}
	return nil
}

func findIndex(t *types.TableDescription, name string) *types.GlobalSecondaryIndexDescription {
	for i := range t.GlobalSecondaryIndexes {
		if aws.ToString(t.GlobalSecondaryIndexes[i].IndexName) == name {
			return &t.GlobalSecondaryIndexes[i]
		}
	}
	return nil
}

func gsi(ix store.DynamoIndex) types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName: aws.String(ix.Name),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(ix.PK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(ix.SK), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeAll},
	}
}

// attributeDefinitions are the table's key attributes, every index's too.
func attributeDefinitions() []types.AttributeDefinition {
	s := types.ScalarAttributeTypeS
	defs := []types.AttributeDefinition{
		{AttributeName: aws.String(store.DynamoPK), AttributeType: s},
		{AttributeName: aws.String(store.DynamoSK), AttributeType: s},
	}
	for _, ix := range store.DynamoIndexes {
		defs = append(defs, indexKeyDefinitions(ix)...)
	}
	return append(defs,
		types.AttributeDefinition{AttributeName: aws.String(store.DynamoDuePK), AttributeType: s},
		types.AttributeDefinition{AttributeName: aws.String(store.DynamoDueSK), AttributeType: s})
}

func indexKeyDefinitions(ix store.DynamoIndex) []types.AttributeDefinition {
	s := types.ScalarAttributeTypeS
	return []types.AttributeDefinition{
		{AttributeName: aws.String(ix.PK), AttributeType: s},
		{AttributeName: aws.String(ix.SK), AttributeType: s},
	}
}

// addIndexes creates the indexes t lacks, one at a time (DynamoDB builds
// one at a time), and waits until each is ACTIVE; it returns the table as
// it then is.
func addIndexes(ctx context.Context, client *dynamodb.Client, t *types.TableDescription) (*types.TableDescription, error) {
	if t == nil {
		return nil, errors.New("no table description")
	}
	for _, ix := range store.DynamoIndexes {
		if findIndex(t, ix.Name) != nil {
			continue
		}
		create := gsi(ix)
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName:            t.TableName,
			AttributeDefinitions: indexKeyDefinitions(ix),
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: create.IndexName, KeySchema: create.KeySchema, Projection: create.Projection,
			}}},
		})
		if err != nil {
			return nil, fmt.Errorf("add index %s: %w", ix.Name, err)
		}
		for {
			out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: t.TableName})
			if err != nil {
				return nil, fmt.Errorf("add index %s: %w", ix.Name, err)
			}
			t = out.Table
			if g := findIndex(t, ix.Name); g != nil && g.IndexStatus == types.IndexStatusActive {
				break
			}
			select {
			case <-ctx.Done():
				return nil, fmt.Errorf("add index %s: %w", ix.Name, ctx.Err())
			case <-time.After(time.Second):
			}
		}
	}
	return t, nil
}
