package rest_test

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

func TestStartAndEndCall(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	resp := e.mustStart(callReq("jack", "rose"))
	if resp.CallId == "" || len(resp.CallResult) != 2 {
		t.Fatalf("reply %+v: want a CallId and two CallResults", resp)
	}
	for _, cr := range resp.CallResult {
		if cr.ResultCode != 0 {
			t.Errorf("callee %s: ResultCode %d", cr.Callee_Account, cr.ResultCode)
		}
	}
	rec, ok := e.sb.Call(string(resp.CallId))
	if !ok || rec.Caller_Account != "robot" || rec.RoomId != "roomid-test" || rec.RoomIdType != 2 || rec.MediaType != "Video" {
		t.Fatalf("sandbox call %+v", rec)
	}
	info, _, err := e.client.GetCallInfo(context.Background(), string(resp.CallId))
	if err != nil || string(info.CallInfo.RoomId) != "roomid-test" || len(info.UserList) != 3 {
		t.Fatalf("get_call_info: %+v, %v", info, err)
	}
	if _, err := e.client.EndCall(context.Background(), string(resp.CallId)); err != nil {
		t.Fatal(err)
	}
	_, err = e.client.EndCall(context.Background(), string(resp.CallId))
	if !errors.Is(err, rest.ErrCallNotFound) || upstream.Status(err) != http.StatusNotFound {
		t.Fatalf("ending an ended call: %v (status %d), want ErrCallNotFound, 404", err, upstream.Status(err))
	}
	var te *rest.Error
	if !errors.As(err, &te) || te.Code != 101004 {
		t.Fatalf("want code 101004, got %+v", te)
	}
	if _, err := e.client.EndCall(context.Background(), "no-such-call"); !errors.Is(err, rest.ErrCallNotFound) {
		t.Fatalf("ending an unknown call: %v", err)
	}
	e.distinctRandoms()
}

func TestUserSigMadeOnceAndRefreshedBeforeExpiry(t *testing.T) {
	var now atomic.Int64
	t0 := time.Now()
	now.Store(t0.UnixNano())
	clock := func() time.Time { return time.Unix(0, now.Load()) }
	e := newEnv(t, sandbox.Options{RateLimit: -1}, rest.Options{Now: clock})
	for range 50 {
		e.mustStart(callReq())
	}
	if g := e.client.Signer().Generations(); g != 1 {
		t.Fatalf("50 calls made %d UserSigs, want 1", g)
	}
	now.Store(t0.Add(rest.DefaultSigTTL - rest.DefaultSigRefresh - time.Second).UnixNano())
	e.mustStart(callReq())
	if g := e.client.Signer().Generations(); g != 1 {
		t.Fatalf("a call just before the refresh point made a new UserSig (%d)", g)
	}
	now.Store(t0.Add(rest.DefaultSigTTL - rest.DefaultSigRefresh + time.Second).UnixNano())
	e.mustStart(callReq())
	e.mustStart(callReq())
	if g := e.client.Signer().Generations(); g != 2 {
		t.Fatalf("past the refresh point: %d UserSigs, want 2", g)
	}
	e.distinctRandoms()
}

func TestConnectionsReused(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimit: -1}, rest.Options{})
	for range 100 {
		e.mustStart(callReq())
	}
	if n := e.conns.Load(); n != 1 {
		t.Fatalf("100 sequential calls opened %d connections, want 1", n)
	}
}

func TestRetriesRateLimitCodesWithoutRingingTwice(t *testing.T) {
	for _, code := range []int{60007, 60011, 60018, 60019} {
		e := newEnv(t, sandbox.Options{}, rest.Options{})
		e.sb.Inject(sandbox.Fault{Command: "start_call_by_robot", Code: code, Times: 2})
		resp, meta, err := e.start(callReq("jack"))
		if err != nil {
			t.Fatalf("%d: %v", code, err)
		}
		if meta.Attempts != 3 || e.sb.Requests("start_call_by_robot") != 3 {
			t.Errorf("%d: %d attempts, %d requests; want 3 and 3", code, meta.Attempts, e.sb.Requests("start_call_by_robot"))
		}
		if n := e.sb.Rang("jack"); n != 1 || resp.CallId == "" {
			t.Errorf("%d: jack rang %d times, want 1", code, n)
		}
	}
}

func TestRateLimitBudgetIsBounded(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	e.sb.Inject(sandbox.Fault{Command: "start_call_by_robot", Code: 60007, Times: 100})
	_, meta, err := e.start(callReq())
	if !errors.Is(err, rest.ErrRateLimited) || upstream.Status(err) != http.StatusTooManyRequests {
		t.Fatalf("got %v (status %d), want ErrRateLimited, 429", err, upstream.Status(err))
	}
	if meta.Attempts != fastRetry.Attempts || e.sb.Requests("start_call_by_robot") != fastRetry.Attempts {
		t.Fatalf("%d attempts, %d requests; want %d", meta.Attempts, e.sb.Requests("start_call_by_robot"), fastRetry.Attempts)
	}
	// A budget smaller than any backoff allows no retry at all.
	e2 := newEnv(t, sandbox.Options{}, rest.Options{Retry: rest.Retry{Attempts: 10, Base: time.Hour, Max: time.Hour, Budget: time.Nanosecond}})
	e2.sb.Inject(sandbox.Fault{Command: "start_call_by_robot", Code: 60007, Times: 100})
	if _, meta, err := e2.start(callReq()); !errors.Is(err, rest.ErrRateLimited) || meta.Attempts != 1 {
		t.Fatalf("tiny budget: %d attempts, %v", meta.Attempts, err)
	}
}

func TestNoRetryAfterTencentMayHaveActed(t *testing.T) {
	// Tencent acts (the callee rings), then the answer never comes in time.
	hc := rest.NewHTTPClient()
	hc.Timeout = 300 * time.Millisecond
	e := newEnv(t, sandbox.Options{}, rest.Options{HTTPClient: hc})
	e.sb.Inject(sandbox.Fault{Command: "start_call_by_robot", Stall: time.Minute})
	_, meta, err := e.start(callReq("jack"))
	if !errors.Is(err, rest.ErrUnavailable) || upstream.Status(err) != http.StatusGatewayTimeout {
		t.Fatalf("got %v (status %d), want ErrUnavailable, 504", err, upstream.Status(err))
	}
	if !strings.Contains(err.Error(), "may have acted") {
		t.Errorf("the error should warn that Tencent may have acted: %v", err)
	}
	if meta.Attempts != 1 || e.sb.Requests("start_call_by_robot") != 1 || e.sb.Rang("jack") != 1 {
		t.Fatalf("%d attempts, %d requests, jack rang %d times; want 1, 1, 1", meta.Attempts, e.sb.Requests("start_call_by_robot"), e.sb.Rang("jack"))
	}

	// Internal errors and gateway failures are not retried either: Tencent
	// may have acted.
	for _, f := range []sandbox.Fault{{Code: 101001}, {Code: 60008}, {HTTPStatus: http.StatusBadGateway}, {HTTPStatus: http.StatusServiceUnavailable}} {
		e := newEnv(t, sandbox.Options{}, rest.Options{})
		f.Command = "start_call_by_robot"
		e.sb.Inject(f)
		_, meta, err := e.start(callReq())
		if !errors.Is(err, rest.ErrUnavailable) || upstream.Status(err) != http.StatusGatewayTimeout || meta.Attempts != 1 {
			t.Errorf("fault %+v: %v (status %d), %d attempts; want ErrUnavailable, 504, 1 attempt", f, err, upstream.Status(err), meta.Attempts)
		}
	}
}

func TestIdempotentCommandsRetryInternalErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	resp := e.mustStart(callReq())
	e.sb.Inject(sandbox.Fault{Command: "get_call_info", Code: 101001})
	_, meta, err := e.client.GetCallInfo(context.Background(), string(resp.CallId))
	if err != nil || meta.Attempts != 2 {
		t.Fatalf("get_call_info after an internal error: %v, %d attempts; want success in 2", err, meta.Attempts)
	}
}

func TestRetriesConnectionsThatFailedBeforeSending(t *testing.T) {
	var fails atomic.Int32
	fails.Store(2)
	tr := rest.NewHTTPClient().Transport.(*http.Transport)
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if fails.Add(-1) >= 0 {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, addr)
	}
	e := newEnv(t, sandbox.Options{}, rest.Options{HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second}})
	_, meta, err := e.start(callReq("jack"))
	if err != nil {
		t.Fatal(err)
	}
	if meta.Attempts != 3 || e.sb.Requests("start_call_by_robot") != 1 || e.sb.Rang("jack") != 1 {
		t.Fatalf("%d attempts, %d requests, %d rings; want 3, 1, 1", meta.Attempts, e.sb.Requests("start_call_by_robot"), e.sb.Rang("jack"))
	}

	// Nothing listening at all: every attempt is refused before sending,
	// then the budget runs out.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	e2 := newEnv(t, sandbox.Options{}, rest.Options{Endpoint: "http://" + addr})
	_, meta, err = e2.start(callReq())
	if !errors.Is(err, rest.ErrUnavailable) || upstream.Status(err) != http.StatusGatewayTimeout {
		t.Fatalf("refused: %v (status %d)", err, upstream.Status(err))
	}
	if meta.Attempts != fastRetry.Attempts || !strings.Contains(err.Error(), "could not connect") {
		t.Fatalf("refused: %d attempts (want %d), %v", meta.Attempts, fastRetry.Attempts, err)
	}
}

// regionEnv serves the sandbox over TLS and routes every host to it, so the
// client uses its real regional domains.
func regionEnv(t *testing.T, region string, appID uint64, refuse func(host string) bool) (*env, *[]string) {
	t.Helper()
	var mu sync.Mutex
	var hosts []string
	sb := sandbox.New(sandbox.Options{AnyHost: true}) // asked under Tencent's own domains
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		hosts = append(hosts, r.Host)
		mu.Unlock()
		sb.ServeHTTP(w, r)
	}))
	srv.StartTLS()
	t.Cleanup(func() { srv.Close(); sb.Close() })
	tr := rest.NewHTTPClient().Transport.(*http.Transport)
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} // the test server's certificate names no Tencent domain
	var d net.Dialer
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		if refuse != nil && refuse(addr) {
			return nil, &net.OpError{Op: "dial", Net: network, Err: syscall.ECONNREFUSED}
		}
		return d.DialContext(ctx, network, srv.Listener.Addr().String())
	}
	if appID == 0 {
		appID = sb.SDKAppID()
	}
	c, err := rest.New(rest.Options{SDKAppID: appID, Key: sandbox.DefaultKey, Region: region,
		HTTPClient: &http.Client{Transport: tr, Timeout: 5 * time.Second}, Retry: fastRetry})
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, sb: sb, srv: srv, client: c}, &hosts
}

func TestRegionDomainAndBackup(t *testing.T) {
	e, hosts := regionEnv(t, "singapore", 0, nil)
	e.mustStart(callReq())
	if (*hosts)[0] != "adminapisgp.im.qcloud.com" {
		t.Fatalf("request went to %s, want adminapisgp.im.qcloud.com", (*hosts)[0])
	}
	// The primary domain unreachable: the backup domain serves.
	e, hosts = regionEnv(t, "singapore", 0, func(addr string) bool { return strings.HasPrefix(addr, "adminapisgp.im.qcloud.com") })
	_, meta, err := e.start(callReq())
	if err != nil || meta.Attempts != 2 || len(*hosts) != 1 || (*hosts)[0] != "adminapisgp.my-imcloud.com" {
		t.Fatalf("backup: %v, %d attempts, hosts %v", err, meta.Attempts, *hosts)
	}
}

func TestWrongRegionNamesTheRegionTried(t *testing.T) {
	e, _ := regionEnv(t, "frankfurt", 1400009999, nil)
	_, _, err := e.start(callReq())
	if !errors.Is(err, rest.ErrWrongRegion) || upstream.Status(err) != http.StatusBadGateway {
		t.Fatalf("got %v (status %d), want ErrWrongRegion, 502", err, upstream.Status(err))
	}
	for _, want := range []string{"frankfurt", "adminapiger.im.qcloud.com", "1400009999", "CALLFN_TENCENT_REGION"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not name %q: %v", want, err)
		}
	}
}

// TestSandboxAuthErrors provokes each UserSig failure for real: the sandbox
// verifies every request's UserSig.
func TestSandboxAuthErrors(t *testing.T) {
	const secretKey = "K3y-that-must-never-leak-0123456789"
	cases := []struct {
		name  string
		so    sandbox.Options
		co    rest.Options
		kind  error
		code  int
		words string
	}{
		{"expired", sandbox.Options{Key: secretKey, Clock: func() time.Time { return time.Now().Add(25 * time.Hour) }},
			rest.Options{Key: secretKey}, rest.ErrSigExpired, 70001, "expired"},
		{"another app's key", sandbox.Options{Key: secretKey}, rest.Options{Key: "some-other-apps-key"},
			rest.ErrSigOtherApp, 70009, "another app's key"},
		{"unknown SDKAppID", sandbox.Options{Key: secretKey}, rest.Options{Key: secretKey, SDKAppID: 1400001111},
			rest.ErrWrongRegion, 70020, "not known in endpoint"},
		{"not an administrator", sandbox.Options{Key: secretKey}, rest.Options{Key: secretKey, Admin: "bob"},
			rest.ErrNotAdmin, 60010, "administrator"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t, c.so, c.co)
			_, meta, err := e.start(callReq("jack"))
			var te *rest.Error
			if !errors.Is(err, c.kind) || !errors.As(err, &te) || te.Code != c.code {
				t.Fatalf("got %v, want kind %v code %d", err, c.kind, c.code)
			}
			if upstream.Status(err) != http.StatusBadGateway {
				t.Errorf("status %d, want 502", upstream.Status(err))
			}
			if !strings.Contains(err.Error(), c.words) {
				t.Errorf("%q does not say %q", err, c.words)
			}
			if e.sb.Rang("jack") != 0 {
				t.Errorf("a refused request rang jack")
			}
			sig, _ := e.client.Signer().UserSig("administrator")
			if sig == "" || strings.Contains(err.Error(), sig) || strings.Contains(err.Error(), secretKey) {
				t.Errorf("the error reveals a secret: %v", err)
			}
			if c.kind == rest.ErrSigExpired && (meta.Attempts != 2 || e.client.Signer().Generations() < 2) {
				t.Errorf("an expired UserSig should be remade and sent once more: %d attempts, %d UserSigs", meta.Attempts, e.client.Signer().Generations())
			}
		})
	}
}

func TestErrorCodeMapping(t *testing.T) {
	cases := []struct {
		code   int
		kind   error
		status int
	}{
		{101002, rest.ErrBadRequest, 400},
		{70402, rest.ErrBadRequest, 400},
		{101004, rest.ErrCallNotFound, 404},
		{101050, rest.ErrRecordNotFound, 404},
		{60007, rest.ErrRateLimited, 429},
		{60011, rest.ErrRateLimited, 429},
		{60018, rest.ErrRateLimited, 429},
		{60019, rest.ErrRateLimited, 429},
		{60008, rest.ErrUnavailable, 504},
		{101001, rest.ErrUnavailable, 504},
		{70500, rest.ErrUnavailable, 504},
		{70001, rest.ErrSigExpired, 502},
		{70052, rest.ErrSigExpired, 502},
		{70002, rest.ErrSigInvalid, 502},
		{70003, rest.ErrSigInvalid, 502},
		{70005, rest.ErrSigInvalid, 502},
		{70050, rest.ErrSigInvalid, 502},
		{60004, rest.ErrSigInvalid, 502},
		{70009, rest.ErrSigOtherApp, 502},
		{70013, rest.ErrSigOtherApp, 502},
		{70014, rest.ErrSigOtherApp, 502},
		{70016, rest.ErrWrongRegion, 502},
		{70020, rest.ErrWrongRegion, 502},
		{60006, rest.ErrWrongRegion, 502},
		{60010, rest.ErrNotAdmin, 502},
		{70403, rest.ErrNotAdmin, 502},
		{60020, rest.ErrDenied, 502},
		{60021, rest.ErrDenied, 502},
		{60003, rest.ErrFailed, 502},
		{100301, rest.ErrNotConfigured, 502},
		{123456, rest.ErrFailed, 502},
	}
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	for _, c := range cases {
		e.sb.Inject(sandbox.Fault{Command: "end_call", Code: c.code, Info: "injected", Times: 10})
		_, err := e.client.EndCall(context.Background(), "any")
		var te *rest.Error
		if !errors.Is(err, c.kind) || upstream.Status(err) != c.status || !errors.As(err, &te) || te.Code != c.code {
			t.Errorf("code %d: got %v (status %d), want %v, %d", c.code, err, upstream.Status(err), c.kind, c.status)
		}
		if !strings.Contains(err.Error(), "injected") || !strings.Contains(err.Error(), "end_call") {
			t.Errorf("code %d: the error should carry Tencent's message and the command: %v", c.code, err)
		}
		e.sb.ClearFaults()
	}
}

func TestV1Envelope(t *testing.T) {
	e := newEnv(t, sandbox.Options{RateLimit: -1}, rest.Options{})
	set := rest.Cmd{API: tencent.V1, Path: "callback/set"}
	get := rest.Cmd{API: tencent.V1, Path: "callback/get", Idempotent: true}
	if _, err := e.client.Do(context.Background(), set, map[string]any{"address": "https://example.com/cb", "actions": []string{"caller_start_call"}}, nil); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Address string   `json:"address"`
		Actions []string `json:"actions"`
	}
	if _, err := e.client.Do(context.Background(), get, nil, &got); err != nil || got.Address != "https://example.com/cb" {
		t.Fatalf("callback/get: %+v, %v", got, err)
	}
	// v1 codes mean other things than IM's: 70003 is an expired UserSig,
	// 70005 a rate limit, 70001 bad parameters.
	for code, kind := range map[int]error{70003: rest.ErrSigExpired, 70005: rest.ErrRateLimited,
		70001: rest.ErrBadRequest, 70002: rest.ErrSigInvalid, 70004: rest.ErrNotAdmin, 50001: rest.ErrDenied, 99: rest.ErrUnavailable} {
		e.sb.Inject(sandbox.Fault{Command: "callback/get", Code: code, Times: 10})
		_, err := e.client.Do(context.Background(), get, nil, &got)
		if !errors.Is(err, kind) {
			t.Errorf("v1 code %d: %v, want %v", code, err, kind)
		}
		e.sb.ClearFaults()
	}
}

func TestDomains(t *testing.T) {
	want := map[string][2]string{
		"china":         {"console.tim.qq.com", "adminapi.my-imcloud.com"},
		"singapore":     {"adminapisgp.im.qcloud.com", "adminapisgp.my-imcloud.com"},
		"seoul":         {"adminapikr.im.qcloud.com", "adminapikr.my-imcloud.com"},
		"tokyo":         {"adminapijpn.im.qcloud.com", "adminapijpn.my-imcloud.com"},
		"frankfurt":     {"adminapiger.im.qcloud.com", "adminapiger.my-imcloud.com"},
		"mumbai":        {"adminapiind.im.qcloud.com", "adminapiind.my-imcloud.com"},
		"siliconvalley": {"adminapiusa.im.qcloud.com", "adminapiusa.my-imcloud.com"},
		"jakarta":       {"adminapiidn.im.qcloud.com", "adminapiidn.my-imcloud.com"},
	}
	for region, w := range want {
		p, b, err := rest.IMDomain(region)
		if err != nil || p != w[0] || b != w[1] {
			t.Errorf("%s: %s, %s, %v", region, p, b, err)
		}
		r, d, err := rest.TRTCRegion(region)
		if err != nil || r == "" || (region == "china") != (d == rest.TRTCDomain) {
			t.Errorf("%s: TRTC %s %s %v", region, r, d, err)
		}
	}
	if _, _, err := rest.IMDomain("mars"); err == nil {
		t.Error("unknown region accepted")
	}
	if rest.CallKitDomain("china") != "callkit.trtc.tencent-cloud.com" || rest.CallKitDomain("tokyo") != "callkit-intl.trtc.tencent-cloud.com" {
		t.Error("callkit domains")
	}
}

func TestBadEndpoint(t *testing.T) {
	for _, ep := range []string{"ftp://x", "not a url", "http://", "http://h/p?q=1"} {
		if _, err := rest.New(rest.Options{SDKAppID: 1, Key: "k", Endpoint: ep}); err == nil {
			t.Errorf("endpoint %q accepted", ep)
		}
	}
	if _, err := rest.New(rest.Options{SDKAppID: 1}); err == nil {
		t.Error("no key accepted")
	}
}

// Without the Tencent app, FromConfig says which settings are missing, as
// a configuration error (a function then answers 503 naming them).
func TestFromConfigNamesMissingSettings(t *testing.T) {
	for _, c := range []struct {
		cfg  config.Config
		want string
	}{
		{config.Config{}, "missing CALLFN_TENCENT_SDKAPPID, CALLFN_TENCENT_SECRET_KEY"},
		{config.Config{TencentAppID: 1400000001}, "missing CALLFN_TENCENT_SECRET_KEY"},
		{config.Config{TencentKey: "k"}, "missing CALLFN_TENCENT_SDKAPPID"},
	} {
		_, err := rest.FromConfig(c.cfg, rest.Options{})
		if !errors.Is(err, config.ErrNotConfigured) || err == nil || !strings.HasSuffix(err.Error(), c.want) {
			t.Errorf("%+v: %v, want a config.ErrNotConfigured ending %q", c.cfg, err, c.want)
		}
	}
}

// FromConfig's client goes where the configuration says, whatever the
// Options say.
func TestFromConfig(t *testing.T) {
	cfg := config.Config{TencentAppID: 1400000001, TencentKey: "k", TencentRegion: "singapore"}
	c, err := rest.FromConfig(cfg, rest.Options{Endpoint: "http://ignored.invalid"})
	if err != nil || !strings.Contains(c.Where(), "singapore") {
		t.Errorf("the client goes to %v (%v), want the configured region", c.Where(), err)
	}
	cfg.TencentEndpoint = "http://127.0.0.1:9/tencent"
	if c, err = rest.FromConfig(cfg, rest.Options{}); err != nil || c.Where() != "endpoint http://127.0.0.1:9/tencent" {
		t.Errorf("with CALLFN_TENCENT_ENDPOINT: %v, %v", c.Where(), err)
	}
}
