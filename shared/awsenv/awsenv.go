// Package awsenv reads the AWS variables and builds from them the AWS SDK
// configuration the functions' clients are made from.
//
//	env, err := awsenv.ReadEnv(os.LookupEnv)
//	aws, err := awsenv.Load(ctx, env)
//	sm := secrets.NewClient(aws.SecretsManager())
//	idp := cognito.NewClient(aws.Cognito())
//
// In the Lambda build (-tags lambda.norpc) Load is fromEnvironment: the
// region, the execution role's credentials and the endpoint overrides,
// exactly as Lambda and the README set them, with no file read and no
// credential chain walked. That leaves the SDK's config package, and the
// STS, SSO and IMDS clients its chain links, out of the bootstrap: a
// smaller binary and less package initialisation on every cold start. Its
// clients trust only the roots AWS endpoints chain to (see roots.go).
// Elsewhere Load is the SDK's own LoadDefaultConfig, so that a laptop's
// profiles and SSO sessions work. Both builds give every variable the
// README documents the same meaning, and the tests hold each to it.
package awsenv

import (
	"errors"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config is the AWS configuration of one process: what the SDK's clients
// are made from, and each service's endpoint override. Its methods give the
// aws.Config for one service's clients.
type Config struct {
	base aws.Config
	env  Env
}

// SecretsManager is the configuration of a Secrets Manager client:
// AWS_ENDPOINT_URL_SECRETS_MANAGER (or AWS_ENDPOINT_URL) as its endpoint
// when set.
func (c Config) SecretsManager() aws.Config { return c.service(c.env.SecretsManagerEndpoint) }

// Cognito is the configuration of a Cognito user pools client:
// AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER (or AWS_ENDPOINT_URL) as its
// endpoint when set.
func (c Config) Cognito() aws.Config { return c.service(c.env.CognitoEndpoint) }

func (c Config) service(endpoint string) aws.Config {
	cfg := c.base.Copy()
	if endpoint != "" {
		cfg.BaseEndpoint = aws.String(endpoint)
	}
	return cfg
}

// Region is the region the clients call.
func (c Config) Region() string { return c.base.Region }

var (
	errNoRegion      = errors.New("AWS_REGION: not set; the AWS clients need a region (Lambda sets AWS_REGION; elsewhere set it, or a region in your AWS profile)")
	errNoCredentials = errors.New("AWS_ACCESS_KEY_ID: not set, or AWS_SECRET_ACCESS_KEY is not; in Lambda they carry the execution role's credentials (with AWS_SESSION_TOKEN)")
)

// fromEnvironment builds the configuration from env alone, as the Lambda
// build does: env's region, its static credentials (the execution role's
// temporary credentials, which Lambda sets for the life of the execution
// environment), an HTTP client that trusts only the roots AWS endpoints
// chain to (or those of AWS_CA_BUNDLE), and the SDK's defaults for the
// rest. It refuses a missing region, missing credentials or an unusable
// CA bundle with one line naming the variable.
func fromEnvironment(env Env) (Config, error) {
	if env.Region == "" {
		return Config{}, errNoRegion
	}
	if env.AccessKeyID == "" || env.SecretAccessKey == "" {
		return Config{}, errNoCredentials
	}
	roots, err := rootsFrom(env.CABundle)
	if err != nil {
		return Config{}, err
	}
	return Config{
		base: aws.Config{
			Region:      env.Region,
			Credentials: credentials.NewStaticCredentialsProvider(env.AccessKeyID, env.SecretAccessKey, env.SessionToken),
			HTTPClient:  httpClient(roots),
		},
		env: env,
	}, nil
}
