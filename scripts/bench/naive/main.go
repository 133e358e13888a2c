// Command naive is the cold-start benchmark's "what a user would write
// instead": an aws-lambda-go function that loads the SDK's default
// configuration, builds a Secrets Manager client, fetches its one secret
// lazily on the first request (GetSecretValue, then kept in memory) and
// answers with the HMAC-SHA256 of the user id. It trusts the system roots,
// as such a function does in Lambda. It is built the same way as the
// user-hash function, so its cold start sits beside ours in one table.
package main

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

func main() {
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		panic(err)
	}
	sm := secretsmanager.NewFromConfig(cfg)
	var (
		mu     sync.Mutex
		secret []byte
	)
	lambda.Start(func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		mu.Lock()
		if secret == nil {
			out, err := sm.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(os.Getenv("IOS_SECRET_ID"))})
			if err != nil {
				mu.Unlock()
				return events.APIGatewayV2HTTPResponse{StatusCode: 500}, err
			}
			secret = []byte(aws.ToString(out.SecretString))
		}
		key := secret
		mu.Unlock()
		var user string
		if a := req.RequestContext.Authorizer; a != nil && a.JWT != nil {
			user = a.JWT.Claims["sub"]
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(user))
		body, _ := json.Marshal(map[string]string{"user_hash": hex.EncodeToString(mac.Sum(nil))})
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: string(body)}, nil
	})
}
