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
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/yunxin"
)

// send POSTs a callback to a webhook URL, signed as its provider would
// sign it with this machine's configuration: Yunxin's four headers for
// /webhook/yunxin/*, and for /webhook/tencent the SDKAppID and, with a
// callback token, RequestTime and Sign. FILE is either the body, or an API
// Gateway HTTP API event from events/lambda/ whose path, query and body are
// sent to URL's host.
func send(ctx context.Context, args []string) error {
	if len(args) != 2 {
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
	if body, err = fromTriggerEvent(u, body); err != nil {
		return err
	}
	h := http.Header{"Content-Type": {"application/json"}}
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
			q.Set("Sign", tencent.CallbackSign(cfg.CallbackToken, rt))
		}
		u.RawQuery = q.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
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

// fromTriggerEvent unwraps an API Gateway HTTP API event: its path and query
// go into u and its body (base64-decoded when flagged) is returned. Any
// other body is returned as it is.
func fromTriggerEvent(u *url.URL, body []byte) ([]byte, error) {
	var ev lambdaevents.APIGatewayV2HTTPRequest
	if json.Unmarshal(body, &ev) != nil || ev.RawPath == "" || ev.RequestContext.HTTP.Method == "" {
		return body, nil
	}
	u.Path, u.RawQuery = ev.RawPath, ev.RawQueryString
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("the event's body is not valid base64: %w", err)
		}
		return b, nil
	}
	return []byte(ev.Body), nil
}
