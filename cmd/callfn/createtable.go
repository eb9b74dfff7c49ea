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

// createTable creates the DynamoDB table, its index and TTL, on the server
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
	if err := dynamo.CreateTable(ctx, dynamodb.NewFromConfig(awsCfg), *table); err != nil {
		return err
	}
	fmt.Printf("table %s is ready (indexes %s and %s, a stream, TTL on %s)\n", *table, store.DynamoIndexByTime, store.DynamoIndexDue, store.DynamoTTL)
	return nil
}
