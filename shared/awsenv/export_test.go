package awsenv

// What the tests check of the embedded roots.
var (
	AWSRootsPEM = awsRootsPEM
	AWSRoots    = awsRoots
)
