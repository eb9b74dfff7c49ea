package rest_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/callfn/callfn/shared/tencent"
	"github.com/callfn/callfn/shared/tencent/callback"
	"github.com/callfn/callfn/shared/tencent/rest"
	"github.com/callfn/callfn/shared/tencent/sandbox"
)

// Set, read back and delete each generation's callback configuration
// against the sandbox; "" is v4.
func TestCallbackConfig(t *testing.T) {
	ctx := context.Background()
	for _, api := range []string{tencent.V4, tencent.V1, ""} {
		t.Run("api="+api, func(t *testing.T) {
			e := newEnv(t, sandbox.Options{}, rest.Options{})
			gen := api
			if gen == "" {
				gen = tencent.V4
			}
			notConfigured := func(when string) {
				t.Helper()
				cfg, _, err := e.client.GetCallback(ctx, api)
				if !errors.Is(err, rest.ErrNotConfigured) || cfg.URL != "" {
					t.Fatalf("get %s: %+v, %v; want ErrNotConfigured", when, cfg, err)
				}
				var te *rest.Error
				if !errors.As(err, &te) || te.API != gen || te.RequestID == "" {
					t.Fatalf("get %s: %#v: want a %s *rest.Error with Tencent's request id", when, err, gen)
				}
				if gen == tencent.V4 && te.Code != 100301 {
					t.Fatalf("get %s: code %d, want 100301", when, te.Code)
				}
			}
			notConfigured("before any set")

			const hook = "http://127.0.0.1:9/release/webhook/tencent"
			cmds := callback.Commands(gen)
			rep, err := e.client.SetCallback(ctx, api, hook, cmds)
			if err != nil || rep.RequestID == "" || rep.Attempts != 1 {
				t.Fatalf("set: %+v, %v", rep, err)
			}
			cfg, _, err := e.client.GetCallback(ctx, api)
			if err != nil || cfg.API != gen || cfg.URL != hook || !slices.Equal(cfg.Commands, cmds) {
				t.Fatalf("get: %+v, %v; want %s %v", cfg, err, hook, cmds)
			}
			// Setting again replaces the configuration.
			if _, err := e.client.SetCallback(ctx, api, hook+"2", cmds[:1]); err != nil {
				t.Fatal(err)
			}
			if cfg, _, err = e.client.GetCallback(ctx, api); err != nil || cfg.URL != hook+"2" || !slices.Equal(cfg.Commands, cmds[:1]) {
				t.Fatalf("get after a second set: %+v, %v", cfg, err)
			}
			if _, err := e.client.DeleteCallback(ctx, api); err != nil {
				t.Fatal(err)
			}
			notConfigured("after delete")

			// Each generation's commands went to its own API.
			set, other := "call_config/set_callback", "callback/set"
			if gen == tencent.V1 {
				set, other = other, set
			}
			if e.sb.Requests(set) != 2 || e.sb.Requests(other) != 0 {
				t.Fatalf("requests: %s %d, %s %d", set, e.sb.Requests(set), other, e.sb.Requests(other))
			}
		})
	}
}

// The two generations' configurations are separate.
func TestCallbackConfigGenerationsApart(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Options{}, rest.Options{})
	if _, err := e.client.SetCallback(ctx, tencent.V1, "http://127.0.0.1:9/v1", callback.Commands(tencent.V1)); err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.client.GetCallback(ctx, tencent.V4); !errors.Is(err, rest.ErrNotConfigured) {
		t.Fatalf("v4 after a v1 set: %v", err)
	}
	if cfg, _, err := e.client.GetCallback(ctx, tencent.V1); err != nil || cfg.URL != "http://127.0.0.1:9/v1" {
		t.Fatalf("v1: %+v %v", cfg, err)
	}
}

// Parameters Tencent would refuse are refused before anything is sent;
// Tencent's own refusals are ErrBadRequest too.
func TestCallbackConfigBadParameters(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Options{RateLimit: -1}, rest.Options{})
	v4 := callback.Commands(tencent.V4)
	set := func(gen, url string, commands []string) func() error {
		return func() error { _, err := e.client.SetCallback(ctx, gen, url, commands); return err }
	}
	for name, call := range map[string]func() error{
		"unknown generation":              set("v2", "http://127.0.0.1:9/webhook/tencent", v4),
		"get of an unknown generation":    func() error { _, _, err := e.client.GetCallback(ctx, "V4"); return err },
		"delete of an unknown generation": func() error { _, err := e.client.DeleteCallback(ctx, "v3"); return err },
		"no URL":                          set(tencent.V4, "", v4),
		"relative URL":                    set(tencent.V4, "/webhook/tencent", v4),
		"ftp URL":                         set(tencent.V1, "ftp://example.com/webhook/tencent", v4),
		"no host":                         set(tencent.V4, "https:///webhook/tencent", v4),
		"no commands":                     set(tencent.V4, "http://127.0.0.1:9/webhook/tencent", nil),
		"an empty command":                set(tencent.V1, "http://127.0.0.1:9/webhook/tencent", []string{"cancel", ""}),
	} {
		err := call()
		var pe *rest.ParamError
		if !errors.Is(err, rest.ErrBadRequest) || !errors.As(err, &pe) {
			t.Errorf("%s: %v, want a *rest.ParamError", name, err)
		}
	}
	for _, cmd := range []string{"set_callback", "get_callback", "delete_callback", "callback/set", "callback/get", "callback/delete"} {
		if n := e.sb.Requests(cmd); n != 0 {
			t.Fatalf("%d requests reached %s", n, cmd)
		}
	}

	// Tencent's refusals: v4 100002, v1 70001.
	e.sb.Inject(sandbox.Fault{Command: "call_config/set_callback", Code: 100002, Info: "injected bad parameter"})
	if _, err := e.client.SetCallback(ctx, tencent.V4, "http://127.0.0.1:9/webhook/tencent", v4); !errors.Is(err, rest.ErrBadRequest) {
		t.Errorf("v4 100002: %v", err)
	}
	e.sb.Inject(sandbox.Fault{Command: "callback/set", Code: 70001, Info: "Callback address must start with http or https"})
	if _, err := e.client.SetCallback(ctx, tencent.V1, "http://127.0.0.1:9/webhook/tencent", []string{"cancel"}); !errors.Is(err, rest.ErrBadRequest) {
		t.Errorf("v1 70001: %v", err)
	}
	// v1's "no configuration" code, documented for callback/update.
	e.sb.Inject(sandbox.Fault{Command: "callback/get", Code: 999, Info: "no configuration"})
	if _, _, err := e.client.GetCallback(ctx, tencent.V1); !errors.Is(err, rest.ErrNotConfigured) {
		t.Errorf("v1 999: %v", err)
	}
}

// Setting a configuration replaces it, so an internal error is retried.
func TestCallbackConfigRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, sandbox.Options{RateLimit: -1}, rest.Options{})
	e.sb.Inject(sandbox.Fault{Command: "call_config/set_callback", Code: 100001, Info: "injected internal error"})
	rep, err := e.client.SetCallback(ctx, tencent.V4, "http://127.0.0.1:9/webhook/tencent", callback.Commands(tencent.V4))
	if err != nil || rep.Attempts != 2 {
		t.Fatalf("set after an internal error: %+v, %v; want success on the second attempt", rep, err)
	}
	if cfg, _, err := e.client.GetCallback(ctx, tencent.V4); err != nil || cfg.URL != "http://127.0.0.1:9/webhook/tencent" {
		t.Fatalf("get: %+v %v", cfg, err)
	}
}
