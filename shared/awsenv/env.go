// What the environment says about AWS: the region, the execution role's
// credentials that Lambda sets, and the endpoint overrides the SDK reads.
// Load builds the SDK's configuration from it.

package awsenv

import (
	"cmp"
	"fmt"
	"net/url"
)

// Env is the AWS part of the environment. In the Lambda build it is the
// whole of the SDK's configuration (Lambda sets the region and the
// execution role's credentials); elsewhere the SDK's own LoadDefaultConfig
// reads the same variables and more (profiles, SSO), and only the
// endpoints come from here. Both give the variables the same meaning.
type Env struct {
	Region string // AWS_REGION, else AWS_DEFAULT_REGION

	// The execution role's credentials, which Lambda sets.
	AccessKeyID     string // AWS_ACCESS_KEY_ID
	SecretAccessKey string // AWS_SECRET_ACCESS_KEY
	SessionToken    string // AWS_SESSION_TOKEN

	// Each service's endpoint: its own AWS_ENDPOINT_URL_<SERVICE>, else
	// AWS_ENDPOINT_URL, as the SDK reads them; "" for AWS's own.
	SecretsManagerEndpoint string // AWS_ENDPOINT_URL_SECRETS_MANAGER
	CognitoEndpoint        string // AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER

	// A PEM file of the roots the AWS clients trust instead of their
	// defaults, as the SDK reads it; "" for the defaults.
	CABundle string // AWS_CA_BUNDLE
}

// ReadEnv reads the AWS variables. lookup is os.LookupEnv outside tests.
// An endpoint that is not an http(s) URL is refused with a line naming its
// variable; nothing else is checked here, since what a run needs depends on
// the build (see Load).
func ReadEnv(lookup func(string) (string, bool)) (Env, error) {
	env := func(name string) string {
		v, _ := lookup(name)
		return v
	}
	a := Env{
		Region:          cmp.Or(env("AWS_REGION"), env("AWS_DEFAULT_REGION")),
		AccessKeyID:     env("AWS_ACCESS_KEY_ID"),
		SecretAccessKey: env("AWS_SECRET_ACCESS_KEY"),
		SessionToken:    env("AWS_SESSION_TOKEN"),
		CABundle:        env("AWS_CA_BUNDLE"),
	}
	global, err := endpoint(env, "AWS_ENDPOINT_URL", "")
	if err != nil {
		return Env{}, err
	}
	if a.SecretsManagerEndpoint, err = endpoint(env, "AWS_ENDPOINT_URL_SECRETS_MANAGER", global); err != nil {
		return Env{}, err
	}
	if a.CognitoEndpoint, err = endpoint(env, "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", global); err != nil {
		return Env{}, err
	}
	return a, nil
}

// endpoint reads an endpoint URL variable, or returns def when it is unset.
func endpoint(env func(string) string, name, def string) (string, error) {
	v := env(name)
	if v == "" {
		return def, nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", fmt.Errorf("%s: %q is not an http(s) URL", name, v)
	}
	return v, nil
}
