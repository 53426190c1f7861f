package model

// Batch is one tokenized training or evaluation batch of B sequences of T positions,
// row-major ([b*T + t]). Sequences shorter than T are padded; padding never counts.
type Batch struct {
	// B is the number of sequences, T the (padded) sequence length.
	B, T int
	// Tokens are the input ids [B*T].
	Tokens []int32
	// Targets are the decoder's next-token targets [B*T]: Targets[b*T+t] is the token
	// the model should predict after reading Tokens[b*T .. b*T+t]; -1 means no loss at
	// that position (prompt tokens, padding). Nil for encoders.
	Targets []int32
	// Valid marks real tokens [B*T] with 1 and padding with 0 (encoders: the attention
	// key mask and the pooling mask). Nil means every position is valid.
	Valid []float32
	// Labels are the encoder's gold classes [B]. Nil for decoders.
	Labels []int32
	// Soft is an optional teacher distribution over classes [B*C] for knowledge
	// distillation; each row sums to 1.
	Soft []float32
	// Weights optionally scales each sequence's loss [B] (multi-task mixing); nil = 1.
	Weights []float32
	// CopyOffsets and CopySources say, for decoder positions whose target token
	// also occurs in the prompt, where in the prompt it occurs: the sources of flat
	// position p (b*T+t) are CopySources[CopyOffsets[p]:CopyOffsets[p+1]], key
	// positions of the same sequence. CopyOffsets has B*T+1 entries; nil means no
	// copy supervision. A student trained with copy supervision (nn.Options) learns
	// to point one attention head at the span it copies.
	CopyOffsets []int32
	CopySources []int32
}

// Param is one trainable tensor as the trainer sees it: Data aliases the weight the
// model computes with (the optimizer updates it in place) and Grad accumulates
// gradients across ForwardBackward calls until the trainer zeroes it.
type Param struct {
	// Name is the Hugging Face tensor name (see Config).
	Name string
	// Shape is the tensor shape.
	Shape []int
	// Data holds the values, shared with the model.
	Data []float32
	// Grad holds the accumulated gradient of the loss with respect to Data.
	Grad []float32
}
