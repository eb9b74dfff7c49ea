package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/loopback"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/webhook"
)

// tencentUsage is `callfn tencent`'s help.
const tencentUsage = `usage: callfn tencent COMMAND [flags]

Configures Tencent's side of callfn through Tencent's REST API, as the app
administrator (CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY,
CALLFN_TENCENT_ADMIN, CALLFN_TENCENT_REGION; CALLFN_TENCENT_ENDPOINT for a
proxy or the local sandbox).

commands:
  set-callback --url URL [--commands A,B,...] [--api v4|v1]
        point Tencent's call callbacks at callfn's webhook (URL is the
        deployment's .../webhook/tencent), then read the setting back.
        --commands defaults to every callback the webhook reads.
  get-callback [--api v4|v1]
        print the callback URL and commands Tencent has (exit 1 if none)
  delete-callback [--api v4|v1]
        stop Tencent's callbacks of that generation

--api defaults to CALLFN_TENCENT_API_VERSION (v4 unless set). The URL must
be https (http only for a loopback address, such as the local sandbox's).
Exit status: 0 done, 1 Tencent refused or failed, 2 usage or configuration.`

// Exit statuses of `callfn tencent`.
const (
	exitOK     = 0
	exitFailed = 1 // Tencent refused or failed, or nothing is configured
	exitUsage  = 2 // bad flags, or Tencent not configured here
)

// tencentTimeout bounds one command: a few requests, each allowed
// rest.DefaultTimeout.
const tencentTimeout = 45 * time.Second

// tencentCmd is `callfn tencent`. It sets its own exit status: 2 for usage
// and configuration errors, 0 for help.
func tencentCmd(ctx context.Context, args []string) error {
	if code := runTencent(ctx, args, os.Getenv, os.Stdout, os.Stderr); code != exitOK {
		os.Exit(code)
	}
	return nil
}

// runTencent runs `callfn tencent args` with the environment getenv and
// returns the exit status.
func runTencent(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprintln(stderr, tencentUsage)
		return exitUsage
	}
	sub, args := args[0], args[1:]
	switch sub {
	case "-h", "-help", "--help", "help":
		fmt.Fprintln(stdout, tencentUsage)
		return exitOK
	case "set-callback", "get-callback", "delete-callback":
	default:
		fmt.Fprintf(stderr, "callfn tencent: unknown command %q\n\n%s\n", sub, tencentUsage)
		return exitUsage
	}
	t := &tencentRun{name: "callfn tencent " + sub, stdout: stdout, stderr: stderr}
	fs := flag.NewFlagSet(t.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // errors are printed below, once
	fs.Usage = func() {}
	api := fs.String("api", "", "the generation: v4 (IM call engine) or v1 (CallKit backend); default CALLFN_TENCENT_API_VERSION")
	var hookURL, commands *string
	if sub == "set-callback" {
		hookURL = fs.String("url", "", "the webhook's URL, ending in /webhook/tencent")
		commands = fs.String("commands", "", "comma-separated callback commands (default: every one the webhook reads)")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, tencentUsage)
			return exitOK
		}
		return t.usage("%v", err)
	}
	if fs.NArg() > 0 {
		return t.usage("unexpected arguments %q", fs.Args())
	}
	if *api != "" && *api != tencent.V4 && *api != tencent.V1 {
		return t.usage("--api %q: want v4 or v1", *api)
	}
	if sub == "set-callback" && *hookURL == "" {
		return t.usage("--url is required: the webhook's URL, such as https://<api>%s", webhookPath)
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return t.usage("%v", err)
	}
	if missing := missingTencent(cfg); len(missing) > 0 {
		fmt.Fprintf(stderr, "%s: Tencent is not configured: set %s (the app and its UserSig key; CALLFN_TENCENT_REGION "+
			"names its region, CALLFN_TENCENT_ENDPOINT a proxy or the local sandbox)\n", t.name, strings.Join(missing, " and "))
		return exitUsage
	}
	t.api = *api
	if t.api == "" {
		t.api = cfg.TencentAPI
	}
	var cmds []string
	if sub == "set-callback" {
		warnings, err := checkHookURL(*hookURL, cfg.TencentEndpoint == "")
		if err != nil {
			return t.usage("--url: %v", err)
		}
		for _, w := range warnings {
			fmt.Fprintf(stderr, "%s: warning: %s\n", t.name, w)
		}
		if cmds, err = callbackCommands(t.api, *commands); err != nil {
			return t.usage("--commands: %v", err)
		}
	}
	client, err := rest.FromConfig(cfg, rest.Options{})
	if err != nil {
		return t.usage("%v", err)
	}
	t.client, t.appID = client, cfg.TencentAppID
	ctx, cancel := context.WithTimeout(ctx, tencentTimeout)
	defer cancel()
	switch sub {
	case "set-callback":
		code := t.set(ctx, *hookURL, cmds)
		// The callback token (Sign, RequestTime) is the IM family's, so v4's.
		if code == exitOK && t.api == tencent.V4 && cfg.CallbackToken == "" {
			fmt.Fprintf(stderr, "%s: note: CALLFN_TENCENT_CALLBACK_TOKEN is not set, so the webhook takes any callback "+
				"that names this SDKAppID: set a callback token in Tencent's console and the same value as the webhook's "+
				"CALLFN_TENCENT_CALLBACK_TOKEN (README, Deploy)\n", t.name)
		}
		return code
	case "get-callback":
		return t.get(ctx)
	default:
		return t.delete(ctx)
	}
}

// tencentRun is one `callfn tencent` command under way.
type tencentRun struct {
	name           string
	api            string
	appID          uint64
	client         *rest.Client
	stdout, stderr io.Writer
}

func (t *tencentRun) usage(format string, args ...any) int {
	fmt.Fprintf(t.stderr, "%s: %s\n(callfn tencent --help shows the usage)\n", t.name, fmt.Sprintf(format, args...))
	return exitUsage
}

func (t *tencentRun) failed(err error) int {
	fmt.Fprintf(t.stderr, "%s: %v\n", t.name, err)
	return exitFailed
}

// where names the app and the API, as the output's headings do.
func (t *tencentRun) where() string {
	return fmt.Sprintf("%s callback of SDKAppID %d (%s)", t.api, t.appID, t.client.Where())
}

func (t *tencentRun) set(ctx context.Context, hookURL string, cmds []string) int {
	if _, err := t.client.SetCallback(ctx, t.api, hookURL, cmds); err != nil {
		return t.failed(err)
	}
	fmt.Fprintf(t.stdout, "set the %s:\n", t.where())
	printCallback(t.stdout, hookURL, cmds)
	got, _, err := t.client.GetCallback(ctx, t.api)
	if err != nil {
		return t.failed(fmt.Errorf("reading it back: %w", err))
	}
	fmt.Fprintln(t.stdout, "read back:")
	printCallback(t.stdout, got.URL, got.Commands)
	if got.URL != hookURL || !sameSet(got.Commands, cmds) {
		//lint:ignore ST1005 "Tencent" is a proper noun, and the command prints this
		return t.failed(errors.New("Tencent's configuration is not what was set (another administrator may have changed it): run the command again"))
	}
	fmt.Fprintln(t.stdout, "ok")
	return exitOK
}

func (t *tencentRun) get(ctx context.Context) int {
	got, _, err := t.client.GetCallback(ctx, t.api)
	if errors.Is(err, rest.ErrNotConfigured) {
		fmt.Fprintf(t.stderr, "%s: no %s is configured\n", t.name, t.where())
		return exitFailed
	}
	if err != nil {
		return t.failed(err)
	}
	fmt.Fprintf(t.stdout, "the %s:\n", t.where())
	printCallback(t.stdout, got.URL, got.Commands)
	return exitOK
}

func (t *tencentRun) delete(ctx context.Context) int {
	_, err := t.client.DeleteCallback(ctx, t.api)
	if errors.Is(err, rest.ErrNotConfigured) {
		fmt.Fprintf(t.stdout, "no %s was configured\n", t.where())
		return exitOK
	}
	if err != nil {
		return t.failed(err)
	}
	fmt.Fprintf(t.stdout, "deleted the %s\n", t.where())
	return exitOK
}

func printCallback(w io.Writer, u string, cmds []string) {
	fmt.Fprintf(w, "  url       %s\n", u)
	fmt.Fprintf(w, "  commands  %s\n", strings.Join(cmds, ", "))
}

// missingTencent names the variables a REST request needs that cfg lacks.
func missingTencent(cfg config.Config) []string {
	var missing []string
	if cfg.TencentAppID == 0 {
		missing = append(missing, "CALLFN_TENCENT_SDKAPPID")
	}
	if cfg.TencentKey == "" {
		missing = append(missing, "CALLFN_TENCENT_SECRET_KEY")
	}
	return missing
}

// webhookPath is the path Tencent's callbacks reach the webhook on.
var webhookPath = strings.TrimPrefix(webhook.RouteTencent, "POST ")

// checkHookURL checks a callback URL: it must be absolute https, or http
// on a loopback address (the local sandbox delivers only there), with no
// query or fragment (Tencent appends its own query: ?SdkAppid=...). A path
// not ending in /webhook/tencent, or a loopback URL given to Tencent's own
// servers (realTencent), is only warned about: a reverse proxy or a custom
// domain's base path may rewrite the path, and a tunnel may forward to it.
func checkHookURL(raw string, realTencent bool) (warnings []string, err error) {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Scheme == "" {
		return nil, fmt.Errorf("%q is not an absolute URL: want https://<host>%s", raw, webhookPath)
	}
	onLoopback := loopback.Host(u.Hostname())
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && onLoopback:
	case u.Scheme == "http":
		return nil, fmt.Errorf("%q is plain http: callbacks carry call data and their Sign in the clear; use https (http only for a loopback address)", raw)
	default:
		return nil, fmt.Errorf("%q: want an https URL", raw)
	}
	if u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return nil, fmt.Errorf("%q has a query or fragment: Tencent appends its own query (?SdkAppid=...), so give the bare URL", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("the URL holds a user name or password: Tencent would send it with every callback")
	}
	if !strings.HasSuffix(u.Path, webhookPath) {
		warnings = append(warnings, fmt.Sprintf("%q does not end in %s, where callfn's webhook takes Tencent's callbacks; "+
			"fine only if a proxy or custom domain maps it there", raw, webhookPath))
	}
	if onLoopback && realTencent {
		warnings = append(warnings, fmt.Sprintf("%q is a loopback address, which Tencent's servers cannot reach", raw))
	}
	return warnings, nil
}

// callbackCommands is --commands for generation api: the list given, each
// one the webhook reads, or by default all of them (callback.Commands).
func callbackCommands(api, list string) ([]string, error) {
	known := callback.Commands(api)
	if strings.TrimSpace(list) == "" {
		return known, nil
	}
	var cmds []string
	for _, k := range strings.Split(list, ",") {
		k = strings.TrimSpace(k)
		switch {
		case k == "":
			continue
		case !slices.Contains(known, k):
			return nil, fmt.Errorf("%q is not a %s callback command callfn reads; the %s commands are: %s",
				k, api, api, strings.Join(known, ", "))
		case !slices.Contains(cmds, k):
			cmds = append(cmds, k)
		}
	}
	if len(cmds) == 0 {
		return nil, errors.New("no command named")
	}
	return cmds, nil
}

// sameSet reports whether a and b hold the same commands, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Sorted(slices.Values(a)), slices.Sorted(slices.Values(b))
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}
