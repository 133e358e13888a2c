package awsenv_test

import (
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/shared/awsenv"
)

func lookup(env map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}
}

func TestReadEnv(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		want awsenv.Env
	}{
		{name: "nothing set", env: map[string]string{}, want: awsenv.Env{}},
		{
			name: "what Lambda sets",
			env: map[string]string{
				"AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-1",
				"AWS_ACCESS_KEY_ID": "ASIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "role-secret", "AWS_SESSION_TOKEN": "role-token",
			},
			want: awsenv.Env{Region: "eu-west-1", AccessKeyID: "ASIAEXAMPLE", SecretAccessKey: "role-secret", SessionToken: "role-token"},
		},
		{name: "AWS_DEFAULT_REGION without AWS_REGION", env: map[string]string{"AWS_DEFAULT_REGION": "ap-south-1"}, want: awsenv.Env{Region: "ap-south-1"}},
		{name: "AWS_REGION over AWS_DEFAULT_REGION", env: map[string]string{"AWS_REGION": "eu-west-3", "AWS_DEFAULT_REGION": "ap-south-1"}, want: awsenv.Env{Region: "eu-west-3"}},
		{
			name: "AWS_ENDPOINT_URL for every service",
			env:  map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:5000"},
			want: awsenv.Env{SecretsManagerEndpoint: "http://127.0.0.1:5000", CognitoEndpoint: "http://127.0.0.1:5000"},
		},
		{
			name: "a service's own endpoint over AWS_ENDPOINT_URL",
			env: map[string]string{
				"AWS_ENDPOINT_URL":                           "http://127.0.0.1:5000",
				"AWS_ENDPOINT_URL_SECRETS_MANAGER":           "http://127.0.0.1:5001",
				"AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER": "https://cognito.example",
			},
			want: awsenv.Env{SecretsManagerEndpoint: "http://127.0.0.1:5001", CognitoEndpoint: "https://cognito.example"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := awsenv.ReadEnv(lookup(tt.env))
			if err != nil || got != tt.want {
				t.Errorf("ReadEnv() = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
	for _, name := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER"} {
		_, err := awsenv.ReadEnv(lookup(map[string]string{name: "localhost:4566"}))
		if err == nil || !strings.HasPrefix(err.Error(), name+": ") {
			t.Errorf("%s=localhost:4566: err = %v, want a refusal naming %s", name, err, name)
		}
	}
}
