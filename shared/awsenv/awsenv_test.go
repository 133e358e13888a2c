// Every AWS variable the README documents, in both builds: each case sets
// the environment, builds the configuration as the Lambda build does
// (FromEnvironment) and as this build's Load does (in a plain build, the
// SDK's LoadDefaultConfig), makes a real Secrets Manager and a real Cognito
// call with the product's own clients, and checks where each call went and,
// for Secrets Manager, which region and credentials signed it and that the
// signature holds. (InitiateAuth is one of Cognito's unsigned operations:
// the password is the proof, so only its endpoint shows.)

package awsenv_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cip "github.com/aws/aws-sdk-go-v2/service/cognitoidentityprovider"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/awsenv"
	"github.com/intercom-identity/userhash/shared/cognito"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// The execution role's credentials of the cases, as Lambda gives them.
const (
	roleKeyID  = "ASIAROLEEXAMPLE"
	roleSecret = "role-secret-access-key"
	roleToken  = "role-session-token"
)

// builds are the two ways a function gets its AWS configuration.
var builds = []struct {
	name string
	load func(t *testing.T, env map[string]string) (awsenv.Config, error)
}{
	{"Lambda build (FromEnvironment)", func(t *testing.T, env map[string]string) (awsenv.Config, error) {
		a, err := awsenv.ReadEnv(func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		if err != nil {
			return awsenv.Config{}, err
		}
		return awsenv.FromEnvironment(a)
	}},
	{"this build's Load", func(t *testing.T, env map[string]string) (awsenv.Config, error) {
		isolate(t)
		for k, v := range env {
			t.Setenv(k, v)
		}
		a, err := awsenv.ReadEnv(os.LookupEnv)
		if err != nil {
			return awsenv.Config{}, err
		}
		return awsenv.Load(context.Background(), a)
	}},
}

// isolate clears every AWS_ variable of the test process and points the
// SDK's shared config files at nothing, so that no profile of the machine
// leaks into a case; t.Setenv puts everything back when the test ends.
func isolate(t *testing.T) {
	t.Helper()
	for _, kv := range os.Environ() {
		if name, _, _ := strings.Cut(kv, "="); strings.HasPrefix(name, "AWS_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
}

// endpoints are three recording endpoints: one for AWS_ENDPOINT_URL and
// one for each service's own variable.
type endpoints struct {
	global, secretsManager, cognito *awsfake.Recorder
	urls                            map[string]string // by placeholder
}

func startEndpoints(t *testing.T) *endpoints {
	// Each answers GetSecretValue with a value and refuses every sign-in:
	// the test is about who called, not what came back.
	answer := awsfake.Handler(func(target string, _ []byte) (any, *awsfake.Error) {
		if target == "secretsmanager.GetSecretValue" {
			return map[string]any{"Name": "s", "SecretString": "v", "VersionId": "1"}, nil
		}
		return nil, &awsfake.Error{Status: http.StatusBadRequest, Type: "NotAuthorizedException", Message: "Incorrect username or password."}
	})
	e := &endpoints{urls: map[string]string{}}
	for _, r := range []struct {
		rec         **awsfake.Recorder
		placeholder string
	}{{&e.global, "{global}"}, {&e.secretsManager, "{secrets-manager}"}, {&e.cognito, "{cognito}"}} {
		*r.rec = &awsfake.Recorder{Keys: map[string]string{roleKeyID: roleSecret}, Next: answer}
		srv := httptest.NewServer(*r.rec)
		t.Cleanup(srv.Close)
		e.urls[r.placeholder] = srv.URL
	}
	return e
}

// which names the endpoint that got a call of target, and returns it.
func (e *endpoints) which(target string) (string, awsfake.SignedCall) {
	for name, r := range map[string]*awsfake.Recorder{"{global}": e.global, "{secrets-manager}": e.secretsManager, "{cognito}": e.cognito} {
		for _, c := range r.Calls() {
			if c.Target == target {
				return name, c
			}
		}
	}
	return "none", awsfake.SignedCall{}
}

func TestEveryDocumentedVariableInBothBuilds(t *testing.T) {
	role := map[string]string{"AWS_ACCESS_KEY_ID": roleKeyID, "AWS_SECRET_ACCESS_KEY": roleSecret, "AWS_SESSION_TOKEN": roleToken}
	with := func(kv ...string) map[string]string {
		env := map[string]string{"AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": "{global}"}
		for k, v := range role {
			env[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if kv[i+1] == "" {
				delete(env, kv[i])
			} else {
				env[kv[i]] = kv[i+1]
			}
		}
		return env
	}
	type want struct {
		endpoint string // the placeholder of the endpoint that got the call
		region   string
		token    string
	}
	tests := []struct {
		name    string
		env     map[string]string
		secrets want
		cognito string // the endpoint InitiateAuth went to
	}{
		{
			name:    "AWS_REGION, the role's credentials and AWS_ENDPOINT_URL, as the emulator sets them",
			env:     with("AWS_REGION", "eu-west-3"),
			secrets: want{"{global}", "eu-west-3", roleToken}, cognito: "{global}",
		},
		{
			name:    "AWS_DEFAULT_REGION when AWS_REGION is unset",
			env:     with("AWS_REGION", "", "AWS_DEFAULT_REGION", "ap-south-1"),
			secrets: want{"{global}", "ap-south-1", roleToken}, cognito: "{global}",
		},
		{
			name:    "AWS_REGION over AWS_DEFAULT_REGION",
			env:     with("AWS_REGION", "eu-central-1", "AWS_DEFAULT_REGION", "ap-south-1"),
			secrets: want{"{global}", "eu-central-1", roleToken}, cognito: "{global}",
		},
		{
			name:    "long-term keys without AWS_SESSION_TOKEN",
			env:     with("AWS_SESSION_TOKEN", ""),
			secrets: want{"{global}", "us-east-1", ""}, cognito: "{global}",
		},
		{
			name:    "AWS_ENDPOINT_URL_SECRETS_MANAGER over AWS_ENDPOINT_URL, for Secrets Manager only",
			env:     with("AWS_ENDPOINT_URL_SECRETS_MANAGER", "{secrets-manager}"),
			secrets: want{"{secrets-manager}", "us-east-1", roleToken}, cognito: "{global}",
		},
		{
			name:    "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER over AWS_ENDPOINT_URL, for Cognito only",
			env:     with("AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "{cognito}"),
			secrets: want{"{global}", "us-east-1", roleToken}, cognito: "{cognito}",
		},
		{
			name:    "each service's own endpoint, without AWS_ENDPOINT_URL",
			env:     with("AWS_ENDPOINT_URL", "", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "{secrets-manager}", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER", "{cognito}"),
			secrets: want{"{secrets-manager}", "us-east-1", roleToken}, cognito: "{cognito}",
		},
	}
	for _, b := range builds {
		for _, tt := range tests {
			t.Run(b.name+"/"+tt.name, func(t *testing.T) {
				e := startEndpoints(t)
				env := map[string]string{}
				for k, v := range tt.env {
					if u, ok := e.urls[v]; ok {
						v = u
					}
					env[k] = v
				}
				cfg, err := b.load(t, env)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				if _, err := secrets.NewClient(cfg.SecretsManager()).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")}); err != nil {
					t.Errorf("GetSecretValue: %v", err)
				}
				_, _ = cognito.NewClient(cfg.Cognito()).InitiateAuth(ctx, &cip.InitiateAuthInput{
					AuthFlow: "USER_PASSWORD_AUTH", ClientId: aws.String("client"),
					AuthParameters: map[string]string{"USERNAME": "u", "PASSWORD": "p"},
				})
				if at, _ := e.which("AWSCognitoIdentityProviderService.InitiateAuth"); at != tt.cognito {
					t.Errorf("InitiateAuth went to %s, want %s", at, tt.cognito)
				}
				at, call := e.which("secretsmanager.GetSecretValue")
				if w := tt.secrets; at != w.endpoint {
					t.Errorf("GetSecretValue went to %s, want %s", at, w.endpoint)
				} else if call.Region != w.region || call.Service != "secretsmanager" || call.AccessKeyID != roleKeyID || call.SessionToken != w.token || !call.SignatureValid {
					t.Errorf("GetSecretValue was signed by %+v, want region %s, key %s, token %q and a signature that holds for the role's secret key",
						call, w.region, roleKeyID, w.token)
				}
			})
		}
	}
}

func TestRefusals(t *testing.T) {
	for _, b := range builds {
		t.Run(b.name+"/no region", func(t *testing.T) {
			_, err := b.load(t, map[string]string{"AWS_ACCESS_KEY_ID": roleKeyID, "AWS_SECRET_ACCESS_KEY": roleSecret})
			if err == nil || !strings.HasPrefix(err.Error(), "AWS_REGION: ") {
				t.Errorf("err = %v, want one naming AWS_REGION", err)
			}
		})
	}
	// Only the Lambda build refuses to start without the role's
	// credentials: elsewhere the SDK's chain looks further (profiles, SSO).
	for name, env := range map[string]map[string]string{
		"no access key ID": {"AWS_REGION": "us-east-1", "AWS_SECRET_ACCESS_KEY": roleSecret},
		"no secret key":    {"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": roleKeyID},
	} {
		t.Run(builds[0].name+"/"+name, func(t *testing.T) {
			_, err := builds[0].load(t, env)
			if err == nil || !strings.HasPrefix(err.Error(), "AWS_ACCESS_KEY_ID: ") || strings.Contains(err.Error(), roleSecret) {
				t.Errorf("err = %v, want one naming AWS_ACCESS_KEY_ID, without the secret", err)
			}
		})
	}
}
