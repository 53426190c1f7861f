// Package constrain is JSON-Schema constrained decoding for the students: a
// byte-level incremental JSON recognizer driven by a JSON Schema, and a Masker
// that turns it into a logits hook (distill/infer's LogitsProcessor) which sets
// -Inf on every token that cannot extend a valid prefix. Under the mask a greedy
// decoder's output always parses and, but for the relaxations below,
// validates against the schema, unless it runs out of tokens first.
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
//   - Numbers have no leading zeros, at most 15 integer digits and 8 fraction
//     digits; "integer" values have no fraction and no exponent. Other numbers
//     may have an exponent (e/E, optional sign, up to 3 digits) as long as the
//     value stays finite. Under minimum/maximum, a mantissa whose digits
//     already pass the bounds may go on only into an exponent, and only where
//     encoding/json writes one (magnitudes under 1e-6 or from 1e21), so a
//     gold 5e-07 under maximum 1 is accepted. minimum next to
//     exclusiveMinimum (and the maximum pair) means the tighter of the two.
//   - enum and const values are accepted only in their compact encoding
//     (keys sorted as encoding/json writes them, no escapes that encoding/json
//     would not write).
//   - Object keys are the schema's property names, each at most once, in any
//     order; "}" is allowed only once every required key was written. When
//     additionalProperties is absent or true and the schema names properties,
//     only those are accepted (a valid subset); when it names none, or
//     additionalProperties is a schema, free keys are accepted (free keys are not
//     checked for duplicates). A required name that properties does not
//     declare must appear, with a value of the additionalProperties schema.
//   - Strings are any valid UTF-8 without control characters, with JSON escapes;
//     minLength/maxLength count characters (an escape counts as one). A string
//     with a "pattern" is restricted to printable ASCII without escapes and the
//     pattern runs as a DFA over it (JSON Schema's unanchored search semantics).
//   - "format" is ignored: a date is just a string. Formats are annotations in
//     draft 2020-12 unless a validator asserts them, and approximating them with
//     patterns would forbid values a teacher may legitimately write.
//   - $ref to the same document ("#", "#/$defs/x", draft-07 "#/definitions/x",
//     any JSON pointer) is followed; a target is compiled once and shared, so
//     recursive schemas work. $ref next to other keywords and allOf are merged
//     into one schema (types intersect, required unite, bounds tighten, enums
//     intersect, property schemas combine); parts that cannot be merged (two
//     different patterns) make Compile fail.
//   - Arrays: prefixItems (and draft-07's items array with additionalItems)
//     give the first items their own schemas; items false ends the array after them.
//   - anyOf and oneOf (read as anyOf) pick the alternative by a value's first
//     byte. Alternatives that can start with the same byte (two object shapes,
//     two strings) are merged into one accepting either: properties united,
//     required only when every alternative requires it, bounds widened.
//
// # Relaxations
//
// Two constructs are accepted as a superset rather than refused: merged
// alternatives (above; {"email", "phone"} passes where oneOf allows one of
// them) and uniqueItems (duplicates are not tracked). Under these the mask
// still guarantees JSON of the right shape, and the scorer's schema
// compliance judges the rest.
//
// Unsupported assertion keywords (not, if/then/else, contains, propertyNames,
// patternProperties, dependent*, min/maxProperties, multipleOf,
// unevaluated*), remote references and anchors make Compile fail rather than
// be ignored; the student runner then decodes that example without a mask
// and counts it in the report.
package constrain
