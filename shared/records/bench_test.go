package records_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/store"
	"github.com/callfn/callfn/shared/store/bolt"
	"github.com/callfn/callfn/shared/store/dynamo"
	"github.com/callfn/callfn/shared/store/local"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/testkit/dynamolocal"
)

// DynamoDB Local, started once for the tests and benchmarks that need it,
// behind a reverse proxy that counts the requests reaching it.
var (
	dynOnce   sync.Once
	dynServer *dynamolocal.Server
	dynProxy  string
	dynOps    = &opCounter{}
	dynErr    error
	dynTables int
)

// opCounter counts DynamoDB API calls by operation (X-Amz-Target).
type opCounter struct {
	mu  sync.Mutex
	ops map[string]int
}

func (c *opCounter) reset() { c.mu.Lock(); c.ops = map[string]int{}; c.mu.Unlock() }

func (c *opCounter) total() (n int, ops map[string]int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ops = map[string]int{}
	for k, v := range c.ops {
		ops[k] = v
		n += v
	}
	return n, ops
}

// dynamoStore returns a fresh table on DynamoDB Local, reached through the
// counting proxy. DynamoDB Local is part of `make deps`; on a machine
// without it (or without Java) the test is skipped, unless CI requires it,
// as the store's own tests are.
func dynamoStore(tb testing.TB) store.Store {
	tb.Helper()
	dynOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if dynServer, dynErr = dynamolocal.Start(ctx); dynErr != nil {
			return
		}
		target, err := url.Parse(dynServer.Endpoint())
		if err != nil {
			dynErr = err
			return
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			dynErr = err
			return
		}
		proxy := httputil.NewSingleHostReverseProxy(target)
		dynOps.reset()
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			dynOps.mu.Lock()
			dynOps.ops[r.Header.Get("X-Amz-Target")]++
			dynOps.mu.Unlock()
			proxy.ServeHTTP(w, r)
		}))
		dynProxy = "http://" + ln.Addr().String()
	})
	if dynErr != nil {
		dynamolocal.SkipOrFail(tb, dynErr)
	}
	dynTables++
	name := fmt.Sprintf("callfn-records-%d", dynTables)
	client := dynamolocal.NewClient(dynProxy)
	if err := dynamo.CreateTable(context.Background(), client, name); err != nil {
		tb.Fatal(err)
	}
	return dynamo.New(client, name, store.Options{})
}

// archiveOne stores c-0000's record through the records function.
func archiveOne(tb testing.TB, e *env) {
	tb.Helper()
	e.played(e.now-3600, 1, "c")
	if _, err := e.svc.Lookup(context.Background(), "c-0000"); err != nil {
		tb.Fatal(err)
	}
}

// An answer from the table costs one read of it, counted at the DynamoDB
// server, and no request to Tencent.
func TestGetFromTableIsOneDynamoDBRead(t *testing.T) {
	e := newEnv(t, tencent.V4, envOptions{store: dynamoStore(t)})
	archiveOne(t, e)
	tencentBefore := e.hits.count()
	dynOps.reset()
	var got records.CallRecord
	if status, _, raw := e.get("/records/c-0000", &got); status != 200 || got.Source != records.SourceBoth || got.TencentAPI != "" || len(got.Events) != 1 {
		t.Fatalf("%d %v", status, raw)
	}
	if n, ops := dynOps.total(); n != 1 {
		t.Errorf("%d DynamoDB requests (%v), want 1", n, ops)
	}
	if n := e.hits.count() - tencentBefore; n != 0 {
		t.Errorf("%d requests to Tencent, want 0", n)
	}
}

// BenchmarkGetRecordFromTable: GET /records/{callId} for an archived call,
// over HTTP, on DynamoDB Local; reports the DynamoDB requests per answer
// (want 1) and Tencent requests per answer (want 0).
func BenchmarkGetRecordFromTable(b *testing.B) {
	e := newEnv(b, tencent.V4, envOptions{store: dynamoStore(b)})
	archiveOne(b, e)
	client := &http.Client{}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/records/c-0000", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	tencentBefore := e.hits.count()
	dynOps.reset()
	b.ResetTimer()
	for b.Loop() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			b.Fatal(resp.Status)
		}
	}
	b.StopTimer()
	n, _ := dynOps.total()
	b.ReportMetric(float64(n)/float64(b.N), "dynamodb-requests/op")
	b.ReportMetric(float64(e.hits.count()-tencentBefore)/float64(b.N), "tencent-requests/op")
}

// BenchmarkArchive: archive throughput against the sandbox, in records/s
// and as a share of Tencent's ceiling (200 requests/s × the page size);
// the archive paces itself at records.DefaultRate (150/s), so 0.75 is the
// most it can reach. Past that, the table's writes are the limit (bolt
// fsyncs; DynamoDB Local is a slow stand-in for DynamoDB).
func BenchmarkArchive(b *testing.B) {
	// Records per run: fewer on DynamoDB Local, which is slow.
	sizes := map[string]int{"memory": 5000, "bolt": 5000, "dynamodb": 1000}
	stores := map[string]func(b *testing.B) store.Store{
		"memory": func(*testing.B) store.Store { return local.NewMemory(store.Options{}) },
		"bolt": func(b *testing.B) store.Store {
			st, err := bolt.Open(filepath.Join(b.TempDir(), "callfn.db"), store.Options{})
			if err != nil {
				b.Fatal(err)
			}
			return st
		},
	}
	stores["dynamodb"] = func(b *testing.B) store.Store { return dynamoStore(b) }
	for _, name := range []string{"memory", "bolt", "dynamodb"} {
		n := sizes[name]
		b.Run(name, func(b *testing.B) {
			var records_, pages int
			var took time.Duration
			for b.Loop() {
				b.StopTimer()
				e := newEnv(b, tencent.V4, envOptions{store: stores[name](b), running: true})
				e.played(e.now-6*24*3600, n, "c")
				b.StartTimer()
				start := time.Now()
				rep, err := e.svc.Archive(context.Background(), records.ArchiveOptions{})
				took += time.Since(start)
				if err != nil || rep.Stored != n {
					b.Fatalf("%+v %v", rep, err)
				}
				records_ += rep.Records
				pages += rep.Pages
			}
			perSec := float64(records_) / took.Seconds()
			b.ReportMetric(perSec, "records/s")
			b.ReportMetric(float64(pages)/took.Seconds(), "requests/s")
			b.ReportMetric(perSec/(rest.RecordsRateLimit*records.DefaultArchivePageSize), "of-tencent-ceiling")
		})
	}
}
