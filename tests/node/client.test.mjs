// client.test.mjs - ward-client.js (GET /static/ward-client.js) from Node 20
// with the `ws` package's WebSocket, against a real ward (issue 13):
// every SocketStatusService method, subscribe/unsubscribe, testConnection,
// the unified manager's states, handlers, whiteboard and telemedicine
// helpers, reconnect after the server restarts with the queued sends
// delivered, backoff bounds, no reconnect on 1008, a new token after
// "token expired".
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import WebSocket from 'ws';
import { Ward, ROOT, sleep, until } from '../browser/lib.mjs';
import {
  SocketStatusService, WebSocketManager, WebSocketStatus, WhiteboardService,
  TelemedicineService, backoffDelay, FATAL_CLOSE_CODES,
} from '../../src/web/ward-client.js';

const ward = new Ward(['rate_limit=0']);
const live = [];

// The ws package's constructor, counting the sockets made.
let made = 0;
class CountingWS extends WebSocket {
  constructor(...a) { super(...a); made++; }
}

function manager(opts = {}) {
  const m = new WebSocketManager({ url: ward.wsUrl + '/ws', WebSocket: CountingWS,
    baseDelayMs: 50, maxDelayMs: 400, ...opts });
  live.push(m);
  return m;
}

function collect(m, type = '*') {
  const got = [];
  m.registerHandler(type, (msg) => got.push(msg));
  return got;
}

before(async () => {
  assert.ok(await ward.start(), 'ward starts: ' + ward.log.slice(-500));
});

after(async () => {
  for (const m of live) m.disconnect();
  await ward.stop();
  ward.cleanup();
});

test('the served module is this file', async () => {
  const r = await fetch(ward.url + '/static/ward-client.js');
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /javascript/);
  assert.equal(await r.text(), readFileSync(join(ROOT, 'src', 'web', 'ward-client.js'), 'utf8'));
  const d = await fetch(ward.url + '/static/ward-client.d.ts');
  assert.match(await d.text(), /class SocketStatusService/);
});

test('SocketStatusService: every method', async () => {
  const s = new SocketStatusService({ apiUrl: ward.url, WebSocket });
  assert.equal(s.getApiUrl(), ward.url);
  assert.equal(s.getWsUrl(), ward.wsUrl);
  assert.equal(s.isSocketActive(), false);
  assert.equal(s.getTotalSocketCount(), 0);
  const seen = [];
  const unsub = s.subscribe((st) => seen.push(st));
  const first = await s.initialize(300);
  assert.equal(first.lastError, null);
  assert.equal(first.active, false);
  assert.equal(s.getEndpoints().unified, '/ws');
  assert.equal(s.getEndpoints().call, '/ws/call/<room>/');

  const a = new WebSocket(ward.wsUrl + '/ws/call/node-room/');
  await new Promise((r) => a.once('open', r));
  const st = await until(() => s.getTotalSocketCount() === 1 && s.getStatus(), 3000);
  assert.ok(st, 'polling sees the socket');
  assert.equal(s.isSocketActive(), true);
  assert.deepEqual(s.getSocketCountByType(), { call: 1 });
  assert.equal(s.getStatus().socketsByType.call, 1);
  assert.equal(s.getStatus().wsUrl, ward.wsUrl);
  assert.match(s.getFormattedStatus(), /active/);
  assert.match(s.getFormattedStatus(), /call: 1/);
  assert.ok(seen.length >= 2, 'subscriber called on each poll');
  a.close();

  assert.equal(await s.testConnection('/ws/echo'), true);
  assert.equal(await s.testConnection(), true, 'default: the seeds\' /ws/call/test-socket/');
  assert.equal(await s.testConnection('/ws/no-such-path', 3000), false);
  assert.ok(s.getLastError(), 'a failed test sets the last error');

  unsub();
  const n = seen.length;
  await s.fetchSocketStatus();
  assert.equal(seen.length, n, 'no calls after unsubscribe');

  s.stopPolling();
  const t = s.getStatus().timestamp;
  await sleep(700);
  assert.equal(s.getStatus().timestamp, t, 'no polling after stopPolling');

  s.clear();
  assert.equal(s.getTotalSocketCount(), 0);
  assert.equal(s.isSocketActive(), false);
  assert.equal(s.getLastError(), null);

  const bad = new SocketStatusService({ apiUrl: 'http://127.0.0.1:1', WebSocket });
  await bad.fetchSocketStatus();
  assert.ok(bad.getLastError(), 'an unreachable server is the last error');
});

test('manager: states, connected, handlers, whiteboard', async () => {
  const a = manager(), b = manager();
  const states = [];
  a.onStatusChange((s) => states.push(s));
  const ga = collect(a), gb = collect(b);
  a.connect();
  b.connect();
  await until(() => a.isConnected() && b.isConnected(), 3000);
  assert.deepEqual(states, [WebSocketStatus.CONNECTING, WebSocketStatus.CONNECTED]);
  await until(() => a.getClientId() && b.getClientId(), 2000);
  assert.match(a.getClientId(), /^[0-9a-f]{12}$/);
  assert.ok(ga.some((m) => m.type === 'connected'));

  const wa = new WhiteboardService(a), wb = new WhiteboardService(b);
  wa.subscribe('pr-1');
  wb.subscribe('pr-1');
  await until(() => ga.some((m) => m.type === 'subscribed') && gb.some((m) => m.type === 'subscribed'), 2000);
  const ups = [];
  const off = wb.onWhiteboardUpdate((m) => ups.push(m));
  assert.equal(wa.sendWhiteboardUpdate('pr-1', { updated: true }), true);
  await until(() => ups.length === 1, 2000);
  assert.equal(ups[0].practiceId, 'pr-1');
  assert.deepEqual(ups[0].data, { updated: true });
  assert.equal(ups[0].fromClientId, a.getClientId());
  off();
  wa.sendWhiteboardUpdate('pr-1', { again: true });
  await until(() => gb.filter((m) => m.type === 'whiteboard_update').length === 2, 2000);
  assert.equal(ups.length, 1, 'unregistered handler not called');

  a.disableService('whiteboard');
  assert.equal(wa.sendWhiteboardUpdate('pr-1', {}), false, 'disabled service sends nothing');
  a.enableService('whiteboard');
  assert.equal(a.getServices().whiteboard.enabled, true);
  a.disconnect();
  b.disconnect();
  assert.equal(a.getStatus(), WebSocketStatus.DISCONNECTED);
});

test('manager: telemedicine helpers', async () => {
  const a = manager(), b = manager();
  const ta = new TelemedicineService(a), tb = new TelemedicineService(b);
  const joined = [], chat = [], offers = [], left = [];
  ta.onUserJoined((m) => joined.push(m));
  ta.onChatMessage((m) => chat.push(m));
  tb.onOffer((m) => offers.push(m));
  ta.onUserLeft((m) => left.push(m));
  const bj = [];
  tb.onJoined((m) => bj.push(m));
  ta.connect();
  tb.connect();
  await until(() => a.isConnected() && b.isConnected(), 3000);
  ta.joinRoom('room-n', 'appt-1', 'u-a', 'Alice');
  await sleep(100);
  tb.joinRoom('room-n', 'appt-1', 'u-b', 'Bob');
  await until(() => joined.length === 1 && bj.length === 1, 2000);
  assert.equal(joined[0].userName, 'Bob');
  assert.equal(bj[0].participants[0].userName, 'Alice');
  ta.sendOffer('room-n', 'appt-1', { sdp: 'x', type: 'offer' }, 'u-a');
  await until(() => offers.length === 1, 2000);
  assert.equal(offers[0].from, 'u-a');
  assert.deepEqual(offers[0].offer, { sdp: 'x', type: 'offer' });
  tb.sendChatMessage('room-n', 'appt-1', 'Hello!', 'Bob', 'u-b');
  await until(() => chat.length === 1, 2000);
  assert.equal(chat[0].message, 'Hello!');
  assert.equal(chat[0].from, 'u-b');
  tb.leaveRoom('room-n', 'appt-1', 'u-b');
  await until(() => left.length === 1, 2000);
  assert.equal(left[0].userId, 'u-b');
  a.disconnect();
  b.disconnect();
});

test('backoff: full jitter within [0, min(max, base*2^n))', () => {
  for (let n = 0; n < 20; n++) {
    const cap = Math.min(30000, 500 * 2 ** n);
    assert.equal(backoffDelay(n, 500, 30000, () => 0), 0);
    assert.ok(backoffDelay(n, 500, 30000, () => 0.999999) < cap);
    assert.ok(backoffDelay(n, 500, 30000, () => 0.999999) >= cap - 1);
    for (let k = 0; k < 50; k++) {
      const d = backoffDelay(n, 500, 30000);
      assert.ok(d >= 0 && d < cap, `attempt ${n}: ${d} < ${cap}`);
    }
  }
  assert.deepEqual([...FATAL_CLOSE_CODES], [1002, 1003, 1007, 1008, 1009]);
});

test('reconnect after the server restarts; sends queued meanwhile', async () => {
  const m = manager({ maxQueue: 3, random: () => 1 - 1e-9 });
  const states = [], got = collect(m, 'pong');
  m.onStatusChange((s) => states.push(s));
  m.connect();
  assert.ok(await until(() => m.isConnected(), 3000));
  await ward.stop();
  assert.ok(await until(() => m.getStatus() === WebSocketStatus.RECONNECTING, 3000));
  for (let i = 0; i < 5; i++)
    assert.equal(m.sendMessage({ type: 'ping', n: i }), true);
  assert.equal(m.getQueueLength(), 3, 'the queue is bounded (oldest dropped)');
  await sleep(1000);
  // every delay so far within the bounds (base 50 ms doubling, max 400)
  assert.ok(m.lastDelay <= 400, 'delay capped: ' + m.lastDelay);
  assert.ok(m.attempt >= 2, 'kept trying: ' + m.attempt);
  assert.ok(await ward.start(true), 'ward restarts on the same port');
  assert.ok(await until(() => m.isConnected(), 3000), 'reconnected: ' + m.getStatus());
  assert.ok(await until(() => got.length === 3, 2000), 'queued pings answered: ' + got.length);
  assert.equal(m.getQueueLength(), 0);
  assert.ok(states.includes(WebSocketStatus.RECONNECTING));
  assert.equal(states.at(-1), WebSocketStatus.CONNECTED);
  m.disconnect();
});

test('no reconnect on 1008', async () => {
  const m = manager({ url: ward.wsUrl + '/ws/doctor-status/' });
  const before = made;
  m.connect();
  assert.ok(await until(() => m.getStatus() === WebSocketStatus.ERROR, 3000), m.getStatus());
  assert.equal(m.getLastClose().code, 1008);
  await sleep(1200);
  assert.equal(made - before, 1, 'one attempt only');
  assert.equal(m.getStatus(), WebSocketStatus.ERROR);
  assert.equal(m.sendMessage({ type: 'ping' }), false, 'nothing queued after a fatal close');
});

test('"token expired" asks for a new token, then reconnects', async () => {
  let asked = 0;
  const m = manager({ url: ward.wsUrl + '/ws/doctor-status/',
    token: ward.token('doctor', { sub: '9', ttl: -120 }),
    getToken: async () => { asked++; return ward.token('doctor', { sub: '9' }); } });
  const got = collect(m, 'initial_status');
  m.connect();
  assert.ok(await until(() => m.isConnected() && got.length === 1, 4000), m.getStatus());
  assert.equal(asked, 1);
  m.disconnect();
  // without getToken: an error, no retry
  const n = manager({ url: ward.wsUrl + '/ws/doctor-status/',
    token: ward.token('doctor', { sub: '9', ttl: -120 }), tokenIn: 'query' });
  n.connect();
  assert.ok(await until(() => n.getStatus() === WebSocketStatus.ERROR, 3000));
  assert.equal(n.getLastClose().reason, 'token expired');
});
