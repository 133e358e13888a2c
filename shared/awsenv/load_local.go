//go:build !lambda.norpc

// The local build's Load: the SDK's LoadDefaultConfig, so that profiles,
// SSO sessions and the whole credential chain work on a laptop.

package awsenv

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
)

// Load returns the AWS configuration: in this, the local build, the SDK's
// LoadDefaultConfig (which reads the environment and the shared config
// files itself), with env's endpoint overrides, which are the SDK's own
// reading of the same variables. It refuses a configuration with no
// region. The Lambda build's Load is fromEnvironment.
func Load(ctx context.Context, env Env) (Config, error) {
	cfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return Config{}, fmt.Errorf("AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return Config{}, errNoRegion
	}
	return Config{base: cfg, env: env}, nil
}
