package dynamo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/store"
)

// dueIndex is the outbox's index of Pending deliveries by endpoint and due
// time (store.DynamoIndexDue), projecting the keys and the TTL attribute.
func dueIndex() types.GlobalSecondaryIndex {
	return types.GlobalSecondaryIndex{
		IndexName: aws.String(store.DynamoIndexDue),
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String(store.DynamoDuePK), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String(store.DynamoDueSK), KeyType: types.KeyTypeRange},
		},
		Projection: &types.Projection{ProjectionType: types.ProjectionTypeInclude, NonKeyAttributes: store.DynamoDueProjected},
	}
}

// streamSpec is the table's stream: new images, which the forward
// function's trigger filters on (template.yaml).
func streamSpec() *types.StreamSpecification {
	return &types.StreamSpecification{StreamEnabled: aws.Bool(true), StreamViewType: types.StreamViewType(store.DynamoStreamView)}
}

// checkOutboxLayout reports what an existing table lacks of the outbox's
// layout: whether the due index must be created and the stream turned on;
// an error for a due index or a stream that is there but not callfn's.
func checkOutboxLayout(t *types.TableDescription) (addIndex, addStream bool, err error) {
	addIndex = true
	for _, g := range t.GlobalSecondaryIndexes {
		if aws.ToString(g.IndexName) != store.DynamoIndexDue {
			continue
		}
		addIndex = false
		var h, r string
		for _, k := range g.KeySchema {
			switch k.KeyType {
			case types.KeyTypeHash:
				h = aws.ToString(k.AttributeName)
			case types.KeyTypeRange:
				r = aws.ToString(k.AttributeName)
			}
		}
		if h != store.DynamoDuePK || r != store.DynamoDueSK {
			return false, false, fmt.Errorf("index %s key is not (%s, %s)", store.DynamoIndexDue, store.DynamoDuePK, store.DynamoDueSK)
		}
		p := g.Projection
		if p == nil || (p.ProjectionType != types.ProjectionTypeAll &&
			!(p.ProjectionType == types.ProjectionTypeInclude && containsAll(p.NonKeyAttributes, store.DynamoDueProjected))) {
			return false, false, fmt.Errorf("index %s does not project %v", store.DynamoIndexDue, store.DynamoDueProjected)
		}
	}
	s := t.StreamSpecification
	switch {
	case s == nil || !aws.ToBool(s.StreamEnabled):
		addStream = true
	case s.StreamViewType != types.StreamViewTypeNewImage && s.StreamViewType != types.StreamViewTypeNewAndOldImages:
		return false, false, fmt.Errorf("its stream's view type is %s; forwarding filters on new images (%s)", s.StreamViewType, store.DynamoStreamView)
	}
	return addIndex, addStream, nil
}

func containsAll(have, want []string) bool {
	for _, w := range want {
		if !slices.Contains(have, w) {
			return false
		}
	}
	return true
}

// upgradeOutbox gives an existing table what forwarding needs: the due
// index (created online; it waits until the index is ACTIVE) and the
// stream.
func upgradeOutbox(ctx context.Context, client *dynamodb.Client, table string, t *types.TableDescription) error {
	addIndex, addStream, err := checkOutboxLayout(t)
	if err != nil {
		return err
	}
	if addStream {
		if _, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: &table, StreamSpecification: streamSpec()}); err != nil {
			return fmt.Errorf("turn on the stream: %w", err)
		}
		if err := waitActive(ctx, client, table, ""); err != nil {
			return err
		}
	}
	if addIndex {
		s := types.ScalarAttributeTypeS
		idx := dueIndex()
		_, err := client.UpdateTable(ctx, &dynamodb.UpdateTableInput{
			TableName: &table,
			AttributeDefinitions: []types.AttributeDefinition{
				{AttributeName: aws.String(store.DynamoDuePK), AttributeType: s},
				{AttributeName: aws.String(store.DynamoDueSK), AttributeType: s},
			},
			GlobalSecondaryIndexUpdates: []types.GlobalSecondaryIndexUpdate{{Create: &types.CreateGlobalSecondaryIndexAction{
				IndexName: idx.IndexName, KeySchema: idx.KeySchema, Projection: idx.Projection,
			}}},
		})
		if err != nil {
			return fmt.Errorf("create index %s: %w", store.DynamoIndexDue, err)
		}
		if err := waitActive(ctx, client, table, store.DynamoIndexDue); err != nil {
			return err
		}
	}
	return nil
}

// waitActive waits until the table, and index when named, are ACTIVE.
func waitActive(ctx context.Context, client *dynamodb.Client, table, index string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Minute)
	defer cancel()
	for {
		desc, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
		if err != nil {
			return fmt.Errorf("describe: %w", err)
		}
		ready := desc.Table.TableStatus == types.TableStatusActive
		if index != "" {
			ready = false
			for _, g := range desc.Table.GlobalSecondaryIndexes {
				if aws.ToString(g.IndexName) == index && g.IndexStatus == types.IndexStatusActive {
					ready = desc.Table.TableStatus == types.TableStatusActive
				}
			}
		}
		if ready {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("waiting for %s to become active: %w", table+" "+index, ctx.Err())
		case <-time.After(time.Second):
		}
	}
}
