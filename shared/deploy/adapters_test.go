package deploy_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callfn/callfn/shared/call"
	"github.com/callfn/callfn/shared/deploy"
	"github.com/callfn/callfn/shared/platform/awslambda"
	"github.com/callfn/callfn/shared/platform/scf"
	"github.com/callfn/callfn/shared/store"
)

// gatewayResponse is what both adapters answer an API gateway event with
// (events.APIGatewayV2HTTPResponse, scf-go-lib's APIGatewayResponse).
type gatewayResponse struct {
	StatusCode      int    `json:"statusCode"`
	Body            string `json:"body"`
	IsBase64Encoded bool   `json:"isBase64Encoded"`
}

// TestSamplesThroughAdapters feeds every sample, re-signed where the
// provider signs, through its platform's adapter into the real function
// over a memory table: each is answered 200 and stores one event, and a
// second delivery of the same sample is answered 200 and stores nothing.
func TestSamplesThroughAdapters(t *testing.T) {
	r := root(t)
	type adapter struct {
		platform string
		handler  func(fn deployable, st store.Store) func(context.Context, json.RawMessage) (any, error)
		event    func(t *testing.T, path string, now time.Time) json.RawMessage
	}
	adapters := []adapter{
		{deploy.PlatformLambda,
			func(d deployable, st store.Store) func(context.Context, json.RawMessage) (any, error) {
				return awslambda.Handler(d.Build(d.SampleConfig, st))
			},
			func(t *testing.T, path string, now time.Time) json.RawMessage {
				ev, err := deploy.LoadLambdaSample(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := deploy.ResignLambdaSample(&ev, deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now); err != nil {
					t.Fatal(err)
				}
				return mustMarshal(t, ev)
			}},
		{deploy.PlatformSCF,
			func(d deployable, st store.Store) func(context.Context, json.RawMessage) (any, error) {
				return scf.Handler(d.Build(d.SampleConfig, st))
			},
			func(t *testing.T, path string, now time.Time) json.RawMessage {
				if _, err := deploy.LoadSCFSample(path); err != nil {
					t.Fatal(err)
				}
				// Re-sign in the raw event, so that fields scf-go-lib's
				// struct lacks (isBase64Encoded) reach the adapter as sent.
				var raw map[string]any
				if err := json.Unmarshal([]byte(readFile(t, path)), &raw); err != nil {
					t.Fatal(err)
				}
				headers := map[string]string{}
				for k, v := range raw["headers"].(map[string]any) {
					headers[k] = v.(string)
				}
				if deploy.IsYunxinSigned(headers) {
					deploy.ResignYunxin(headers, []byte(raw["body"].(string)), deploy.SampleYunxinAppKey, deploy.SampleYunxinAppSecret, now)
				}
				raw["headers"] = headers
				return mustMarshal(t, raw)
			}},
	}
	for _, d := range deployables() {
		for _, a := range adapters {
			files, err := deploy.Samples(r, a.platform, d.Fn.Name)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range files {
				name := strings.TrimSuffix(filepath.Base(f), ".json")
				rel, _ := filepath.Rel(r, f)
				t.Run(rel, func(t *testing.T) {
					ctx := context.Background()
					st := store.NewMemory(store.Options{})
					defer st.Close()
					h := a.handler(d, st)
					event := a.event(t, f, time.Now())
					want := 1
					if slices.Contains(d.NotStored, name) {
						want = 0
					}
					for delivery := 1; delivery <= 2; delivery++ {
						out, err := h(ctx, event)
						if err != nil {
							t.Fatalf("delivery %d: %v", delivery, err)
						}
						var resp gatewayResponse
						if err := json.Unmarshal(mustMarshal(t, out), &resp); err != nil {
							t.Fatalf("delivery %d: answer %T: %v", delivery, out, err)
						}
						if resp.StatusCode != 200 {
							t.Fatalf("delivery %d: status %d, body %s", delivery, resp.StatusCode, resp.Body)
						}
						if !resp.IsBase64Encoded && !json.Valid([]byte(resp.Body)) {
							t.Errorf("delivery %d: reply is not JSON: %q", delivery, resp.Body)
						}
						if got := countEvents(t, st); got != want {
							t.Errorf("delivery %d: %d events stored, want %d", delivery, got, want)
						}
					}
				})
			}
		}
	}
}

func countEvents(t *testing.T, st store.Store) int {
	t.Helper()
	n := 0
	err := st.ListEvents(context.Background(), "", func(ev *call.Event) error {
		if ev.Raw == "" {
			t.Errorf("event %s/%s stored without its raw body", ev.CallID, ev.DeliveryID)
		}
		n++
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func mustMarshal(t *testing.T, v any) json.RawMessage {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStaleSampleRefused shows the run above proves something: a Yunxin
// sample as stored, with its stale signature, is refused and not stored.
func TestStaleSampleRefused(t *testing.T) {
	d := deployables()[0]
	path := filepath.Join(root(t), "events", deploy.PlatformLambda, d.Fn.Name, "yunxin-copy-5-duration.json")
	st := store.NewMemory(store.Options{})
	defer st.Close()
	out, err := awslambda.Handler(d.Build(d.SampleConfig, st))(context.Background(), json.RawMessage(readFile(t, path)))
	if err != nil {
		t.Fatal(err)
	}
	var resp gatewayResponse
	if err := json.Unmarshal(mustMarshal(t, out), &resp); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 401 {
		t.Errorf("stale signature answered %d, want 401", resp.StatusCode)
	}
	if n := countEvents(t, st); n != 0 {
		t.Errorf("%d events stored from a refused delivery", n)
	}
}
