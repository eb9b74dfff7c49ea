package scf

import (
	"cmp"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/callfn/callfn/shared/platform"
	"github.com/tencentyun/scf-go-lib/events"
)

// APIGatewayRequest is scf-go-lib's events.APIGatewayRequest plus the
// isBase64Encoded flag that API Gateway sets when it has base64-encoded the
// body (for binary bodies, or every body when the API is configured so),
// which the lib's struct lacks.
type APIGatewayRequest struct {
	events.APIGatewayRequest
	IsBase64Encoded flag `json:"isBase64Encoded"`
}

// flag is a JSON boolean that also accepts "true"/"false" strings.
type flag bool

func (f *flag) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		*f = false
		return nil
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("isBase64Encoded: %s is not a boolean", b)
	}
	*f = flag(v)
	return nil
}

// httpEvent reads an API Gateway trigger event: the path and query arrive decoded; queryString holds every
// parameter (a name without a value arrives as true, and becomes "name=").
func httpEvent(e APIGatewayRequest, invocationID string) platform.HTTPEvent {
	header := make(http.Header, len(e.Headers))
	for k, v := range e.Headers {
		header.Add(k, v)
	}
	query := make(url.Values, len(e.QueryString))
	for k, vs := range e.QueryString {
		if len(vs) == 0 {
			vs = []string{""}
		}
		query[k] = append(query[k], vs...)
	}
	return platform.HTTPEvent{
		RequestID:       cmp.Or(invocationID, e.Context.RequestID),
		Method:          e.Method,
		Path:            e.Path,
		RawQuery:        query.Encode(),
		Header:          header,
		SourceIP:        e.Context.SourceIP,
		Body:            e.Body,
		IsBase64Encoded: bool(e.IsBase64Encoded),
	}
}

// response: SCF's response headers are one value a name, so several values
// are joined with ", ".
func response(r platform.HTTPResponse) events.APIGatewayResponse {
	return events.APIGatewayResponse{
		StatusCode:      r.StatusCode,
		Headers:         r.FlatHeader(false),
		Body:            r.Body,
		IsBase64Encoded: r.IsBase64Encoded,
	}
}
