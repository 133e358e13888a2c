//go:build lambda.norpc

// The Lambda build's Load: the configuration comes from the environment
// Lambda sets, and the SDK's config package is not linked.

package awsenv

import (
	"context"

	"github.com/intercom-identity/userhash/shared/config"
)

// Load returns the AWS configuration: in this, the Lambda build,
// FromEnvironment(env).
func Load(_ context.Context, env config.AWS) (Config, error) {
	return FromEnvironment(env)
}
