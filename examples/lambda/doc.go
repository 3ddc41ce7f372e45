// Command lambda is the README's example daemon as an AWS Lambda function: the same schema,
// handler and collaborator, started with fxlambda.Main instead of fxpubsub.Main. Build it as the
// function's bootstrap (GOOS=linux go build -tags lambda.norpc -o bootstrap ./examples/lambda) and
// configure it with EXAMPLE__SECTION__KEY environment variables.
//
// So that a test invocation shows every outcome, the demo collaborator fails for the message
// text "fail", panics for "panic" and asks for a retry in 30 s for "retry".
package main
