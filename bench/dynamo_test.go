package bench

// DynamoDB: the requests each callback costs, counted where they leave the
// SDK client for DynamoDB Local (testkit/dynamolocal, which needs Java: on
// a machine without it these benchmarks and the test are skipped with a
// message, unless CI=true or CALLFN_REQUIRE_DYNAMODB=1 makes that a
// failure); the time a group call's callback takes; and what many events
// of one call at once cost.

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/testkit/benchkit"
	"github.com/callfn/callfn/testkit/dynamolocal"
)

// opsString formats counts by operation in a stable order.
func opsString(ops map[string]int) string {
	var parts []string
	for _, op := range slices.Sorted(maps.Keys(ops)) {
		parts = append(parts, fmt.Sprintf("%s %d", op, ops[op]))
	}
	return strings.Join(parts, ", ")
}

// dynamoWebhook is the webhook on a fresh DynamoDB Local table, whose
// requests ops counts.
type dynamoWebhook struct {
	h      http.Handler
	st     store.Store
	ops    *dynamolocal.Counter
	client *dynamodb.Client
	table  string
}

// processes are n webhooks on d's table, d's the first, each on a store
// of its own as n processes (n Lambda instances) would be.
func (d *dynamoWebhook) processes(n int) []http.Handler {
	hs := []http.Handler{d.h}
	for len(hs) < n {
		hs = append(hs, webhookHandler(config.Config{TencentAppID: appID}, dynamo.New(d.client, d.table, store.Options{})))
	}
	return hs
}

// closeDynamoServer stops the DynamoDB Local the benchmarks share
// (dynamolocal.Shared), if it started.
func closeDynamoServer() { dynamolocal.CloseShared() }

var dynamoTables atomic.Int64

func newDynamoWebhook(tb testing.TB) *dynamoWebhook {
	tb.Helper()
	client, ops := dynamolocal.Counting(dynamolocal.Shared(tb).Client())
	table := fmt.Sprintf("callfn-bench-%d", dynamoTables.Add(1))
	st, err := dynamoTable(client, table)
	if err != nil {
		tb.Fatal(err)
	}
	ops.Take() // not the table's creation
	return &dynamoWebhook{h: webhookHandler(config.Config{TencentAppID: appID}, st), st: st, ops: ops, client: client, table: table}
}

// send delivers one callback to the webhook and returns the reply.
func (d *dynamoWebhook) send(cb callback) (int, []byte) { return sendTo(d.h, cb) }

// sendTo delivers one callback to h and returns the reply.
func sendTo(h http.Handler, cb callback) (int, []byte) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, cb.url(""), bytes.NewReader(cb.body)))
	return w.Code, w.Body.Bytes()
}

// mustAck sends cb, which must be acknowledged, and returns the requests
// it took.
func (d *dynamoWebhook) mustAck(tb testing.TB, what string, cb callback) (int, map[string]int) {
	tb.Helper()
	d.ops.Take()
	if status, body := d.send(cb); !acknowledged(status, body) {
		tb.Fatalf("%s: %d %s", what, status, body)
	}
	return d.ops.TakeCounts()
}

// The three kinds of delivery counted: the first callback of a call, a
// later one of the same call, and a callback delivered again.
type requestCounts struct {
	newCall, nextEvent, duplicate          int
	newCallOps, nextEventOps, duplicateOps map[string]int
}

// countRequests delivers call n's after-start and after-end callbacks and
// the after-start again.
func (d *dynamoWebhook) countRequests(tb testing.TB, n int) requestCounts {
	var c requestCounts
	start, end := callSequence(3*n), callSequence(3*n+2)
	c.newCall, c.newCallOps = d.mustAck(tb, "new call", start)
	c.nextEvent, c.nextEventOps = d.mustAck(tb, "next event", end)
	c.duplicate, c.duplicateOps = d.mustAck(tb, "duplicate", start)
	return c
}

// DynamoDB requests per callback, the targets (2 per new
// callback, 1 per duplicate), as a regression guard: more fails.
const (
	maxRequestsNewCall   = 2 // BatchGetItem (summary, event, month), TransactWriteItems
	maxRequestsNextEvent = 2 // BatchGetItem (summary, event), TransactWriteItems
	maxRequestsDuplicate = 1 // BatchGetItem (summary, event): the event is there
	maxRequestsFirstCall = 2 // the month's item is read and written with the rest
)

func TestDynamoDBRequestsPerCallback(t *testing.T) {
	d := newDynamoWebhook(t)
	// The first call of a month in a process also writes the month's item.
	first, ops := d.mustAck(t, "first call", callSequence(0))
	t.Logf("first callback of the process's first call of the month: %d requests (%s)", first, opsString(ops))
	if first > maxRequestsFirstCall {
		t.Errorf("first call of the month: %d requests, want at most %d", first, maxRequestsFirstCall)
	}
	for n := 1; n <= 5; n++ {
		c := d.countRequests(t, n)
		t.Logf("call %d: new call %d (%s); next event %d (%s); duplicate %d (%s)", n,
			c.newCall, opsString(c.newCallOps), c.nextEvent, opsString(c.nextEventOps), c.duplicate, opsString(c.duplicateOps))
		if c.newCall > maxRequestsNewCall || c.nextEvent > maxRequestsNextEvent || c.duplicate > maxRequestsDuplicate {
			t.Errorf("call %d: %d, %d, %d requests for a new call, a next event, a duplicate; want at most %d, %d, %d",
				n, c.newCall, c.nextEvent, c.duplicate, maxRequestsNewCall, maxRequestsNextEvent, maxRequestsDuplicate)
		}
	}
}

// BenchmarkDynamoDBRequests: DynamoDB requests per callback through the
// webhook, counted at the SDK client. Each op delivers a new call's
// after-start callback, its after-end, and the after-start again; the
// process's first call of the month (its month item read and written
// with the rest) is sent before the count.
//
// Metrics: dynamodb-req/new-call, dynamodb-req/next-event,
// dynamodb-req/duplicate (the targets: ≤ 2 per new callback, ≤ 1
// per duplicate).
func BenchmarkDynamoDBRequests(b *testing.B) {
	d := newDynamoWebhook(b)
	d.mustAck(b, "first call", callSequence(0))
	var sum requestCounts
	var last requestCounts
	n := 0
	for b.Loop() {
		n++
		last = d.countRequests(b, n)
		sum.newCall += last.newCall
		sum.nextEvent += last.nextEvent
		sum.duplicate += last.duplicate
	}
	b.Logf("the last op's requests: new call %s; next event %s; duplicate %s",
		opsString(last.newCallOps), opsString(last.nextEventOps), opsString(last.duplicateOps))
	b.ReportMetric(float64(sum.newCall)/float64(n), "dynamodb-req/new-call")
	b.ReportMetric(float64(sum.nextEvent)/float64(n), "dynamodb-req/next-event")
	b.ReportMetric(float64(sum.duplicate)/float64(n), "dynamodb-req/duplicate")
}

// groupStart is an after-start callback of call id with users members
// (the caller first).
func groupStart(id string, users int, at int64) callback {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"CallbackCommand":"Call.CallbackAfterStartCall","CallInfo":{"CallId":"%s","CallMediaType":"Audio","ChatGroupId":"g-%s","RoomId":"","RoomIdType":1},"UserList":[`, id, id)
	for i := range users {
		status := "Waiting"
		if i == 0 {
			status = "Calling"
		}
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"User_Account":%d,"Status":"%s"}`, 144115212830834855+int64(i), status)
	}
	fmt.Fprintf(&sb, `],"EventTime":%d}`, at)
	return callback{cmdStart, []byte(sb.String())}
}

// storeErrors collects the errors the webhook logs while it is the
// default logger (the store's reason for a retry reply), for a benchmark's
// log; restore puts the logger back.
type storeErrors struct {
	mu   sync.Mutex
	errs []string
}

func captureStoreErrors() (*storeErrors, func()) {
	prev := slog.Default()
	c := &storeErrors{}
	slog.SetDefault(slog.New(errHandler{c: c}))
	return c, func() { slog.SetDefault(prev) }
}

// errHandler hands the "err" attribute of each error logged to c.
type errHandler struct {
	c     *storeErrors
	attrs []slog.Attr // from With
}

func (h errHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelError }
func (h errHandler) WithGroup(string) slog.Handler                { return h }
func (h errHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return errHandler{h.c, append(slices.Clip(h.attrs), as...)}
}

func (h errHandler) Handle(_ context.Context, r slog.Record) error {
	keep := func(a slog.Attr) bool {
		if a.Key == "err" {
			h.c.mu.Lock()
			h.c.errs = append(h.c.errs, a.Value.String())
			h.c.mu.Unlock()
		}
		return true
	}
	for _, a := range h.attrs {
		keep(a)
	}
	r.Attrs(keep)
	return nil
}

// last is the last error logged ("" for none), at most 300 bytes of it.
func (c *storeErrors) last() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.errs) == 0 {
		return ""
	}
	e := c.errs[len(c.errs)-1]
	if len(e) > 300 {
		e = "..." + e[len(e)-300:]
	}
	return e
}

// BenchmarkDynamoDBGroupCall: the after-start callback of a group call
// naming CALLFN_BENCH_GROUP_USERS users (default 10,000), then the same
// callback again, through the webhook on DynamoDB Local: how long each
// reply is held and how many requests each takes, and whether the event is
// stored exactly once. A callback the webhook does not acknowledge is
// reported (stored-events 0), not a failure.
//
// Metrics: reply-s, dynamodb-req (the first delivery); duplicate-reply-s,
// duplicate-dynamodb-req (the second); stored-events (want 1); body-KiB.
func BenchmarkDynamoDBGroupCall(b *testing.B) {
	users := envInt(b, envGroupUsers, 10000)
	d := newDynamoWebhook(b)
	d.mustAck(b, "first call", callSequence(0))
	var reply, dupReply time.Duration
	var reqs, dupReqs, stored, n int
	var size int
	errs, restore := captureStoreErrors()
	defer restore()
	for b.Loop() {
		n++
		id := callID(1_000_000 + n)
		cb := groupStart(id, users, t0+int64(n))
		size = len(cb.body)
		d.ops.Take()
		start := time.Now()
		status, body := d.send(cb)
		took := time.Since(start)
		r, ops := d.ops.TakeCounts()
		reply += took
		reqs += r
		b.Logf("%d users (%d KiB): %d in %.2fs, %d requests (%s)", users, len(cb.body)>>10, status, took.Seconds(), r, opsString(ops))
		if !acknowledged(status, body) {
			b.Logf("not acknowledged: %s; the store said: %s", body, errs.last())
		}
		start = time.Now()
		status, _ = d.send(cb)
		took = time.Since(start)
		r, ops = d.ops.TakeCounts()
		dupReply += took
		dupReqs += r
		b.Logf("again: %d in %.2fs, %d requests (%s)", status, took.Seconds(), r, opsString(ops))
		b.StopTimer()
		_, evs, err := d.st.GetCall(context.Background(), id)
		if err != nil && err != store.ErrNotFound {
			b.Fatal(err)
		}
		stored += len(evs)
		b.StartTimer()
	}
	b.ReportMetric(reply.Seconds()/float64(n), "reply-s")
	b.ReportMetric(float64(reqs)/float64(n), "dynamodb-req")
	b.ReportMetric(dupReply.Seconds()/float64(n), "duplicate-reply-s")
	b.ReportMetric(float64(dupReqs)/float64(n), "duplicate-dynamodb-req")
	b.ReportMetric(float64(stored)/float64(n), "stored-events")
	b.ReportMetric(float64(size)/1024, "body-KiB")
}

// memberChanged is a member-changed callback of call id: member k (of
// users) answers.
func memberChanged(id string, users, k int, at int64) callback {
	var sb strings.Builder
	fmt.Fprintf(&sb, `{"CallbackCommand":"Call.CallbackAfterMemberChanged","CallId":"%s","UserList":[`, id)
	for i := range users {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, `{"User_Account":%d,"Status":"Calling"}`, 144115212830834855+int64(i))
	}
	fmt.Fprintf(&sb, `],"ChangedUserList":[{"User_Account":%d,"ActionType":"Answer"}],"EventTime":%d}`, 144115212830834855+int64(k), at)
	return callback{cmdMember, []byte(sb.String())}
}

// BenchmarkDynamoDBSameCall: CALLFN_BENCH_SAME_CALL (default 200) members
// of one group call answer at the same moment: that many member-changed
// callbacks of one call, all sent at once through the webhook on DynamoDB
// Local. A callback not acknowledged is sent again at once, as the
// provider would (later), until it is. Then the call must hold each event
// exactly once.
//
// It runs twice: processes=1, every callback to one webhook (events of one
// call in one process fold as a group), and processes=N, the callbacks
// round robin to N webhooks, each on a store of its own, as to N Lambda
// instances each taking one request at a time (N is
// CALLFN_BENCH_SAME_CALL_PROCS, default one per member): those contend for
// the call across processes. Before each burst, its floor: as many plain
// two-item transactions at once (an event and its marker, of the
// callbacks' size, each call its own), the least that N processes each
// storing one event at that moment cost DynamoDB Local.
//
// Metrics: all-acked-s (until the last is acknowledged), floor-s, ratio
// (all-acked-s over floor-s, median over b.N bursts), slowest-ack-s (one
// callback's, from its first sending), retry-replies (replies asking for a
// retry), dynamodb-req/cb.
func BenchmarkDynamoDBSameCall(b *testing.B) {
	members := envInt(b, envSameCall, 200)
	for _, procs := range []int{1, envInt(b, envSameCallProcs, members)} {
		b.Run(fmt.Sprintf("processes=%d", procs), func(b *testing.B) { sameCall(b, members, procs) })
	}
}

func sameCall(b *testing.B, members, nprocs int) {
	d := newDynamoWebhook(b)
	procs := d.processes(nprocs)
	d.mustAck(b, "first call", callSequence(0))
	var all, slowest time.Duration
	var ratios []float64
	var retries atomic.Int64
	var reqs, n int
	for b.Loop() {
		n++
		b.StopTimer()
		id := callID(2_000_000 + n)
		at := t0 + int64(n)*1_000_000
		d.mustAck(b, "start", groupStart(id, members+1, at))
		floor := d.transactFloor(b, members, len(memberChanged(id, members+1, 1, at).body), n)
		d.ops.Take()
		b.StartTimer()
		var wg sync.WaitGroup
		var mu sync.Mutex
		start := time.Now()
		for k := 1; k <= members; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				cb := memberChanged(id, members+1, k, at+int64(k))
				h := procs[k%len(procs)]
				for {
					if status, body := sendTo(h, cb); acknowledged(status, body) {
						break
					}
					retries.Add(1)
				}
				took := time.Since(start)
				mu.Lock()
				slowest = max(slowest, took)
				mu.Unlock()
			}()
		}
		wg.Wait()
		took := time.Since(start)
		all += took
		ratios = append(ratios, took.Seconds()/floor.Seconds())
		r, ops := d.ops.TakeCounts()
		reqs += r
		b.StopTimer()
		_, evs, err := d.st.GetCall(context.Background(), id)
		if err != nil || len(evs) != members+1 {
			b.Fatalf("call holds %d events, want %d: %v", len(evs), members+1, err)
		}
		b.Logf("%d members at once, %d processes: all acknowledged in %.2fs (floor %.2fs), %d retry replies, %d requests (%s)",
			members, len(procs), took.Seconds(), floor.Seconds(), retries.Load(), r, opsString(ops))
		b.StartTimer()
	}
	b.ReportMetric(all.Seconds()/float64(n), "all-acked-s")
	b.ReportMetric(benchkit.Median(ratios), "ratio")
	b.ReportMetric(slowest.Seconds(), "slowest-ack-s")
	b.ReportMetric(float64(retries.Load())/float64(n), "retry-replies")
	b.ReportMetric(float64(reqs)/float64(n*members), "dynamodb-req/cb")
}

// transactFloor writes n two-item transactions at once, each item holding
// size bytes, each to a partition of its own, and returns how long they
// took; burst tells one call's apart.
func (d *dynamoWebhook) transactFloor(b *testing.B, n, size, burst int) time.Duration {
	pad := strings.Repeat("x", size)
	item := func(pk, sk string) map[string]types.AttributeValue {
		return map[string]types.AttributeValue{
			store.DynamoPK: &types.AttributeValueMemberS{Value: pk},
			store.DynamoSK: &types.AttributeValueMemberS{Value: sk},
			"raw":          &types.AttributeValueMemberS{Value: pad},
		}
	}
	var wg sync.WaitGroup
	var failed atomic.Value
	start := time.Now()
	for i := range n {
		wg.Go(func() {
			pk := fmt.Sprintf("FLOOR#%d-%d", burst, i)
			_, err := d.client.TransactWriteItems(context.Background(), &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
				{Put: &types.Put{TableName: &d.table, Item: item(pk, "EVENT#e"), ConditionExpression: aws.String("attribute_not_exists(#pk)"),
					ExpressionAttributeNames: map[string]string{"#pk": store.DynamoPK}}},
				{Put: &types.Put{TableName: &d.table, Item: item(pk, "PENDING#e")}},
			}})
			if err != nil {
				failed.Store(err)
			}
		})
	}
	wg.Wait()
	if err, _ := failed.Load().(error); err != nil {
		b.Fatalf("floor: %v", err)
	}
	return time.Since(start)
}
