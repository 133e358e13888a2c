// Command minimal is the cold-start baseline: an aws-lambda-go function
// that answers every event with a constant, built the same way as the
// user-hash function, so that the difference between their cold starts is
// what our code costs.
package main

import (
	"context"
	"encoding/json"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"
)

func main() {
	lambda.Start(func(context.Context, json.RawMessage) (events.APIGatewayV2HTTPResponse, error) {
		return events.APIGatewayV2HTTPResponse{StatusCode: 200, Body: `{"ok":true}`}, nil
	})
}
