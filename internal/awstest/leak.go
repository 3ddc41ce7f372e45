package awstest

import "go.uber.org/goleak"

// GoleakOptions are the goleak options for test binaries that talk to the emulators over HTTP.
// The SDK's HTTP transport keeps idle keep-alive connections (one reader and one writer goroutine
// each) that can't be closed from outside its BuildableClient; those are not leaks of the code
// under test, so they are ignored. Everything else must be gone when the tests end.
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(m, awstest.GoleakOptions()...) }
func GoleakOptions() []goleak.Option {
	return []goleak.Option{
		goleak.IgnoreTopFunction("net/http.(*persistConn).readLoop"),
		goleak.IgnoreTopFunction("net/http.(*persistConn).writeLoop"),
		goleak.IgnoreTopFunction("internal/poll.runtime_pollWait"),
	}
}
