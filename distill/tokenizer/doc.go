// Package tokenizer is a byte-level BPE tokenizer in the GPT-2 / SmolLM2 style: it trains
// a vocabulary from a corpus, encodes and decodes text, recognises special tokens, formats
// ChatML prompts for the students, and reads and writes Hugging Face tokenizer.json files,
// so a SmolLM2 tokenizer downloaded by a user loads as is and a trained one loads in
// Python's tokenizers.
//
// The pipeline of an Encode call is the one of Hugging Face's tokenizers with a BPE model
// and a ByteLevel pre-tokenizer:
//
//  1. optional digit splitting (SmolLM2's Digits{individual_digits: true});
//  2. GPT-2 pre-tokenization, the regex
//     's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     implemented by a hand-written scanner (Go's regexp has no lookahead);
//  3. BPE merges applied to the bytes of each pre-token, lowest merge rank first and the
//     leftmost pair among equal ranks, with a per-word cache.
//
// Tokens are held as raw bytes internally; the GPT-2 bytes_to_unicode mapping (byte 0x20
// shows as "Ġ", 0x0A as "Ċ") is applied only at the tokenizer.json boundary.
//
// Decode(Encode(s)) == s holds for every string, including invalid UTF-8, for every
// tokenizer whose vocabulary holds all 256 single bytes (trained and GPT-2 style ones do).
package tokenizer
