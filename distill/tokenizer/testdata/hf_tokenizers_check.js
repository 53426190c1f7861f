// Loads tokenizer.json files with Hugging Face's tokenizers (the Rust library
// through its Node binding) and compares its ids and decodings with ours.
// Usage: node hf_tokenizers_check.js NODE_MODULES CASES_JSON; prints a JSON report.
const path = require('path');
const fs = require('fs');
const { Tokenizer } = require(path.join(process.argv[2], 'tokenizers'));

(async () => {
  const cases = JSON.parse(fs.readFileSync(process.argv[3]));
  const report = {};
  for (const [name, c] of Object.entries(cases.tokenizers)) {
    const tok = Tokenizer.fromFile(c.file);
    const r = { lines: cases.lines.length, encode_mismatches: 0, decode_mismatches: 0, vocab_size: tok.getVocabSize(true), examples: [] };
    const encs = await tok.encodeBatch(cases.lines, { addSpecialTokens: false });
    const decs = await tok.decodeBatch(c.plain, false);
    cases.lines.forEach((line, i) => {
      const got = Array.from(encs[i].getIds());
      if (JSON.stringify(got) !== JSON.stringify(c.special[i])) {
        r.encode_mismatches++;
        if (r.examples.length < 3) r.examples.push({ line, hf: got, ours: c.special[i] });
      }
      if (decs[i] !== line) {
        r.decode_mismatches++;
        if (r.examples.length < 3) r.examples.push({ line, hf_decode: decs[i] });
      }
    });
    report[name] = r;
  }
  process.stdout.write(JSON.stringify(report));
})().catch((e) => { console.error(e); process.exit(1); });
