package sdkbody

import (
	"context"
	"io"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// HideWriterTo adds, at the end of the finalize step (once per attempt, after the retryer has
// rewound the body), a middleware that hides io.WriterTo of the request body.
//
// Why: smithy-go's ClientHandler closes the request body as soon as http.Client.Do returns, that
// is when the response headers arrived, while net/http's writeLoop may still be finishing the
// request: after sending ContentLength bytes it makes one more read of the body (io.Copy to
// io.Discard, to catch an over-long body). For a body that implements io.WriterTo (the SDK's
// in-memory request bodies do), that read is WriteTo, and smithy's closed body answers WriteTo
// with io.EOF as an *error* (only Read may use io.EOF to mean "the end"). net/http then takes the
// request write as failed and closes the connection under the response being read: the attempt
// fails with "StatusCode: 200 … deserialization failed … use of closed network connection"
// although the server applied it. The SDK retries; for a ReceiveMessage, the messages of the lost
// response stay invisible until their visibility timeout (seen as 30 s stalls against fauxqs,
// which answers in about a millisecond). With WriterTo hidden, the extra read is a Read, which
// returns io.EOF, the end of the body, and nothing fails.
func HideWriterTo(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("fxpubsubHideBodyWriterTo",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if req, ok := in.Request.(*smithyhttp.Request); ok {
				if s, ok := req.GetStream().(io.ReadSeeker); ok {
					if _, wt := s.(io.WriterTo); wt {
						if r, err := req.SetStream(readSeekerOnly{s}); err == nil {
							in.Request = r
						}
					}
				}
			}
			return next.HandleFinalize(ctx, in)
		}), middleware.After)
}

// readSeekerOnly exposes Read and Seek only (no WriteTo).
type readSeekerOnly struct{ io.ReadSeeker }
