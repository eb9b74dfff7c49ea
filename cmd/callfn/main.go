// Command callfn runs callfn locally and operates its table:
//
//	callfn serve                  every function on CALLFN_ADDR (what `make run` runs)
//	callfn events [--call ID]     the stored events, one JSON object a line
//	callfn send URL FILE          POST a sample callback, signed as its provider signs
//	callfn archive [--since 7d]   archive Tencent's call records into the table
//	callfn create-table [--table NAME]  create the DynamoDB table (AWS_ENDPOINT_URL_DYNAMODB)
//	callfn usersig [--ttl D] USER a UserSig for USER, for GET /me/calls
//	callfn zip -o OUT FILE...     package binaries for upload (used by the Makefile)
//	callfn tencent set-callback --url URL | get-callback | delete-callback  Tencent's callback configuration
//	callfn help [COMMAND]         this list, or one command's help
//
// Configuration comes from the environment, as in the functions (README).
// serve is the composition root of the webhook, startcall and records
// functions at once (and forwards in process): it opens the table once and
// builds ONE Tencent REST client (rest.FromConfig) that startcall and
// records share.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/callfn/callfn/shared/config"
)

type command struct {
	name     string
	synopsis string // the arguments, after the name
	short    string // one line, for the list
	long     string // what `callfn help NAME` adds
	run      func(ctx context.Context, args []string) error
}

// commands, in the order the usage lists them (set in init: the commands'
// help refers back to the list).
var commands []command

func init() {
	commands = []command{
		{"serve", "", "serve every function on CALLFN_ADDR (what make run runs)",
			"Serves every function in one process on CALLFN_ADDR (default 127.0.0.1:8080), with\n" +
				"the table CALLFN_STORE names, GET /healthz, and loopback-only routes for\n" +
				"`callfn events` and for firing schedules by hand (/_callfn/schedule/FUNCTION).\n" +
				"Without Tencent credentials a local sandbox plays Tencent. It takes no flags:\n" +
				"the address is CALLFN_ADDR, e.g. CALLFN_ADDR=127.0.0.1:9000 callfn serve.", serve},
		{"events", "[--call ID]", "print the stored events, one JSON object a line",
			"Prints the stored events as JSON lines, reading the table directly, or asking a\n" +
				"running `callfn serve` (over loopback) while it holds the embedded table.", events},
		{"send", "URL FILE", "send a sample request, signed as its provider signs it",
			"FILE is a body to POST to URL (- for standard input), or an API gateway event from\n" +
				"events/lambda/ whose method, path, query, headers and body are sent to URL's host.\n" +
				"Callbacks are signed with this machine's settings: Yunxin's headers for\n" +
				"/webhook/yunxin/*, and SdkAppid (RequestTime and Sign with a callback token) for\n" +
				"/webhook/tencent.", send},
		{"archive", "[--since 7d] [--page-size 100] [--rate 150]", "archive Tencent's call records into the table",
			"Runs the records archive by hand, as the records function's schedule does: pages\n" +
				"through Tencent's records and stores them in the table, with a progress bar on\n" +
				"stderr and a summary on stdout. Needs CALLFN_TENCENT_SDKAPPID and\n" +
				"CALLFN_TENCENT_SECRET_KEY (`callfn serve` prints its sandbox's), and the table to\n" +
				"itself. Tencent keeps records 7 days: --since cannot go further back.", archive},
		{"create-table", "[--table NAME]", "create the DynamoDB table, its indexes, stream and TTL",
			"Creates the table on the DynamoDB the AWS SDK is pointed at (AWS_ENDPOINT_URL_DYNAMODB\n" +
				"for a local one), named by --table or CALLFN_STORE=dynamodb:NAME. A table made before\n" +
				"the call history gets the indexes it lacks, and its earlier calls are added to them.", createTable},
		{"usersig", "[--ttl 24h] USER", "print a UserSig for USER, the credential GET /me/calls takes",
			"Prints a UserSig for USER, as a TUICallKit client holds one: signed with\n" +
				"CALLFN_TENCENT_SDKAPPID and CALLFN_TENCENT_SECRET_KEY, or, with no Tencent\n" +
				"credentials, for the sandbox `callfn serve` then plays. Send it as\n" +
				"Authorization: UserSig <sig> with X-User-Id: USER.", usersig},
		{"zip", "-o OUT FILE...", "package binaries for upload (used by the Makefile)",
			"Writes the files, flat and executable, into the zip OUT.", zipCmd},
		{"tencent", "set-callback --url URL | get-callback | delete-callback", "configure Tencent's callback URL and commands over its REST API",
			tencentUsage, tencentCmd},
		{"deliveries", "[--call ID] [--failed] [--json]", "list forwarding's deliveries: where each stands, its last and next attempt",
			deliveriesHelp, deliveries},
		{"replay", "--call ID | --since 1h [--url URL]", "deliver stored events again to the forwarding endpoints, same webhook-ids",
			replayHelp, replay},
	}
}

func find(name string) *command {
	for i := range commands {
		if commands[i].name == name {
			return &commands[i]
		}
	}
	return nil
}

func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// usage lists every command.
func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: callfn COMMAND [ARGUMENTS]")
	fmt.Fprintln(w)
	for _, c := range commands {
		fmt.Fprintf(w, "  %-14s %s\n", c.name, c.short)
	}
	fmt.Fprintf(w, "  %-14s %s\n", "help", "this list; help COMMAND (or COMMAND --help) tells more")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Settings come from the environment (CALLFN_*), as in the deployed functions; see README.")
}

// errHelpShown: a command printed its help because it was asked to.
var errHelpShown = errors.New("help shown")

// newFlags is a command's flag set: its errors are returned, not printed,
// and -h/--help prints the command's help on stdout (parseFlags).
func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseFlags parses args into fs, printing the command's help on stdout for
// -h or --help (errHelpShown).
func parseFlags(fs *flag.FlagSet, args []string) error {
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		printHelp(os.Stdout, fs)
		return errHelpShown
	}
	if err != nil {
		return fmt.Errorf("%w (callfn help %s)", err, fs.Name())
	}
	return nil
}

// parseCommand parses args into fs as parseFlags does, refuses arguments
// after the flags, and reads the configuration: the start of a command
// that takes flags only.
func parseCommand(fs *flag.FlagSet, args []string) (config.Config, error) {
	if err := parseFlags(fs, args); err != nil {
		return config.Config{}, err
	}
	if fs.NArg() > 0 {
		return config.Config{}, fmt.Errorf("unexpected arguments %q (callfn help %s)", fs.Args(), fs.Name())
	}
	return config.FromEnv()
}

func printHelp(w io.Writer, fs *flag.FlagSet) {
	c := find(fs.Name())
	fmt.Fprintf(w, "usage: callfn %s %s\n\n%s\n", c.name, c.synopsis, c.long)
	var flags bytes.Buffer
	fs.SetOutput(&flags)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	if flags.Len() > 0 {
		fmt.Fprintf(w, "\nflags:\n%s", flags.String())
	}
}

func main() {
	os.Exit(runMain(os.Args[1:]))
}

// runMain is main, returning the exit status.
func runMain(args []string) int {
	slog.SetDefault(slog.New(slog.NewJSONHandler(os.Stderr, nil)))
	if len(args) == 0 {
		usage(os.Stderr)
		return 2
	}
	name := args[0]
	if isHelp(name) {
		if len(args) > 1 && !isHelp(args[1]) {
			if find(args[1]) == nil {
				fmt.Fprintf(os.Stderr, "callfn help: no command %q\n\n", args[1])
				usage(os.Stderr)
				return 2
			}
			name, args = args[1], []string{args[1], "--help"}
		} else {
			usage(os.Stdout)
			return 0
		}
	}
	c := find(name)
	if c == nil {
		fmt.Fprintf(os.Stderr, "callfn: no command %q\n\n", name)
		usage(os.Stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	err := c.run(ctx, args[1:])
	switch {
	case errors.Is(err, errHelpShown):
		return 0
	case err != nil:
		fmt.Fprintln(os.Stderr, "callfn "+name+":", strings.TrimSpace(err.Error()))
		return 1
	}
	return 0
}
