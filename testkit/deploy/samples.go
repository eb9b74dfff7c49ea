package deploy

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	awsevents "github.com/aws/aws-lambda-go/events"
	scfevents "github.com/tencentyun/scf-go-lib/events"

	"github.com/callfn/callfn/shared/platform/awslambda"
	"github.com/callfn/callfn/shared/yunxin"
	"github.com/callfn/callfn/testkit"
)

// Sample trigger events live under events/<platform>/<function>/*.json.
const (
	PlatformLambda = "lambda" // API Gateway HTTP API, payload format 2.0; EventBridge Scheduler envelopes
	PlatformSCF    = "scf"    // SCF API gateway trigger; SCF timer trigger
)

// The Yunxin app the samples under events/ are signed for.
const (
	SampleYunxinAppKey    = "callfn-sample-appkey"
	SampleYunxinAppSecret = "callfn-sample-appsecret"
	// SampleTencentAppID is the SDKAppID in the Tencent samples' URLs.
	SampleTencentAppID = 1400000001
	// SampleAPIToken is the bearer token of the /calls and /records samples.
	SampleAPIToken = "callfn-sample-token"
)

// ScheduleSamplePrefix starts the name of every schedule sample: a
// function's schedule NAME has its sample events/<platform>/<function>/schedule-NAME.json
// (an EventBridge Scheduler envelope on Lambda, a timer event on SCF);
// every other sample is an API gateway request.
const ScheduleSamplePrefix = "schedule-"

// IsScheduleSample reports whether the sample file (or name) is a schedule's.
func IsScheduleSample(path string) bool {
	return strings.HasPrefix(filepath.Base(path), ScheduleSamplePrefix)
}

// RepoRoot finds the module root (the directory holding go.mod) from the
// working directory up.
func RepoRoot() (string, error) { return testkit.RepoRoot() }

// Samples lists the sample files of one function on one platform, sorted.
func Samples(root, platform, function string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(root, "events", platform, function, "*.json"))
	sort.Strings(files)
	return files, err
}

// decodeStrict decodes the JSON file at path into v, refusing fields v
// does not have.
func decodeStrict(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// LoadLambdaSample decodes an API Gateway HTTP API (2.0) event, refusing
// any field aws-lambda-go's APIGatewayV2HTTPRequest does not know.
func LoadLambdaSample(path string) (awsevents.APIGatewayV2HTTPRequest, error) {
	var ev awsevents.APIGatewayV2HTTPRequest
	if err := decodeStrict(path, &ev); err != nil {
		return ev, err
	}
	if ev.Version != "2.0" {
		return ev, fmt.Errorf("%s: version %q, want 2.0", path, ev.Version)
	}
	return ev, nil
}

// scfEventFields are the top-level fields of an SCF API gateway trigger
// event (SCF's "trigger event message structure" page); scf-go-lib's
// APIGatewayRequest decodes some and ignores the rest.
var scfEventFields = map[string]bool{
	"requestContext": true, "headers": true, "body": true, "pathParameters": true,
	"queryStringParameters": true, "headerParameters": true, "stageVariables": true,
	"path": true, "queryString": true, "httpMethod": true, "isBase64Encoded": true,
}

// LoadSCFSample decodes an SCF API gateway trigger event as scf-go-lib's
// APIGatewayRequest, refusing top-level fields the trigger does not send.
func LoadSCFSample(path string) (scfevents.APIGatewayRequest, error) {
	var ev scfevents.APIGatewayRequest
	data, err := os.ReadFile(path)
	if err != nil {
		return ev, err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return ev, fmt.Errorf("%s: %w", path, err)
	}
	for k := range fields {
		if !scfEventFields[k] {
			return ev, fmt.Errorf("%s: unknown field %q", path, k)
		}
	}
	if err := json.Unmarshal(data, &ev); err != nil {
		return ev, fmt.Errorf("%s: %w", path, err)
	}
	return ev, nil
}

// LoadSchedulerSample decodes an EventBridge Scheduler firing as the Lambda
// adapter receives it: callfn's envelope with the schedule's name and the
// scheduled time filled in (RFC 3339), refusing any other field.
func LoadSchedulerSample(path string) (awslambda.SchedulerInput, error) {
	in, err := parseFile(path, DecodeSchedulerInput)
	if err != nil {
		return in, err
	}
	if _, err := time.Parse(time.RFC3339, in.Time); err != nil {
		return in, fmt.Errorf("%s: time %q: a sample carries the time Scheduler fills in: %v", path, in.Time, err)
	}
	return in, nil
}

// LoadTimerSample decodes an SCF timer trigger event (Type "Timer", the
// trigger's name, an RFC 3339 Time, the trigger's argument as Message),
// refusing any other field.
func LoadTimerSample(path string) (scfevents.TimerEvent, error) {
	var ev scfevents.TimerEvent
	if err := decodeStrict(path, &ev); err != nil {
		return ev, err
	}
	if ev.Type != "Timer" || ev.TriggerName == "" {
		return ev, fmt.Errorf("%s: Type %q, TriggerName %q: want Type Timer and the trigger's name", path, ev.Type, ev.TriggerName)
	}
	if _, err := time.Parse(time.RFC3339, ev.Time); err != nil {
		return ev, fmt.Errorf("%s: Time %q: %v", path, ev.Time, err)
	}
	return ev, nil
}

// LambdaBody is the request body as sent, decoding base64 when the gateway
// encoded it.
func LambdaBody(ev *awsevents.APIGatewayV2HTTPRequest) ([]byte, error) {
	if ev.IsBase64Encoded {
		return base64.StdEncoding.DecodeString(ev.Body)
	}
	return []byte(ev.Body), nil
}

// IsYunxinSigned reports whether headers carry a Yunxin AppKey.
func IsYunxinSigned(headers map[string]string) bool {
	_, ok := headerKey(headers, "AppKey")
	return ok
}

// ResignYunxin replaces the Yunxin signing headers of a sample (AppKey,
// CurTime, MD5, CheckSum) with fresh ones for body at now, keeping each
// header's spelling. The samples' own go stale: Yunxin signs CurTime.
func ResignYunxin(headers map[string]string, body []byte, appKey, appSecret string, now time.Time) {
	fresh := http.Header{}
	yunxin.Sign(fresh, appKey, appSecret, body, now)
	for name, vals := range fresh {
		key, ok := headerKey(headers, name)
		if !ok {
			key = strings.ToLower(name)
		}
		headers[key] = vals[0]
	}
}

// ResignLambdaSample re-signs a Yunxin sample in place (no-op for others).
func ResignLambdaSample(ev *awsevents.APIGatewayV2HTTPRequest, appKey, appSecret string, now time.Time) error {
	if !IsYunxinSigned(ev.Headers) {
		return nil
	}
	body, err := LambdaBody(ev)
	if err != nil {
		return err
	}
	ResignYunxin(ev.Headers, body, appKey, appSecret, now)
	return nil
}

// ResignSCFSample re-signs a Yunxin sample in place (no-op for others).
func ResignSCFSample(ev *scfevents.APIGatewayRequest, appKey, appSecret string, now time.Time) {
	if IsYunxinSigned(ev.Headers) {
		ResignYunxin(ev.Headers, []byte(ev.Body), appKey, appSecret, now)
	}
}

// headerKey finds name among headers' keys in any case.
func headerKey(headers map[string]string, name string) (string, bool) {
	for k := range headers {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}
