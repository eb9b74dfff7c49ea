package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	lambdaevents "github.com/aws/aws-lambda-go/events"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/yunxin"
)

// send sends a request to callfn: FILE is either a body to POST to URL, or
// an API Gateway HTTP API event from events/lambda/ whose method, path,
// query, headers and body are sent to URL's host. Callbacks are signed as
// their provider would sign them with this machine's configuration:
// Yunxin's four headers for /webhook/yunxin/*, and for /webhook/tencent the
// SDKAppID and, with a callback token, RequestTime and Sign.
func send(ctx context.Context, args []string) error {
	fs := newFlags("send")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if args = fs.Args(); len(args) != 2 {
		return fmt.Errorf("usage: callfn send URL FILE (FILE: a body, - for standard input, or an events/lambda/ sample)")
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	body, err := readInput(args[1])
	if err != nil {
		return err
	}
	u, err := url.Parse(args[0])
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not an absolute URL", args[0])
	}
	method, h := http.MethodPost, http.Header{"Content-Type": {"application/json"}}
	ev, isEvent, err := fromTriggerEvent(u, body)
	if err != nil {
		return err
	}
	if isEvent {
		method, body = ev.method, ev.body
		for k, v := range ev.header {
			h[k] = v
		}
	}
	now := time.Now()
	switch {
	case strings.HasPrefix(u.Path, "/webhook/yunxin/"):
		if cfg.YunxinAppKey == "" {
			return fmt.Errorf("set CALLFN_YUNXIN_APPKEY and CALLFN_YUNXIN_APPSECRET to sign a Yunxin callback")
		}
		yunxin.Sign(h, cfg.YunxinAppKey, cfg.YunxinSecret, body, now)
	case strings.HasPrefix(u.Path, "/webhook/tencent"):
		q := u.Query()
		if q.Get("SdkAppid") == "" && q.Get("sdkappid") == "" {
			q.Set("SdkAppid", strconv.FormatUint(cfg.TencentAppID, 10))
		}
		if cfg.CallbackToken != "" {
			rt := strconv.FormatInt(now.Unix(), 10)
			q.Set("RequestTime", rt)
			q.Set("Sign", callback.Sign(cfg.CallbackToken, rt))
		}
		u.RawQuery = q.Encode()
	}
	var reqBody io.Reader
	if len(body) > 0 {
		reqBody = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), reqBody)
	if err != nil {
		return err
	}
	req.Header = h
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	fmt.Printf("%s\n%s\n", resp.Status, bytes.TrimSpace(out))
	if resp.StatusCode >= 300 {
		return fmt.Errorf("refused: %s", resp.Status)
	}
	return nil
}

func readInput(name string) ([]byte, error) {
	if name == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(name)
}

// triggerEvent is an API Gateway HTTP API event from events/lambda/.
type triggerEvent struct {
	method string
	header http.Header
	body   []byte
}

// fromTriggerEvent unwraps an API Gateway HTTP API event: its path and query
// go into u; its method, headers and body (base64-decoded when flagged) are
// returned. ok is false for any other body.
func fromTriggerEvent(u *url.URL, body []byte) (ev triggerEvent, ok bool, err error) {
	var e lambdaevents.APIGatewayV2HTTPRequest
	if json.Unmarshal(body, &e) != nil || e.RawPath == "" || e.RequestContext.HTTP.Method == "" {
		if bytes.Contains(body, []byte(`"schedule"`)) && bytes.Contains(body, []byte(`"time"`)) {
			return ev, false, fmt.Errorf("this is a schedule event, not an HTTP request: invoke the function with it (sam local invoke -e)")
		}
		return ev, false, nil
	}
	u.Path, u.RawQuery = e.RawPath, e.RawQueryString
	ev = triggerEvent{method: e.RequestContext.HTTP.Method, header: http.Header{}, body: []byte(e.Body)}
	for k, v := range e.Headers {
		switch http.CanonicalHeaderKey(k) {
		case "Host", "Content-Length":
		default:
			ev.header.Set(k, v)
		}
	}
	if e.IsBase64Encoded {
		if ev.body, err = base64.StdEncoding.DecodeString(e.Body); err != nil {
			return ev, false, fmt.Errorf("the event's body is not valid base64: %w", err)
		}
	}
	return ev, true, nil
}
