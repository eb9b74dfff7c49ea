package startcall_test

import (
	"errors"
	"os"
	"testing"

	"github.com/callfn/callfn/shared/api"
	"github.com/callfn/callfn/shared/startcall"
	"github.com/callfn/callfn/shared/tencent/rest"
)

// FuzzParseRequest: any body gives a request or a described error, never a
// panic.
func FuzzParseRequest(f *testing.F) {
	seed, _ := os.ReadFile("testdata/seed_sample.txt")
	f.Add(seed)
	f.Add([]byte(body(nil)))
	f.Add([]byte(body(func(m map[string]any) {
		m["StreamIngest"] = map[string]any{"StreamUrl": "https://a.b/c.mp4", "RepeatNum": -1}
		m["OfflinePushInfo"] = map[string]any{"PushFlag": 1, "Ext": `{"a":1}`, "ApnsInfo": map[string]any{"Sound": "x"}}
	})))
	f.Add([]byte(`{"CallInfo":{"RoomId":{"x":1},"RoomIdType":1}}`))
	f.Add([]byte(`{"StreamIngest":null,"CallInfo":{"RoomIdType":null}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		req, err := startcall.ParseRequest(b)
		var be *api.BodyError
		var pe *rest.ParamError
		switch {
		case err == nil:
			if req.Robot_Account == "" || len(req.CalleeList_Account) == 0 || req.Timeout < rest.MinCallTimeout {
				t.Fatalf("%q passed: %+v", b, req)
			}
			if req.StreamIngest != nil && req.RoomID() == "" {
				t.Fatalf("%q: media with no room", b)
			}
		case !errors.As(err, &be) && !errors.As(err, &pe):
			t.Fatalf("%q: undescribed error %T %v", b, err, err)
		}
	})
}
