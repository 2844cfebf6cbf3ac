// run.mjs - run the node:test files here one after another and end with
// the suite line every ward suite prints: "N passed, M failed".
//   WARD_BIN=build/host/ward node tests/node/run.mjs
import { run } from 'node:test';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const files = readdirSync(here).filter((f) => f.endsWith('.test.mjs')).map((f) => join(here, f));
let passed = 0, failed = 0;
const stream = run({ files, concurrency: 1, timeout: 50000 });
stream.on('test:pass', (e) => { if (e.details.type !== 'suite') { passed++; console.log('ok   ' + e.name); } });
stream.on('test:fail', (e) => {
  if (e.details.type === 'suite') return;
  failed++;
  const err = e.details.error;
  console.log('FAIL ' + e.name + ': ' + ((err && (err.cause || err).message) || err));
});
stream.on('test:diagnostic', (e) => { if (process.env.VERBOSE) console.log('# ' + e.message); });
stream.on('end', () => {
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed ? 1 : 0;
});
stream.resume();
