// openapi.test.mjs - ward's /openapi.json under two real validators from
// npm (@apidevtools/swagger-parser validate, @redocly/cli lint: 0 errors),
// the things a client builder needs (named path parameters, request and
// answer schemas, security only where a token is needed, servers,
// WebSocket query parameters and message types), /docs on a phone, and
// /metrics under Prometheus' own `promtool check metrics` (issue 13).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import SwaggerParser from '@apidevtools/swagger-parser';
import { Ward } from '../browser/lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ward = new Ward();
const tmp = mkdtempSync(join(tmpdir(), 'ward-openapi-'));
let doc;

before(async () => {
  assert.ok(await ward.start(), 'ward starts');
  doc = await (await fetch(ward.url + '/openapi.json')).json();
  writeFileSync(join(tmp, 'openapi.json'), JSON.stringify(doc, null, 1));
});

after(async () => {
  await ward.stop();
  ward.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

test('swagger-parser validates /openapi.json', async () => {
  await SwaggerParser.validate(structuredClone(doc));
});

test('redocly lint: 0 errors', () => {
  const r = spawnSync(join(HERE, 'node_modules', '.bin', 'redocly'),
    ['lint', '--config', join(HERE, 'redocly.yaml'), '--format=summary', join(tmp, 'openapi.json')],
    { encoding: 'utf8', timeout: 40000, env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' } });
  const out = r.stdout + r.stderr;
  assert.equal(r.status, 0, out.slice(-2000));
  assert.doesNotMatch(out, /^error\s/m, out.slice(-2000));
});

test('named path parameters', () => {
  const want = {
    '/api/doctors/{doctor_id}/status': ['put', 'doctor_id'],
    '/api/diagnoses/{diagnosis_id}': ['delete', 'diagnosis_id'],
    '/ws/{diagnosis_id}': ['get', 'diagnosis_id'],
    '/ws/call/{room}/': ['get', 'room'],
    '/consultation/socket-status/sockets/{socket_id}/': ['get', 'socket_id'],
    '/admin/api/services/{service}': ['post', 'service'],
  };
  for (const [p, [m, name]] of Object.entries(want)) {
    const op = doc.paths[p] && doc.paths[p][m];
    assert.ok(op, p + ' ' + m);
    const pp = op.parameters.filter((x) => x.in === 'path');
    assert.deepEqual(pp.map((x) => x.name), [name], p);
    assert.equal(pp[0].required, true);
  }
  assert.ok(!Object.keys(doc.paths).some((p) => /\{(name|id)\}/.test(p)), 'no generic {name}/{id} left');
});

test('every JSON endpoint has request and answer schemas', () => {
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const [m, op] of Object.entries(item)) {
      if (op['x-websocket']) continue;
      if (m === 'post' || m === 'put') {
        const s = op.requestBody && op.requestBody.content['application/json'].schema;
        assert.ok(s && s.$ref, `${m} ${p}: request schema`);
      }
      const ok = Object.entries(op.responses).find(([k]) => /^2/.test(k));
      assert.ok(ok, `${m} ${p}: a 2xx answer`);
      const content = ok[1].content;
      assert.ok(content, `${m} ${p}: answer content`);
      if (content['application/json'])
        assert.ok(content['application/json'].schema, `${m} ${p}: answer schema`);
    }
  }
  const schemas = doc.components.schemas;
  assert.deepEqual(schemas.EffectivenessUpdate.required,
    ['diagnosis_id', 'recommendation_id', 'new_effectiveness', 'confidence', 'sample_size']);
  assert.equal(schemas.FeedbackUpdate.properties.rating.maximum, 5);
});

test('security only where a token is needed; servers', () => {
  assert.deepEqual(doc.security, []);
  assert.ok(Array.isArray(doc.servers) && doc.servers.length >= 1 && doc.servers[0].url);
  assert.ok(!doc.paths['/health'].get.security, '/health: none');
  assert.ok(!doc.paths['/consultation/socket-status/'].get.security, 'socket status: none');
  assert.ok(doc.paths['/api/diagnoses'].post.security.length > 0, 'register diagnosis: token');
  assert.ok(doc.paths['/admin/api/overview'].get.security.length > 0, 'admin: token');
  assert.ok(doc.paths['/admin/api/overview'].get.responses['401'], 'admin: 401 documented');
});

test('WebSocket endpoints: query parameters and message types', () => {
  const ws = doc.paths['/ws'].get;
  assert.ok(ws.responses['101']);
  assert.ok(ws['x-websocket'].clientMessages.includes('whiteboard_update'));
  assert.ok(ws['x-websocket'].serverMessages.includes('connected'));
  const q = ws.parameters.map((x) => x.$ref);
  assert.ok(q.includes('#/components/parameters/token') && q.includes('#/components/parameters/practice_id'));
  const room = doc.paths['/ws/stt/room/'].get.parameters.map((x) => x.$ref);
  assert.ok(room.includes('#/components/parameters/stt_role') && room.includes('#/components/parameters/stt_name'));
  assert.ok(doc.components.parameters.stt_role.required);
  const d = doc.paths['/ws/{diagnosis_id}'].get['x-websocket'];
  assert.ok(d.serverMessages.includes('welcome') && d.serverMessages.includes('recommendation_update'));
});

test('/docs: every path, readable on a phone', async () => {
  const html = await (await fetch(ward.url + '/docs')).text();
  assert.match(html, /name="viewport"/);
  for (const p of Object.keys(doc.paths))
    assert.ok(html.includes('<code>' + p + '</code>'), p);
  assert.match(html, /whiteboard_update/);
  assert.match(html, /EffectivenessUpdate/);
});

test('/metrics passes promtool check metrics', async () => {
  // some traffic first, so the labelled series exist
  await fetch(ward.url + '/health');
  await fetch(ward.url + '/nothing');
  const text = await (await fetch(ward.url + '/metrics')).text();
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20000 });
  assert.equal(r.error, undefined, 'promtool runs (Debian package prometheus)');
  assert.equal(r.status, 0, (r.stdout + r.stderr).slice(-2000));
  assert.equal((r.stdout + r.stderr).trim(), '', 'no lint findings: ' + r.stdout + r.stderr);
});
