package rest

import (
	"errors"
	"fmt"
	"strings"

	"github.com/callfn/callfn/shared/tencent"
)

// Kinds of failure the Tencent clients report. Every error from Client and
// Ingester wraps exactly one of these, so a caller decides what it means
// (an HTTP status, a retry) with errors.Is and never needs Tencent's
// numbers.
//
// Their texts are part of callfn's replies (after "tencent API COMMAND: "),
// where "Tencent", a proper noun, keeps its capital.
var (
	ErrBadRequest     = errors.New("Tencent rejected the request's parameters") //lint:ignore ST1005 a proper noun (see above)
	ErrSigExpired     = errors.New("the administrator's UserSig has expired")
	ErrSigInvalid     = errors.New("the UserSig is invalid")
	ErrSigOtherApp    = errors.New("the UserSig was signed for another app or user")
	ErrWrongRegion    = errors.New("the SDKAppID or its key is unknown in this region")
	ErrNotAdmin       = errors.New("the identifier is not an app administrator")
	ErrRateLimited    = errors.New("Tencent rate-limited the request")             //lint:ignore ST1005 a proper noun (see above)
	ErrUnavailable    = errors.New("Tencent is unreachable, failing or timed out") //lint:ignore ST1005 a proper noun (see above)
	ErrCallNotFound   = errors.New("the call does not exist or has already ended")
	ErrRecordNotFound = errors.New("the call record does not exist")
	ErrNotConfigured  = errors.New("no callback is configured")
	ErrDenied         = errors.New("Tencent refused the app (package, IP allow-list or lock-out)") //lint:ignore ST1005 a proper noun (see above)
	ErrCloudAuth      = errors.New("Tencent Cloud rejected the API credentials")                   //lint:ignore ST1005 a proper noun (see above)
	ErrFailed         = errors.New("Tencent could not carry out the request")                      //lint:ignore ST1005 a proper noun (see above)
)

// Error is one failed Tencent request. Its text names the command, what
// went wrong in plain words, Tencent's code and message and request id; it
// never holds a UserSig or a key.
type Error struct {
	Kind      error  // one of the Err* kinds above
	API       string // "v4", "v1" or "cloud" (Tencent Cloud API 3.0)
	Command   string // e.g. "call_engine_http_srv/start_call_by_robot", "StartStreamIngest"
	Code      int    // Tencent's ErrorCode (v4) or errorCode (v1); 0 when none
	CloudCode string // Tencent Cloud API 3.0 error code, e.g. "AuthFailure.SignatureFailure"
	Info      string // Tencent's own message
	RequestID string
	Where     string // the region and domain (or endpoint) the request went to
	Detail    string // what callfn adds: which way the UserSig failed, what to check
	cause     error  // the network error, if any
	// beforeSend: the connection failed before any byte was sent, so
	// Tencent cannot have acted.
	beforeSend bool
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "tencent %s %s: %s", e.API, e.Command, e.Kind.Error())
	if e.Detail != "" {
		b.WriteString(": ")
		b.WriteString(e.Detail)
	}
	var code string
	switch {
	case e.CloudCode != "":
		code = e.CloudCode
	case e.Code != 0:
		code = fmt.Sprint(e.Code)
	}
	if code != "" || e.Info != "" {
		b.WriteString(" (")
		if code != "" {
			b.WriteString("error ")
			b.WriteString(code)
		}
		if e.Info != "" {
			if code != "" {
				b.WriteString(" ")
			}
			fmt.Fprintf(&b, "%q", e.Info)
		}
		b.WriteString(")")
	}
	if e.cause != nil {
		b.WriteString(": ")
		b.WriteString(e.cause.Error())
	}
	if e.RequestID != "" {
		b.WriteString(" [RequestId ")
		b.WriteString(e.RequestID)
		b.WriteString("]")
	}
	return b.String()
}

// Unwrap lets errors.Is see the kind and the network cause.
func (e *Error) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Kind, e.cause}
	}
	return []error{e.Kind}
}

// codeInfo says what one numeric code means.
type codeInfo struct {
	kind   error
	detail string
	// retry is true where Tencent did not act on the request, so sending it
	// again cannot do anything twice (rate limits).
	retry bool
}

// v4Codes are the IM REST common codes (spec §3) and the call engine's
// private codes (§1.1), as the v4 API returns them.
var v4Codes = map[int]codeInfo{
	60002:  {ErrFailed, "Tencent could not parse the HTTP request", false},
	60003:  {ErrFailed, "Tencent could not parse the JSON body", false},
	60004:  {ErrSigInvalid, "account or signature error in the request URL", false},
	60005:  {ErrSigInvalid, "account or signature error in the request URL", false},
	60006:  {ErrWrongRegion, "the SDKAppID is invalid", false},
	60007:  {ErrRateLimited, "REST API call frequency exceeded", true},
	60008:  {ErrUnavailable, "Tencent timed out; it may have acted on the request", false},
	60010:  {ErrNotAdmin, "the command needs an app administrator (CALLFN_TENCENT_ADMIN)", false},
	60011:  {ErrRateLimited, "SDKAppID request frequency exceeded", true},
	60012:  {ErrFailed, "the request carried no SDKAppID", false},
	60016:  {ErrDenied, "the SDKAppID is disabled", false},
	60017:  {ErrDenied, "the request is disabled", false},
	60018:  {ErrRateLimited, "requests too frequent", true},
	60019:  {ErrRateLimited, "requests too frequent", true},
	60020:  {ErrDenied, "the app's package has expired", false},
	60021:  {ErrDenied, "the caller's IP address is not allowed", false},
	70001:  {ErrSigExpired, "UserSig expired: check the server's clock", false},
	70002:  {ErrSigInvalid, "UserSig is empty", false},
	70003:  {ErrSigInvalid, "UserSig is malformed", false},
	70005:  {ErrSigInvalid, "UserSig failed verification", false},
	70009:  {ErrSigOtherApp, "UserSig was signed with another app's key: check CALLFN_TENCENT_SECRET_KEY", false},
	70013:  {ErrSigOtherApp, "the identifier differs from the one the UserSig was made for", false},
	70014:  {ErrSigOtherApp, "the SDKAppID differs from the one the UserSig was made for", false},
	70016:  {ErrWrongRegion, "the key is unknown", false},
	70020:  {ErrWrongRegion, "the SDKAppID is unknown", false},
	70050:  {ErrSigInvalid, "too many invalid UserSigs: Tencent refuses verification for a minute", false},
	70052:  {ErrSigExpired, "UserSig has been invalidated", false},
	70114:  {ErrUnavailable, "Tencent timed out internally; it may have acted on the request", false},
	70202:  {ErrUnavailable, "Tencent timed out internally; it may have acted on the request", false},
	70402:  {ErrBadRequest, "invalid parameter", false},
	70403:  {ErrNotAdmin, "the command needs an app administrator (CALLFN_TENCENT_ADMIN)", false},
	70500:  {ErrUnavailable, "Tencent internal error; it may have acted on the request", false},
	100001: {ErrUnavailable, "Tencent internal error; it may have acted on the request", false},
	100002: {ErrBadRequest, "", false},
	100301: {ErrNotConfigured, "", false},
	101001: {ErrUnavailable, "Tencent internal error; it may have acted on the request", false},
	101002: {ErrBadRequest, "", false},
	101004: {ErrCallNotFound, "", false},
	101050: {ErrRecordNotFound, "", false},
}

// v1Codes are the CallKit backend's codes (spec §1.2). They differ from the
// IM REST 70xxx codes of the same number.
var v1Codes = map[int]codeInfo{
	50001: {ErrDenied, "the command needs the Group Call package", false},
	70001: {ErrBadRequest, "", false},
	70002: {ErrSigInvalid, "UserSig is invalid", false},
	70003: {ErrSigExpired, "UserSig expired: check the server's clock", false},
	70004: {ErrNotAdmin, "the command needs an app administrator (CALLFN_TENCENT_ADMIN)", false},
	70005: {ErrRateLimited, "rate limited", true},
	70009: {ErrFailed, "Tencent could not parse the body", false},
	// documented for callback/update: there is no configuration to update
	999: {ErrNotConfigured, "", false},
}

// lookupCode classifies a non-zero code of api (tencent.V4 or tencent.V1).
func lookupCode(api string, code int) codeInfo {
	table := v4Codes
	if api == tencent.V1 {
		table = v1Codes
	}
	if ci, ok := table[code]; ok {
		return ci
	}
	if api == tencent.V1 {
		return codeInfo{ErrUnavailable, "Tencent internal error; it may have acted on the request", false}
	}
	return codeInfo{ErrFailed, "", false}
}

// cloudCodeInfo classifies a Tencent Cloud API 3.0 error code.
func cloudCodeInfo(code string) codeInfo {
	prefix := func(p string) bool { return code == p || strings.HasPrefix(code, p+".") }
	switch {
	case prefix("RequestLimitExceeded"):
		return codeInfo{ErrRateLimited, "", true}
	case code == "InvalidParameter.UserSig":
		return codeInfo{ErrSigInvalid, "TRTC rejected the robot's UserSig", false}
	case prefix("AuthFailure"), prefix("UnauthorizedOperation"):
		return codeInfo{ErrCloudAuth, "check TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY", false}
	case code == "InvalidParameter.SdkAppId", code == "FailedOperation.SdkAppIdNotExist":
		return codeInfo{ErrFailed, "TRTC does not know the SDKAppID under these credentials", false}
	case prefix("InvalidParameter"), prefix("InvalidParameterValue"), prefix("MissingParameter"), prefix("UnknownParameter"):
		return codeInfo{ErrBadRequest, "", false}
	case prefix("InternalError"), code == "ClientError.NetworkError", code == "ClientError.HttpStatusCodeError":
		return codeInfo{ErrUnavailable, "", false}
	}
	return codeInfo{ErrFailed, "", false}
}
