// duckdb_check.mjs opens Parquet files with DuckDB and prints, as one JSON object keyed
// by file, each file's row count, its columns as DuckDB describes them, the number of
// NULLs per column, and how many targets DuckDB's json extension parses.
//
// usage: node duckdb_check.mjs NODE_MODULES_DIR FILE.parquet...
// where NODE_MODULES_DIR holds @duckdb/node-api (npm install --prefix DIR @duckdb/node-api).
import { createRequire } from 'node:module';
import path from 'node:path';

const [nodeModules, ...files] = process.argv.slice(2);
if (!nodeModules || files.length === 0) {
  console.error('usage: node duckdb_check.mjs NODE_MODULES_DIR FILE.parquet...');
  process.exit(2);
}
// ES modules ignore NODE_PATH: resolve the package from the given directory instead.
const require = createRequire(path.join(path.resolve(nodeModules), 'resolve-from-here.js'));
const { DuckDBInstance } = require('@duckdb/node-api');

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const quote = (s) => "'" + s.replaceAll("'", "''") + "'";
const ident = (s) => '"' + s.replaceAll('"', '""') + '"';

const out = {};
for (const file of files) {
  const src = `read_parquet(${quote(file)})`;
  const count = await conn.runAndReadAll(`SELECT count(*)::BIGINT AS n FROM ${src}`);
  const desc = await conn.runAndReadAll(`DESCRIBE SELECT * FROM ${src}`);
  const columns = desc.getRowObjectsJson().map((r) => ({ name: r.column_name, type: r.column_type }));
  const nullSQL = columns
    .map((c) => `count(*) FILTER (WHERE ${ident(c.name)} IS NULL)::BIGINT AS ${ident(c.name)}`)
    .join(', ');
  const nulls = (await conn.runAndReadAll(`SELECT ${nullSQL} FROM ${src}`)).getRowObjectsJson()[0];
  const json = await conn.runAndReadAll(
    `SELECT count(*) FILTER (WHERE json_valid(target))::BIGINT AS n FROM ${src}`);
  out[file] = {
    rows: Number(count.getRowObjectsJson()[0].n),
    columns,
    nulls: Object.fromEntries(Object.entries(nulls).map(([k, v]) => [k, Number(v)])),
    json_valid_targets: Number(json.getRowObjectsJson()[0].n),
  };
}
conn.closeSync();
instance.closeSync();
console.log(JSON.stringify(out));
