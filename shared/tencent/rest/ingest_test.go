package rest_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/callfn/callfn/shared/api/upstream"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// TestIngestRoomIdType pins the one translation between the two room id
// numberings: the call API's 1 integer / 2 string, StartStreamIngest's
// reference 1 integer / 0 string.
func TestIngestRoomIdType(t *testing.T) {
	for call, ingest := range map[int]int{rest.RoomIdTypeInt: 1, rest.RoomIdTypeString: 0} {
		if got, err := rest.IngestRoomIdType(call); err != nil || got != ingest {
			t.Errorf("IngestRoomIdType(%d) = %d, %v; want %d", call, got, err, ingest)
		}
	}
	for _, bad := range []int{0, 3, -1} {
		if _, err := rest.IngestRoomIdType(bad); err == nil {
			t.Errorf("IngestRoomIdType(%d) accepted", bad)
		}
	}
}

func newIngester(t *testing.T, e *env, id, key string) *rest.Ingester {
	t.Helper()
	g, err := rest.NewIngester(e.client.Signer(), rest.IngestOptions{SecretID: id, SecretKey: key,
		Endpoint: e.srv.URL, HTTPClient: e.client.HTTPClient()})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// TestIngestJoinsTheCallsRoom pushes media into a string room and an integer
// room; the sandbox says which call's room the robot joined, which is right
// only if the room id type was translated.
func TestIngestJoinsTheCallsRoom(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	g := newIngester(t, e, sandbox.DefaultCloudSecretID, sandbox.DefaultCloudSecretKey)
	rooms := []struct {
		raw   string
		typ   int
		id    string
		itype int
	}{{`"roomid-test"`, 2, "roomid-test", 0}, {`12345`, 1, "12345", 1}}
	for _, room := range rooms {
		req := callReq("jack")
		req.CallInfo.RoomId, req.CallInfo.RoomIdType = []byte(room.raw), intp(room.typ)
		resp := e.mustStart(req)
		res, err := g.Start(context.Background(), "robot", room.id, room.typ,
			&rest.StreamIngest{StreamUrl: "https://media.example.com/hello.mp4", RepeatNum: int64p(-1), MaxDuration: int64p(10), Volume: int64p(80)})
		if err != nil || res.TaskId == "" || res.RequestId == "" {
			t.Fatalf("room %s: %+v, %v", room.raw, res, err)
		}
		tasks := e.sb.IngestTasks()
		task := tasks[len(tasks)-1]
		if task.TaskId != res.TaskId || task.RoomIdType != room.itype || task.CallID != string(resp.CallId) || task.UserId != "robot" {
			t.Errorf("room %s: task %+v, want RoomIdType %d in call %s", room.raw, task, room.itype, resp.CallId)
		}
		if *task.RepeatNum != -1 || *task.Volume != 80 {
			t.Errorf("parameters not passed: %+v", task)
		}
	}
	if g := e.client.Signer().Generations(); g != 2 {
		t.Errorf("%d UserSigs, want 2 (the administrator's and the robot's)", g)
	}
	if n := e.conns.Load(); n != 1 {
		t.Errorf("REST and Cloud API requests opened %d connections, want 1 (a shared pool)", n)
	}
}

func TestIngestErrors(t *testing.T) {
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	p := &rest.StreamIngest{StreamUrl: "rtmp://media.example.com/live/x"}

	const secret = "cloud-secret-never-shown-9876"
	bad := newIngester(t, e, sandbox.DefaultCloudSecretID, secret)
	_, err := bad.Start(context.Background(), "robot", "roomid-test", 2, p)
	if !errors.Is(err, rest.ErrCloudAuth) || upstream.Status(err) != http.StatusBadGateway ||
		!strings.Contains(err.Error(), "AuthFailure.SignatureFailure") || !strings.Contains(err.Error(), "TENCENTCLOUD_SECRET_KEY") {
		t.Errorf("wrong secret key: %v", err)
	}
	if strings.Contains(err.Error(), secret) {
		t.Errorf("the error reveals the secret key: %v", err)
	}
	unknown := newIngester(t, e, "AKIDnobody", sandbox.DefaultCloudSecretKey)
	if _, err := unknown.Start(context.Background(), "robot", "roomid-test", 2, p); !errors.Is(err, rest.ErrCloudAuth) ||
		!strings.Contains(err.Error(), "AuthFailure.SecretIdNotFound") {
		t.Errorf("unknown secret id: %v", err)
	}

	g := newIngester(t, e, sandbox.DefaultCloudSecretID, sandbox.DefaultCloudSecretKey)
	// RequestLimitExceeded: TRTC did not act, the SDK sends again.
	before := e.sb.Requests("StartStreamIngest")
	e.sb.Inject(sandbox.Fault{Command: "StartStreamIngest", CloudCode: "RequestLimitExceeded"})
	if _, err := g.Start(context.Background(), "robot", "roomid-test", 2, p); err != nil || e.sb.Requests("StartStreamIngest")-before != 2 {
		t.Errorf("after a rate limit: %v, %d requests, want 2", err, e.sb.Requests("StartStreamIngest")-before)
	}
	for code, kind := range map[string]error{
		"FailedOperation.RestrictedConcurrency": rest.ErrFailed,
		"InternalError.InternalError":           rest.ErrUnavailable,
		"InvalidParameter.StreamUrl":            rest.ErrBadRequest,
		"InvalidParameter.UserSig":              rest.ErrSigInvalid,
	} {
		e.sb.Inject(sandbox.Fault{Command: "StartStreamIngest", CloudCode: code})
		_, err := g.Start(context.Background(), "robot", "roomid-test", 2, p)
		if !errors.Is(err, kind) || !strings.Contains(err.Error(), code) {
			t.Errorf("%s: %v, want %v", code, err, kind)
		}
	}
	// The sandbox itself checks the room against its type.
	if _, err := g.Start(context.Background(), "robot", "not-a-number", 1, p); !errors.Is(err, rest.ErrBadRequest) ||
		!strings.Contains(err.Error(), "InvalidParameter.RoomId") {
		t.Errorf("a string room sent as an integer room: %v", err)
	}
	if _, err := g.Start(context.Background(), "robot", "r", 7, p); !errors.Is(err, rest.ErrBadRequest) {
		t.Errorf("bad room type: %v", err)
	}
	if _, err := rest.NewIngester(e.client.Signer(), rest.IngestOptions{}); err == nil {
		t.Error("an Ingester without credentials")
	}
}

func TestStreamIngestValidate(t *testing.T) {
	cases := []struct {
		s     rest.StreamIngest
		field string
	}{
		{rest.StreamIngest{StreamUrl: "https://a.b/x.mp4"}, ""},
		{rest.StreamIngest{}, "StreamIngest.StreamUrl"},
		{rest.StreamIngest{StreamUrl: "a.b/x.mp4"}, "StreamIngest.StreamUrl"},
		{rest.StreamIngest{StreamUrl: "file:///etc/passwd"}, "StreamIngest.StreamUrl"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", RepeatNum: int64p(-1)}, ""},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", RepeatNum: int64p(-2)}, "StreamIngest.RepeatNum"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", RepeatNum: int64p(0)}, "StreamIngest.RepeatNum"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", RepeatNum: int64p(1000)}, ""},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", RepeatNum: int64p(1001)}, "StreamIngest.RepeatNum"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", MaxDuration: int64p(0)}, "StreamIngest.MaxDuration"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", MaxDuration: int64p(1)}, ""},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", MaxDuration: int64p(10080)}, ""},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", MaxDuration: int64p(10081)}, "StreamIngest.MaxDuration"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", Volume: int64p(0)}, ""},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", Volume: int64p(100)}, ""},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", Volume: int64p(101)}, "StreamIngest.Volume"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", Volume: int64p(-1)}, "StreamIngest.Volume"},
		{rest.StreamIngest{StreamUrl: "rtmp://a.b/live", SeekSecond: int64p(-1)}, "StreamIngest.SeekSecond"},
	}
	for _, c := range cases {
		err := c.s.Validate()
		var pe *rest.ParamError
		if (c.field == "") != (err == nil) || (err != nil && (!errors.As(err, &pe) || pe.Field != c.field)) {
			t.Errorf("%+v: %v, want field %q", c.s, err, c.field)
		}
	}
}

// IngesterFromConfig builds an Ingester only with the Cloud API
// credentials.
func TestIngesterFromConfig(t *testing.T) {
	cfg := config.Config{TencentAppID: 1400000001, TencentKey: "k"}
	c, err := rest.FromConfig(cfg, rest.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g, err := rest.IngesterFromConfig(cfg, c, rest.IngestOptions{}); g != nil || err != nil {
		t.Errorf("an Ingester without Cloud API credentials: %v, %v", g, err)
	}
	cfg.CloudSecretID, cfg.CloudSecretKey = "id", "key"
	if g, err := rest.IngesterFromConfig(cfg, c, rest.IngestOptions{}); g == nil || err != nil {
		t.Errorf("no Ingester with Cloud API credentials: %v", err)
	}
}
