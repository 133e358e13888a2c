package awsenv

// What the tests check of the embedded roots, and the Lambda build's Load,
// which the tests of a plain build hold to the same meaning of every
// variable.
var (
	AWSRootsPEM     = awsRootsPEM
	AWSRoots        = awsRoots
	FromEnvironment = fromEnvironment
)
