// The Secrets Manager client the cache is meant to be given.

package secrets

import (
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// NewClient returns a Secrets Manager client for the cache, built from cfg
// (awsenv.Config.SecretsManager, which applies AWS_ENDPOINT_URL_SECRETS_MANAGER)
// and then optFns.
//
// It makes one attempt per call: the SDK's default of three attempts with
// backoff would triple the calls to a throttled or failing Secrets Manager
// and spend seconds of the request inside one Get. The cache is the retry
// layer instead: it serves the stale value, backs off, and tries again on a
// later request, so one Get costs at most one call.
func NewClient(cfg aws.Config, optFns ...func(*secretsmanager.Options)) *secretsmanager.Client {
	oneAttempt := func(o *secretsmanager.Options) { o.RetryMaxAttempts = 1 }
	return secretsmanager.NewFromConfig(cfg, append([]func(*secretsmanager.Options){oneAttempt}, optFns...)...)
}
