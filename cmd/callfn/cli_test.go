package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/testkit/dynamolocal"
)

// runStatus runs the callfn binary and returns its exit status, stdout and
// stderr.
func runStatus(t *testing.T, bin string, env []string, args ...string) (int, string, string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return code, stdout.String(), stderr.String()
}

// TestHelp: help as people ask for it prints help on stdout and exits 0;
// the list names every command.
func TestHelp(t *testing.T) {
	bin := callfnBin(t)
	env := append(os.Environ(), "CALLFN_TENCENT_SDKAPPID=not-a-number") // help needs no valid settings
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}, {"-help"}} {
		code, out, errOut := runStatus(t, bin, env, args...)
		if code != 0 || !strings.Contains(out, "usage: callfn COMMAND") || errOut != "" {
			t.Errorf("callfn %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
		for _, c := range commands {
			if !strings.Contains(out, "\n  "+c.name+" ") {
				t.Errorf("callfn %v does not list %s:\n%s", args, c.name, out)
			}
		}
	}
	if _, out, _ := runStatus(t, bin, env, "--help"); !strings.Contains(out, "\n  archive ") {
		t.Errorf("the list leaves out archive:\n%s", out)
	}
	for _, c := range commands {
		for _, args := range [][]string{{"help", c.name}, {c.name, "--help"}, {c.name, "-h"}} {
			code, out, errOut := runStatus(t, bin, env, args...)
			if code != 0 || !strings.HasPrefix(out, "usage: callfn "+c.name) || errOut != "" {
				t.Errorf("callfn %v: exit %d, stdout %q, stderr %q", args, code, out, errOut)
			}
		}
	}
	if _, out, _ := runStatus(t, bin, env, "help", "archive"); !strings.Contains(out, "-since") {
		t.Errorf("callfn help archive lists no flags:\n%s", out)
	}
	// Mistakes exit non-zero, on stderr.
	for _, args := range [][]string{{}, {"nosuch"}, {"help", "nosuch"}} {
		if code, out, errOut := runStatus(t, bin, env, args...); code != 2 || out != "" || !strings.Contains(errOut, "usage: callfn") {
			t.Errorf("callfn %v: exit %d, stdout %q, stderr %q; want 2 and the list on stderr", args, code, out, errOut)
		}
	}
}

// TestServeFlags: serve takes its address from CALLFN_ADDR and says so to
// whoever tries a flag.
func TestServeFlags(t *testing.T) {
	bin := callfnBin(t)
	for _, flag := range []string{"--port", "--addr", "-listen"} {
		code, _, errOut := runStatus(t, bin, os.Environ(), "serve", flag, "9000")
		if code != 1 || !strings.Contains(errOut, "CALLFN_ADDR") || !strings.Contains(errOut, flag[strings.LastIndex(flag, "-"):]) {
			t.Errorf("serve %s 9000: exit %d, %q; want an error pointing at CALLFN_ADDR", flag, code, errOut)
		}
	}
}

// TestArchiveRefusals: `callfn archive` without the Tencent app it needs,
// or asked further back than Tencent keeps records, says so and prints no
// summary.
func TestArchiveRefusals(t *testing.T) {
	bin := callfnBin(t)
	base := append(os.Environ(), "CALLFN_STORE=memory:", "CALLFN_TENCENT_ENDPOINT=http://127.0.0.1:9")
	for _, c := range []struct {
		name string
		env  []string
		args []string
		want []string
	}{
		{"no key", []string{"CALLFN_TENCENT_SDKAPPID=1400000001", "CALLFN_TENCENT_SECRET_KEY="}, nil,
			[]string{"missing CALLFN_TENCENT_SECRET_KEY"}},
		{"no app", []string{"CALLFN_TENCENT_SDKAPPID=", "CALLFN_TENCENT_SECRET_KEY=k"}, nil,
			[]string{"missing CALLFN_TENCENT_SDKAPPID"}},
		{"nothing", []string{"CALLFN_TENCENT_SDKAPPID=", "CALLFN_TENCENT_SECRET_KEY="}, nil,
			[]string{"missing CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY"}},
		{"30 days", []string{"CALLFN_TENCENT_SDKAPPID=1400000001", "CALLFN_TENCENT_SECRET_KEY=k"}, []string{"--since", "30d"},
			[]string{"--since 30d", "7 days"}},
		{"200 hours", []string{"CALLFN_TENCENT_SDKAPPID=1400000001", "CALLFN_TENCENT_SECRET_KEY=k"}, []string{"--since", "200h"},
			[]string{"--since 200h", "7 days"}},
	} {
		code, out, errOut := runStatus(t, bin, append(append([]string{}, base...), c.env...), append([]string{"archive"}, c.args...)...)
		if code != 1 || out != "" {
			t.Errorf("%s: exit %d, stdout %q; want 1 and no summary", c.name, code, out)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: %q does not say %q", c.name, errOut, w)
			}
		}
		if strings.Contains(out+errOut, "1970") {
			t.Errorf("%s: talks of 1970: %s%s", c.name, out, errOut)
		}
	}
}

// TestBoltDirectoryMustExist: a typo in bolt:PATH is an error, not a new
// directory.
func TestBoltDirectoryMustExist(t *testing.T) {
	bin := callfnBin(t)
	dir := filepath.Join(t.TempDir(), "no", "such", "dir")
	env := append(os.Environ(), "CALLFN_STORE=bolt:"+filepath.Join(dir, "x.db"), "CALLFN_ADDR="+freeAddr(t))
	code, _, errOut := runStatus(t, bin, env, "serve")
	if code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Errorf("serve over bolt:%s/x.db: exit %d, %q; want an error saying the directory does not exist", dir, code, errOut)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !os.IsNotExist(err) {
		t.Errorf("serve created %s (%v)", filepath.Dir(dir), err)
	}
}

// TestServeChecksTheDynamoTable: over DynamoDB, serve does not answer
// /healthz ok over a table that is not there.
func TestServeChecksTheDynamoTable(t *testing.T) {
	bin := callfnBin(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	ddb, err := dynamolocal.Start(ctx)
	if err != nil {
		t.Fatalf("this test needs DynamoDB Local: %v", err)
	}
	defer ddb.Close()
	addr := freeAddr(t)
	env := append(os.Environ(), "CALLFN_STORE=dynamodb:callfn-cli-test", "CALLFN_ADDR="+addr,
		"AWS_ENDPOINT_URL_DYNAMODB="+ddb.Endpoint(), "AWS_REGION=us-east-1", "AWS_ACCESS_KEY_ID=local", "AWS_SECRET_ACCESS_KEY=local",
		"CALLFN_TENCENT_SECRET_KEY=", "CALLFN_TENCENT_ENDPOINT=")
	code, _, errOut := runStatus(t, bin, env, "serve")
	if code != 1 || !strings.Contains(errOut, `no table "callfn-cli-test"`) || !strings.Contains(errOut, "create-table") {
		t.Fatalf("serve over a missing table: exit %d, %q; want an error pointing at create-table", code, errOut)
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		t.Fatalf("/healthz answered %d over a missing table", resp.StatusCode)
	}
	if code, out, errOut := runStatus(t, bin, env, "create-table"); code != 0 {
		t.Fatalf("create-table: %d %s %s", code, out, errOut)
	}
	startServe(t, bin, env, addr) // waits for /healthz 200
}
