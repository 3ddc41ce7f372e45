// Package sdkbody works around a race between the AWS SDK and net/http over request bodies that
// fails calls the server applied (see [HideWriterTo]). The library's SDK configuration
// (fxpubsub.LoadAWSConfig, which users reach as fxpubsub.HideBodyWriterTo) and the tests' emulator
// clients (internal/awstest) both add it.
package sdkbody
