package fxpubsub

// BatchMessage is the content of a [BatchMessageMediaType] message: a block of messages published
// as one, which a batch republisher handler republishes one by one (the original's
// MessageBatchSchema; its wire keys are snake_case and all required).
type BatchMessage struct {
	Messages []BatchedMessage `json:"messages" validate:"required,dive"`
}

// BatchedMessage is one message inside a [BatchMessage], kept exactly as it would be published.
type BatchedMessage struct {
	MediaType         string                    `json:"media_type" validate:"required"`
	Message           string                    `json:"message" validate:"required"` // the inner message JSON, as a string
	TopicARN          string                    `json:"topic_arn" validate:"required"`
	OpaqueData        Opaque                    `json:"opaque_data" validate:"required"`
	MessageAttributes map[string]AttributeValue `json:"message_attributes" validate:"required"`
}

// AttributeValue is an SNS message attribute in the AWS shape the batch format uses.
type AttributeValue struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue"`
}

// builtinSchemas are registered in every registry.
func builtinSchemas() []Schema {
	return []Schema{SchemaFor[BatchMessage](BatchMessageMediaType)}
}
