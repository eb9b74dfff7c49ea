package rest

import (
	"context"
	"net/url"

	"github.com/callfn/callfn/shared/tencent"
)

// The callback configuration commands of both generations (spec §1.1,
// §1.2): where Tencent sends an app's call callbacks, and which. Each app
// has one configuration per generation; setting one replaces it ("the last
// result prevails"), so every one of these may be sent again.
var (
	V4SetCallback    = Cmd{API: tencent.V4, Path: "call_config/set_callback", Idempotent: true}
	V4GetCallback    = Cmd{API: tencent.V4, Path: "call_config/get_callback", Idempotent: true}
	V4DeleteCallback = Cmd{API: tencent.V4, Path: "call_config/delete_callback", Idempotent: true}
	V1SetCallback    = Cmd{API: tencent.V1, Path: "callback/set", Idempotent: true}
	V1GetCallback    = Cmd{API: tencent.V1, Path: "callback/get", Idempotent: true}
	V1DeleteCallback = Cmd{API: tencent.V1, Path: "callback/delete", Idempotent: true}
)

// V1CallbackRateLimit is the v1 callback commands' limit, in requests/s
// (v4's are limited to 200/s as its other commands).
const V1CallbackRateLimit = 10

// CallbackConfig is an app's callback configuration in one generation.
type CallbackConfig struct {
	API      string   // tencent.V4 or tencent.V1
	URL      string   // v4 Url, v1 address
	Commands []string // v4 CallbackCommandList, v1 actions
}

// callbackCmds picks the generation's three commands; "" is v4.
func callbackCmds(api string) (set, get, del Cmd, err error) {
	switch api {
	case tencent.V4, "":
		return V4SetCallback, V4GetCallback, V4DeleteCallback, nil
	case tencent.V1:
		return V1SetCallback, V1GetCallback, V1DeleteCallback, nil
	}
	return set, get, del, paramErr("api", "must be %q or %q, got %q", tencent.V4, tencent.V1, api)
}

// SetCallback configures where Tencent sends the callbacks of generation
// api (tencent.V4 or tencent.V1; "" is v4) and which commands it sends,
// replacing any configuration. rawURL must be an absolute http or https URL
// and commands a non-empty list (callback.Commands lists what the webhook
// reads); otherwise nothing is sent and the error is a *ParamError.
func (c *Client) SetCallback(ctx context.Context, api, rawURL string, commands []string) (Meta, error) {
	set, _, _, err := callbackCmds(api)
	if err != nil {
		return Meta{}, err
	}
	if err := checkCallbackURL(rawURL); err != nil {
		return Meta{}, err
	}
	if len(commands) == 0 {
		return Meta{}, paramErr("commands", "name at least one callback command")
	}
	for _, k := range commands {
		if k == "" {
			return Meta{}, paramErr("commands", "a callback command is empty")
		}
	}
	var body any
	if set.API == tencent.V1 {
		body = struct {
			Address string   `json:"address"`
			Actions []string `json:"actions"`
		}{rawURL, commands}
	} else {
		body = struct {
			Url                 string
			CallbackCommandList []string
		}{rawURL, commands}
	}
	return c.Do(ctx, set, body, nil)
}

// checkCallbackURL applies the rule both generations state: a callback
// address starts with http or https.
func checkCallbackURL(rawURL string) error {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return paramErr("url", "must be an absolute http or https URL, got %q", rawURL)
	}
	return nil
}

// GetCallback reads the callback configuration of generation api. With none
// configured the error wraps ErrNotConfigured: v4 answers 100301, v1 answers
// an empty address (or 999).
func (c *Client) GetCallback(ctx context.Context, api string) (CallbackConfig, Meta, error) {
	_, get, _, err := callbackCmds(api)
	if err != nil {
		return CallbackConfig{}, Meta{}, err
	}
	cfg := CallbackConfig{API: get.API}
	var rep Meta
	if get.API == tencent.V1 {
		var out struct {
			Address string   `json:"address"`
			Actions []string `json:"actions"`
		}
		rep, err = c.Do(ctx, get, nil, &out)
		cfg.URL, cfg.Commands = out.Address, out.Actions
	} else {
		var out struct {
			Url                 string
			CallbackCommandList []string
		}
		rep, err = c.Do(ctx, get, nil, &out)
		cfg.URL, cfg.Commands = out.Url, out.CallbackCommandList
	}
	if err == nil && cfg.URL == "" {
		e := c.fail(get, ErrNotConfigured, "Tencent answered with no callback address", nil)
		e.RequestID = rep.RequestID
		err = e
	}
	return cfg, rep, err
}

// DeleteCallback removes the callback configuration of generation api:
// Tencent sends that generation's callbacks nowhere after it.
func (c *Client) DeleteCallback(ctx context.Context, api string) (Meta, error) {
	_, _, del, err := callbackCmds(api)
	if err != nil {
		return Meta{}, err
	}
	return c.Do(ctx, del, nil, nil)
}
