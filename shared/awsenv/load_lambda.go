//go:build lambda.norpc

// The Lambda build's Load: the configuration comes from the environment
// Lambda sets, and the SDK's config package is not linked.

package awsenv

import (
	"context"
)

// Load returns the AWS configuration: in this, the Lambda build,
// fromEnvironment(env).
func Load(_ context.Context, env Env) (Config, error) {
	return fromEnvironment(env)
}
