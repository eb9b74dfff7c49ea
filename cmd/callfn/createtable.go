package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
)

// createTable creates the DynamoDB table, its indexes and TTL, on the server
// the AWS SDK is pointed at (AWS_ENDPOINT_URL_DYNAMODB for a local one).
func createTable(ctx context.Context, args []string) error {
	fs := newFlags("create-table")
	table := fs.String("table", "", "table name (default: from CALLFN_STORE=dynamodb:TABLE, else callfn)")
	cfg, err := parseCommand(fs, args)
	if err != nil {
		return err
	}
	if *table == "" {
		*table = "callfn"
		if t, ok := strings.CutPrefix(cfg.Store, "dynamodb:"); ok && t != "" {
			*table = t
		}
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	client := dynamodb.NewFromConfig(awsCfg)
	if err := dynamo.CreateTable(ctx, client, *table); err != nil {
		return err
	}
	// A table made before the call history: its calls join the per-user
	// lists and the rollups (a no-op on a new table, and when done).
	n, err := dynamo.Backfill(ctx, dynamo.New(client, *table, store.Options{Retention: cfg.Retention()}))
	if err != nil {
		return err
	}
	fmt.Printf("table %s is ready (indexes %s, %s and %s, a stream, TTL on %s); %d earlier calls added to the history's indexes\n",
		*table, store.DynamoIndexByTime, store.DynamoIndexByUser, store.DynamoIndexDue, store.DynamoTTL, n)
	return nil
}

// checkDynamoTable fails unless table exists, and is active, on the
// DynamoDB the AWS SDK is pointed at.
func checkDynamoTable(ctx context.Context, table string) error {
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	where := os.Getenv("AWS_ENDPOINT_URL_DYNAMODB")
	if where == "" {
		where = "DynamoDB in " + cmp.Or(awsCfg.Region, "no region (AWS_REGION)")
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	out, err := dynamodb.NewFromConfig(awsCfg).DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &table})
	var nf *types.ResourceNotFoundException
	switch {
	case errors.As(err, &nf):
		return fmt.Errorf("no table %q at %s: create it with `callfn create-table` (or deploy template.yaml and use its CallsTableName)", table, where)
	case err != nil:
		return fmt.Errorf("table %q at %s: %w", table, where, err)
	case out.Table.TableStatus != types.TableStatusActive:
		return fmt.Errorf("table %q at %s is %s, not ACTIVE yet", table, where, out.Table.TableStatus)
	}
	return nil
}
