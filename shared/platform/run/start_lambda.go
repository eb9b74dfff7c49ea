//go:build lambda

package run

import (
	"context"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/callfn/callfn/shared/config"
	"github.com/callfn/callfn/shared/platform"
	"github.com/callfn/callfn/shared/platform/awslambda"
)

const platformName = "lambda"

// start runs the function under the Lambda runtime API
// (AWS_LAMBDA_RUNTIME_API); it returns only if the runtime cannot start.
func start(ctx context.Context, _ config.Config, fn platform.Function) error {
	lambda.StartWithOptions(awslambda.Handler(fn), lambda.WithContext(ctx))
	return nil // not reached: the runtime loop exits the process itself
}
