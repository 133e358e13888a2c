// Reading a deployed stack: its status and the outputs that say where the
// API is and which secrets the function reads (template.yaml's Outputs).

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudformation"
	"github.com/aws/smithy-go"

	"github.com/intercom-identity/userhash/shared/platform"
)

// The template's outputs the doctor reads.
const urlOutput = "UserHashUrl"

var secretOutputs = map[platform.Platform]string{
	platform.IOS:     "IosSecretId",
	platform.Android: "AndroidSecretId",
	platform.Web:     "WebSecretId",
}

// stack is what the doctor learned of a deployed stack.
type stack struct {
	url       string
	secretIDs map[platform.Platform]string // only the platforms the stack configures
}

// overlay returns env with the stack's secret IDs in place of the local
// ones: a platform the stack has no secret output for (one left out of its
// Platforms) is not configured, whatever the local environment says.
func (s *stack) overlay(env func(string) (string, bool)) func(string) (string, bool) {
	return func(name string) (string, bool) {
		for _, p := range platform.All() {
			switch name {
			case p.EnvPrefix() + "_SECRET":
				return "", false
			case p.EnvPrefix() + "_SECRET_ID":
				id, ok := s.secretIDs[p]
				return id, ok
			}
		}
		return env(name)
	}
}

// readStack describes the stack named by -stack and adds the stack check;
// nil when it cannot be used.
func (d *doctor) readStack(ctx context.Context) *stack {
	awsCfg, err := d.aws(ctx)
	if err != nil {
		d.rep.fail("stack", d.opts.stack+": not read: no AWS configuration (see aws)", "")
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, d.opts.timeout)
	defer cancel()
	out, err := cloudformation.NewFromConfig(awsCfg).DescribeStacks(ctx, &cloudformation.DescribeStacksInput{StackName: aws.String(d.opts.stack)})
	if err != nil {
		detail, fix := stackFailure(err, d.opts.stack, awsCfg.Region)
		d.rep.fail("stack", detail, fix)
		return nil
	}
	if len(out.Stacks) == 0 {
		d.rep.fail("stack", fmt.Sprintf("%s: not found in %s", d.opts.stack, awsCfg.Region), stackNotFoundFix)
		return nil
	}
	st := out.Stacks[0]
	status := string(st.StackStatus)
	s := &stack{secretIDs: map[platform.Platform]string{}}
	for _, o := range st.Outputs {
		key, val := aws.ToString(o.OutputKey), aws.ToString(o.OutputValue)
		if key == urlOutput {
			s.url = val
		}
		for p, name := range secretOutputs {
			if key == name && val != "" {
				s.secretIDs[p] = val
			}
		}
	}
	name := fmt.Sprintf("%s (%s, %s)", d.opts.stack, status, awsCfg.Region)
	switch {
	case strings.HasSuffix(status, "_IN_PROGRESS"):
		d.rep.fail("stack", name+": still changing", "Wait until the deployment has finished (sam deploy prints it), then run the doctor again.")
		return nil
	case !strings.HasSuffix(status, "_COMPLETE") || status == "ROLLBACK_COMPLETE" || status == "DELETE_COMPLETE":
		d.rep.fail("stack", name+": not in service", "Look at the stack's events (aws cloudformation describe-stack-events) for the failed resource, fix it and deploy again.")
		return nil
	case s.url == "":
		d.rep.fail("stack", name+": has no "+urlOutput+" output; is it this service's stack?", "Name the stack that `sam deploy` created for this service (samconfig.toml's stack_name).")
		return nil
	}
	var ps []string
	for _, p := range platform.All() {
		if _, ok := s.secretIDs[p]; ok {
			ps = append(ps, p.String())
		}
	}
	d.rep.pass("stack", fmt.Sprintf("%s: endpoint %s, secrets for %s", name, s.url, orNone(ps)))
	return s
}

const stackNotFoundFix = "Check the stack's name and region (-region, AWS_REGION or the profile's): `aws cloudformation list-stacks` lists them."

// stackFailure turns a failed DescribeStacks into a detail and a fix.
func stackFailure(err error, name, region string) (detail, fix string) {
	var api smithy.APIError
	switch {
	case errors.As(err, &api) && api.ErrorCode() == "ValidationError" && strings.Contains(api.ErrorMessage(), "does not exist"):
		return fmt.Sprintf("%s: not found in %s", name, region), stackNotFoundFix
	case errors.As(err, &api):
		return fmt.Sprintf("%s: DescribeStacks failed: %s", name, api.ErrorCode()),
			"Use AWS credentials that may call cloudformation:DescribeStacks in that account and region."
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("%s: CloudFormation did not answer within the time bound", name),
			"Try again, or give more time with -timeout."
	}
	return fmt.Sprintf("%s: DescribeStacks failed: %v", name, err), "Check the network path to CloudFormation and your AWS configuration."
}
