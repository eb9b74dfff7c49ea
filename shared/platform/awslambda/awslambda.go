// Package awslambda runs a callfn function on AWS Lambda. Its Handler takes
// every event the function can be triggered by, recognised by shape:
//
//   - API Gateway HTTP API, payload format 2.0 (events.APIGatewayV2HTTPRequest;
//     Lambda function URLs send the same shape), answered with an
//     events.APIGatewayV2HTTPResponse;
//   - API Gateway REST API, payload format 1.0 (events.APIGatewayProxyRequest;
//     also HTTP API payload 1.0), answered with an events.APIGatewayProxyResponse;
//   - EventBridge Scheduler, which sends its target Input verbatim: callfn's
//     Input is the envelope {"schedule":NAME,"time":"<aws.scheduler.scheduled-time>","payload":ANY};
//   - classic EventBridge rules (events.CloudWatchEvent, detail-type
//     "Scheduled Event");
//   - DynamoDB stream records through an event source mapping
//     (events.DynamoDBEvent), run as the function's Changes (stream.go).
//
// HTTP events run through the function's http.Handler in memory; schedules
// run its Schedule with a platform.Tick.
package awslambda

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/callfn/callfn/shared/platform"
)

// Handler is fn as a Lambda handler, for lambda.Start. Events it does not
// recognise, and schedules fired at a function without one, are errors: the
// runtime reports them as the invocation's error and goes on serving.
func Handler(fn platform.Function) func(ctx context.Context, event json.RawMessage) (any, error) {
	h := fn.Handler()
	return func(ctx context.Context, event json.RawMessage) (any, error) {
		var invocationID string
		if lc, ok := lambdacontext.FromContext(ctx); ok {
			invocationID = lc.AwsRequestID
		}
		switch shape(event) {
		case shapeHTTPv2:
			return platform.ServeEvent(ctx, h, event, invocationID, "HTTP API 2.0 event", v2Event, v2Response)
		case shapeHTTPv1:
			return platform.ServeEvent(ctx, h, event, invocationID, "REST API event", v1Event, v1Response)
		case shapeSchedulerInput:
			return runSchedulerInput(ctx, fn, event, invocationID)
		case shapeScheduledEvent:
			return runScheduledEvent(ctx, fn, event, invocationID)
		case shapeDynamoDBStream:
			return nil, runDynamoDBEvent(ctx, fn, event, invocationID)
		}
		return nil, fmt.Errorf("%w: %s: not an API Gateway request, an EventBridge Scheduler input, a Scheduled Event or DynamoDB stream records: %.120q",
			platform.ErrUnknownEvent, fn.Name, event)
	}
}

type eventShape int

const (
	shapeUnknown eventShape = iota
	shapeHTTPv2
	shapeHTTPv1
	shapeSchedulerInput
	shapeScheduledEvent
	shapeDynamoDBStream
)

// shape tells the events apart by the fields only each one has.
func shape(event json.RawMessage) eventShape {
	var p struct {
		Version        string `json:"version"`
		HTTPMethod     string `json:"httpMethod"`
		RequestContext struct {
			HTTP struct {
				Method string `json:"method"`
			} `json:"http"`
		} `json:"requestContext"`
		Schedule   json.RawMessage `json:"schedule"`
		DetailType string          `json:"detail-type"`
		Records    []struct {
			EventSource string `json:"eventSource"`
		} `json:"Records"`
	}
	if err := json.Unmarshal(event, &p); err != nil {
		return shapeUnknown
	}
	switch {
	case p.Version == "2.0" && p.RequestContext.HTTP.Method != "":
		return shapeHTTPv2
	case p.HTTPMethod != "":
		return shapeHTTPv1
	case len(p.Schedule) > 0:
		return shapeSchedulerInput
	case p.DetailType == "Scheduled Event":
		return shapeScheduledEvent
	case len(p.Records) > 0 && p.Records[0].EventSource == "aws:dynamodb":
		return shapeDynamoDBStream
	}
	return shapeUnknown
}
