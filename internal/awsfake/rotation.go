// Secrets Manager's side of a rotation, played against moto_server, so that
// tests can drive a rotation function step by step as Secrets Manager would.
//
// In AWS, RotateSecret gives the secret a new version labelled AWSPENDING
// with no value (its id the ClientRequestToken), turns rotation on, and
// invokes the rotation Lambda with each step. moto 5 makes the same
// version, but then invokes the Lambda through its own Lambda emulation
// (Docker). Given a function ARN that moto does not know, RotateSecret has
// made the version and turned rotation on by the time it fails on the
// invoke; StartRotation relies on exactly that, and checks the outcome.

package awsfake

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
)

// RotationFunctionARN is the function moto is told to rotate with; moto
// knows no such function.
const RotationFunctionARN = "arn:aws:lambda:us-east-1:123456789012:function:rotation-driven-by-the-test"

// StartRotation starts a rotation of secretID in moto, as RotateSecret
// does in AWS, and returns the new version's id: the ClientRequestToken of
// the rotation events. The caller then invokes the steps.
//
//	token, err := awsfake.StartRotation(ctx, sm, arn)
//	for _, step := range rotation.Steps() {
//		handler(ctx, events.SecretsManagerSecretRotationEvent{Step: step, SecretID: arn, ClientRequestToken: token})
//	}
func StartRotation(ctx context.Context, sm *secretsmanager.Client, secretID string) (string, error) {
	return startRotation(ctx, sm, secretID, true)
}

// StartRotationCheck is what RotateSecret does with RotateImmediately
// false, as a RotationSchedule with RotateImmediatelyOnUpdate false calls
// it: an AWSPENDING version holding a copy of AWSCURRENT's value, on which
// Secrets Manager runs the testSecret step alone to test the
// configuration. The caller invokes testSecret, then EndRotationCheck.
func StartRotationCheck(ctx context.Context, sm *secretsmanager.Client, secretID string) (string, error) {
	return startRotation(ctx, sm, secretID, false)
}

// EndRotationCheck takes AWSPENDING off the version StartRotationCheck
// made, as Secrets Manager removes it after the test.
func EndRotationCheck(ctx context.Context, sm *secretsmanager.Client, secretID, token string) error {
	_, err := sm.UpdateSecretVersionStage(ctx, &secretsmanager.UpdateSecretVersionStageInput{
		SecretId: aws.String(secretID), VersionStage: aws.String("AWSPENDING"), RemoveFromVersionId: aws.String(token),
	})
	return err
}

func startRotation(ctx context.Context, sm *secretsmanager.Client, secretID string, immediately bool) (string, error) {
	token := newUUID()
	_, err := sm.RotateSecret(ctx, &secretsmanager.RotateSecretInput{
		SecretId:           aws.String(secretID),
		ClientRequestToken: aws.String(token),
		RotationLambdaARN:  aws.String(RotationFunctionARN),
		RotationRules:      &types.RotationRulesType{AutomaticallyAfterDays: aws.Int64(30)},
		RotateImmediately:  aws.Bool(immediately),
	})
	var nf *types.ResourceNotFoundException
	if err == nil || !errors.As(err, &nf) || !strings.Contains(err.Error(), RotationFunctionARN) {
		return "", fmt.Errorf("moto's RotateSecret = %v; want it to fail on invoking %s, after making the AWSPENDING version", err, RotationFunctionARN)
	}
	d, err := sm.DescribeSecret(ctx, &secretsmanager.DescribeSecretInput{SecretId: aws.String(secretID)})
	if err != nil {
		return "", err
	}
	if !slices.Contains(d.VersionIdsToStages[token], "AWSPENDING") || !aws.ToBool(d.RotationEnabled) {
		return "", fmt.Errorf("after RotateSecret, version %s has labels %v and rotation enabled is %v; want AWSPENDING and true",
			token, d.VersionIdsToStages[token], aws.ToBool(d.RotationEnabled))
	}
	return token, nil
}

// newUUID returns a random version 4 UUID, as the SDKs make tokens.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
