package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
)

// createTable creates the DynamoDB table, its indexes and TTL, on the server
// the AWS SDK is pointed at (AWS_ENDPOINT_URL_DYNAMODB for a local one).
func createTable(ctx context.Context, args []string) error {
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	fs := flag.NewFlagSet("create-table", flag.ContinueOnError)
	def, _ := strings.CutPrefix(cfg.Store, "dynamodb:")
	if !strings.HasPrefix(cfg.Store, "dynamodb:") {
		def = "callfn"
	}
	table := fs.String("table", def, "table name (default: from CALLFN_STORE=dynamodb:TABLE, else callfn)")
	if err := fs.Parse(args); err != nil {
		return err
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
	fmt.Printf("table %s is ready (indexes %s and %s, TTL on %s); %d earlier calls added to the history's indexes\n",
		*table, store.DynamoIndexByTime, store.DynamoIndexByUser, store.DynamoTTL, n)
	return nil
}
