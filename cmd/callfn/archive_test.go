package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// callfn archive against the sandbox: a progress bar on stderr, a summary
// on stdout, the records in the table; a second run stores nothing new.
func TestArchiveCommand(t *testing.T) {
	sb := sandbox.New(sandbox.Options{Scale: sandbox.Instant})
	srv := httptest.NewServer(sb)
	defer func() { srv.Close(); sb.Close() }()
	now := time.Now().Unix()
	var recs []sandbox.Record
	for i := range 250 {
		recs = append(recs, sandbox.Record{CallId: fmt.Sprintf("c-%d", i), Caller_Account: "alice", StartTime: now - 2*24*3600 + int64(i),
			EndTime: now - 2*24*3600 + int64(i) + 20, CallResult: "NormalEnd", CallType: "SingleCall", MediaType: "Audio"})
	}
	sb.AddPlayed(recs...)
	db := filepath.Join(t.TempDir(), "callfn.db")
	for k, v := range map[string]string{"CALLFN_STORE": "bolt:" + db, "CALLFN_TENCENT_SDKAPPID": fmt.Sprint(sb.SDKAppID()),
		"CALLFN_TENCENT_SECRET_KEY": sandbox.DefaultKey, "CALLFN_TENCENT_ENDPOINT": srv.URL, "CALLFN_TENCENT_API_VERSION": "v1",
		"CALLFN_TENCENT_REGION": "", "CALLFN_TENCENT_ADMIN": "", "CALLFN_RETENTION_DAYS": ""} {
		t.Setenv(k, v)
	}
	var out, errOut bytes.Buffer
	if err := archiveTo(context.Background(), []string{"--since", "3d"}, &out, &errOut); err != nil {
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	if !strings.Contains(errOut.String(), "page 3/3") || !strings.Contains(errOut.String(), "100%") {
		t.Errorf("progress: %q", errOut.String())
	}
	if !strings.Contains(out.String(), "archive v1") || !strings.Contains(out.String(), "complete") || !strings.Contains(out.String(), "250 new, 0 already") {
		t.Errorf("summary: %q", out.String())
	}
	out.Reset()
	if err := archiveTo(context.Background(), []string{"--since", "3d"}, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "0 new, 250 already") {
		t.Errorf("second run: %q", out.String())
	}
	// Without --since, a run starts a day before the last one ended: the
	// records of two days ago are not asked for again.
	out.Reset()
	if err := archiveTo(context.Background(), nil, &out, &errOut); err != nil || !strings.Contains(out.String(), "0 records") {
		t.Errorf("third run: %q %v", out.String(), err)
	}
	st, err := bolt.Open(db, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if sum, _, err := st.GetCall(context.Background(), "c-7"); err != nil || sum.Status != "ended" {
		t.Errorf("archived call: %+v %v", sum, err)
	}
	for _, args := range [][]string{{"--since", "soon"}, {"--page-size", "0"}, {"extra"}, {"--rate", "500"}} {
		if err := archiveTo(context.Background(), args, &out, &errOut); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}
