// duckdb_query.mjs runs one SQL query with DuckDB and prints its rows as a JSON
// array of objects (BIGINT as numbers, via getRowObjectsJson).
//
// usage: node duckdb_query.mjs NODE_MODULES_DIR SQL
// where NODE_MODULES_DIR holds @duckdb/node-api (npm install --prefix DIR @duckdb/node-api).
import { createRequire } from 'node:module';
import path from 'node:path';

const [nodeModules, sql] = process.argv.slice(2);
if (!nodeModules || !sql) {
  console.error('usage: node duckdb_query.mjs NODE_MODULES_DIR SQL');
  process.exit(2);
}
// ES modules ignore NODE_PATH: resolve the package from the given directory instead.
const require = createRequire(path.join(path.resolve(nodeModules), 'resolve-from-here.js'));
const { DuckDBInstance } = require('@duckdb/node-api');

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const res = await conn.runAndReadAll(sql);
console.log(JSON.stringify(res.getRowObjectsJson()));
conn.closeSync();
instance.closeSync();
