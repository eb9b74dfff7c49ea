package rest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/backoff"
	"github.com/callfn/callfn/shared/config"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"
	tcerr "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/errors"
	tchttp "github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/http"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common/profile"
)

// Media into a call (spec §4): after start_call_by_robot, TRTC's Cloud API
// 3.0 action StartStreamIngest (version 2019-07-22) has the robot join the
// call's room and push a media stream into it. It is signed with Tencent
// Cloud API credentials (TC3-HMAC-SHA256, done by tencentcloud-sdk-go's
// common client), not with UserSig; the robot's own UserSig rides in the
// body.

// StartStreamIngest's identity.
const (
	IngestService = "trtc"
	IngestVersion = "2019-07-22"
	IngestAction  = "StartStreamIngest"
)

// Room id types of StartStreamIngest, per its API reference: 0 a string
// room, 1 an integer room (the default). The call API numbers them
// differently (RoomIdTypeInt 1, RoomIdTypeString 2).
const (
	IngestRoomString = 0
	IngestRoomInt    = 1
)

// IngestRoomIdType translates a call's RoomIdType (1 integer, 2 string) into
// StartStreamIngest's (1 integer, 0 string). This is the one place the two
// numbering schemes meet. (The server-call guide says ingest uses 0 for
// integer and 1 for string; the API's own reference page, followed here,
// says 0 string and 1 integer.)
func IngestRoomIdType(callRoomIdType int) (int, error) {
	switch callRoomIdType {
	case RoomIdTypeInt:
		return IngestRoomInt, nil
	case RoomIdTypeString:
		return IngestRoomString, nil
	}
	return 0, fmt.Errorf("tencent: call RoomIdType %d is neither 1 (integer) nor 2 (string)", callRoomIdType)
}

// StreamIngest is what a caller chooses of StartStreamIngest, spelled as the
// API spells it; callfn supplies SdkAppId, RoomId, RoomIdType, UserId (the
// robot) and UserSig.
type StreamIngest struct {
	StreamUrl     string
	RepeatNum     *int64 `json:",omitempty"` // plays: -1 (loop) or 1..1000; default 1
	MaxDuration   *int64 `json:",omitempty"` // minutes 1..10080; applies with RepeatNum -1
	Volume        *int64 `json:",omitempty"` // 0..100; default 100 (as recorded)
	SeekSecond    *int64 `json:",omitempty"` // start this many seconds in
	AutoPush      *bool  `json:",omitempty"` // relay to CDN too
	PrivateMapKey string `json:",omitempty"` // with advanced room permissions
}

// Validate checks s as StartStreamIngest does.
func (s *StreamIngest) Validate() error {
	if s.StreamUrl == "" {
		return paramErr("StreamIngest.StreamUrl", "is required: the media to push into the call")
	}
	if err := checkStreamURL(s.StreamUrl); err != nil {
		return err
	}
	if n := s.RepeatNum; n != nil && (*n < -1 || *n == 0 || *n > 1000) {
		return paramErr("StreamIngest.RepeatNum", "must be -1 (loop) or 1..1000, got %d", *n)
	}
	if n := s.MaxDuration; n != nil && (*n < 1 || *n > 10080) {
		return paramErr("StreamIngest.MaxDuration", "must be 1..10080 minutes, got %d", *n)
	}
	if n := s.Volume; n != nil && (*n < 0 || *n > 100) {
		return paramErr("StreamIngest.Volume", "must be 0..100, got %d", *n)
	}
	if n := s.SeekSecond; n != nil && *n < 0 {
		return paramErr("StreamIngest.SeekSecond", "must not be negative, got %d", *n)
	}
	return nil
}

// checkStreamURL accepts an absolute URL of a media protocol TRTC pulls.
func checkStreamURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return paramErr("StreamIngest.StreamUrl", "must be an absolute URL, got %q", s)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "rtmp", "rtmps", "rtsp", "srt":
		return nil
	}
	return paramErr("StreamIngest.StreamUrl", "must be an http, https, rtmp, rtmps, rtsp or srt URL, got %q", u.Scheme)
}

// ingestBackoff spaces the SDK's sends after a RequestLimitExceeded.
var ingestBackoff = backoff.Policy{Base: 200 * time.Millisecond, Max: 400 * time.Millisecond}

// IngestOptions configure an Ingester.
type IngestOptions struct {
	SecretID, SecretKey string // TENCENTCLOUD_SECRET_ID, TENCENTCLOUD_SECRET_KEY
	Region              string // CALLFN_TENCENT_REGION: picks the Cloud API region and domain
	// Endpoint replaces the TRTC domain, as a base URL such as
	// http://127.0.0.1:8081 (the local sandbox).
	Endpoint   string
	HTTPClient *http.Client // its Transport is shared (default NewHTTPClient())
}

// Ingester calls StartStreamIngest. It is safe for concurrent use.
type Ingester struct {
	client *common.Client
	signer *Signer
	where  string
}

// NewIngester returns an Ingester that signs robots' UserSigs with signer.
func NewIngester(signer *Signer, o IngestOptions) (*Ingester, error) {
	if o.SecretID == "" || o.SecretKey == "" {
		return nil, errors.New("tencent: pushing media into a call needs TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY")
	}
	if o.Region == "" {
		o.Region = "china"
	}
	cloudRegion, domain, err := TRTCRegion(o.Region)
	if err != nil {
		return nil, err
	}
	cpf := profile.NewClientProfile()
	cpf.Language = "en-US"
	cpf.HttpProfile.ReqTimeout = int(DefaultTimeout / time.Second)
	cpf.HttpProfile.Endpoint = domain
	// RequestLimitExceeded means TRTC did not act: safe to send again,
	// after callfn's one jittered backoff (the SDK counts retries from 0).
	cpf.RateLimitExceededMaxRetries = 2
	cpf.RateLimitExceededRetryDuration = func(i int) time.Duration { return ingestBackoff.Delay(i + 1) }
	where := fmt.Sprintf("Tencent Cloud %s (%s)", cloudRegion, domain)
	if o.Endpoint != "" {
		base, err := baseURL(o.Endpoint)
		if err != nil {
			return nil, err
		}
		u, _ := url.Parse(base)
		cpf.HttpProfile.Scheme = strings.ToUpper(u.Scheme)
		cpf.HttpProfile.Endpoint = u.Host
		if u.Path != "" {
			// POST to PATH/, as a server that mounts the endpoint at
			// PATH/ expects (a mux would redirect PATH).
			cpf.HttpProfile.Endpoint += u.Path + "/"
		}
		where = "endpoint " + base
	}
	hc := o.HTTPClient
	if hc == nil {
		hc = NewHTTPClient()
	}
	client := common.NewCommonClient(common.NewCredential(o.SecretID, o.SecretKey), cloudRegion, cpf)
	if hc.Transport != nil {
		client.WithHttpTransport(hc.Transport)
	}
	return &Ingester{client: client, signer: signer, where: where}, nil
}

// IngesterFromConfig returns the Ingester the configuration describes: the
// Tencent Cloud API credentials (TENCENTCLOUD_SECRET_ID,
// TENCENTCLOUD_SECRET_KEY) and the region (CALLFN_TENCENT_REGION). It signs
// robots' UserSigs with c's Signer and, unless o names another HTTPClient,
// shares c's connections; o may also name an Endpoint (the local sandbox).
//
// Without the credentials it returns nil and no error: pushing media is an
// option, which the startcall function then refuses, naming them.
func IngesterFromConfig(cfg config.Config, c *Client, o IngestOptions) (*Ingester, error) {
	if cfg.CloudSecretID == "" || cfg.CloudSecretKey == "" {
		return nil, nil
	}
	o.SecretID, o.SecretKey, o.Region = cfg.CloudSecretID, cfg.CloudSecretKey, cfg.TencentRegion
	if o.HTTPClient == nil {
		o.HTTPClient = c.HTTPClient()
	}
	return NewIngester(c.Signer(), o)
}

// IngestResult is StartStreamIngest's reply.
type IngestResult struct {
	TaskId    string
	RequestId string
}

// Start has robot push p.StreamUrl into the room roomID of a call whose
// RoomIdType (the call API's numbering) is callRoomIdType.
func (g *Ingester) Start(ctx context.Context, robot, roomID string, callRoomIdType int, p *StreamIngest) (IngestResult, error) {
	fail := func(kind error, detail string, cause error) error {
		return &Error{Kind: kind, API: "cloud", Command: IngestAction, Where: g.where, Detail: detail, cause: cause}
	}
	ingestType, err := IngestRoomIdType(callRoomIdType)
	if err != nil {
		return IngestResult{}, fail(ErrBadRequest, err.Error(), nil)
	}
	if roomID == "" {
		return IngestResult{}, fail(ErrBadRequest, "the call has no RoomId to push into", nil)
	}
	sig, err := g.signer.UserSig(robot)
	if err != nil {
		return IngestResult{}, fail(ErrFailed, "", err)
	}
	params := map[string]any{
		"SdkAppId":   g.signer.AppID(),
		"RoomId":     roomID,
		"RoomIdType": ingestType,
		"UserId":     robot,
		"UserSig":    sig,
		"StreamUrl":  p.StreamUrl,
	}
	if p.RepeatNum != nil {
		params["RepeatNum"] = *p.RepeatNum
	}
	if p.MaxDuration != nil {
		params["MaxDuration"] = *p.MaxDuration
	}
	if p.Volume != nil {
		params["Volume"] = *p.Volume
	}
	if p.SeekSecond != nil {
		params["SeekSecond"] = *p.SeekSecond
	}
	if p.AutoPush != nil {
		params["AutoPush"] = *p.AutoPush
	}
	if p.PrivateMapKey != "" {
		params["PrivateMapKey"] = p.PrivateMapKey
	}
	req := tchttp.NewCommonRequest(IngestService, IngestVersion, IngestAction)
	req.SetContext(ctx)
	if err := req.SetActionParameters(params); err != nil {
		return IngestResult{}, fail(ErrFailed, "encoding the request", redactErr(err, sig))
	}
	resp := tchttp.NewCommonResponse()
	if err := g.client.Send(req, resp); err != nil {
		var sdk *tcerr.TencentCloudSDKError
		if errors.As(err, &sdk) {
			ci := cloudCodeInfo(sdk.Code)
			e := &Error{Kind: ci.kind, API: "cloud", Command: IngestAction, CloudCode: sdk.Code,
				Info: redact(sdk.Message, sig), RequestID: sdk.RequestId, Where: g.where, Detail: ci.detail}
			if cause := sdk.Unwrap(); cause != nil {
				var ue *url.Error
				if errors.As(cause, &ue) {
					cause = ue.Err
				}
				e.cause = redactErr(cause, sig)
				e.Info = ""
				if e.Detail == "" {
					e.Detail = "no reply from " + g.where
				}
			}
			return IngestResult{}, e
		}
		return IngestResult{}, fail(ErrUnavailable, "no reply from "+g.where, redactErr(err, sig))
	}
	var out struct{ Response IngestResult }
	if err := json.Unmarshal(resp.GetBody(), &out); err != nil || out.Response.TaskId == "" {
		return IngestResult{}, fail(ErrFailed, "StartStreamIngest's reply has no TaskId", nil)
	}
	return out.Response, nil
}
