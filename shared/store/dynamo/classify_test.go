package dynamo

import (
	"errors"
	"testing"

	"github.com/aws/smithy-go"

	"github.com/callfn/callfn/shared/store"
)

// DynamoDB's refusals for size are final; its other errors are not.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		err   error
		final bool
	}{
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "Item size has exceeded the maximum allowed size"}, true},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size limit of 2048 bytes"}, true},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "One or more parameter values were invalid: Aggregated size of all range keys has exceeded the size limit of 1024 bytes"}, true},
		{&smithy.GenericAPIError{Code: "TransactionCanceledException", Message: "Transaction cancelled, please refer cancellation reasons for specific reasons [None, ValidationError]: Item size to update has exceeded the maximum allowed size"}, true},
		{&smithy.GenericAPIError{Code: "ValidationException", Message: "ExpressionAttributeNames contains invalid key"}, false},
		{&smithy.GenericAPIError{Code: "ProvisionedThroughputExceededException", Message: "The level of configured provisioned throughput for the table was exceeded"}, false},
		{errors.New("connection reset"), false},
	} {
		err := classify(c.err)
		if errors.Is(err, store.ErrTooLarge) != c.final || !errors.Is(err, c.err) {
			t.Errorf("classify(%v) = %v; final %v", c.err, err, c.final)
		}
	}
	if classify(nil) != nil {
		t.Error("classify(nil) != nil")
	}
}
