package webhook_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/yunxin"
	"github.com/callfn/callfn/testkit"
	"github.com/callfn/callfn/testkit/dynamolocal"
)

// allStores runs f against every backend: memory, bolt, and DynamoDB
// Local (skipped, unless required, on a machine without it).
func allStores(t *testing.T, f func(t *testing.T, st store.Store)) {
	stores(t, f)
	t.Run("dynamodb", func(t *testing.T) {
		db := dynamolocal.Shared(t).Client()
		name := fmt.Sprintf("callfn-webhook-%d-%d", time.Now().UnixNano(), tableSeq.Add(1))
		if err := dynamo.CreateTable(context.Background(), db, name); err != nil {
			t.Fatal(err)
		}
		st := dynamo.New(db, name, store.Options{})
		t.Cleanup(func() { st.Close() })
		f(t, st)
	})
}

var tableSeq atomic.Int64

// withField is a JSON object body with "name":value added first.
func withField(body []byte, name, value string) []byte {
	return bytes.Replace(body, []byte("{"), []byte(`{"`+name+`":`+value+`,`), 1)
}

// What the table cannot hold as it is is stored in a form that fits on
// every backend, or refused with a final 4xx on every backend — never
// answered "retry" for ever.
func TestCallbacksTheTableCannotHoldAsTheyAre(t *testing.T) {
	start := tencentFixture(t, "v4_after_start.json")
	const fixtureCall = "055662e1-bc8a-469c-a334-1126c8c17d58"
	allStores(t, func(t *testing.T, st store.Store) {
		logs := captureLogs(t)
		e := newEnv(t, baseConfig(), st)
		q := v4Query(callback.CmdAfterStartCall)
		ctx := context.Background()

		// Stored: a body of about 1 MiB (over DynamoDB's 400 KB item), a
		// call id of 3 KB, an account of 40 KB, a call id of 40 KB (over
		// bbolt's 32 KiB key).
		long3K, long40K, acct := strings.Repeat("c", 3<<10), strings.Repeat("C", 40<<10), strings.Repeat("u", 40<<10)
		for _, c := range []struct {
			name, callID string
			body         []byte
		}{
			{"a body of 1 MiB", fixtureCall, withField(start, "Padding", `"`+strings.Repeat("padding ", (1<<20-len(start)-32)/8)+`"`)},
			{"a call id of 3 KB", long3K, bytes.Replace(start, []byte(fixtureCall), []byte(long3K), 1)},
			{"a call id of 40 KB", long40K, bytes.Replace(start, []byte(fixtureCall), []byte(long40K), 1)},
			{"an account of 40 KB", "acct-call", bytes.Replace(bytes.Replace(start, []byte(fixtureCall), []byte("acct-call"), 1),
				[]byte("144115212830834855"), []byte(`"`+acct+`"`), 1)},
		} {
			if len(c.body) > 1<<20 {
				t.Fatalf("%s: body of %d bytes, over the webhook's limit", c.name, len(c.body))
			}
			if r := e.tencent(q, c.body); r.code != http.StatusOK || string(r.body) != v4OK {
				t.Errorf("%s: %d %s, want 200", c.name, r.code, r.body)
				continue
			}
			_, evs, err := st.GetCall(ctx, c.callID)
			if err != nil || len(evs) != 1 || evs[0].Raw != string(c.body) {
				t.Errorf("%s: read back %d events, %v, raw exact %v", c.name, len(evs), err, len(evs) == 1 && evs[0].Raw == string(c.body))
			}
			if r := e.tencent(q, c.body); r.code != http.StatusOK {
				t.Errorf("%s, redelivered: %d %s", c.name, r.code, r.body)
			}
		}
		if calls, err := st.UserCalls(ctx, acct, 0); err != nil || len(calls) != 1 || calls[0].CallID != "acct-call" {
			t.Errorf("the 40 KB account's calls: %d, %v", len(calls), err)
		}
		e.wantStored(4)

		// Refused for good: a body that does not compress under the limit
		// (413), a call naming more users than the table indexes (422).
		noisy := withField(start, "Noise", `"`+noise(700<<10)+`"`)
		var users strings.Builder
		users.WriteString(`{"User_Account":"caller","Status":"Calling"}`)
		for i := range store.MaxUsers {
			fmt.Fprintf(&users, `,{"User_Account":"user-%d","Status":"Waiting"}`, i)
		}
		crowd := []byte(`{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"crowd"},"UserList":[` + users.String() + `],"EventTime":1740464128807}`)
		for _, c := range []struct {
			name   string
			body   []byte
			status int
		}{
			{"a body of 700 KB that does not compress", noisy, http.StatusRequestEntityTooLarge},
			{"a call of more than MaxUsers users", crowd, http.StatusUnprocessableEntity},
		} {
			for range 2 { // the same final answer each time
				r := e.tencent(q, c.body)
				if r.code != c.status {
					t.Errorf("%s: %d %s, want %d", c.name, r.code, r.body, c.status)
				}
				wantV4Fail(t, r)
				if !bytes.Contains(r.body, []byte("do not retry")) {
					t.Errorf("%s: reply %s does not say not to retry", c.name, r.body)
				}
			}
			id := call.DeliveryID(call.Tencent, callback.CmdAfterStartCall, c.body)
			found := false
			for _, l := range logLines(t, logs) {
				if l["deliveryId"] == id && l["status"] == float64(c.status) && l["level"] == "ERROR" {
					found = true
					wantLogFields(t, l)
				}
			}
			if !found {
				t.Errorf("%s: no log line with its delivery id %s and status %d:\n%s", c.name, id, c.status, logs)
			}
		}
		e.wantStored(4)

		// Yunxin's copy channel: the same classes of answers.
		copy5 := bytes.Replace(yunxinCopy5(t), []byte(`"ext":""`), []byte(`"ext":"`+strings.Repeat("x", 900<<10)+`"`), 1)
		if r := e.yunxinSigned("copy", copy5); r.code != http.StatusOK {
			t.Errorf("yunxin copy of 900 KB: %d %s", r.code, r.body)
		}
		noisyCopy := bytes.Replace(yunxinCopy5(t), []byte(`"ext":""`), []byte(`"ext":"`+noise(700<<10)+`"`), 1)
		if r := e.yunxinSigned("copy", noisyCopy); r.code != http.StatusRequestEntityTooLarge || bytes.Contains(r.body, []byte(`"errCode":0`)) {
			t.Errorf("yunxin copy of 700 KB of noise: %d %s, want 413", r.code, r.body)
		}
		e.wantStored(5)
	})
}

func yunxinCopy5(t *testing.T) []byte {
	t.Helper()
	b := bytes.Clone(testkit.Fixture(t, "yunxin_copy_5.json"))
	if !bytes.Contains(b, []byte(`"ext":""`)) {
		t.Fatalf("fixture changed: %s", b)
	}
	return b
}

// A call id holding a NUL does not list its events under another call.
func TestCallIDWithNULKeptApart(t *testing.T) {
	allStores(t, func(t *testing.T, st store.Store) {
		e := newEnv(t, baseConfig(), st)
		for _, id := range []string{`a\u0000x`, "a"} {
			body := []byte(`{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"` + id + `"},"UserList":[{"User_Account":"alice","Status":"Calling"}],"EventTime":1740464128807}`)
			if r := e.tencent(v4Query(callback.CmdAfterStartCall), body); r.code != http.StatusOK {
				t.Fatalf("call %s: %d %s", id, r.code, r.body)
			}
		}
		for _, id := range []string{"a\x00x", "a"} {
			_, evs, err := st.GetCall(context.Background(), id)
			if err != nil || len(evs) != 1 || evs[0].CallID != id {
				t.Errorf("GetCall(%q): %d events, %v; want its own one", id, len(evs), err)
			}
		}
	})
}

// With DynamoDB frozen, a callback gets a retry reply before the
// platform's deadline (the request's context carries it, as Lambda's and
// SCF's adapters set it), not when the platform kills the function.
func TestFrozenTableAnswersRetryBeforeTheDeadline(t *testing.T) {
	st := dynamo.New(dynamolocal.NewClient(dynamolocal.Frozen(t)), "frozen", store.Options{})
	e := newEnv(t, baseConfig(), st)
	const platform = 3 * time.Second // the function's remaining time
	for _, path := range []string{"tencent", "yunxin"} {
		var req *http.Request
		if path == "tencent" {
			req = httptest.NewRequest(http.MethodPost, "/webhook/tencent?"+v4Query(callback.CmdAfterStartCall).Encode(), bytes.NewReader(tencentFixture(t, "v4_after_start.json")))
		} else {
			body := testkit.Fixture(t, "yunxin_copy_5.json")
			req = httptest.NewRequest(http.MethodPost, "/webhook/yunxin/copy", bytes.NewReader(body))
			yunxin.Sign(req.Header, yunxinKey, yunxinSecret, body, t0)
		}
		ctx, cancel := context.WithTimeout(context.Background(), platform)
		rec := httptest.NewRecorder()
		begin := time.Now()
		e.h.ServeHTTP(rec, req.WithContext(ctx))
		took := time.Since(begin)
		cancel()
		if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "retry") || strings.Contains(rec.Body.String(), "do not retry") {
			t.Errorf("%s: %d %s, want 500 retry", path, rec.Code, rec.Body)
		}
		// The store call is cut off store.CallMargin (or a quarter of the
		// time) before the platform's deadline, leaving that to answer.
		if took >= platform {
			t.Errorf("%s: answered after %v, not before the platform's deadline of %v", path, took, platform)
		}
	}
	if n := e.st.puts.Load(); n != 2 {
		t.Errorf("PutEvent called %d times, want 2", n)
	}
}

// noise is n bytes of base64 that do not compress.
func noise(n int) string {
	b := make([]byte, n*3/4)
	rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
