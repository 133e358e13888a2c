// Sorting a failed GetSecretValue into the few kinds an operator acts on
// differently: wait out a throttle or an AWS outage, fix IAM or KMS, create
// the secret, or fix its value.

package secrets

import (
	"context"
	"errors"
	"net"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/smithy-go"
)

// The reasons an *UnavailableError gives, stable words for logs and metrics.
const (
	ReasonThrottled         = "throttled"          // ThrottlingException and the like, or HTTP 429
	ReasonServerError       = "server_error"       // InternalServiceError or any 5xx
	ReasonTimeout           = "timeout"            // the attempt timeout or the caller's deadline passed
	ReasonCanceled          = "canceled"           // the caller gave up
	ReasonNotFound          = "not_found"          // ResourceNotFoundException
	ReasonDecryptionFailure = "decryption_failure" // DecryptionFailure: KMS refused
	ReasonAccessDenied      = "access_denied"      // AccessDeniedException: IAM refused
	ReasonInvalidValue      = "invalid_value"      // empty, binary only, not JSON, or no such key
	ReasonError             = "error"              // anything else; the log has the AWS error code
)

// ErrInvalidValue is wrapped by the error of a secret whose value cannot be
// used: empty, binary only, or without the JSON field asked for.
var ErrInvalidValue = errors.New("unusable secret value")

// classify wraps a failed fetch of id in an *UnavailableError.
func classify(id string, err error) *UnavailableError {
	return &UnavailableError{SecretID: id, Reason: reason(err), Err: err}
}

func reason(err error) string {
	var (
		notFound *types.ResourceNotFoundException
		decrypt  *types.DecryptionFailure
		internal *types.InternalServiceError
		api      smithy.APIError
		resp     *awshttp.ResponseError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, ErrInvalidValue):
		return ReasonInvalidValue
	case errors.As(err, &notFound):
		return ReasonNotFound
	case errors.As(err, &decrypt):
		return ReasonDecryptionFailure
	case errors.As(err, &internal):
		return ReasonServerError
	case errors.As(err, &api) && isThrottle(api.ErrorCode()):
		return ReasonThrottled
	case errors.As(err, &api) && api.ErrorCode() == "AccessDeniedException":
		return ReasonAccessDenied
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ReasonTimeout
	case errors.As(err, &resp) && resp.HTTPStatusCode() == http.StatusTooManyRequests:
		return ReasonThrottled
	case errors.As(err, &resp) && resp.HTTPStatusCode() >= 500:
		return ReasonServerError
	case errors.Is(err, context.Canceled):
		return ReasonCanceled
	}
	return ReasonError
}

func isThrottle(code string) bool {
	_, ok := retry.DefaultThrottleErrorCodes[code]
	return ok
}

// awsErrorCode returns the AWS error code of err, or "".
func awsErrorCode(err error) string {
	var api smithy.APIError
	if errors.As(err, &api) {
		return api.ErrorCode()
	}
	return ""
}

// reasonMessage is the log message for a failure of the given reason: what
// happened, in words an operator searches for.
func reasonMessage(reason string) string {
	switch reason {
	case ReasonThrottled:
		return "Secrets Manager throttled GetSecretValue"
	case ReasonServerError:
		return "Secrets Manager server error on GetSecretValue"
	case ReasonTimeout:
		return "GetSecretValue timed out"
	case ReasonCanceled:
		return "GetSecretValue canceled"
	case ReasonNotFound:
		return "secret not found in Secrets Manager"
	case ReasonDecryptionFailure:
		return "secret cannot be decrypted: check the KMS key policy and kms:Decrypt"
	case ReasonAccessDenied:
		return "access to secret denied: check secretsmanager:GetSecretValue in the IAM policy"
	case ReasonInvalidValue:
		return "secret value is unusable"
	}
	return "GetSecretValue failed"
}
