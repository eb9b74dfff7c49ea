package awslambda

import (
	"context"
	"encoding/json"
	"strconv"

	"github.com/aws/aws-lambda-go/events"
	"github.com/callfn/callfn/shared/platform"
)

// runDynamoDBEvent runs a batch of DynamoDB stream records, as an event
// source mapping delivers them, as the function's Changes. An error fails
// the batch: the mapping retries it (bisecting it, when so configured).
func runDynamoDBEvent(ctx context.Context, fn platform.Function, event json.RawMessage, invocationID string) error {
	e, err := platform.DecodeEvent[events.DynamoDBEvent](event, "DynamoDB stream records")
	if err != nil {
		return err
	}
	batch := make([]platform.Change, 0, len(e.Records))
	for _, r := range e.Records {
		batch = append(batch, platform.Change{
			ID:   r.EventID,
			Op:   r.EventName,
			Keys: flatImage(r.Change.Keys),
			New:  flatImage(r.Change.NewImage),
		})
	}
	return platform.RunChanges(platform.WithRequestID(ctx, invocationID), fn, batch)
}

// flatImage keeps an image's string, number and boolean attributes, as
// text; nil for no image.
func flatImage(img map[string]events.DynamoDBAttributeValue) map[string]string {
	if img == nil {
		return nil
	}
	out := make(map[string]string, len(img))
	for k, v := range img {
		switch v.DataType() {
		case events.DataTypeString:
			out[k] = v.String()
		case events.DataTypeNumber:
			out[k] = v.Number()
		case events.DataTypeBoolean:
			out[k] = strconv.FormatBool(v.Boolean())
		}
	}
	return out
}
