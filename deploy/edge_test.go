// The edge (EdgeWebAclArn): off by default; on, a CloudFront distribution
// with the given WAF web ACL in front of the API, a generated secret that
// CloudFront adds as X-Origin-Verify and the function reads (its ARN in
// EDGE_ORIGIN_SECRET_ID, GetSecretValue on it), and the URL apps call.

package deploy_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

const webACLARN = "arn:aws:wafv2:us-east-1:111122223333:global/webacl/userhash-edge/473e64fd-f30b-4765-81a0-62ad96dd167a"

// getSecretValueOn returns the resources of the function's GetSecretValue
// statement.
func getSecretValueOn(d *deployment) []string {
	policies, _ := d.resource("UserHashFunction")["Policies"].([]any)
	var out []string
	for _, p := range policies {
		statements, _ := at(p, "Statement").([]any)
		for _, s := range statements {
			if slices.Contains(strs(at(s, "Action")), "secretsmanager:GetSecretValue") {
				out = append(out, strs(at(s, "Resource"))...)
			}
		}
	}
	return out
}

func TestTemplateEdgeOffByDefault(t *testing.T) {
	tpl := loadTemplate(t)
	for _, mode := range []string{"jwt", "password"} {
		t.Run(mode, func(t *testing.T) {
			d, err := deploy(t, tpl, map[string]string{"AuthMode": mode})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.of("AWS::CloudFront::Distribution"); len(got) != 0 {
				t.Errorf("distributions %v without EdgeWebAclArn", got)
			}
			if _, ok := d.resources["EdgeOriginSecret"]; ok {
				t.Error("the origin-verify secret is created without EdgeWebAclArn")
			}
			env := at(d.resource("UserHashFunction"), "Environment", "Variables").(map[string]any)
			if v, ok := env["EDGE_ORIGIN_SECRET_ID"]; ok {
				t.Errorf("EDGE_ORIGIN_SECRET_ID = %v without an edge, want no such variable", v)
			}
			for _, r := range getSecretValueOn(d) {
				if strings.Contains(r, "EdgeOriginSecret") {
					t.Errorf("GetSecretValue on %s without an edge", r)
				}
			}
			if v, ok := d.outputs["EdgeUrl"]; ok {
				t.Errorf("output EdgeUrl = %v without an edge", v)
			}
			if got, want := fmt.Sprint(d.outputs["UserHashUrl"]), "https://<HttpApi>.execute-api.eu-west-1.amazonaws.com/v1/intercom/user-hash"; got != want {
				t.Errorf("UserHashUrl = %s, want %s", got, want)
			}
		})
	}
}

func TestTemplateEdge(t *testing.T) {
	tpl := loadTemplate(t)
	for _, mode := range []string{"password", "jwt"} {
		t.Run(mode, func(t *testing.T) {
			d, err := deploy(t, tpl, map[string]string{"AuthMode": mode, "EdgeWebAclArn": webACLARN})
			if err != nil {
				t.Fatalf("the parameters are refused: %v", err)
			}
			secret := d.resource("EdgeOriginSecret")
			gen, _ := secret["GenerateSecretString"].(map[string]any)
			if gen["ExcludePunctuation"] != true || gen["PasswordLength"] != 32 || gen["SecretStringTemplate"] != nil {
				t.Errorf("EdgeOriginSecret generates %v, want a plain 32-character string without punctuation (a header value)", gen)
			}

			if got := d.of("AWS::CloudFront::Distribution"); !slices.Equal(got, []string{"EdgeDistribution"}) {
				t.Fatalf("distributions %v, want EdgeDistribution", got)
			}
			dc := at(d.resource("EdgeDistribution"), "DistributionConfig")
			if at(dc, "Enabled") != true || at(dc, "WebACLId") != webACLARN {
				t.Errorf("Enabled = %v, WebACLId = %v; want true, %s", at(dc, "Enabled"), at(dc, "WebACLId"), webACLARN)
			}
			origins, _ := at(dc, "Origins").([]any)
			if len(origins) != 1 {
				t.Fatalf("origins %v, want the API alone", origins)
			}
			o := origins[0]
			if got, want := fmt.Sprint(at(o, "DomainName")), "<HttpApi>.execute-api.eu-west-1.amazonaws.com"; got != want {
				t.Errorf("origin DomainName = %s, want the API's execute-api host %s", got, want)
			}
			if got := at(o, "CustomOriginConfig", "OriginProtocolPolicy"); got != "https-only" {
				t.Errorf("OriginProtocolPolicy = %v, want https-only: the secret header must not cross the network in clear", got)
			}
			headers, _ := at(o, "OriginCustomHeaders").([]any)
			if len(headers) != 1 || at(headers[0], "HeaderName") != "X-Origin-Verify" ||
				at(headers[0], "HeaderValue") != "{{resolve:secretsmanager:<EdgeOriginSecret>:SecretString}}" {
				t.Errorf("OriginCustomHeaders = %v, want X-Origin-Verify resolved from EdgeOriginSecret, the secret the function reads", headers)
			}
			b := at(dc, "DefaultCacheBehavior")
			if at(b, "TargetOriginId") != at(o, "Id") {
				t.Errorf("the behavior targets %v, not the API's origin %v", at(b, "TargetOriginId"), at(o, "Id"))
			}
			if got := at(b, "ViewerProtocolPolicy"); got != "https-only" {
				t.Errorf("ViewerProtocolPolicy = %v, want https-only (a password or token never over http)", got)
			}
			methods := strs(at(b, "AllowedMethods"))
			for _, m := range []string{"POST", "OPTIONS"} {
				if !slices.Contains(methods, m) {
					t.Errorf("AllowedMethods %v lacks %s", methods, m)
				}
			}
			// The managed policies' documented IDs: no caching, every viewer
			// header but Host (and CloudFront-Viewer-Address) forwarded.
			if got := at(b, "CachePolicyId"); got != "4135ea2d-6df8-44a3-9df3-4b5a84be39ad" {
				t.Errorf("CachePolicyId = %v, want CachingDisabled's", got)
			}
			if got := at(b, "OriginRequestPolicyId"); got != "b689b0a8-53d0-40ab-baf2-68738e2966ac" {
				t.Errorf("OriginRequestPolicyId = %v, want AllViewerExceptHostHeader's", got)
			}

			env := at(d.resource("UserHashFunction"), "Environment", "Variables").(map[string]any)
			if got := fmt.Sprint(env["EDGE_ORIGIN_SECRET_ID"]); got != "<EdgeOriginSecret>" {
				t.Errorf("EDGE_ORIGIN_SECRET_ID = %s, want the ARN of EdgeOriginSecret", got)
			}
			if iam := getSecretValueOn(d); !slices.Contains(iam, "<EdgeOriginSecret>") {
				t.Errorf("GetSecretValue on %v, want EdgeOriginSecret among them", iam)
			}
			edgeURL := "https://<EdgeDistribution.DomainName>/v1/intercom/user-hash"
			for _, name := range []string{"EdgeUrl", "UserHashUrl"} {
				if got := fmt.Sprint(d.outputs[name]); got != edgeURL {
					t.Errorf("output %s = %s, want %s", name, got, edgeURL)
				}
			}
		})
	}
}

func TestTemplateEdgeRefuses(t *testing.T) {
	tpl := loadTemplate(t)
	for _, tt := range []struct {
		name    string
		params  map[string]string
		wantErr string
	}{
		{"a regional web ACL", map[string]string{"EdgeWebAclArn": strings.Replace(webACLARN, "global/", "regional/", 1)}, "EdgeWebAclArn"},
		{"a web ACL outside us-east-1", map[string]string{"EdgeWebAclArn": strings.Replace(webACLARN, "us-east-1", "eu-west-1", 1)}, "EdgeWebAclArn"},
		{"a web ACL's name alone", map[string]string{"EdgeWebAclArn": "userhash-edge"}, "EdgeWebAclArn"},
		{"a classic WAF web ACL id", map[string]string{"EdgeWebAclArn": "473e64fd-f30b-4765-81a0-62ad96dd167a"}, "EdgeWebAclArn"},
		{"an ARN without the id", map[string]string{"EdgeWebAclArn": "arn:aws:wafv2:us-east-1:111122223333:global/webacl/userhash-edge"}, "EdgeWebAclArn"},
		{"a wildcard", map[string]string{"EdgeWebAclArn": "arn:aws:wafv2:us-east-1:111122223333:global/webacl/*"}, "EdgeWebAclArn"},
		{"with a custom domain, which goes around it", map[string]string{"EdgeWebAclArn": webACLARN, "DomainName": "id.example.com", "CertificateArn": certARN}, "EdgeExcludesCustomDomain"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deploy(t, tpl, tt.params)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("deploy(%v) error = %v, want one about %s", tt.params, err, tt.wantErr)
			}
		})
	}
}

// TestCfnLintEdgeWAF runs cfn-lint on the companion web ACL template, as
// TestCfnLint does on the stack's.
func TestCfnLintEdgeWAF(t *testing.T) { cfnLint(t, "edge-waf.yaml") }

// TestEdgeWAFTemplate evaluates deploy/edge-waf.yaml: a CLOUDFRONT-scope
// web ACL that allows by default and blocks one IP address past the given
// number of requests to the API's path in 5 minutes, with metrics, and
// its ARN as the output EdgeWebAclArn takes.
func TestEdgeWAFTemplate(t *testing.T) {
	tpl := loadTemplateFile(t, "edge-waf.yaml")
	for _, tt := range []struct {
		name  string
		given map[string]string
		limit string
	}{
		{"default", nil, "100"},
		{"AWS WAF's minimum", map[string]string{"RequestsPer5Minutes": "10"}, "10"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deployIn(t, tpl, tt.given, map[string]string{"AWS::Region": "us-east-1", "AWS::StackName": "userhash-edge-waf"})
			if err != nil {
				t.Fatal(err)
			}
			if got := d.of("AWS::WAFv2::WebACL"); !slices.Equal(got, []string{"WebAcl"}) {
				t.Fatalf("web ACLs %v, want WebAcl", got)
			}
			acl := d.resource("WebAcl")
			if acl["Scope"] != "CLOUDFRONT" || at(acl, "DefaultAction", "Allow") == nil {
				t.Errorf("Scope %v, DefaultAction %v; want CLOUDFRONT, Allow", acl["Scope"], acl["DefaultAction"])
			}
			if at(acl, "VisibilityConfig", "CloudWatchMetricsEnabled") != true {
				t.Error("the web ACL has no CloudWatch metrics")
			}
			rules, _ := acl["Rules"].([]any)
			if len(rules) != 1 {
				t.Fatalf("rules %v, want the one rate-based rule", rules)
			}
			r := rules[0]
			if at(r, "Action", "Block") == nil || at(r, "VisibilityConfig", "CloudWatchMetricsEnabled") != true {
				t.Errorf("rule action %v, visibility %v; want Block, with metrics", at(r, "Action"), at(r, "VisibilityConfig"))
			}
			rate := at(r, "Statement", "RateBasedStatement")
			if got := fmt.Sprint(at(rate, "Limit")); got != tt.limit {
				t.Errorf("Limit = %s, want %s", got, tt.limit)
			}
			if at(rate, "AggregateKeyType") != "IP" || at(rate, "ForwardedIPConfig") != nil {
				t.Errorf("AggregateKeyType %v, ForwardedIPConfig %v; want the connection's IP, never a header the caller writes",
					at(rate, "AggregateKeyType"), at(rate, "ForwardedIPConfig"))
			}
			if got := fmt.Sprint(at(rate, "EvaluationWindowSec")); got != "300" {
				t.Errorf("EvaluationWindowSec = %s, want 300, the window RequestsPer5Minutes names", got)
			}
			match := at(rate, "ScopeDownStatement", "ByteMatchStatement")
			if at(match, "SearchString") != "/v1/intercom/user-hash" || at(match, "PositionalConstraint") != "EXACTLY" || at(match, "FieldToMatch", "UriPath") == nil {
				t.Errorf("scope-down %v, want the URI path exactly /v1/intercom/user-hash", match)
			}
			if got := fmt.Sprint(d.outputs["WebAclArn"]); got != "<WebAcl.Arn>" {
				t.Errorf("output WebAclArn = %s, want the web ACL's ARN", got)
			}
		})
	}
	if _, err := deploy(t, tpl, map[string]string{"RequestsPer5Minutes": "9"}); err == nil {
		t.Error("RequestsPer5Minutes=9 is taken; AWS WAF's minimum is 10")
	}
}
