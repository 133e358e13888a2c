// The roots the AWS clients trust: in the Lambda build exactly the five
// that Amazon Trust Services publishes for AWS endpoints, replaced by
// AWS_CA_BUNDLE, which is how a stand-in on HTTPS is trusted; in the local
// build the system's, which AWS_CA_BUNDLE replaces as well (the SDK's own
// reading). Run the Lambda build's with -tags lambda.norpc; the cases
// named for FromEnvironment run in both.

package awsenv_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/intercom-identity/userhash/internal/awsfake"
	"github.com/intercom-identity/userhash/shared/awsenv"
	"github.com/intercom-identity/userhash/shared/secrets"
)

// The roots as https://www.amazontrust.com/repository/ lists them: the
// SHA-256 of each one's SubjectPublicKeyInfo, with the certificate's own
// SHA-256 as the Mozilla store has it.
var publishedRoots = []struct{ subject, spki, cert string }{
	{"CN=Amazon Root CA 1,O=Amazon,C=US",
		"fbe3018031f9586bcbf41727e417b7d1c45c2f47f93be372a17b96b50757d5a2",
		"8ecde6884f3d87b1125ba31ac3fcb13d7016de7f57cc904fe1cb97c6ae98196e"},
	{"CN=Amazon Root CA 2,O=Amazon,C=US",
		"7f4296fc5b6a4e3b35d3c369623e364ab1af381d8fa7121533c9d6c633ea2461",
		"1ba5b2aa8c65401a82960118f80bec4f62304d83cec4713a19c39c011ea46db4"},
	{"CN=Amazon Root CA 3,O=Amazon,C=US",
		"36abc32656acfc645c61b71613c4bf21c787f5cabbee48348d58597803d7abc9",
		"18ce6cfe7bf14e60b2e347b8dfe868cb31d02ebb3ada271569f50343b46db3a4"},
	{"CN=Amazon Root CA 4,O=Amazon,C=US",
		"f7ecded5c66047d28ed6466b543c40e0743abe81d109254dcf845d4c2c7853c5",
		"e35d28419ed02025cfa69038cd623962458da5c695fbdea3c22b0bfb25897092"},
	{"CN=Starfield Services Root Certificate Authority - G2,O=Starfield Technologies\\, Inc.,L=Scottsdale,ST=Arizona,C=US",
		"2b071c59a0a0ae76b0eadb2bad23bad4580b69c3601b630c2eaf0613afa83f92",
		"568d6905a2c88708a4b3025190edcfedb1974a606a13c6e5290fcb2ae63edab5"},
}

func TestEmbeddedRootsAreExactlyAWSs(t *testing.T) {
	var certs []*x509.Certificate
	for rest := awsenv.AWSRootsPEM; ; {
		var block *pem.Block
		if block, rest = pem.Decode(rest); block == nil {
			break
		}
		c, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			t.Fatalf("embedded certificate %d: %v", len(certs)+1, err)
		}
		certs = append(certs, c)
	}
	if len(certs) != len(publishedRoots) {
		t.Fatalf("%d embedded certificates, want the %d published roots", len(certs), len(publishedRoots))
	}
	want := x509.NewCertPool()
	for i, c := range certs {
		w := publishedRoots[i]
		spki, fp := sha256.Sum256(c.RawSubjectPublicKeyInfo), sha256.Sum256(c.Raw)
		if got := c.Subject.String(); got != w.subject || hex.EncodeToString(spki[:]) != w.spki || hex.EncodeToString(fp[:]) != w.cert {
			t.Errorf("embedded certificate %d is %s (key %x, certificate %x), want %s (key %s, certificate %s)",
				i+1, got, spki, fp, w.subject, w.spki, w.cert)
		}
		if !c.IsCA || c.CheckSignatureFrom(c) != nil {
			t.Errorf("embedded certificate %d (%s) is not a self-signed CA", i+1, c.Subject)
		}
		want.AddCert(c)
	}
	if !awsenv.AWSRoots().Equal(want) {
		t.Error("the pool the clients trust is not exactly the embedded roots")
	}
}

// tlsStandIn is a Secrets Manager stand-in on HTTPS with a certificate of
// its own CA, which no trust store holds, and a file of that CA as
// AWS_CA_BUNDLE takes it.
func tlsStandIn(t *testing.T) (url, bundle string) {
	t.Helper()
	srv := httptest.NewTLSServer(awsfake.Handler(func(target string, _ []byte) (any, *awsfake.Error) {
		return map[string]any{"Name": "s", "SecretString": "v", "VersionId": "1"}, nil
	}))
	t.Cleanup(srv.Close)
	bundle = filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(bundle, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o600); err != nil {
		t.Fatal(err)
	}
	return srv.URL, bundle
}

func TestAWSCABundleIsHowAStandInOnHTTPSIsTrusted(t *testing.T) {
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) {
			url, bundle := tlsStandIn(t)
			env := map[string]string{
				"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": roleKeyID, "AWS_SECRET_ACCESS_KEY": roleSecret,
				"AWS_ENDPOINT_URL_SECRETS_MANAGER": url,
			}
			get := func(t *testing.T) error {
				t.Helper()
				cfg, err := b.load(t, env)
				if err != nil {
					t.Fatal(err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				_, err = secrets.NewClient(cfg.SecretsManager()).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String("s")})
				return err
			}
			var unknown x509.UnknownAuthorityError
			if err := get(t); !errors.As(err, &unknown) {
				t.Errorf("without AWS_CA_BUNDLE: err = %v, want the stand-in's certificate refused as of an unknown authority", err)
			}
			env["AWS_CA_BUNDLE"] = bundle
			if err := get(t); err != nil {
				t.Errorf("with AWS_CA_BUNDLE naming the stand-in's CA: %v", err)
			}
		})
	}
}

func TestUnusableAWSCABundleIsAStartError(t *testing.T) {
	dir := t.TempDir()
	empty, notPEM := filepath.Join(dir, "empty.pem"), filepath.Join(dir, "key.txt")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(notPEM, []byte("not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, path := range map[string]string{
		"missing file":       filepath.Join(dir, "missing.pem"),
		"empty file":         empty,
		"no PEM certificate": notPEM,
		"a directory":        dir,
	} {
		t.Run(name, func(t *testing.T) {
			a, err := awsenv.ReadEnv(func(k string) (string, bool) {
				v, ok := map[string]string{"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": roleKeyID, "AWS_SECRET_ACCESS_KEY": roleSecret, "AWS_CA_BUNDLE": path}[k]
				return v, ok
			})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := awsenv.FromEnvironment(a); err == nil || !strings.HasPrefix(err.Error(), "AWS_CA_BUNDLE: ") || strings.Contains(err.Error(), roleSecret) {
				t.Errorf("FromEnvironment: err = %v, want one line naming AWS_CA_BUNDLE", err)
			}
		})
	}
}
