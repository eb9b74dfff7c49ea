package dynamo

import (
	"context"
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/store"
)

func (d *tableStore) Claim(ctx context.Context, key string, until time.Time) (bool, error) {
	if err := d.check(ctx); err != nil {
		return false, err
	}
	item, err := marshalItem(dynClaim{dynKey{pkClaim + key, skClaim}, until.Unix()})
	if err != nil {
		return false, d.errorf("claim %q: %w", key, err)
	}
	vals, err := exprValues(map[string]any{":now": d.opts.Time().Unix()})
	if err != nil {
		return false, d.errorf("claim %q: %w", key, err)
	}
	put, err := d.putUnlessLive(ctx, item, vals)
	if err != nil {
		return false, d.errorf("claim %q: %w", key, err)
	}
	return put, nil
}

// putUnlessLive writes item unless an item of its key is there and has not
// expired by vals' :now; put is false when one is.
func (d *tableStore) putUnlessLive(ctx context.Context, item, vals map[string]types.AttributeValue) (put bool, err error) {
	_, err = d.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &d.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expiresAt <= :now"),
		ExpressionAttributeNames:  names(store.DynamoPK, store.DynamoTTL),
		ExpressionAttributeValues: vals,
	})
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return false, nil
	}
	return err == nil, err
}

func (d *tableStore) GetMeta(ctx context.Context, name string) (string, error) {
	if err := d.check(ctx); err != nil {
		return "", err
	}
	key, err := itemKey(pkMeta+name, skMeta)
	if err != nil {
		return "", d.errorf("meta %q: %w", name, err)
	}
	out, err := d.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &d.table, Key: key, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return "", d.errorf("meta %q: %w", name, err)
	}
	if out.Item == nil {
		return "", nil
	}
	var m dynMeta
	if err := unmarshalItem(out.Item, &m); err != nil {
		return "", d.errorf("meta %q: %w", name, err)
	}
	return m.Value, nil
}

func (d *tableStore) PutMeta(ctx context.Context, name, value string) error {
	if err := d.check(ctx); err != nil {
		return err
	}
	item, err := marshalItem(dynMeta{dynKey{pkMeta + name, skMeta}, value})
	if err != nil {
		return d.errorf("meta %q: %w", name, err)
	}
	if _, err := d.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &d.table, Item: item}); err != nil {
		return d.errorf("meta %q: %w", name, err)
	}
	return nil
}
