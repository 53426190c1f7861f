// Package constrain is JSON-Schema constrained decoding for the students: a
// byte-level incremental JSON recognizer driven by a JSON Schema, and a Masker
// that turns it into a logits hook (distill/infer's LogitsProcessor) which sets
// -Inf on every token that cannot extend a valid prefix. Under the mask a greedy
// decoder's output always parses and validates against the schema, unless it
// runs out of tokens first.
//
// # Language accepted
//
// The recognizer accepts a subset of the JSON texts valid against the schema,
// chosen so that every prefix it accepts can still be completed:
//
//   - Compact JSON only: no whitespace outside strings. Students are trained on
//     compact targets (encoding/json output), so spaces would only waste steps
//     and let a model wander; forbidding them also keeps every state's set of
//     allowed bytes small.
//   - Numbers have no exponent, at most 15 integer digits and 8 fraction digits,
//     and no leading zeros; "integer" values have no fraction at all.
//   - enum and const values are accepted only in their compact encoding
//     (keys sorted as encoding/json writes them, no escapes that encoding/json
//     would not write).
//   - Object keys are the schema's property names, each at most once, in any
//     order; "}" is allowed only once every required key was written. When
//     additionalProperties is absent or true and the schema names properties,
//     only those are accepted (a valid subset); when it names none, or
//     additionalProperties is a schema, free keys are accepted (free keys are not
//     checked for duplicates).
//   - Strings are any valid UTF-8 without control characters, with JSON escapes;
//     minLength/maxLength count characters (an escape counts as one). A string
//     with a "pattern" is restricted to printable ASCII without escapes and the
//     pattern runs as a DFA over it (JSON Schema's unanchored search semantics).
//   - "format" is ignored: a date is just a string. Formats are annotations in
//     draft 2020-12 unless a validator asserts them, and approximating them with
//     patterns would forbid values a teacher may legitimately write.
//   - anyOf and oneOf are supported when their alternatives start with distinct
//     bytes (different types), which is what "nullable" style alternatives are;
//     oneOf is treated as anyOf, which is the same thing when the alternatives
//     cannot both match.
//
// Unsupported assertion keywords ($ref, allOf, not, if/then/else, prefixItems,
// uniqueItems, contains, propertyNames, patternProperties, dependent*,
// min/maxProperties, multipleOf) make Compile fail rather than be ignored.
package constrain
