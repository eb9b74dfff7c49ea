// Command callfn runs callfn locally and operates its table:
//
//	callfn serve                  every function on CALLFN_ADDR (what `make run` runs)
//	callfn events [--call ID]     the stored events, one JSON object a line
//	callfn send URL FILE          POST a sample callback, signed as its provider signs
//	callfn create-table [--table NAME]  create the DynamoDB table (AWS_ENDPOINT_URL_DYNAMODB)
//	callfn zip -o OUT FILE...     package binaries for upload (used by the Makefile)
//	callfn tencent set-callback --url URL | get-callback | delete-callback  Tencent's callback configuration
//
// Configuration comes from the environment, as in the functions (README).
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

var commands = map[string]func(ctx context.Context, args []string) error{
	"serve":        serve,
	"events":       events,
	"send":         send,
	"create-table": createTable,
	"zip":          zipCmd,
	"archive":      archive,
	"tencent":      tencentCmd,
	"deliveries":   deliveries, // deliveries.go
	"replay":       replay,     // replay.go
}

func main() {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if len(os.Args) < 2 || commands[os.Args[1]] == nil {
		fmt.Fprintln(os.Stderr, "usage: callfn serve | events [--call ID] | send URL FILE | create-table [--table NAME] | zip -o OUT FILE...")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if err := commands[os.Args[1]](ctx, os.Args[2:]); err != nil {
		fmt.Fprintln(os.Stderr, "callfn "+os.Args[1]+":", err)
		os.Exit(1)
	}
}
