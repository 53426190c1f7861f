package eval

import "encoding/json"

// Prediction is a model's answer to one example. Raw is always kept, so a
// failure can be inspected; the scorer fills Parsed and ParseError.
type Prediction struct {
	// ID is the datasets.Record ID the prediction answers.
	ID string `json:"id"`
	// Raw is the model's output text, unmodified. For an EdgeFuncCall dialogue
	// answered in one generation it holds the whole dialogue's answer.
	Raw string `json:"raw"`
	// TurnOutputs, when set, are the raw outputs of an interactive
	// multi-turn run, one per user turn; Raw is then informational.
	TurnOutputs []string `json:"turn_outputs,omitempty"`
	// Ranked lists EdgeIntent classes best first (e.g. from a classifier head).
	Ranked []string `json:"ranked,omitempty"`
	// Scores maps EdgeIntent classes to a score or log-probability (higher is
	// better); used for top-k when Ranked is empty.
	Scores map[string]float64 `json:"scores,omitempty"`
	// Truncated is set by the runner when generation stopped at its token limit.
	Truncated bool `json:"truncated,omitempty"`
	// MaskFallback, in a constrained run, says why this example was decoded
	// without the JSON-Schema mask (a schema the mask cannot compile); the
	// report counts such examples.
	MaskFallback string `json:"mask_fallback,omitempty"`
	// Cost holds the example's timing and token counts.
	Cost Cost `json:"cost"`
	// Parsed is the parsed form the metrics used, as JSON: the object
	// (EdgeJSON), {"intent": ..., "ranked": [...]} (EdgeIntent) or the list
	// of parsed turns (EdgeFuncCall). Empty when parsing failed.
	Parsed json.RawMessage `json:"parsed,omitempty"`
	// ParseError says why Raw could not be parsed; the example then scores
	// as a failure on every metric.
	ParseError string `json:"parse_error,omitempty"`
}

// Cost is what one inference cost. Runners fill it; zero values mean unknown.
type Cost struct {
	// LatencyMS is the wall time of the example's inference(s) in milliseconds.
	LatencyMS float64 `json:"latency_ms"`
	// PromptTokens is the number of input tokens.
	PromptTokens int `json:"prompt_tokens"`
	// OutputTokens is the number of generated tokens.
	OutputTokens int `json:"output_tokens"`
}

// ExampleResult is one scored example.
type ExampleResult struct {
	// Prediction is the prediction with Parsed and ParseError filled.
	Prediction
	// Task is the record's task.
	Task string `json:"task"`
	// Missing is set when no prediction was given for the record.
	Missing bool `json:"missing,omitempty"`
	// Correct is the example's headline verdict: JSON exact match,
	// top-1 hit, or every function-calling turn right.
	Correct bool `json:"correct"`
	// Metrics are the example's per-metric values (names as in the task metrics).
	Metrics map[string]float64 `json:"metrics,omitempty"`
	// AST is the BFCL AST checker's verdict on an EdgeFuncCall example: for
	// an imported BFCL case the example's verdict, else its first rejected
	// call turn (or its last call turn when every one passed); nil when the
	// example has no call turn and is no BFCL case.
	AST *ASTResult `json:"ast,omitempty"`
}

// marshalParsed encodes a parsed form; values come from JSON, so it never fails
// in practice, and a failure only loses the informational Parsed field.
func marshalParsed(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return b
}
