package generator

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/cyclecore/mlmforge/schemas"
)

// Mode says who writes the label.
type Mode string

// The generation modes.
const (
	// LabelFirst samples the target from the catalog and has the teacher write
	// only the input: labels are correct by construction.
	LabelFirst Mode = "label-first"
	// TeacherLabels is the seed paper's mode: the teacher writes input and target
	// from the cell description alone; the same validators apply.
	TeacherLabels Mode = "teacher-labels"
	// Extract asks the teacher to extract the target from Request.Text (the
	// optional round-trip check).
	Extract Mode = "extract"
)

// Cell is one quota cell of a run: examples are generated until every cell
// holds its count. Cells hold catalog ids only, so they cross activity
// boundaries as small JSON.
type Cell struct {
	// Key is unique within a run and becomes datasets.Record.Cell:
	// EdgeJSON "<schema id>", EdgeIntent "<class id>",
	// EdgeFuncCall "<function>/<scenario>" or "irrelevant".
	Key string `json:"key"`
	// Task is the cell's task.
	Task schemas.Task `json:"task"`
	// Variant names the task variant: "edgejson", a taxonomy id such as
	// "assistant-50", or "funccall-<N>" for N catalog functions.
	Variant string `json:"variant"`
	// SchemaID and Complexity are set for EdgeJSON cells.
	SchemaID   string             `json:"schema_id,omitempty"`
	Complexity schemas.Complexity `json:"complexity,omitempty"`
	// Taxonomy and Class are set for EdgeIntent cells.
	Taxonomy string `json:"taxonomy,omitempty"`
	Class    string `json:"class,omitempty"`
	// Function (empty for irrelevant) and Scenario are set for EdgeFuncCall cells.
	Function string           `json:"function,omitempty"`
	Scenario schemas.Scenario `json:"scenario,omitempty"`
	// Holdout is Spec.HoldoutTemplates on every cell of a held-out run (0:
	// none). The sampler and the builtin teacher read it here because a cell
	// is all they are given of the plan.
	Holdout float64 `json:"holdout,omitempty"`
	// HeldOut marks the cell that writes the test split of a held-out run: it
	// uses only reserved templates and values. Its twin, with the same Key,
	// writes every other split and never uses one (see NewPlan).
	HeldOut bool `json:"held_out,omitempty"`
}

// IntentTarget is the gold label of an EdgeIntent example.
type IntentTarget struct {
	// Intent is the class id.
	Intent string `json:"intent"`
	// Slots are the slot values the utterance mentions, by slot name.
	Slots map[string]string `json:"slots,omitempty"`
}

// Call is one function call.
type Call struct {
	// Name is the catalog function name.
	Name string `json:"name"`
	// Arguments are the call's arguments, valid against the function's parameters.
	Arguments map[string]any `json:"arguments"`
}

// Actions of the assistant in one function-calling turn.
const (
	// ActionCall: make the calls in GoldTurn.Calls.
	ActionCall = "call"
	// ActionAsk: make no call; ask the user for the Missing or Invalid parameters.
	ActionAsk = "ask"
	// ActionNone: make no call; the request is irrelevant to the catalog.
	ActionNone = "none"
)

// GoldTurn is what the assistant must do after one user turn.
type GoldTurn struct {
	// Action is one of ActionCall, ActionAsk, ActionNone.
	Action string `json:"action"`
	// Calls are the gold calls (ActionCall), in order.
	Calls []Call `json:"calls,omitempty"`
	// Missing names the required parameters the user left out (ActionAsk).
	Missing []string `json:"missing,omitempty"`
	// Invalid names the parameters whose stated value breaks the schema (ActionAsk).
	Invalid []string `json:"invalid,omitempty"`
}

// FuncCallTarget is the gold label of an EdgeFuncCall example. Single-turn
// scenarios (single_turn, missing_param, invalid_value, irrelevant) have one
// turn and a plain-text input; multi_turn has 2-3 turns and its input is a JSON
// array of the user's utterances, one per turn.
type FuncCallTarget struct {
	// Scenario is the cell's scenario kind.
	Scenario schemas.Scenario `json:"scenario"`
	// Turns holds one GoldTurn per user turn.
	Turns []GoldTurn `json:"turns"`
	// FinalState is the mock world after executing every gold call from an
	// empty world (see MockID), set for multi_turn.
	FinalState json.RawMessage `json:"final_state,omitempty"`
}

// MockID is the id the stateful mock returns for the n-th record (1-based)
// created in a collection, so that later turns of a dialogue can refer to it
// deterministically: MockID("calendar_events", 1) == "calendar_events_1".
func MockID(collection string, n int) string { return fmt.Sprintf("%s_%d", collection, n) }

// TurnPlan is what the user says in one turn of a sampled function-calling
// dialogue; the builtin teacher verbalizes it and the Ollama prompt describes it.
type TurnPlan struct {
	// Function is the function the user's request maps to (empty when irrelevant).
	Function string `json:"function,omitempty"`
	// Args are the argument values the user states, including an invalid one.
	// Arguments that the user refers to implicitly ("it", "that event") are in Refs.
	Args map[string]any `json:"args,omitempty"`
	// Refs maps a parameter to the earlier turn (0-based) whose created record it
	// refers to, e.g. {"event_id": 0}: the user says "it", the model must use the id.
	Refs map[string]int `json:"refs,omitempty"`
	// Omit lists required parameters the user leaves out (missing_param).
	Omit []string `json:"omit,omitempty"`
	// Invalid names the parameter whose stated value is invalid (invalid_value).
	Invalid string `json:"invalid,omitempty"`
	// Request is a fixed utterance (irrelevant requests come from the catalog).
	Request string `json:"request,omitempty"`
}

// Sample is a sampled gold target plus what a teacher needs to verbalize it.
type Sample struct {
	// Cell is the cell the sample belongs to.
	Cell Cell `json:"cell"`
	// Target is the gold target as JSON: the object (EdgeJSON), an IntentTarget,
	// or a FuncCallTarget.
	Target json.RawMessage `json:"target"`
	// Slots are the intent slot values to mention (EdgeIntent).
	Slots map[string]string `json:"slots,omitempty"`
	// Turns are the user turns to write (EdgeFuncCall).
	Turns []TurnPlan `json:"turns,omitempty"`
}

// Prompt is a rendered prompt template.
type Prompt struct {
	// TemplateID names the template file and version, e.g. "edgeintent-input@v1".
	TemplateID string `json:"template_id"`
	// Hash is the sha256 (hex) of the template text, recorded in provenance.
	Hash string `json:"hash"`
	// System and User are the chat messages.
	System string `json:"system"`
	User   string `json:"user"`
	// Format is the JSON schema the answer must match (Ollama structured outputs).
	Format json.RawMessage `json:"format,omitempty"`
}

// Request asks a teacher for one example.
type Request struct {
	// Mode is LabelFirst, TeacherLabels or Extract.
	Mode Mode
	// Sample is the sampled target (LabelFirst, Extract) or only its Cell (TeacherLabels).
	Sample Sample
	// Text is the text to extract from (Extract).
	Text string
	// Prompt is the rendered template for prompt-driven teachers.
	Prompt Prompt
	// Seed makes the teacher's choices reproducible.
	Seed int64
	// Temperature and MaxTokens are sampling options for model teachers.
	Temperature float64
	MaxTokens   int
	// Progress, if set, is called as output streams in (tokens so far), so a
	// long generation can heartbeat its activity.
	Progress func(tokens int)
}

// Response is a teacher's answer. Everything in it is untrusted until validated.
type Response struct {
	// Input is the natural-language input: plain text, or for multi_turn a JSON
	// array of user utterances.
	Input string
	// Target is the teacher's label (TeacherLabels, Extract).
	Target json.RawMessage
	// Raw is the unparsed model output, kept for rejection reports.
	Raw string
	// PromptTokens and OutputTokens count tokens where the teacher knows them.
	PromptTokens, OutputTokens int
	// Duration is the wall time of the call.
	Duration time.Duration
}

// TeacherInfo identifies a teacher for provenance.
type TeacherInfo struct {
	// Name is the teacher reference, e.g. "builtin" or "ollama:qwen2.5:7b".
	Name string `json:"name"`
	// Model, Digest and Quantization describe an Ollama model (from /api/show, /api/tags).
	Model        string `json:"model,omitempty"`
	Digest       string `json:"digest,omitempty"`
	Quantization string `json:"quantization,omitempty"`
	// Version is the builtin teacher's lexicon/phrasing version.
	Version string `json:"version,omitempty"`
}

// Teacher writes examples. Implementations: the builtin offline teacher and
// the Ollama teacher.
type Teacher interface {
	// Info describes the teacher (model digest ...) for provenance.
	Info(ctx context.Context) (TeacherInfo, error)
	// Write answers one request.
	Write(ctx context.Context, req Request) (Response, error)
}

// Provenance is recorded with every example (datasets.Record.Provenance).
type Provenance struct {
	Teacher     TeacherInfo `json:"teacher"`
	Mode        Mode        `json:"mode"`
	TemplateID  string      `json:"template_id,omitempty"`
	TemplateSHA string      `json:"template_sha256,omitempty"`
	Seed        int64       `json:"seed"`
	Temperature float64     `json:"temperature"`
	MaxTokens   int         `json:"max_tokens,omitempty"`
	SpecHash    string      `json:"spec_hash"`
}

// RejectReason names why a candidate example was not kept.
type RejectReason string

// The rejection reasons, counted per run and reported.
const (
	RejectTeacherError  RejectReason = "teacher_error"    // the teacher failed after retries
	RejectJSONParse     RejectReason = "json_parse"       // output or target is not JSON
	RejectSchema        RejectReason = "schema"           // target breaks the JSON Schema / parameter schema
	RejectGrounding     RejectReason = "grounding"        // a target value is not recoverable from the input
	RejectLength        RejectReason = "length"           // input too short or too long
	RejectMockExecution RejectReason = "mock_execution"   // a gold call fails against the stateful mock
	RejectLabel         RejectReason = "label"            // teacher-labels: label not in the catalog / wrong cell
	RejectExactDup      RejectReason = "exact_duplicate"  // same normalized input as a kept example
	RejectNearDup       RejectReason = "near_duplicate"   // Jaccard >= threshold with a kept example
	RejectRoundTrip     RejectReason = "round_trip"       // teacher's re-extraction disagrees with the target
	RejectLeak          RejectReason = "placeholder_leak" // template placeholders or prompt text leaked into the input
)

// RejectSoftLabels counts a record whose teacher answer gave no usable class
// distribution: no class code among the answer token's alternatives, too
// little probability on codes, or invalid log probabilities.
const RejectSoftLabels RejectReason = "soft_labels"
