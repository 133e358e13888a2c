// Tests of template.yaml: the function runs as Lambda and SAM expect, its
// environment is the configuration the code reads, and in every deployment
// the parameters allow, the IAM policy names exactly the secrets the
// function is configured with, the route has the authorizer of its mode,
// and CORS, throttling and outputs follow the parameters.

package deploy_test

import (
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/intercom-identity/userhash/internal/testenv"

	"github.com/intercom-identity/userhash/internal/envvars"
	"github.com/intercom-identity/userhash/shared/metrics"
)

const (
	route      = "POST /v1/intercom/user-hash"
	sharedARN  = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/intercom-AbC123"
	webARN     = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/intercom-web-x9Y8z7"
	clientARN  = "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/cognito-client-QwErTy"
	kmsKeyARN  = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	cognitoIss = "https://cognito-idp.eu-west-1.amazonaws.com/<UserPool>"
	certARN    = "arn:aws:acm:eu-west-1:111122223333:certificate/0a1b2c3d-4e5f-6a7b-8c9d-0e1f2a3b4c5d"
)

// notInTemplate are the variables the code reads that the template must not
// set. Literal secrets are refused in Lambda; the users file, bearer-token
// verification, the listen address and CORS belong to the local server (in
// AWS the gateway does CORS); Lambda sets its own variables, the region
// and the execution role's credentials itself, and refuses them as
// function variables; the endpoint overrides and the CA bundle are for
// tests and emulators.
var notInTemplate = []string{
	"IOS_SECRET", "ANDROID_SECRET", "WEB_SECRET",
	"USERS_FILE", "JWT_ISSUER", "JWT_AUDIENCE", "LISTEN_ADDR", "ALLOWED_ORIGINS",
	"AWS_LAMBDA_RUNTIME_API", "AWS_LAMBDA_LOG_LEVEL", "AWS_LAMBDA_FUNCTION_NAME",
	"AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN",
	"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER",
	"AWS_CA_BUNDLE",
}

func TestTemplateFunction(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		name string
		path []string
		want any
	}{
		{"SAM transform", []string{"Transform"}, "AWS::Serverless-2016-10-31"},
		{"runtime", []string{"Globals", "Function", "Runtime"}, "provided.al2023"},
		{"handler", []string{"Globals", "Function", "Handler"}, "bootstrap"},
		{"architecture", []string{"Globals", "Function", "Architectures"}, []any{"arm64"}},
		{"memory", []string{"Globals", "Function", "MemorySize"}, 128},
		{"the user-hash function's memory from a parameter", []string{"Resources", "UserHashFunction", "Properties", "MemorySize"}, map[string]any{"Ref": "MemorySize"}},
		// The default comes from the cold start measured at each size.
		{"memory size default", []string{"Parameters", "MemorySize", "Default"}, 512},
		{"memory sizes", []string{"Parameters", "MemorySize", "AllowedValues"}, []any{128, 256, 512, 1024, 1769, 2048, 3008}},
		{"tracing", []string{"Globals", "Function", "Tracing"}, "Active"},
		{"JSON logs", []string{"Globals", "Function", "LoggingConfig", "LogFormat"}, "JSON"},
		{"function type", []string{"Resources", "UserHashFunction", "Type"}, "AWS::Serverless::Function"},
		{"built by the Makefile", []string{"Resources", "UserHashFunction", "Metadata", "BuildMethod"}, "makefile"},
		{"built from the repository root", []string{"Resources", "UserHashFunction", "Properties", "CodeUri"}, "."},
		{"logs to its own log group", []string{"Resources", "UserHashFunction", "Properties", "LoggingConfig", "LogGroup"}, map[string]any{"Ref": "UserHashLogGroup"}},
		{"log retention from a parameter", []string{"Resources", "UserHashLogGroup", "Properties", "RetentionInDays"}, map[string]any{"Ref": "LogRetentionDays"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := at(tpl, tt.path...); fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Errorf("%s = %v, want %v", strings.Join(tt.path, "."), got, tt.want)
			}
		})
	}

	// A short timeout, but room for a bounded Secrets Manager fetch and a
	// Cognito sign-in; the gateway waits a little longer than the function.
	timeout, _ := at(tpl, "Globals", "Function", "Timeout").(int)
	if timeout < 5 || timeout > 15 {
		t.Errorf("function timeout = %ds, want 5s to 15s", timeout)
	}
	gw, _ := at(tpl, "Resources", "UserHashIntegration", "Properties", "TimeoutInMillis").(int)
	if gw <= timeout*1000 || gw > 30000 {
		t.Errorf("integration timeout = %dms, want more than the function's %ds and at most API Gateway's 30s", gw, timeout)
	}
}

func TestTemplateEnvironmentIsWhatTheCodeReads(t *testing.T) {
	tpl := loadTemplate(t)
	vars, ok := at(tpl, "Resources", "UserHashFunction", "Properties", "Environment", "Variables").(map[string]any)
	if !ok {
		t.Fatal("UserHashFunction has no Environment.Variables")
	}
	var got []string
	for name := range vars {
		got = append(got, name)
	}
	read := envvars.UserHash()
	var want []string
	for _, name := range read {
		if !slices.Contains(notInTemplate, name) {
			want = append(want, name)
		}
	}
	for _, name := range notInTemplate {
		if !slices.Contains(read, name) {
			t.Errorf("%s is kept out of the template here, but config.Load no longer reads it", name)
		}
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("template environment = %v\nwant what config.Load reads less those kept out = %v", got, want)
	}
}

// wantDeployment is what one choice of parameters must deploy.
type wantDeployment struct {
	secretIDs      [3]string // IOS_SECRET_ID, ANDROID_SECRET_ID, WEB_SECRET_ID; "" when the platform is not served (no variable at all)
	clientID       string    // COGNITO_CLIENT_ID
	clientSecretID string    // COGNITO_CLIENT_SECRET_ID
	iam            []string  // the resources of secretsmanager:GetSecretValue
	kms            string    // the resource of kms:Decrypt; "" for no such statement
	authorization  string    // the route's AuthorizationType
	issuer         string
	audience       []string
	userPool       bool
	passwordFlow   bool // the stack's app client allows USER_PASSWORD_AUTH, has a secret and takes the caller's IP
	origins        []string
	rate, burst    string
	domain         string // DomainName; "" for no custom domain
}

func TestTemplateDeployments(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		name   string
		params map[string]string
		want   wantDeployment
	}{
		{
			name:   "defaults: jwt mode with the stack's user pool and secrets",
			params: nil,
			want: wantDeployment{
				secretIDs:     [3]string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
				iam:           []string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
				authorization: "JWT",
				issuer:        cognitoIss,
				audience:      []string{"<UserPoolClient>"},
				userPool:      true,
				rate:          "20", burst: "40",
			},
		},
		{
			name: "jwt mode with another issuer, existing secrets, a KMS key and CORS",
			params: map[string]string{
				"JwtIssuer": "https://auth.example.com/", "JwtAudience": "app-1,app-2",
				"IosSecretArn": sharedARN + "#ios", "AndroidSecretArn": sharedARN + "#android", "WebSecretArn": webARN,
				"KmsKeyArn":           kmsKeyARN,
				"AllowedOrigins":      "capacitor://localhost,ionic://localhost",
				"ThrottlingRateLimit": "7", "ThrottlingBurstLimit": "9",
			},
			want: wantDeployment{
				secretIDs:     [3]string{sharedARN + "#ios", sharedARN + "#android", webARN},
				iam:           []string{sharedARN, sharedARN, webARN},
				kms:           kmsKeyARN,
				authorization: "JWT",
				issuer:        "https://auth.example.com/",
				audience:      []string{"app-1", "app-2"},
				origins:       []string{"capacitor://localhost", "ionic://localhost"},
				rate:          "7", burst: "9",
			},
		},
		{
			name:   "password mode with the stack's user pool",
			params: map[string]string{"AuthMode": "password"},
			want: wantDeployment{
				secretIDs:      [3]string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
				clientID:       "<UserPoolClient>",
				clientSecretID: "<UserPoolClientSecret>",
				iam:            []string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>", "<UserPoolClientSecret>"},
				authorization:  "NONE",
				userPool:       true,
				passwordFlow:   true,
				rate:           "20", burst: "40",
			},
		},
		{
			name: "password mode with an existing app client and its secret",
			params: map[string]string{
				"AuthMode": "password", "CognitoClientId": "5abcdefghij1234567890klmno",
				"CognitoClientSecretArn": clientARN + "#client_secret",
				"IosSecretArn":           sharedARN + "#ios", "KmsKeyArn": kmsKeyARN,
			},
			want: wantDeployment{
				secretIDs:      [3]string{sharedARN + "#ios", "<AndroidSecret>", "<WebSecret>"},
				clientID:       "5abcdefghij1234567890klmno",
				clientSecretID: clientARN + "#client_secret",
				iam:            []string{sharedARN, "<AndroidSecret>", "<WebSecret>", clientARN},
				kms:            kmsKeyARN,
				authorization:  "NONE",
				rate:           "20", burst: "40",
			},
		},
		{
			name: "ios and android only, android from an existing secret",
			params: map[string]string{
				"Platforms": "ios,android", "AndroidSecretArn": sharedARN + "#android",
			},
			want: wantDeployment{
				secretIDs:     [3]string{"<IosSecret>", sharedARN + "#android", ""},
				iam:           []string{"<IosSecret>", sharedARN},
				authorization: "JWT",
				issuer:        cognitoIss,
				audience:      []string{"<UserPoolClient>"},
				userPool:      true,
				rate:          "20", burst: "40",
			},
		},
		{
			name: "jwt mode reads no app client secret, so may not",
			params: map[string]string{
				"CognitoClientId": "5abcdefghij1234567890klmno", "CognitoClientSecretArn": clientARN,
			},
			want: wantDeployment{
				secretIDs:     [3]string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
				iam:           []string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
				authorization: "JWT",
				issuer:        cognitoIss,
				audience:      []string{"<UserPoolClient>"},
				userPool:      true,
				rate:          "20", burst: "40",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deploy(t, tpl, tt.params)
			if err != nil {
				t.Fatalf("the parameters are refused: %v", err)
			}
			checkEnvironment(t, d, tt.params, tt.want)
			checkSecrets(t, d, tt.want)
			checkIAM(t, d, tt.want)
			checkRoute(t, d, tt.want)
			checkCognito(t, d, tt.want)
			checkAPI(t, d, tt.want)
			checkOutputs(t, d, tt.want)
		})
	}
}

func checkEnvironment(t *testing.T, d *deployment, params map[string]string, w wantDeployment) {
	t.Helper()
	env := at(d.resource("UserHashFunction"), "Environment", "Variables").(map[string]any)
	mode := params["AuthMode"]
	if mode == "" {
		mode = "jwt"
	}
	want := map[string]string{
		"AUTH_MODE":                mode,
		"COGNITO_CLIENT_ID":        w.clientID,
		"COGNITO_CLIENT_SECRET_ID": w.clientSecretID,
	}
	for name, v := range want {
		if got := fmt.Sprint(env[name]); got != v {
			t.Errorf("%s = %q, want %q", name, got, v)
		}
	}
	// A platform the stack does not serve has no variable at all, not an
	// empty one: the function then answers it 400 unsupported_platform and
	// never tries to fetch its secret.
	for i, name := range secretVars {
		got, ok := env[name]
		switch {
		case w.secretIDs[i] == "" && ok:
			t.Errorf("%s = %q, want no such variable for a platform not in Platforms", name, got)
		case w.secretIDs[i] != "" && fmt.Sprint(got) != w.secretIDs[i]:
			t.Errorf("%s = %v, want %q", name, got, w.secretIDs[i])
		}
	}
}

var secretVars = [3]string{"IOS_SECRET_ID", "ANDROID_SECRET_ID", "WEB_SECRET_ID"}

// checkSecrets holds the stack to creating exactly the secrets its
// function reads: one per served platform that has no existing ARN.
func checkSecrets(t *testing.T, d *deployment, w wantDeployment) {
	t.Helper()
	var want []string
	for _, id := range w.secretIDs {
		if strings.HasPrefix(id, "<") {
			want = append(want, strings.Trim(id, "<>"))
		}
	}
	if w.clientSecretID == "<UserPoolClientSecret>" {
		want = append(want, "UserPoolClientSecret")
	}
	slices.Sort(want)
	if got := d.of("AWS::SecretsManager::Secret"); !slices.Equal(got, want) {
		t.Errorf("secrets created = %v, want %v", got, want)
	}
}

// checkIAM holds the function's own policy to one GetSecretValue statement
// on exactly the secrets its environment names, BatchGetSecretValue (which
// takes no resource, and returns only what GetSecretValue allows) for the
// cold start's one call, and kms:Decrypt on the given key only, through
// Secrets Manager.
func checkIAM(t *testing.T, d *deployment, w wantDeployment) {
	t.Helper()
	fn := d.resource("UserHashFunction")
	for _, p := range []string{"Role", "ManagedPolicyArns", "PermissionsBoundary"} {
		if fn[p] != nil {
			t.Errorf("UserHashFunction sets %s; its permissions must come from its own Policies only", p)
		}
	}
	policies, _ := fn["Policies"].([]any)
	if len(policies) != 1 {
		t.Fatalf("UserHashFunction has %d policies, want one inline policy document (no SAM policy templates)", len(policies))
	}
	statements, _ := at(policies[0], "Statement").([]any)
	var gotIAM []string
	gotKMS, gotBatch := "", false
	for _, s := range statements {
		actions, resources := strs(at(s, "Action")), strs(at(s, "Resource"))
		if at(s, "Effect") != "Allow" || at(s, "NotAction") != nil || at(s, "NotResource") != nil {
			t.Errorf("statement %v: want a plain Allow with Action and Resource", s)
		}
		batch := slices.Equal(actions, []string{"secretsmanager:BatchGetSecretValue"})
		for _, r := range resources {
			if strings.Contains(r, "*") && !(batch && slices.Equal(resources, []string{"*"})) {
				t.Errorf("statement %v: wildcard resource %q", at(s, "Sid"), r)
			}
		}
		switch {
		case batch:
			// The action has no resource type: "*" is its only form.
			gotBatch = true
			if !slices.Equal(resources, []string{"*"}) {
				t.Errorf("BatchGetSecretValue resources = %v, want [*]", resources)
			}
		case slices.Equal(actions, []string{"secretsmanager:GetSecretValue"}):
			gotIAM = append(gotIAM, resources...)
		case slices.Equal(actions, []string{"kms:Decrypt"}):
			gotKMS = strings.Join(resources, ",")
			via := fmt.Sprint(at(s, "Condition", "StringEquals", "kms:ViaService"))
			if via != "secretsmanager."+pseudo["AWS::Region"]+".amazonaws.com" {
				t.Errorf("kms:Decrypt condition kms:ViaService = %q, want Secrets Manager of the stack's region only", via)
			}
		default:
			t.Errorf("statement %v allows %v; the function needs only secretsmanager:GetSecretValue, secretsmanager:BatchGetSecretValue and kms:Decrypt", at(s, "Sid"), actions)
		}
	}
	if !gotBatch {
		t.Error("no secretsmanager:BatchGetSecretValue statement: the cold start would fall back to one GetSecretValue per secret")
	}
	if !sameSet(gotIAM, w.iam) {
		t.Errorf("GetSecretValue resources = %v, want %v", gotIAM, w.iam)
	}
	if gotKMS != w.kms {
		t.Errorf("kms:Decrypt resources = %q, want %q", gotKMS, w.kms)
	}

	// Whatever the parameters, the policy is the environment's secret IDs
	// without their "#key": not one secret more, not one fewer.
	env := at(fn, "Environment", "Variables").(map[string]any)
	var read []string
	for _, name := range []string{"IOS_SECRET_ID", "ANDROID_SECRET_ID", "WEB_SECRET_ID", "COGNITO_CLIENT_SECRET_ID"} {
		if id, ok := env[name].(string); ok && id != "" {
			arn, _, _ := strings.Cut(id, "#")
			read = append(read, arn)
		}
	}
	if !sameSet(gotIAM, read) {
		t.Errorf("GetSecretValue resources = %v, but the function reads %v", gotIAM, read)
	}
}

func checkRoute(t *testing.T, d *deployment, w wantDeployment) {
	t.Helper()
	// The only route is the POST: preflight OPTIONS is answered by the
	// API's CORS configuration and never meets the authorizer.
	routes := d.of("AWS::ApiGatewayV2::Route")
	if len(routes) != 1 {
		t.Fatalf("routes = %v, want exactly one", routes)
	}
	r := d.resource(routes[0])
	if got := r["RouteKey"]; got != route {
		t.Errorf("RouteKey = %v, want %q", got, route)
	}
	if got := r["AuthorizationType"]; got != w.authorization {
		t.Errorf("AuthorizationType = %v, want %v", got, w.authorization)
	}
	authorizers := d.of("AWS::ApiGatewayV2::Authorizer")
	if w.authorization == "NONE" {
		if r["AuthorizerId"] != nil || len(authorizers) != 0 {
			t.Errorf("password mode: AuthorizerId = %v, authorizers %v; want none", r["AuthorizerId"], authorizers)
		}
	} else {
		if len(authorizers) != 1 || r["AuthorizerId"] != "<"+authorizers[0]+">" {
			t.Fatalf("jwt mode: AuthorizerId = %v, authorizers %v; want the route on the one JWT authorizer", r["AuthorizerId"], authorizers)
		}
		a := d.resource(authorizers[0])
		if a["AuthorizerType"] != "JWT" || !slices.Equal(strs(a["IdentitySource"]), []string{"$request.header.Authorization"}) {
			t.Errorf("authorizer = %v, want JWT from the Authorization header", a)
		}
		if got := fmt.Sprint(at(a, "JwtConfiguration", "Issuer")); got != w.issuer {
			t.Errorf("issuer = %q, want %q", got, w.issuer)
		}
		if got := strs(at(a, "JwtConfiguration", "Audience")); !slices.Equal(got, w.audience) {
			t.Errorf("audience = %v, want %v", got, w.audience)
		}
	}

	integration := d.resource("UserHashIntegration")
	if r["Target"] != "integrations/<UserHashIntegration>" {
		t.Errorf("route target = %v, want the function's integration", r["Target"])
	}
	for k, want := range map[string]string{"IntegrationType": "AWS_PROXY", "PayloadFormatVersion": "2.0", "IntegrationUri": "<UserHashFunction.Arn>"} {
		if got := fmt.Sprint(integration[k]); got != want {
			t.Errorf("integration %s = %q, want %q", k, got, want)
		}
	}
	perm := d.resource("UserHashInvokePermission")
	wantARN := "arn:aws:execute-api:eu-west-1:111122223333:<HttpApi>/*/POST/v1/intercom/user-hash"
	if perm["SourceArn"] != wantARN || perm["FunctionName"] != "<UserHashFunction>" || perm["Principal"] != "apigateway.amazonaws.com" {
		t.Errorf("invoke permission = %v, want API Gateway on %s only", perm, wantARN)
	}
}

func checkCognito(t *testing.T, d *deployment, w wantDeployment) {
	t.Helper()
	_, pool := d.resources["UserPool"]
	_, client := d.resources["UserPoolClient"]
	if pool != w.userPool || client != w.userPool {
		t.Fatalf("user pool created = %v, app client created = %v; want %v", pool, client, w.userPool)
	}
	if !w.userPool {
		return
	}
	c := d.resource("UserPoolClient")
	// jwt mode: apps sign in with the client, and an app cannot keep a
	// secret. password mode: only the function does, and Cognito takes
	// the caller's IP (UserContextData) only from a client with a secret
	// that propagates it.
	if got := fmt.Sprint(c["GenerateSecret"]); got != fmt.Sprint(w.passwordFlow) {
		t.Errorf("GenerateSecret = %v, want %v", got, w.passwordFlow)
	}
	if got := fmt.Sprint(c["EnablePropagateAdditionalUserContextData"]); got != fmt.Sprint(w.passwordFlow) {
		t.Errorf("EnablePropagateAdditionalUserContextData = %v, want %v", got, w.passwordFlow)
	}
	if w.passwordFlow {
		if got := fmt.Sprint(d.resource("UserPoolClientSecret")["SecretString"]); got != "<UserPoolClient.ClientSecret>" {
			t.Errorf("UserPoolClientSecret holds %s, want the app client's generated secret", got)
		}
	}
	if got := slices.Contains(strs(c["ExplicitAuthFlows"]), "ALLOW_USER_PASSWORD_AUTH"); got != w.passwordFlow {
		t.Errorf("app client allows USER_PASSWORD_AUTH = %v, want %v (password mode only)", got, w.passwordFlow)
	}
}

func checkAPI(t *testing.T, d *deployment, w wantDeployment) {
	t.Helper()
	api := d.resource("HttpApi")
	if api["ProtocolType"] != "HTTP" {
		t.Errorf("ProtocolType = %v, want HTTP", api["ProtocolType"])
	}
	cors := api["CorsConfiguration"]
	switch {
	case w.origins == nil && cors != nil:
		t.Errorf("CORS = %v, want none when AllowedOrigins is empty", cors)
	case w.origins != nil:
		if got := strs(at(cors, "AllowOrigins")); !slices.Equal(got, w.origins) {
			t.Errorf("CORS origins = %v, want %v", got, w.origins)
		}
		if got := strs(at(cors, "AllowMethods")); !slices.Contains(got, "POST") {
			t.Errorf("CORS methods = %v, want POST", got)
		}
		for _, h := range []string{"authorization", "content-type"} {
			if !slices.Contains(strs(at(cors, "AllowHeaders")), h) {
				t.Errorf("CORS headers = %v, want %s", at(cors, "AllowHeaders"), h)
			}
		}
	}
	stage := d.resource("HttpApiStage")
	if stage["StageName"] != "$default" || fmt.Sprint(stage["AutoDeploy"]) != "true" {
		t.Errorf("stage = %v %v, want $default with AutoDeploy", stage["StageName"], stage["AutoDeploy"])
	}
	rate := fmt.Sprint(at(stage, "DefaultRouteSettings", "ThrottlingRateLimit"))
	burst := fmt.Sprint(at(stage, "DefaultRouteSettings", "ThrottlingBurstLimit"))
	if rate != w.rate || burst != w.burst {
		t.Errorf("throttling = rate %s burst %s, want rate %s burst %s", rate, burst, w.rate, w.burst)
	}
}

func checkOutputs(t *testing.T, d *deployment, w wantDeployment) {
	t.Helper()
	want := map[string]string{
		"ApiUrl":      "https://<HttpApi>.execute-api.eu-west-1.amazonaws.com",
		"UserHashUrl": "https://<HttpApi>.execute-api.eu-west-1.amazonaws.com/v1/intercom/user-hash",
		"FunctionArn": "<UserHashFunction.Arn>",
		"AlarmNames":  "<FunctionErrorsAlarm>, <Api5xxAlarm>, <SecretFetchErrorsAlarm>",
		// Dashboard is on by default; dashboard_test.go turns it off.
		"DashboardName": "<OperationsDashboard>",
	}
	for i, name := range []string{"IosSecretId", "AndroidSecretId", "WebSecretId"} {
		if w.secretIDs[i] != "" {
			want[name] = w.secretIDs[i]
		}
	}
	if w.domain != "" {
		want["CustomDomainUrl"] = "https://<ApiDomainName>/v1/intercom/user-hash"
		want["CustomDomainTarget"] = "<ApiDomainName.RegionalDomainName>"
		want["CustomDomainHostedZoneId"] = "<ApiDomainName.RegionalHostedZoneId>"
	}
	if w.userPool {
		want["UserPoolId"] = "<UserPool>"
		want["UserPoolClientId"] = "<UserPoolClient>"
	}
	if w.authorization == "JWT" {
		want["JwtIssuerUrl"] = w.issuer
	}
	for name, v := range want {
		if got, ok := d.outputs[name]; !ok || fmt.Sprint(got) != v {
			t.Errorf("output %s = %v, want %q", name, got, v)
		}
	}
	for name := range d.outputs {
		if _, ok := want[name]; !ok {
			t.Errorf("unexpected output %s", name)
		}
	}
}

// TestTemplateInChina deploys into the aws-cn partition, where every AWS
// host name ends in amazonaws.com.cn: the stack's issuer and URLs must not
// name amazonaws.com.
func TestTemplateInChina(t *testing.T) {
	tpl := loadTemplate(t)
	cn := map[string]string{
		"AWS::Region": "cn-north-1", "AWS::AccountId": "111122223333", "AWS::Partition": "aws-cn",
		"AWS::StackName": "test-stack", "AWS::URLSuffix": "amazonaws.com.cn",
	}
	d, err := deployIn(t, tpl, nil, cn)
	if err != nil {
		t.Fatal(err)
	}
	issuer := fmt.Sprint(at(d.resource("JwtAuthorizer"), "JwtConfiguration", "Issuer"))
	if want := "https://cognito-idp.cn-north-1.amazonaws.com.cn/<UserPool>"; issuer != want {
		t.Errorf("issuer = %q, want %q", issuer, want)
	}
	for name, v := range d.outputs {
		if s := fmt.Sprint(v); strings.Contains(s, "amazonaws.com") && !strings.Contains(s, "amazonaws.com.cn") {
			t.Errorf("output %s = %q names the aws partition's host", name, s)
		}
	}
}

func TestTemplateRefusesBadParameters(t *testing.T) {
	tpl := loadTemplate(t)
	tests := []struct {
		name    string
		params  map[string]string
		wantErr string
	}{
		{"unknown mode", map[string]string{"AuthMode": "none"}, "AuthMode"},
		// IAM names the secret by its full ARN; a name or partial ARN would
		// leave the policy matching nothing.
		{"secret name instead of ARN", map[string]string{"IosSecretArn": "prod/intercom"}, "IosSecretArn"},
		{"partial ARN without the random suffix", map[string]string{"WebSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:prod/intercom"}, "WebSecretArn"},
		{"wildcard ARN", map[string]string{"AndroidSecretArn": "arn:aws:secretsmanager:eu-west-1:111122223333:secret:*"}, "AndroidSecretArn"},
		{"empty key after #", map[string]string{"IosSecretArn": sharedARN + "#"}, "IosSecretArn"},
		{"KMS alias instead of key", map[string]string{"KmsKeyArn": "arn:aws:kms:eu-west-1:111122223333:alias/intercom"}, "KmsKeyArn"},
		{"client secret without its client", map[string]string{"AuthMode": "password", "CognitoClientSecretArn": clientARN}, "ClientSecretNeedsClient"},
		{"issuer without audience", map[string]string{"JwtIssuer": "https://auth.example.com/"}, "IssuerNeedsAudience"},
		{"plain-http issuer", map[string]string{"JwtIssuer": "http://auth.example.com/", "JwtAudience": "a"}, "JwtIssuer"},
		{"log level", map[string]string{"LogLevel": "trace"}, "LogLevel"},
		{"cache TTL that is no duration", map[string]string{"SecretCacheTtl": "5 minutes"}, "SecretCacheTtl"},
		{"no platform", map[string]string{"Platforms": ""}, "Platforms"},
		{"unknown platform", map[string]string{"Platforms": "ios,windows"}, "Platforms"},
		{"a prefix of a platform", map[string]string{"Platforms": "io"}, "Platforms"},
		{"platform with a suffix", map[string]string{"Platforms": "ios2,web"}, "Platforms"},
		{"an alias the function takes, not the template", map[string]string{"Platforms": "iphone"}, "Platforms"},
		{"upper case", map[string]string{"Platforms": "iOS"}, "Platforms"},
		{"spaces", map[string]string{"Platforms": "ios, android"}, "Platforms"},
		{"trailing comma", map[string]string{"Platforms": "ios,"}, "Platforms"},
		{"empty element", map[string]string{"Platforms": "ios,,web"}, "Platforms"},
		{"domain without certificate", map[string]string{"DomainName": "id.example.com"}, "DomainNeedsCertificate"},
		{"certificate without domain", map[string]string{"CertificateArn": certARN}, "CertificateNeedsDomain"},
		{"domain that is a URL", map[string]string{"DomainName": "https://id.example.com", "CertificateArn": certARN}, "DomainName"},
		{"domain with a path", map[string]string{"DomainName": "id.example.com/v1", "CertificateArn": certARN}, "DomainName"},
		{"upper-case domain", map[string]string{"DomainName": "ID.example.com", "CertificateArn": certARN}, "DomainName"},
		{"any origin", map[string]string{"AllowedOrigins": "*"}, "AllowedOrigins"},
		{"any origin among others", map[string]string{"AllowedOrigins": "capacitor://localhost,*"}, "AllowedOrigins"},
		{"the null origin", map[string]string{"AllowedOrigins": "null"}, "AllowedOrigins"},
		{"the null origin among others", map[string]string{"AllowedOrigins": "https://app.example.com,null"}, "AllowedOrigins"},
		{"a wildcard subdomain", map[string]string{"AllowedOrigins": "https://*.example.com"}, "AllowedOrigins"},
		{"an origin with a path", map[string]string{"AllowedOrigins": "https://app.example.com/"}, "AllowedOrigins"},
		{"certificate that is not ACM's", map[string]string{"DomainName": "id.example.com", "CertificateArn": "arn:aws:iam::111122223333:server-certificate/id"}, "CertificateArn"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy(t, tpl, tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("deploy(%v) error = %v, want one about %s", tt.params, err, tt.wantErr)
			}
		})
	}
}

// TestCfnLint runs cfn-lint, with its SAM translator, on the template: no
// error, no warning, no informational finding.
func TestCfnLint(t *testing.T) { cfnLint(t, "../template.yaml") }

// cfnLint runs cfn-lint on the template at path, informational checks
// included, and fails t on any finding.
func cfnLint(t *testing.T, path string) {
	t.Helper()
	bin := testenv.NeedsTool(t, "cfn-lint")
	out, err := exec.Command(bin, "--include-checks", "I", "--", path).CombinedOutput()
	if err != nil {
		t.Errorf("cfn-lint %s: %v\n%s", path, err, out)
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(slices.Compact(a), slices.Compact(b))
}

// TestTemplateAlarms checks the three alarms watch what the function and the
// API publish, under the names the code writes, and notify the topic only
// when one is given.
func TestTemplateAlarms(t *testing.T) {
	tpl := loadTemplate(t)
	want := map[string][2]string{ // alarm: namespace, metric
		"FunctionErrorsAlarm":    {"AWS/Lambda", "Errors"},
		"Api5xxAlarm":            {"AWS/ApiGateway", "5xx"},
		"SecretFetchErrorsAlarm": {metrics.DefaultNamespace, metrics.MetricSecretFetchErrors},
	}
	for _, topic := range []string{"", "arn:aws:sns:eu-west-1:123456789012:on-call"} {
		d, err := deploy(t, tpl, map[string]string{"AlarmTopicArn": topic})
		if err != nil {
			t.Fatal(err)
		}
		if got := d.of("AWS::CloudWatch::Alarm"); len(got) != len(want) {
			t.Errorf("alarms = %v, want %d", got, len(want))
		}
		for name, w := range want {
			a := d.resource(name)
			if a["Namespace"] != w[0] || a["MetricName"] != w[1] {
				t.Errorf("%s watches %v/%v, want %s/%s", name, a["Namespace"], a["MetricName"], w[0], w[1])
			}
			if name == "Api5xxAlarm" {
				// What HTTP API metrics carry: ApiId, and Stage only with
				// it; the one stage makes ApiId alone exact.
				if dims := fmt.Sprint(at(a, "Dimensions")); dims != "[map[Name:ApiId Value:<HttpApi>]]" {
					t.Errorf("%s dimensions = %s, want ApiId of the stack's API alone", name, dims)
				}
			}
			if name == "SecretFetchErrorsAlarm" {
				// The EMF lines carry FunctionName as their dimension.
				if dims := at(a, "Dimensions"); fmt.Sprint(dims) == "" || !strings.Contains(fmt.Sprint(dims), "FunctionName") {
					t.Errorf("%s dimensions = %v, want FunctionName", name, dims)
				}
			}
			actions := strs(a["AlarmActions"])
			if (topic != "") != slices.Contains(actions, topic) || (topic == "" && len(actions) > 0) {
				t.Errorf("topic %q: %s AlarmActions = %v", topic, name, actions)
			}
		}
	}
}
