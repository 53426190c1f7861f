package eval

import (
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/cyclecore/mlmforge/datasets"
	"github.com/cyclecore/mlmforge/generator"
	"github.com/cyclecore/mlmforge/schemas"
)

// Rate is a count of successes among eligible cases.
type Rate struct {
	// Correct counts the successes among Total eligible cases.
	Correct int `json:"correct"`
	Total   int `json:"total"`
	// Rate is Correct/Total, 0 when Total is 0.
	Rate float64 `json:"rate"`
}

func (r *Rate) add(ok bool) {
	r.Total++
	if ok {
		r.Correct++
	}
	r.Rate = ratio(float64(r.Correct), r.Total)
}

// ErrorRecovery scores the turns where the right answer is not a plain call.
type ErrorRecovery struct {
	// AskMissing: gold asks for missing required parameters; the turn must
	// make no call and name every missing parameter.
	AskMissing Rate `json:"ask_missing"`
	// AskInvalid: the user stated an invalid value; the turn must make no call
	// and name the invalid parameter (instead of passing or "fixing" the value).
	AskInvalid Rate `json:"ask_invalid"`
	// Abstain: gold ask turns where the model at least made no call.
	Abstain Rate `json:"abstain"`
	// NoCallIrrelevant: irrelevant requests; the turn must make no call.
	NoCallIrrelevant Rate `json:"no_call_irrelevant"`
	// RecoverAfterAsk: call turns that follow a gold ask turn (the user gave
	// the missing or corrected value); the calls must be exactly right.
	RecoverAfterAsk Rate `json:"recover_after_ask"`
	// Overall counts every turn of AskMissing, AskInvalid, NoCallIrrelevant
	// and RecoverAfterAsk once.
	Overall Rate `json:"overall"`
}

// ScenarioScores are the example accuracy of one scenario.
type ScenarioScores struct {
	// N is the number of examples; Accuracy the share with every turn right
	// (for multi_turn: MultiTurnSuccess).
	N        int     `json:"n"`
	Accuracy float64 `json:"accuracy"`
}

// FuncCallMetrics are the EdgeFuncCall metrics. Call metrics are means over
// gold call turns; see docs/metrics.md for each definition.
type FuncCallMetrics struct {
	// N is the number of examples; ParseFailures those whose output did not parse.
	N             int `json:"n"`
	ParseFailures int `json:"parse_failures"`
	// CallTurns is the number of gold turns whose action is a call.
	CallTurns int `json:"call_turns"`
	// FunctionExact: the turn calls exactly the gold functions (as a multiset).
	FunctionExact float64 `json:"function_exact"`
	// CallExact: the turn's calls equal the gold calls (canonical arguments).
	CallExact float64 `json:"call_exact"`
	// ParamPrecision, ParamRecall, ParamF1 compare (function, parameter, value) leaves.
	ParamPrecision float64 `json:"param_precision"`
	ParamRecall    float64 `json:"param_recall"`
	ParamF1        float64 `json:"param_f1"`
	// AST is the share of call turns accepted by the BFCL AST checker.
	AST float64 `json:"ast"`
	// TurnAccuracy is the share of all gold turns answered right.
	TurnAccuracy float64 `json:"turn_accuracy"`
	// ExampleAccuracy is the share of examples with every turn right.
	ExampleAccuracy float64 `json:"example_accuracy"`
	// ErrorRecovery scores ask, no-call and recovery turns.
	ErrorRecovery ErrorRecovery `json:"error_recovery"`
	// MultiTurnSuccess: multi_turn examples whose predicted calls, executed
	// against the mock, give the gold per-turn results and final state.
	MultiTurnSuccess Rate `json:"multi_turn_success"`
	// MultiTurnState: multi_turn examples whose final mock state matches.
	MultiTurnState Rate `json:"multi_turn_state"`
	// ByScenario breaks ExampleAccuracy down by scenario.
	ByScenario map[string]ScenarioScores `json:"by_scenario"`
	// BFCL holds BFCL's own figures when the records are imported BFCL cases.
	BFCL *BFCLMetrics `json:"bfcl,omitempty"`
}

// funcScorer scores EdgeFuncCall examples.
type funcScorer struct {
	bfcl                       *bfclRecord // the record being scored, when it is an imported BFCL case
	cat                        *schemas.Catalog
	docs                       map[string]BFCLFunction
	n, parseFail, callTurns    int
	fexact, cexact, pp, pr, pf float64
	ast                        float64
	turns, examples            Rate
	rec                        ErrorRecovery
	multi, state               Rate
	byScenario                 map[string]*Rate
	bfclAcc                    bfclAcc
}

func newFuncScorer(cat *schemas.Catalog) (*funcScorer, error) {
	s := &funcScorer{cat: cat, docs: map[string]BFCLFunction{}, byScenario: map[string]*Rate{}}
	for _, f := range cat.Functions {
		d, err := BFCLFromCatalog(f)
		if err != nil {
			return nil, err
		}
		s.docs[f.Name] = d
	}
	return s, nil
}

// decodeTarget decodes a FuncCallTarget with json.Number numbers, so that
// the AST checker sees the gold's int/float distinction.
func decodeTarget(text string) (generator.FuncCallTarget, error) {
	var t generator.FuncCallTarget
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	if err := dec.Decode(&t); err != nil {
		return t, err
	}
	if len(t.Turns) == 0 {
		return t, fmt.Errorf("no turns")
	}
	return t, nil
}

func (s *funcScorer) score(rec *datasets.Record, res *ExampleResult) error {
	gold, err := decodeTarget(rec.Target)
	if err != nil {
		return fmt.Errorf("record %q: field target: %w", rec.ID, err)
	}
	if s.bfcl, err = bfclCase(rec); err != nil {
		return err
	}
	var turns []Turn
	if res.ParseError == "" {
		if turns, err = parseFuncCall(&res.Prediction); err != nil {
			res.ParseError = parseErrorText(res, err)
			turns = nil
		} else {
			res.Parsed = marshalParsed(turns)
		}
	}
	failed := res.ParseError != ""
	s.n++
	if failed {
		s.parseFail++
	}
	var verdict *ASTResult
	if s.bfcl != nil {
		v := s.bfcl.verdict(turns, res.ParseError)
		verdict, res.AST = &v, &v
		s.bfclAcc.add(s.bfcl.category, v.Valid)
	}
	allRight := !failed && len(turns) == len(gold.Turns)
	metrics := map[string]float64{}
	for i, gt := range gold.Turns {
		var pt *Turn
		if i < len(turns) {
			pt = &turns[i]
		}
		right := turnRight(pt, gt)
		if verdict != nil {
			right = verdict.Valid // BFCL's verdict, over every acceptable value
		}
		allRight = allRight && right
		s.turns.add(right)
		if gt.Action == generator.ActionCall {
			s.scoreCallTurn(pt, gt, metrics, res)
		}
		s.scoreRecovery(pt, gt, i > 0 && gold.Turns[i-1].Action == generator.ActionAsk, right)
	}
	correct := allRight
	if verdict != nil {
		correct = verdict.Valid
	}
	if gold.Scenario == schemas.MultiTurn {
		success, state, err := s.execute(turns, gold)
		if err != nil {
			return fmt.Errorf("record %q: field target: %w", rec.ID, err)
		}
		correct = success && !failed
		s.multi.add(correct)
		s.state.add(state && !failed)
		metrics["multi_turn_state"] = b2f(state && !failed)
	}
	s.examples.add(correct)
	sc := string(gold.Scenario)
	if s.byScenario[sc] == nil {
		s.byScenario[sc] = &Rate{}
	}
	s.byScenario[sc].add(correct)
	res.Correct = correct
	metrics["correct"] = b2f(correct)
	res.Metrics = metrics
	return nil
}

// scoreCallTurn adds one gold call turn's call metrics and keeps its AST
// verdict in res.
func (s *funcScorer) scoreCallTurn(pt *Turn, gt generator.GoldTurn, metrics map[string]float64, res *ExampleResult) {
	s.callTurns++
	var pred []generator.Call
	if pt != nil {
		pred = pt.Calls
	}
	fe := pt != nil && sameNames(pred, gt.Calls)
	ce := pt != nil && callsMatch(pred, gt.Calls)
	m := prf{}
	if pt != nil {
		var leaves int
		if m, leaves = callFieldPRF(pred, gt.Calls); leaves == 0 {
			m = prf{b2f(fe), b2f(fe), b2f(fe)}
		}
	}
	var ast bool
	switch {
	case s.bfcl != nil:
		// An imported BFCL case: the verdict saw every acceptable value and
		// the function docs it was asked with, not just the target's first value.
		ast = res.AST.Valid
	case pt == nil && res.ParseError != "":
		keepAST(res, astFail("ast_decoder:decoder_failed", "output does not decode as function calls: %s", res.ParseError))
	case pt == nil:
		keepAST(res, astFail("ast_decoder:missing_turn", "no predicted turn for this gold call turn"))
	default:
		r := s.checkAST(pred, gt.Calls)
		ast = r.Valid
		keepAST(res, r)
	}
	s.fexact += b2f(fe)
	s.cexact += b2f(ce)
	s.pp, s.pr, s.pf = s.pp+m.p, s.pr+m.r, s.pf+m.f
	s.ast += b2f(ast)
	// An example's per-metric values are its last call turn's; dataset-level
	// means run over all call turns.
	metrics["function_exact"], metrics["call_exact"], metrics["param_f1"], metrics["ast"] = b2f(fe), b2f(ce), m.f, b2f(ast)
}

// scoreRecovery adds one turn to the error-recovery rates it is eligible for.
func (s *funcScorer) scoreRecovery(pt *Turn, gt generator.GoldTurn, afterAsk, right bool) {
	noCall := pt != nil && len(pt.Calls) == 0
	eligible := false
	switch gt.Action {
	case generator.ActionAsk:
		if len(gt.Missing) > 0 {
			s.rec.AskMissing.add(right)
		}
		if len(gt.Invalid) > 0 {
			s.rec.AskInvalid.add(right)
		}
		s.rec.Abstain.add(noCall)
		eligible = true
	case generator.ActionNone:
		s.rec.NoCallIrrelevant.add(right)
		eligible = true
	case generator.ActionCall:
		if afterAsk {
			s.rec.RecoverAfterAsk.add(right)
			eligible = true
		}
	}
	if eligible {
		s.rec.Overall.add(right)
	}
}

// turnRight decides one turn: a call turn needs exactly the gold calls; an
// ask turn no call and every missing/invalid parameter named; a none turn no
// call. A missing turn (nil) is wrong.
func turnRight(pt *Turn, gt generator.GoldTurn) bool {
	if pt == nil {
		return false
	}
	switch gt.Action {
	case generator.ActionCall:
		return callsMatch(pt.Calls, gt.Calls)
	case generator.ActionAsk:
		if len(pt.Calls) > 0 {
			return false
		}
		for _, p := range slices.Concat(gt.Missing, gt.Invalid) {
			if !names(pt, p) {
				return false
			}
		}
		return true
	}
	return len(pt.Calls) == 0
}

// names reports whether a turn asks about param: it lists it in missing or
// invalid, or its message mentions it, as written or with spaces for
// underscores ("due_date" or "due date"), case-insensitively.
func names(t *Turn, param string) bool {
	for _, n := range slices.Concat(t.Missing, t.Invalid) {
		if strings.EqualFold(strings.TrimSpace(n), param) {
			return true
		}
	}
	msg := strings.ToLower(t.Message)
	p := strings.ToLower(param)
	return strings.Contains(msg, p) || strings.Contains(msg, strings.ReplaceAll(p, "_", " "))
}

// sameNames compares the called functions as multisets.
func sameNames(pred, gold []generator.Call) bool {
	if len(pred) != len(gold) {
		return false
	}
	a, b := make([]string, len(pred)), make([]string, len(gold))
	for i := range pred {
		a[i], b[i] = pred[i].Name, gold[i].Name
	}
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// callsMatch compares calls as multisets of name + canonical arguments.
func callsMatch(pred, gold []generator.Call) bool {
	if len(pred) != len(gold) {
		return false
	}
	key := func(c generator.Call) string { return c.Name + "\x00" + canonical(argsValue(c.Arguments), false) }
	a, b := make([]string, len(pred)), make([]string, len(gold))
	for i := range pred {
		a[i], b[i] = key(pred[i]), key(gold[i])
	}
	sort.Strings(a)
	sort.Strings(b)
	return slices.Equal(a, b)
}

// argsValue makes nil arguments an empty object, so {} and a missing
// "arguments" compare equal.
func argsValue(args map[string]any) any {
	if args == nil {
		return map[string]any{}
	}
	return args
}
