// The Cognito client an Authenticator is meant to be given.

package cognito

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/smithy-go"
)

// NewClient returns a Cognito client for an Authenticator, built from cfg
// (awsenv.Config.Cognito, which applies AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER)
// and then optFns.
//
// It makes at most two attempts, and never retries a throttle
// (TooManyRequestsException, LimitExceededException). The SDK's default
// would retry those with backoff: seconds of a user's sign-in spent waiting,
// more load on a pool that is asking for less, and for LimitExceeded (too
// many failed attempts for one user) no chance of success. The app gets 429
// at once instead and retries when the user does. Outages and network
// errors still get one retry.
func NewClient(cfg aws.Config, optFns ...func(*cip.Options)) *cip.Client {
	retryer := func(o *cip.Options) {
		o.Retryer = retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = 2
			so.Retryables = append([]retry.IsErrorRetryable{noThrottleRetry}, so.Retryables...)
		})
	}
	return cip.NewFromConfig(cfg, append([]func(*cip.Options){retryer}, optFns...)...)
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
