package sandbox

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/callfn/callfn/shared/tencent/rest"
)

// Tencent Cloud API 3.0: POST / with X-TC-Action, X-TC-Version,
// X-TC-Region, X-TC-Timestamp and a TC3-HMAC-SHA256 Authorization; answers
// {"Response":{...,"RequestId"}} or {"Response":{"Error":{"Code","Message"},"RequestId"}},
// always with HTTP 200.

// IngestTask is one StartStreamIngest the sandbox accepted.
type IngestTask struct {
	TaskId     string
	RoomId     string
	RoomIdType int // StartStreamIngest's numbering: 0 string room, 1 integer room
	UserId     string
	StreamUrl  string
	RepeatNum  *int64
	Volume     *int64
	// CallID is the call whose room the robot joined: one not yet ended
	// with the same room id of the same kind (a string room "123" and the
	// integer room 123 are different rooms). "" when no such call is on.
	CallID string
}

// IngestTasks are the StartStreamIngest tasks accepted so far.
func (s *Sandbox) IngestTasks() []IngestTask {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.ingests)
}

// The StartStreamIngest reference's room id types.
const (
	ingestStringRoom = 0
	ingestIntRoom    = 1
)

const documentedIngestLimit = 20

type cloudResponse struct {
	Response any
}

type cloudErrorBody struct {
	Error     struct{ Code, Message string }
	RequestId string
}

func (s *Sandbox) serveCloud(w http.ResponseWriter, r *http.Request) {
	action := r.Header.Get("X-TC-Action")
	s.count(action)
	fail := func(code, msg string) {
		var b cloudErrorBody
		b.Error.Code, b.Error.Message, b.RequestId = code, msg, newUUID()
		writeJSON(w, http.StatusOK, cloudResponse{b})
	}
	body, err := readBody(r)
	switch {
	case err != nil:
		fail("InternalError.HttpParseFailed", "could not read the request body")
		return
	case r.Method != http.MethodPost:
		fail("InvalidParameter.BodyParamsError", "the sandbox accepts POST only")
		return
	case !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json"):
		fail("InvalidParameter.BodyParamsError", "Content-Type must be application/json")
		return
	case action != rest.IngestAction:
		fail("InvalidAction", "the sandbox knows no action "+action)
		return
	case r.Header.Get("X-TC-Version") != rest.IngestVersion:
		fail("NoSuchVersion", "StartStreamIngest has version "+rest.IngestVersion)
		return
	case !cloudRegions[r.Header.Get("X-TC-Region")]:
		fail("UnsupportedRegion", "StartStreamIngest does not support region "+r.Header.Get("X-TC-Region"))
		return
	}
	if e := s.checkTC3(r, rest.IngestService, body); e != nil {
		fail(e.code, e.msg)
		return
	}
	if !s.allow(action, documentedIngestLimit) {
		fail("RequestLimitExceeded", "request frequency exceeds the limit")
		return
	}
	f := s.takeFault(action)
	switch {
	case f != nil && f.HTTPStatus != 0:
		http.Error(w, http.StatusText(f.HTTPStatus), f.HTTPStatus)
		return
	case f != nil && f.CloudCode != "":
		fail(f.CloudCode, "injected fault")
		return
	}
	task, code, msg := s.startStreamIngest(body)
	if f != nil {
		stall(r, f.Stall)
	}
	if code != "" {
		fail(code, msg)
		return
	}
	writeJSON(w, http.StatusOK, cloudResponse{struct{ TaskId, RequestId string }{task.TaskId, newUUID()}})
}

// startStreamIngest checks the parameters as the API reference states them
// and records the task.
func (s *Sandbox) startStreamIngest(body []byte) (IngestTask, string, string) {
	var p struct {
		SdkAppId      *uint64
		RoomId        *string
		RoomIdType    *int
		UserId        *string
		UserSig       *string
		StreamUrl     *string
		RepeatNum     *int64
		MaxDuration   *int64
		Volume        *int64
		SeekSecond    *int64
		AutoPush      *bool
		PrivateMapKey *string
	}
	if err := json.Unmarshal(body, &p); err != nil {
		return IngestTask{}, "InvalidParameter.BodyParamsError", "could not parse the body parameters: " + err.Error()
	}
	str := func(v *string) string {
		if v == nil {
			return ""
		}
		return *v
	}
	switch {
	case p.SdkAppId == nil:
		return IngestTask{}, "MissingParameter.SdkAppId", "SdkAppId is missing"
	case *p.SdkAppId != s.o.SDKAppID:
		return IngestTask{}, "InvalidParameter.SdkAppId", "SdkAppId is incorrect"
	case str(p.RoomId) == "":
		return IngestTask{}, "MissingParameter.RoomId", "RoomId is missing"
	case p.RoomIdType == nil:
		return IngestTask{}, "MissingParameter", "RoomIdType is missing"
	case *p.RoomIdType != ingestStringRoom && *p.RoomIdType != ingestIntRoom:
		return IngestTask{}, "InvalidParameterValue", "RoomIdType must be 0 (string room) or 1 (integer room)"
	case str(p.UserId) == "":
		return IngestTask{}, "MissingParameter", "UserId is missing"
	}
	// Room ids: the reference's 0 is a string room, 1 an integer room.
	quoted, _ := json.Marshal(*p.RoomId)
	if *p.RoomIdType == ingestIntRoom {
		if _, err := rest.RoomID(quoted, rest.RoomIdTypeInt); err != nil {
			return IngestTask{}, "InvalidParameter.RoomId", "RoomId is not a 32-bit integer room"
		}
	} else if _, err := rest.RoomID(quoted, rest.RoomIdTypeString); err != nil {
		return IngestTask{}, "InvalidParameter.StrRoomId", "RoomId is not a valid string room"
	}
	if f := s.verifySig(*p.UserId, str(p.UserSig)); str(p.UserSig) == "" || f != nil {
		return IngestTask{}, "InvalidParameter.UserSig", "UserSig is expired or wrong"
	}
	if u, err := url.Parse(str(p.StreamUrl)); err != nil || u.Scheme == "" || u.Host == "" {
		return IngestTask{}, "InvalidParameter.StreamUrl", "StreamUrl format is invalid"
	}
	if n := p.RepeatNum; n != nil && (*n < -1 || *n == 0 || *n > 1000) {
		return IngestTask{}, "InvalidParameterValue", "RepeatNum must be -1 or 1..1000"
	}
	if n := p.MaxDuration; n != nil && (*n < 1 || *n > 10080) {
		return IngestTask{}, "InvalidParameterValue", "MaxDuration must be 1..10080"
	}
	if n := p.Volume; n != nil && (*n < 0 || *n > 100) {
		return IngestTask{}, "InvalidParameterValue", "Volume must be 0..100"
	}
	task := IngestTask{TaskId: randHex(24), RoomId: *p.RoomId, RoomIdType: *p.RoomIdType, UserId: *p.UserId,
		StreamUrl: *p.StreamUrl, RepeatNum: p.RepeatNum, Volume: p.Volume}
	wantKind := rest.RoomIdTypeString
	if task.RoomIdType == ingestIntRoom {
		wantKind = rest.RoomIdTypeInt
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range s.order {
		if c := s.calls[id]; !c.ended && c.rec.RoomId == task.RoomId && c.rec.RoomIdType == wantKind {
			task.CallID = id
		}
	}
	s.ingests = append(s.ingests, task)
	return task, "", ""
}
