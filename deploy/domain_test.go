// The custom domain: DomainName and CertificateArn (both or neither) map a
// regional API Gateway domain to the API's $default stage, and the outputs
// give the URL to compile into apps and the target of the DNS record.

package deploy_test

import (
	"fmt"
	"testing"
)

func TestTemplateCustomDomain(t *testing.T) {
	tpl := loadTemplate(t)
	for _, tt := range []struct {
		name   string
		params map[string]string
		domain string
	}{
		{"off by default", nil, ""},
		{"on", map[string]string{"DomainName": "id.example.com", "CertificateArn": certARN}, "id.example.com"},
		{"on, in password mode", map[string]string{"DomainName": "hash.api.example.co.uk", "CertificateArn": certARN, "AuthMode": "password"}, "hash.api.example.co.uk"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := deploy(t, tpl, tt.params)
			if err != nil {
				t.Fatalf("the parameters are refused: %v", err)
			}
			domains, mappings := d.of("AWS::ApiGatewayV2::DomainName"), d.of("AWS::ApiGatewayV2::ApiMapping")
			if tt.domain == "" {
				if len(domains)+len(mappings) != 0 {
					t.Errorf("domain names %v, API mappings %v; want none without DomainName", domains, mappings)
				}
				for _, o := range []string{"CustomDomainUrl", "CustomDomainTarget", "CustomDomainHostedZoneId"} {
					if v, ok := d.outputs[o]; ok {
						t.Errorf("output %s = %v without a custom domain", o, v)
					}
				}
				return
			}
			if len(domains) != 1 || len(mappings) != 1 {
				t.Fatalf("domain names %v, API mappings %v; want one of each", domains, mappings)
			}
			dn := d.resource(domains[0])
			if dn["DomainName"] != tt.domain {
				t.Errorf("DomainName = %v, want %s", dn["DomainName"], tt.domain)
			}
			cfgs, _ := dn["DomainNameConfigurations"].([]any)
			if len(cfgs) != 1 {
				t.Fatalf("DomainNameConfigurations = %v, want one", cfgs)
			}
			for k, want := range map[string]string{"CertificateArn": certARN, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"} {
				if got := fmt.Sprint(at(cfgs[0], k)); got != want {
					t.Errorf("domain %s = %q, want %q", k, got, want)
				}
			}
			m := d.resource(mappings[0])
			want := map[string]string{"DomainName": "<" + domains[0] + ">", "ApiId": "<HttpApi>", "Stage": "<HttpApiStage>"}
			for k, w := range want {
				if got := fmt.Sprint(m[k]); got != w {
					t.Errorf("API mapping %s = %q, want %q", k, got, w)
				}
			}
			// No mapping key: the route keeps its path, so an app moves from
			// the execute-api URL to the domain by its host alone.
			if m["ApiMappingKey"] != nil {
				t.Errorf("ApiMappingKey = %v, want none", m["ApiMappingKey"])
			}
			// The domain stays on the stack's own API: the invoke permission
			// covers calls through it too, since they carry the same API id.
			w := wantDeploymentWithDefaults(wantDeployment{
				secretIDs: [3]string{"<IosSecret>", "<AndroidSecret>", "<WebSecret>"},
				domain:    tt.domain,
			})
			if tt.params["AuthMode"] == "password" {
				w.authorization, w.issuer, w.audience = "NONE", "", nil
			}
			checkOutputs(t, d, w)
		})
	}
}
