// Package rest is the OUTBOUND side of callfn's Tencent integration:
// everything callfn sends to Tencent. It holds the REST client (Client,
// Cmd, Retry, Options, Meta; FromConfig builds it from the configuration,
// once per process, in a function's composition root) for both
// generations' commands, the UserSig signer (Signer, over
// tls-sig-api-v2), the regional domains, the commands themselves
// (start_call_by_robot, end_call, get_call_info and
// StartCallRequest's validation; the records commands of v4 and v1; both
// generations' callback configuration: SetCallback, GetCallback,
// DeleteCallback), the kinds of failure every error wraps (ErrBadRequest,
// ErrRateLimited, ...), and TRTC's StartStreamIngest over the Tencent Cloud
// API (Ingester, IngesterFromConfig), this module's only user of
// tencentcloud-sdk-go.
//
// It reports failures as kinds, not HTTP statuses: what callfn answers is
// the functions' decision (shared/api/upstream). Callbacks coming in are
// tencent/callback's; the vocabulary both share is package tencent.
package rest
