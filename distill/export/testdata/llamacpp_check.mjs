// Loads GGUF files written by the export tests with llama.cpp (through the prebuilt
// binaries of the node-llama-cpp npm package) and compares its tokenization and
// next-token probabilities with the Go reference. Usage:
//   node llamacpp_check.mjs <node-llama-cpp install dir> <data dir> <name>...
// reads <data dir>/<name>.gguf and <name>.json, prints one JSON result per name.
import fs from "node:fs";
import path from "node:path";
import {pathToFileURL} from "node:url";

const [installDir, dataDir, ...names] = process.argv.slice(2);
const {getLlama} = await import(pathToFileURL(path.join(installDir, "node_modules", "node-llama-cpp", "dist", "index.js")).href);
const llama = await getLlama({gpu: false, build: "never", logLevel: "error"});
for (const name of names) {
  const ref = JSON.parse(fs.readFileSync(path.join(dataDir, name + ".json"), "utf8"));
  const model = await llama.loadModel({modelPath: path.join(dataDir, name + ".gguf")});
  const tokenizeMismatches = [];
  ref.texts.forEach((text, i) => {
    const got = Array.from(model.tokenize(text, true));
    if (JSON.stringify(got) !== JSON.stringify(ref.enc[i] ?? [])) tokenizeMismatches.push({text, got, want: ref.enc[i]});
  });
  const ctx = await model.createContext({contextSize: 64, threads: 1});
  const seq = ctx.getSequence();
  const opts = {probabilities: true, options: {temperature: 1, topK: 0, topP: 1, minP: 0}};
  const res = await seq.controlledEvaluate(ref.ids.map(id => [id, {generateNext: opts}]));
  let maxProbDiff = 0, argmaxAgree = 0;
  res.forEach((r, i) => {
    const p = r.next.probabilities;
    let best = -1, bestP = -1;
    ref.probs[i].forEach((q, tok) => {
      maxProbDiff = Math.max(maxProbDiff, Math.abs((p.get(tok) ?? 0) - q));
      if (q > bestP) { bestP = q; best = tok; }
    });
    if (p.entries().next().value[0] === best) argmaxAgree++;
  });
  console.log(JSON.stringify({name, bos: model.tokens.bos, eos: model.tokens.eos, tokenizeMismatches,
    maxProbDiff, argmaxAgree, positions: ref.ids.length}));
  await ctx.dispose();
  await model.dispose();
}
