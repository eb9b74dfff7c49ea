package awslambda

import (
	"cmp"
	"net/http"
	"net/url"
	"strings"

	"github.com/aws/aws-lambda-go/events"
	"github.com/callfn/callfn/shared/platform"
)

// v2Event reads an HTTP API payload 2.0 event: the path and query are as sent; headers are one value a name,
// duplicates already joined with commas; cookies come apart from headers.
func v2Event(e events.APIGatewayV2HTTPRequest, invocationID string) platform.HTTPEvent {
	header := make(http.Header, len(e.Headers)+1)
	for k, v := range e.Headers {
		header.Add(k, v)
	}
	if len(e.Cookies) > 0 {
		header.Set("Cookie", strings.Join(e.Cookies, "; "))
	}
	return platform.HTTPEvent{
		RequestID:       cmp.Or(invocationID, e.RequestContext.RequestID),
		Method:          e.RequestContext.HTTP.Method,
		RawPath:         e.RawPath,
		RawQuery:        e.RawQueryString,
		Header:          header,
		Host:            e.RequestContext.DomainName,
		SourceIP:        e.RequestContext.HTTP.SourceIP,
		Body:            e.Body,
		IsBase64Encoded: e.IsBase64Encoded,
	}
}

func v2Response(r platform.HTTPResponse) events.APIGatewayV2HTTPResponse {
	return events.APIGatewayV2HTTPResponse{
		StatusCode:      r.StatusCode,
		Headers:         r.FlatHeader(true),
		Cookies:         r.Header.Values("Set-Cookie"),
		Body:            r.Body,
		IsBase64Encoded: r.IsBase64Encoded,
	}
}

// v1Event reads a REST API (or HTTP API payload 1.0) event: the path and query parameters arrive decoded; the multi-value
// maps, when present, hold every value and win over the single-value ones
// (which keep only the last value of each name).
func v1Event(e events.APIGatewayProxyRequest, invocationID string) platform.HTTPEvent {
	header := make(http.Header, len(e.Headers))
	if len(e.MultiValueHeaders) > 0 {
		for k, vs := range e.MultiValueHeaders {
			for _, v := range vs {
				header.Add(k, v)
			}
		}
	} else {
		for k, v := range e.Headers {
			header.Add(k, v)
		}
	}
	query := make(url.Values)
	if len(e.MultiValueQueryStringParameters) > 0 {
		for k, vs := range e.MultiValueQueryStringParameters {
			query[k] = append(query[k], vs...)
		}
	} else {
		for k, v := range e.QueryStringParameters {
			query.Set(k, v)
		}
	}
	return platform.HTTPEvent{
		RequestID:       cmp.Or(invocationID, e.RequestContext.RequestID),
		Method:          e.HTTPMethod,
		Path:            e.Path,
		RawQuery:        query.Encode(),
		Header:          header,
		Host:            e.RequestContext.DomainName,
		SourceIP:        e.RequestContext.Identity.SourceIP,
		Body:            e.Body,
		IsBase64Encoded: e.IsBase64Encoded,
	}
}

// v1Response fills both header maps: API Gateway merges them, taking a name
// that is in both from multiValueHeaders, so every value (each Set-Cookie
// among them) gets through.
func v1Response(r platform.HTTPResponse) events.APIGatewayProxyResponse {
	single := make(map[string]string, len(r.Header))
	for k, vs := range r.Header {
		if len(vs) == 1 {
			single[k] = vs[0]
		}
	}
	return events.APIGatewayProxyResponse{
		StatusCode:        r.StatusCode,
		Headers:           single,
		MultiValueHeaders: map[string][]string(r.Header.Clone()),
		Body:              r.Body,
		IsBase64Encoded:   r.IsBase64Encoded,
	}
}
