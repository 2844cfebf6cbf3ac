// wss.test.mjs - Node's `ws` package over wss:// against a real ward with
// a TLS listener (issue 12): /ws/echo (text, 100 KiB binary), a call room
// (welcome, peer_joined, a relayed offer), /ws/notifications/ fed by an
// https POST (node:https), all trusting only the development CA.
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import https from 'node:https';
import WebSocket from 'ws';
import { Ward, TLS_DIR } from '../browser/lib.mjs';

const ward = new Ward(['rate_limit=0'], { tls: true });
const ca = readFileSync(join(TLS_DIR, 'ca.pem'));

function open(path) {
	const ws = new WebSocket(ward.wssUrl + path, { ca });
	const queue = [];
	const waiters = [];
	ws.on('message', (d, bin) => {
		const m = bin ? d : d.toString();
		const w = waiters.shift();
		if (w) w(m); else queue.push(m);
	});
	ws.next = (ms = 5000) => queue.length ? Promise.resolve(queue.shift()) :
	    new Promise((res, rej) => {
		const t = setTimeout(() => rej(new Error('no message in ' + ms + ' ms')), ms);
		waiters.push((m) => { clearTimeout(t); res(m); });
	    });
	return new Promise((res, rej) => {
		ws.once('open', () => res(ws));
		ws.once('error', rej);
	});
}

function post(path, body, tok) {
	return new Promise((res, rej) => {
		const data = JSON.stringify(body);
		const req = https.request(ward.tlsUrl + path, { method: 'POST', ca,
		    headers: { 'Content-Type': 'application/json',
		    'Content-Length': Buffer.byteLength(data),
		    Authorization: 'Bearer ' + tok } }, (r) => {
			let b = '';
			const tls = r.socket.getProtocol();
			r.on('data', (c) => { b += c; });
			r.on('end', () => res({ status: r.statusCode, body: b, tls }));
		});
		req.on('error', rej);
		req.end(data);
	});
}

before(async () => {
	assert.ok(await ward.start(), 'ward starts: ' + ward.log.slice(-500));
});

after(async () => {
	await ward.stop();
	ward.cleanup();
});

test('wss: /ws/echo echoes text and a 100 KiB binary message', async () => {
	const ws = await open('/ws/echo');
	ws.send('hello from node over wss');
	assert.equal(await ws.next(), 'hello from node over wss');
	const big = Buffer.alloc(100 * 1024, 7);
	ws.send(big);
	assert.ok(Buffer.compare(await ws.next(), big) === 0);
	ws.close();
});

test('wss: a call room relays an offer', async () => {
	const a = await open('/ws/call/node-tls/');
	const wa = JSON.parse(await a.next());
	const b = await open('/ws/call/node-tls/');
	const wb = JSON.parse(await b.next());
	assert.equal(wa.type, 'welcome');
	assert.deepEqual(wb.peers, [wa.peer_id]);
	assert.equal(JSON.parse(await a.next()).type, 'peer_joined');
	a.send(JSON.stringify({ type: 'offer', to: wb.peer_id, sdp: 'v=0 node' }));
	const o = JSON.parse(await b.next());
	assert.equal(o.sdp, 'v=0 node');
	assert.equal(o.from, wa.peer_id);
	a.close();
	b.close();
});

test('wss: /ws/notifications/ gets what an https POST sends', async () => {
	const n = await open('/ws/notifications/?token=' +
	    ward.token('doctor', { sub: '77' }));
	const r = await post('/api/notifications', { user_id: '77',
	    notification: { title: 'node tls' } }, ward.token('service'));
	assert.equal(r.status, 200, r.body);
	assert.equal(r.tls, 'TLSv1.2');
	const m = JSON.parse(await n.next());
	assert.equal(m.type, 'notification');
	assert.equal(m.data.title, 'node tls');
	n.close();
});

test('wss: a client that does not trust the CA is refused', async () => {
	await assert.rejects(new Promise((res, rej) => {
		const ws = new WebSocket(ward.wssUrl + '/ws/echo');
		ws.once('open', () => { ws.close(); res(); });
		ws.once('error', rej);
	}));
});
