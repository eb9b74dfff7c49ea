package records_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/records"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

const day = 24 * 3600

func ids(p records.Page) []string {
	var out []string
	for _, r := range p.Records {
		out = append(out, r.CallID)
	}
	return out
}

func TestListPagesThroughTencent(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		e.played(e.now-5*3600, 25, "c")
		e.played(e.now-8*day, 2, "gone") // Tencent no longer has these
		var all []string
		for page, wantMore := range []bool{true, true, false} {
			var p records.Page
			status, _, raw := e.get(fmt.Sprintf("/records?source=tencent&pageSize=10&page=%d", page+1), &p)
			if status != http.StatusOK || p.Source != records.SourceTencent || p.TencentAPI != api || p.Total == nil ||
				*p.Total != 25 || p.HasMore != wantMore || p.Page != page+1 || p.PageSize != 10 {
				t.Fatalf("page %d: %d %v", page+1, status, raw)
			}
			for _, r := range p.Records {
				if r.Source != records.SourceTencent || r.Status != call.StatusEnded || r.StartTime == 0 || r.StartTime%1000 != 0 {
					t.Errorf("record %+v", r)
				}
			}
			all = append(all, ids(p)...)
		}
		if len(all) != 25 || all[0] != "c-0000" || all[24] != "c-0024" {
			t.Errorf("ids %v", all)
		}
		// Filters map to Tencent's.
		var p records.Page
		e.get("/records?source=tencent&result=reject&type=group&pageSize=100", &p)
		if p.Total == nil || *p.Total != 12 || len(p.Records) != 12 || p.Records[0].Result != call.ResultReject || p.Records[0].CallType != call.TypeGroup {
			t.Errorf("reject/group: %+v", p)
		}
		p = records.Page{}
		e.get(fmt.Sprintf("/records?source=tencent&from=%d&to=%d", ms(e.now-5*3600+60), ms(e.now-5*3600+180)), &p)
		if got := strings.Join(ids(p), ","); got != "c-0001,c-0002" {
			t.Errorf("range [from, to): %s", got)
		}
	})
}

// A range wholly older than Tencent's 7 days is the table's alone.
func TestListOlderThanSevenDays(t *testing.T) {
	e := newEnv(t, "v4", envOptions{})
	for i := range 3 {
		at := ms(e.now - 10*day + int64(i)*60)
		e.callback(fmt.Sprintf("old-%d", i), at, call.Facts{Status: call.StatusEnded, StartTime: at, Result: call.ResultNormalEnd, CallType: call.TypeSingle})
	}
	before := e.hits.count()
	var p records.Page
	status, _, raw := e.get(fmt.Sprintf("/records?source=tencent&from=%d&to=%d&pageSize=2", ms(e.now-12*day), ms(e.now-8*day)), &p)
	if status != http.StatusOK || p.Source != records.SourceTable || len(p.Records) != 2 || !p.HasMore || p.Total != nil ||
		p.Records[0].CallID != "old-0" || p.Records[0].Source != records.SourceTable || p.TencentError != "" {
		t.Errorf("%d %v", status, raw)
	}
	p = records.Page{}
	e.get(fmt.Sprintf("/records?source=tencent&from=%d&to=%d&pageSize=2&page=2", ms(e.now-12*day), ms(e.now-8*day)), &p)
	if len(p.Records) != 1 || p.HasMore || p.Total == nil || *p.Total != 3 {
		t.Errorf("page 2: %+v", p)
	}
	if n := e.hits.count() - before; n != 0 {
		t.Errorf("asked Tencent %d times for records it no longer has", n)
	}
}

// A range across the window: Tencent's part first, then the table's older
// part, each record saying where it came from.
func TestListStraddlesTheWindow(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		e.played(e.now-3600, 5, "new")
		for i := range 3 {
			at := ms(e.now - 9*day + int64(i)*60)
			e.callback(fmt.Sprintf("old-%d", i), at, call.Facts{Status: call.StatusEnded, StartTime: at})
		}
		from := ms(e.now - 10*day)
		var pages []records.Page
		for page := 1; page <= 3; page++ {
			var p records.Page
			if status, _, raw := e.get(fmt.Sprintf("/records?source=tencent&from=%d&pageSize=4&page=%d", from, page), &p); status != http.StatusOK {
				t.Fatalf("page %d: %d %v", page, status, raw)
			}
			pages = append(pages, p)
		}
		var got []string
		for _, p := range pages {
			for _, r := range p.Records {
				got = append(got, r.CallID+"/"+r.Source)
			}
		}
		want := "new-0000/tencent,new-0001/tencent,new-0002/tencent,new-0003/tencent,new-0004/tencent,old-0/table,old-1/table,old-2/table"
		if strings.Join(got, ",") != want {
			t.Errorf("got  %s\nwant %s", strings.Join(got, ","), want)
		}
		if !pages[0].HasMore || pages[1].HasMore || pages[2].HasMore || pages[0].Source != records.SourceBoth {
			t.Errorf("hasMore %v %v %v, source %s", pages[0].HasMore, pages[1].HasMore, pages[2].HasMore, pages[0].Source)
		}
		if p := pages[1]; p.Total == nil || *p.Total != 8 {
			t.Errorf("total on the last page: %v", p.Total)
		}
	})
}

// When Tencent cannot answer a list, the table does, and says why; with
// nothing in the table either, Tencent's failure is the answer.
func TestListWhenTencentFails(t *testing.T) {
	bothAPIs(t, func(t *testing.T, api string) {
		e := newEnv(t, api, envOptions{})
		cmd, code := "call_record_http_srv/get_record_by_filter", 60011
		if api == "v1" {
			cmd, code = "records/get_records_by_filter", 70005
		}
		e.played(e.now-3600, 3, "c")
		e.callback("c-0001", ms(e.now-3600+60), call.Facts{Status: call.StatusOngoing, StartTime: ms(e.now - 3600 + 60)})
		e.sb.Inject(sandbox.Fault{Command: cmd, Code: code, Times: 100})
		var p records.Page
		status, _, raw := e.get("/records?source=tencent", &p)
		if status != http.StatusOK || p.Source != records.SourceTable || !strings.Contains(p.TencentError, "rate-limited") ||
			len(p.Records) != 1 || p.Records[0].CallID != "c-0001" || p.Records[0].Source != records.SourceTable {
			t.Errorf("%d %v", status, raw)
		}
		status, hdr, raw := e.get(fmt.Sprintf("/records?source=tencent&to=%d", ms(e.now-2*3600)), nil)
		if status != http.StatusTooManyRequests || hdr.Get("Retry-After") == "" || raw["error"] == nil {
			t.Errorf("nothing in the table: %d %v %v", status, hdr, raw)
		}
	})
}
