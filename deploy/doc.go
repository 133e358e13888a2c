// Package deploy holds the tests of the AWS deployment: template.yaml and
// samconfig.toml say what docs/deploy.md promises (the runtime, the
// function's configuration, IAM no wider than the secrets the function
// reads, the authorizer of each mode, CORS, throttling, outputs), cfn-lint
// accepts the template, and the target SAM builds with yields the static
// linux/arm64 bootstrap Lambda runs. It has no code of its own:
//
//	go test ./deploy
//
// How that bootstrap behaves inside the Lambda runtime is tested beside the
// command, in functions/userhash/rie_test.go; here, only what a Platforms
// deployment makes of it (platforms_rie_test.go): the environment the
// template gives the function, run in the Lambda emulator.
package deploy
