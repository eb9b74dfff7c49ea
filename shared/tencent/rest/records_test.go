package rest_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/testkit"
)

// recordFixture is one of Tencent's sample records, kept once beside the
// record shapes, in shared/tencent/testdata.
func recordFixture(t testing.TB, name string) []byte {
	return testkit.Fixture(t, "..", "..", "testdata", name)
}

// rcServer answers every request with reply and records the last request
// body and path.
func rcServer(t *testing.T, reply string) (*rest.Client, *string, *string) {
	t.Helper()
	var body, path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		body, path = string(b), r.URL.Path
		w.Write([]byte(reply))
	}))
	t.Cleanup(srv.Close)
	c, err := rest.New(rest.Options{SDKAppID: 1400000000, Key: "k", Endpoint: srv.URL, Retry: rest.Retry{Attempts: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return c, &body, &path
}

// Records as Tencent's samples send them: numbers as strings, a callee as
// an unquoted 18-digit number, the caller among the callees.
func TestGetRecordByCallIDShapes(t *testing.T) {
	v4 := `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","RequestId":"r1","Response":{"CallRecord":` + string(recordFixture(t, "v4_record.json")) + `}}`
	c, body, path := rcServer(t, v4)
	rec, meta, err := c.GetRecordByCallID(context.Background(), tencent.V4, "6ef1ce6d-8bd4-4b1c-9c3a-a6e8e7c1c0a1")
	if err != nil {
		t.Fatal(err)
	}
	if *path != "/v4/call_record_http_srv/get_record_by_callid" || *body != `{"CallId":"6ef1ce6d-8bd4-4b1c-9c3a-a6e8e7c1c0a1"}` || meta.RequestID != "r1" {
		t.Errorf("request %s %s", *path, *body)
	}
	if rec.CallID != "6ef1ce6d-8bd4-4b1c-9c3a-a6e8e7c1c0a1" || rec.API != tencent.V4 || strings.Join(rec.Facts.Callees, ",") != "bob,144115212948889925" ||
		rec.Facts.Result != call.ResultCancel || !json.Valid(rec.Raw) || !strings.Contains(string(rec.Raw), "144115212948889925") {
		t.Errorf("record %+v", rec)
	}

	v1 := `{"errorCode":0,"errorMessage":"Success","requestId":"r2","data":` + string(recordFixture(t, "v1_record.json")) + `}`
	c, body, path = rcServer(t, v1)
	rec, _, err = c.GetRecordByCallID(context.Background(), tencent.V1, "2ae7d549-c441-4a9b-87c0-61810fe19582")
	if err != nil {
		t.Fatal(err)
	}
	if *path != "/v1/records/get_record_by_callId" || *body != `{"callId":"2ae7d549-c441-4a9b-87c0-61810fe19582"}` {
		t.Errorf("request %s %s", *path, *body)
	}
	if rec.Facts.Result != call.ResultNormalEnd || rec.Facts.AcceptTime != 1688705641000 || rec.API != tencent.V1 {
		t.Errorf("record %+v", rec)
	}
}

// An answer with no record is ErrRecordNotFound, whatever its shape.
func TestGetRecordByCallIDEmpty(t *testing.T) {
	for api, replies := range map[string][]string{
		tencent.V4: {`{"ActionStatus":"OK","ErrorCode":0,"RequestId":"r"}`, `{"ActionStatus":"OK","ErrorCode":0,"Response":{}}`,
			`{"ActionStatus":"OK","ErrorCode":0,"Response":{"CallRecord":{}}}`, `{"ActionStatus":"OK","ErrorCode":0,"Response":{"CallRecord":null}}`,
			`{"ActionStatus":"FAIL","ErrorCode":101050,"ErrorInfo":"record not exist"}`},
		tencent.V1: {`{"errorCode":0,"errorMessage":"Success","requestId":"r"}`, `{"errorCode":0,"data":null}`, `{"errorCode":0,"data":{}}`,
			`{"errorCode":0,"data":{"callId":""}}`},
	} {
		for _, reply := range replies {
			c, _, _ := rcServer(t, reply)
			_, _, err := c.GetRecordByCallID(context.Background(), api, "x")
			if !errors.Is(err, rest.ErrRecordNotFound) || upstream.Status(err) != http.StatusNotFound {
				t.Errorf("%s %s: %v", api, reply, err)
			}
		}
	}
	// A record of the wrong shape is a failure, not a missing record.
	c, _, _ := rcServer(t, `{"ActionStatus":"OK","ErrorCode":0,"Response":{"CallRecord":{"CallId":["x"]}}}`)
	if _, _, err := c.GetRecordByCallID(context.Background(), tencent.V4, "x"); err == nil || errors.Is(err, rest.ErrRecordNotFound) {
		t.Errorf("bad shape: %v", err)
	}
}

// Filters are spelled as each generation spells them.
func TestGetRecordByFilterBodies(t *testing.T) {
	f := rest.RecordFilter{StartTime: 100, EndTime: 200, Result: call.ResultNotAnswer, CallType: call.TypeGroup, PerPage: 50, Page: 2}
	c, body, path := rcServer(t, `{"ActionStatus":"OK","ErrorCode":0,"Response":{"TotalNum":"51","Page":2,"CallRecordList":[{"CallId":"a","StartTime":"150"}]}}`)
	p, _, err := c.GetRecordByFilter(context.Background(), tencent.V4, f)
	if err != nil {
		t.Fatal(err)
	}
	if *path != "/v4/call_record_http_srv/get_record_by_filter" ||
		*body != `{"StartTime":100,"EndTime":200,"CallResult":"NotAnswer","CallType":"MultiCall","NumberPerPage":50,"Page":2}` {
		t.Errorf("v4 request %s %s", *path, *body)
	}
	if p.Total != 51 || p.Page != 2 || len(p.Records) != 1 || p.Records[0].Facts.StartTime != 150000 || !p.Last(2, 50) {
		t.Errorf("v4 page %+v", p)
	}
	c, body, path = rcServer(t, `{"errorCode":0,"data":{"totalNum":0,"page":0,"callRecordList":[]}}`)
	p, _, err = c.GetRecordByFilter(context.Background(), tencent.V1, f)
	if err != nil {
		t.Fatal(err)
	}
	if *path != "/v1/records/get_records_by_filter" ||
		*body != `{"startTimestamp":100,"endTimestamp":200,"callResult":"not_answer","callType":"group","numberPerPage":50,"page":2}` {
		t.Errorf("v1 request %s %s", *path, *body)
	}
	if p.Total != 0 || !p.Last(2, 50) {
		t.Errorf("v1 page %+v", p)
	}
	// v1 requires a start: the client supplies Tencent's 7 days.
	if _, _, err := c.GetRecordByFilter(context.Background(), tencent.V1, rest.RecordFilter{}); err != nil || !strings.Contains(*body, `"startTimestamp":1`) {
		t.Errorf("v1 default start: %s %v", *body, err)
	}
	// v4 sends {} when nothing is set.
	c, body, _ = rcServer(t, `{"ActionStatus":"OK","ErrorCode":0,"Response":{"TotalNum":0,"Page":0}}`)
	if _, _, err := c.GetRecordByFilter(context.Background(), tencent.V4, rest.RecordFilter{}); err != nil || *body != `{}` {
		t.Errorf("v4 empty filter: %s %v", *body, err)
	}
	for _, bad := range []rest.RecordFilter{{Result: "hung_up"}, {CallType: "triple"}, {StartTime: 5, EndTime: 4}, {PerPage: -1}, {StartTime: -1}} {
		if _, _, err := c.GetRecordByFilter(context.Background(), tencent.V4, bad); !errors.Is(err, rest.ErrBadRequest) {
			t.Errorf("%+v: %v", bad, err)
		}
	}
}

// The same record, however it was spaced, is the same archived event.
func TestRecordEventDeliveryID(t *testing.T) {
	a := rest.Record{API: tencent.V4, CallID: "c", Raw: json.RawMessage(`{"CallId":"c","EndTime":5}`), Facts: call.Facts{EndTime: 5000, StartTime: 1000}}
	b := a
	b.Raw = json.RawMessage("{ \"CallId\": \"c\",\n \"EndTime\": 5 }")
	ea, eb := a.Event(), b.Event()
	if ea.DeliveryID != eb.DeliveryID || ea.EventTime != 5000 || eb.Raw != string(b.Raw) {
		t.Errorf("%+v\n%+v", ea, eb)
	}
	c := a
	c.Raw = json.RawMessage(`{"CallId":"c","EndTime":6}`)
	c.Facts.EndTime = 0
	if ec := c.Event(); ec.DeliveryID == ea.DeliveryID || ec.EventTime != 1000 {
		t.Errorf("a different record: %+v", ec)
	}
}
