package sdkbody

import (
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// The request that reaches the transport has a body that reads the same bytes but no longer
// implements io.WriterTo; a body without WriterTo is left as it is.
func TestHideWriterTo(t *testing.T) {
	for name, c := range map[string]struct {
		body     io.ReadSeeker
		replaced bool
	}{
		"bytes.Reader (WriterTo)": {bytes.NewReader([]byte("payload")), true},
		"Read and Seek only":      {readSeekerOnly{bytes.NewReader([]byte("payload"))}, false},
	} {
		t.Run(name, func(t *testing.T) {
			stack := middleware.NewStack("test", smithyhttp.NewStackRequest)
			if err := stack.Serialize.Add(middleware.SerializeMiddlewareFunc("setBody",
				func(ctx context.Context, in middleware.SerializeInput, next middleware.SerializeHandler) (middleware.SerializeOutput, middleware.Metadata, error) {
					req := in.Request.(*smithyhttp.Request)
					r, err := req.SetStream(c.body)
					if err != nil {
						return middleware.SerializeOutput{}, middleware.Metadata{}, err
					}
					in.Request = r
					return next.HandleSerialize(ctx, in)
				}), middleware.After); err != nil {
				t.Fatal(err)
			}
			if err := HideWriterTo(stack); err != nil {
				t.Fatal(err)
			}
			var sent io.Reader
			transport := middleware.HandlerFunc(func(_ context.Context, in any) (any, middleware.Metadata, error) {
				sent = in.(*smithyhttp.Request).GetStream()
				return nil, middleware.Metadata{}, nil
			})
			if _, _, err := middleware.DecorateHandler(transport, stack).Handle(context.Background(), struct{}{}); err != nil {
				t.Fatal(err)
			}
			if _, wt := sent.(io.WriterTo); wt {
				t.Errorf("the body sent implements io.WriterTo: %T", sent)
			}
			if replaced := sent != io.Reader(c.body); replaced != c.replaced {
				t.Errorf("body replaced: %v, want %v (%T)", replaced, c.replaced, sent)
			}
			got, err := io.ReadAll(sent)
			if err != nil || string(got) != "payload" {
				t.Errorf("the body sent reads %q, %v; want %q", got, err, "payload")
			}
		})
	}
}
