package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/yunxin"
)

// send POSTs a sample callback body to a webhook URL, signed as its
// provider would sign it with this machine's configuration: Yunxin's four
// headers for /webhook/yunxin/*, and for /webhook/tencent the SDKAppID and,
// with a callback token, RequestTime and Sign.
func send(ctx context.Context, args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: callfn send URL FILE (FILE may be - for standard input)")
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
