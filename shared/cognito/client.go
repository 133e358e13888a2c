// The Cognito client an Authenticator is meant to be given.

package cognito

import (
	"errors"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"
)

// AttemptTimeout bounds one InitiateAuth attempt, from the connection to
// the last byte of the answer. Cognito answers in a few hundred
// milliseconds, a Lambda trigger of the pool included when it is warm; a
// hung attempt is given up in time for the retry to fit in the sign-in's
// bound (DefaultTimeout).
const AttemptTimeout = 2 * time.Second

// NewClient returns a Cognito client for an Authenticator, built from cfg
// (awsenv.Config.Cognito, which applies AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)
// and then optFns.
//
// It makes at most two attempts, each bounded by AttemptTimeout, with a
// short pause between them, and never retries a throttle
// (TooManyRequestsException, LimitExceededException). The SDK's default
// would retry those with backoff: seconds of a user's sign-in spent waiting,
// more load on a pool that is asking for less, and for LimitExceeded (too
// many failed attempts for one user) no chance of success. The app gets 429
// at once instead and retries when the user does. Outages, network errors
// and a hung attempt still get one retry; the Authenticator's own bound
// (WithTimeout) covers the whole sign-in, retry included.
func NewClient(cfg aws.Config, optFns ...func(*cip.Options)) *cip.Client {
	bounded := func(o *cip.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.MaxBackoff = 200 * time.Millisecond
			so.Retryables = append([]retry.IsErrorRetryable{noThrottleRetry}, so.Retryables...)
		})
		// AWS_MAX_ATTEMPTS would wrap the retryer with its own count.
		o.RetryMaxAttempts = 0
		// The client's timeout covers one attempt, where a context would
		// cover them all; and unlike a cancelled context, which the SDK
		// never retries, a timed-out attempt is retried.
		if b, ok := o.HTTPClient.(*awshttp.BuildableClient); ok {
			o.HTTPClient = b.WithTimeout(AttemptTimeout)
		} else if o.HTTPClient == nil {
			o.HTTPClient = awshttp.NewBuildableClient().WithTimeout(AttemptTimeout)
		}
	}
	return cip.NewFromConfig(cfg, append([]func(*cip.Options){bounded}, optFns...)...)
}

// noThrottleRetry answers "do not retry" for throttles and leaves every
// other error to the standard checks that follow it.
var noThrottleRetry = retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
	var apiErr smithy.APIError
	if errors.As(err, &apiErr) {
		if _, throttle := retry.DefaultThrottleErrorCodes[apiErr.ErrorCode()]; throttle {
			return aws.FalseTernary
		}
	}
	return aws.UnknownTernary
})
