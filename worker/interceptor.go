package worker

import (
	"context"
	"errors"

	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	sdkworker "go.temporal.io/sdk/worker"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/workflows"
)

// corruptionInterceptor makes every activity error that wraps
// datasets.ErrCorrupt non-retryable: a file whose bytes do not match what it
// claims reads the same on every attempt, so retrying (eight times over five
// minutes, or a training's ten) only delays the error.
type corruptionInterceptor struct {
	interceptor.WorkerInterceptorBase
}

// InterceptActivity wraps the activity inbound chain.
func (*corruptionInterceptor) InterceptActivity(ctx context.Context, next interceptor.ActivityInboundInterceptor) interceptor.ActivityInboundInterceptor {
	i := &corruptionActivity{}
	i.Next = next
	return i
}

type corruptionActivity struct {
	interceptor.ActivityInboundInterceptorBase
}

// ExecuteActivity runs the activity and classifies its error.
func (c *corruptionActivity) ExecuteActivity(ctx context.Context, in *interceptor.ExecuteActivityInput) (any, error) {
	res, err := c.Next.ExecuteActivity(ctx, in)
	return res, quietShutdown(ctx, permanentCorruption(err))
}

// quietShutdown marks the error of an activity stopped because its worker
// shuts down (Ctrl+C of a command on the embedded server, a stopped
// worker) as benign, keeping its message and its retries: the SDK then logs
// it at debug level instead of an ERROR "Activity error ... context
// canceled" for what the user asked for. Other errors pass unchanged, a
// cancellation by the workflow included (it must stay a CanceledError).
func quietShutdown(ctx context.Context, err error) error {
	var appErr *temporal.ApplicationError
	if err == nil || !errors.Is(context.Cause(ctx), sdkworker.ErrWorkerShutdown) || errors.As(err, &appErr) && appErr.NonRetryable() {
		return err
	}
	return temporal.NewApplicationErrorWithOptions(err.Error(), WorkerShutdownError,
		temporal.ApplicationErrorOptions{Cause: err, Category: temporal.ApplicationErrorCategoryBenign})
}

// WorkerShutdownError is the error type of an activity attempt that ended
// because its worker shut down; the attempt is retried like any failure.
const WorkerShutdownError = "WorkerShutdown"

// permanentCorruption turns an error wrapping datasets.ErrCorrupt into a
// non-retryable application error of type workflows.ErrDatasetCorrupt with the same
// message (which names the file); other errors pass unchanged.
func permanentCorruption(err error) error {
	var appErr *temporal.ApplicationError
	if err == nil || !errors.Is(err, datasets.ErrCorrupt) || errors.As(err, &appErr) && appErr.NonRetryable() {
		return err
	}
	return temporal.NewNonRetryableApplicationError(err.Error(), workflows.ErrDatasetCorrupt, err)
}
