// call.test.mjs - a WebRTC offer/answer through ward's call rooms, driven
// from headless Chromium (issue 3, SPEC §2 "Call rooms").
//
// Two pages join ws://127.0.0.1:PORT/ws/call/<room>/ with the browser's own
// WebSocket, each with a real RTCPeerConnection (iceServers: []). Page A
// makes a data channel and an offer addressed to B's peer_id; B answers; both
// trickle their ICE candidates; all of it relayed by ward, which stamps
// "from". A third page in another room must hear nothing. When Chromium's
// WebRTC can connect on loopback here, a message also crosses the data
// channel both ways; when it cannot, that is a note, not a failure - the
// signaling checks are what this test is about.
//
//   WARD_BIN=build/host/ward node tests/browser/call.test.mjs [--tls]
//
// --tls (issue 12): ward also listens with TLS (the development
// certificate of build/dev-tls); Chromium trusts exactly that key, pinned
// by the SHA-256 of its SubjectPublicKeyInfo
// (--ignore-certificate-errors-spki-list), each page first loads ward's
// https:// index page and joins over wss:// from that secure origin.
//
// Env: WARD_BIN (default <repo>/build/host/ward), CHROMIUM_BIN (default
// /usr/bin/chromium), BROWSER_TEST_VERBOSE=1 (server log and page console).
// Prints one line per check and ends with "N passed, M failed"; exits 1 on
// any failure. The whole run is bounded by a 55 s watchdog.

import { spawn } from 'node:child_process';
import { createHash, createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, accessSync, constants } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHROMIUM, HOST, TLS_DIR, VERBOSE, WARD_BIN, freePort, healthStatus,
    sleep } from './lib.mjs';

const TLS = process.argv.includes('--tls');
const WATCHDOG_MS = 55000;
const STEP_MS = 10000;        // any single signaling wait
const DC_MS = 15000;          // ICE + DTLS + SCTP on loopback
const t0 = Date.now();

let passed = 0, failed = 0;
const notes = [];

function check(ok, what, detail) {
	if (ok) {
		passed++;
		console.log(`ok   ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${what}${detail !== undefined ? ': ' + detail : ''}`);
	}
	return ok;
}

function note(text) {
	notes.push(text);
	console.log(`NOTE ${text}`);
}

function finish(code) {
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(code !== undefined ? code : (failed ? 1 : 0));
}

const j = (v) => JSON.stringify(v);

// --- the server ----------------------------------------------------------

class Ward {
	constructor() {
		this.tmp = mkdtempSync(join(tmpdir(), 'ward-browser-'));
		this.log = '';
		this.proc = null;
		this.port = 0;
		this.tlsPort = 0;
		this.exit = null;     // {code, signal} once it has exited
	}

	async start() {
		// the server must not pick up a developer's settings
		const env = {};
		for (const [k, v] of Object.entries(process.env))
			if (!k.startsWith('WARD_') && !['WEBSOCKET_ENABLED',
			    'WEBSOCKET_HEARTBEAT_INTERVAL', 'REDIS_HOST', 'REDIS_PORT',
			    'REDIS_PASSWORD'].includes(k))
				env[k] = v;
		const secret = randomBytes(32).toString('hex');
		for (let attempt = 0; attempt < 3; attempt++) {
			this.port = await freePort();
			this.log = '';
			this.exit = null;
			const args = ['--set', `listen=${HOST}:${this.port}`,
			    '--set', `jwt_secret=${secret}`,
			    '--set', `data_dir=${this.tmp}`];
			if (TLS) {
				this.tlsPort = await freePort();
				args.push('--set', `tls_listen=${HOST}:${this.tlsPort}`,
				    '--set', `tls_cert=${join(TLS_DIR, 'server-ec.pem')}`,
				    '--set', `tls_key=${join(TLS_DIR, 'server-ec.key')}`);
			}
			const p = spawn(WARD_BIN, args,
			    { cwd: this.tmp, env, stdio: ['ignore', 'pipe', 'pipe'] });
			this.proc = p;
			const keep = (b) => {
				this.log += b.toString();
				if (this.log.length > 200000)
					this.log = this.log.slice(-100000);
			};
			p.stdout.on('data', keep);
			p.stderr.on('data', keep);
			this.exited = new Promise((r) => p.on('exit',
			    (code, signal) => { this.exit = { code, signal }; r(this.exit); }));
			p.on('error', (e) => { this.log += `spawn: ${e.message}\n`; });
			const deadline = Date.now() + 10000;
			while (Date.now() < deadline && this.exit === null) {
				if (await healthStatus(this.port) === 200)
					return true;
				await sleep(50);
			}
			if (this.exit === null) {
				p.kill('SIGKILL');
				await this.exited;
			}
			if (!/in use/i.test(this.log))
				break;
		}
		return false;
	}

	// SIGTERM; resolves to {code, signal, ms}, or null if it hung (then killed)
	async stop(ms = 6000) {
		if (!this.proc)
			return null;
		if (this.exit !== null)
			return { ...this.exit, ms: 0 };
		const t = Date.now();
		this.proc.kill('SIGTERM');
		const r = await Promise.race([this.exited, sleep(ms).then(() => null)]);
		if (r === null) {
			this.proc.kill('SIGKILL');
			await this.exited;
			return null;
		}
		return { ...r, ms: Date.now() - t };
	}

	cleanup() {
		if (this.proc && this.exit === null)
			this.proc.kill('SIGKILL');
		try { rmSync(this.tmp, { recursive: true, force: true }); } catch {}
	}
}

// --- what runs inside each page ------------------------------------------
//
// One script for every page, as a small app would be: it joins the room,
// records every message, answers an offer, applies an answer and trickled
// candidates (queued until the remote description is set), and echoes what
// arrives on the data channel. The test drives it with page.evaluate().

const PAGE_HTML = `<!doctype html><html><head><meta charset="utf-8">
<title>ward call test</title></head><body><p>ward call test</p></body></html>`;

function pageApp() {
	const w = window.ward = {
		msgs: [], errors: [], sent: [], candSent: 0, candAdded: 0,
		dcOpen: false, dcMsgs: [], iceStates: [], peerId: null, ws: null,
		pc: null, dc: null, remote: null, pending: [], closed: null,
		localOffer: null, localAnswer: null,
	};

	const send = (o) => {
		w.sent.push(o);
		w.ws.send(JSON.stringify(o));
	};
	w.send = send;

	const newPc = (remote) => {
		const pc = new RTCPeerConnection({ iceServers: [] });
		w.pc = pc;
		w.remote = remote;
		pc.onicecandidate = (ev) => {
			if (!ev.candidate)
				return;        // end of gathering: nothing to trickle
			w.candSent++;
			send({ type: 'ice_candidate', candidate: ev.candidate.toJSON(),
			    to: remote });
		};
		pc.oniceconnectionstatechange = () =>
		    w.iceStates.push(pc.iceConnectionState);
		pc.ondatachannel = (ev) => wireDc(ev.channel);
		return pc;
	};

	const wireDc = (dc) => {
		w.dc = dc;
		dc.onopen = () => { w.dcOpen = true; };
		dc.onmessage = (ev) => {
			w.dcMsgs.push(ev.data);
			if (typeof ev.data === 'string' && ev.data.startsWith('ping:'))
				dc.send('pong:' + ev.data.slice(5));
		};
		if (dc.readyState === 'open')
			w.dcOpen = true;
	};

	const flush = async () => {
		while (w.pending.length)
			await addCand(w.pending.shift());
	};

	const addCand = async (c) => {
		await w.pc.addIceCandidate(c);
		w.candAdded++;
	};

	const handle = async (m) => {
		switch (m.type) {
		case 'welcome':
			w.peerId = m.peer_id;
			break;
		case 'offer':
			newPc(m.from);
			await w.pc.setRemoteDescription({ type: 'offer', sdp: m.sdp });
			await w.pc.setLocalDescription(await w.pc.createAnswer());
			w.localAnswer = w.pc.localDescription.sdp;
			send({ type: 'answer', sdp: w.localAnswer, to: m.from });
			await flush();
			break;
		case 'answer':
			await w.pc.setRemoteDescription({ type: 'answer', sdp: m.sdp });
			await flush();
			break;
		case 'ice_candidate':
			if (w.pc && w.pc.remoteDescription)
				await addCand(m.candidate);
			else
				w.pending.push(m.candidate);
			break;
		}
	};

	// messages are handled strictly in order, like a real app would
	let chain = Promise.resolve();

	w.join = (url) => new Promise((res, rej) => {
		const ws = new WebSocket(url);
		w.ws = ws;
		setTimeout(() => rej(new Error('no welcome within 10 s')), 10000);
		ws.onmessage = (ev) => {
			let m;
			try {
				m = JSON.parse(ev.data);
			} catch (e) {
				w.errors.push('not JSON: ' + ev.data);
				return;
			}
			w.msgs.push(m);
			if (m.type === 'error')
				w.errors.push('server error: ' + ev.data);
			chain = chain.then(() => handle(m)).catch((e) =>
			    w.errors.push(`handling ${m.type}: ${e && e.message || e}`));
			if (m.type === 'welcome')
				res(m);
		};
		ws.onerror = () => w.errors.push('websocket error event');
		ws.onclose = (ev) => {
			w.closed = { code: ev.code, reason: ev.reason };
			rej(new Error(`closed ${ev.code} ${ev.reason}`));
		};
	});

	w.call = async (remote) => {
		const pc = newPc(remote);
		wireDc(pc.createDataChannel('ward-test'));
		await pc.setLocalDescription(await pc.createOffer());
		w.localOffer = pc.localDescription.sdp;
		send({ type: 'offer', sdp: w.localOffer, to: remote });
	};

	w.leave = () => new Promise((res) => {
		if (w.dc)
			w.dc.close();
		if (w.pc)
			w.pc.close();
		if (!w.ws || w.ws.readyState === WebSocket.CLOSED)
			return res(w.closed);
		w.ws.onclose = (ev) => {
			w.closed = { code: ev.code, reason: ev.reason };
			res(w.closed);
		};
		w.ws.close(1000, 'bye');
	});
}

// --- the test --------------------------------------------------------------

// base64 SHA-256 of the server certificate's SubjectPublicKeyInfo: the one
// key Chromium is told to trust (what `openssl x509 -pubkey | openssl pkey
// -pubin -outform der | openssl dgst -sha256 -binary | base64` prints).
function spki() {
	const der = createPublicKey(readFileSync(join(TLS_DIR, 'server-ec.pem')))
	    .export({ type: 'spki', format: 'der' });
	return createHash('sha256').update(der).digest('base64');
}

async function newPage(browser, name, origin) {
	const ctx = await browser.newContext();
	const page = await ctx.newPage();
	page.on('pageerror', (e) => check(false, `${name}: no page error`,
	    e.message));
	if (VERBOSE)
		page.on('console', (m) => console.log(`  [${name}] ${m.text()}`));
	if (origin) {
		const r = await page.goto(origin + '/');
		check(r && r.status() === 200 && page.url().startsWith('https://'),
		    `${name}: ${origin}/ loads over https (pinned dev certificate)`,
		    r && r.status());
	}
	await page.setContent(PAGE_HTML);
	await page.evaluate(`(${pageApp.toString()})()`);
	return page;
}

const state = (page) => page.evaluate(() => {
	const w = window.ward;
	return { msgs: w.msgs, errors: w.errors, sent: w.sent,
	    candSent: w.candSent, candAdded: w.candAdded, dcOpen: w.dcOpen,
	    dcMsgs: w.dcMsgs, iceStates: w.iceStates, peerId: w.peerId,
	    localOffer: w.localOffer, localAnswer: w.localAnswer,
	    closed: w.closed };
});

const waitFor = (page, fn, arg, ms = STEP_MS) =>
    page.waitForFunction(fn, arg, { timeout: ms, polling: 50 })
	.then(() => true, () => false);

const ofType = (s, t) => s.msgs.filter((m) => m.type === t);

async function main() {
	let chromium;
	try {
		({ chromium } = await import('playwright-core'));
	} catch (e) {
		check(false, 'playwright-core is installed (npm ci --prefix tests/browser)',
		    e.message);
		return;
	}
	try {
		accessSync(WARD_BIN, constants.X_OK);
		accessSync(CHROMIUM, constants.X_OK);
	} catch (e) {
		check(false, 'WARD_BIN and chromium are executables', e.message);
		return;
	}

	const ward = new Ward();
	let browser = null;
	const cleanup = async () => {
		if (browser)
			await browser.close().catch(() => {});
		browser = null;
		ward.cleanup();
	};
	process.on('SIGINT', () => { ward.cleanup(); finish(1); });
	const dog = setTimeout(() => {
		check(false, `whole test within ${WATCHDOG_MS / 1000} s`,
		    'watchdog fired');
		if (VERBOSE)
			console.log(ward.log);
		ward.cleanup();
		finish(1);
	}, WATCHDOG_MS);
	dog.unref();

	try {
		if (!check(await ward.start(), `ward is healthy on ${HOST}:${ward.port}`,
		    ward.log.slice(-2000)))
			return;

		browser = await chromium.launch({
			executablePath: CHROMIUM,
			headless: true,
			timeout: 20000,
			args: [
				'--headless', '--no-sandbox', '--disable-gpu',
				'--disable-quic', '--no-first-run',
				'--disable-background-networking',
				'--disable-component-update', '--disable-sync',
				// host candidates as plain IPs (not mDNS .local names
				// nobody here can resolve), loopback included: the
				// two peers only share 127.0.0.1 in a sandbox
				'--disable-features=WebRtcHideLocalIpsWithMdns',
				'--allow-loopback-in-peer-connection',
			].concat(TLS ? [`--ignore-certificate-errors-spki-list=${spki()}`] : []),
		});
		check(true, `chromium ${browser.version()} launched`);

		const room = 'browser-' + randomBytes(4).toString('hex');
		const other = room + '-other';
		const url = (r) => TLS ? `wss://${HOST}:${ward.tlsPort}/ws/call/${r}/` :
		    `ws://${HOST}:${ward.port}/ws/call/${r}/`;
		const origin = TLS ? `https://${HOST}:${ward.tlsPort}` : null;
		const [A, B, C] = await Promise.all([newPage(browser, 'A', origin),
		    newPage(browser, 'B', origin), newPage(browser, 'C', origin)]);
		if (TLS)
			check(await A.evaluate(() => window.isSecureContext &&
			    location.protocol === 'https:'),
			    'A: a secure https:// context joins over wss://');

		// --- joins: welcome, peers, peer_joined --------------------------
		const wa = await A.evaluate((u) => window.ward.join(u), url(room));
		const hex8 = /^[0-9a-f]{8}$/;
		check(hex8.test(wa.peer_id) && wa.room === room &&
		    Array.isArray(wa.peers) && wa.peers.length === 0,
		    'A: welcome with an 8-hex peer_id, the room, no peers', j(wa));
		const wc = await C.evaluate((u) => window.ward.join(u), url(other));
		check(hex8.test(wc.peer_id) && wc.room === other &&
		    wc.peers.length === 0,
		    'C (other room): welcome with no peers', j(wc));
		const wb = await B.evaluate((u) => window.ward.join(u), url(room));
		check(hex8.test(wb.peer_id) && wb.peer_id !== wa.peer_id &&
		    j(wb.peers) === j([wa.peer_id]),
		    "B: welcome lists exactly A's peer_id", j(wb));
		const aId = wa.peer_id, bId = wb.peer_id;
		await waitFor(A, (id) => window.ward.msgs.some((m) =>
		    m.type === 'peer_joined'), bId);
		let sa = await state(A);
		const pj = ofType(sa, 'peer_joined');
		check(pj.length === 1 && pj[0].peer_id === bId,
		    "A: one peer_joined naming B's peer_id", j(pj));

		// --- offer -> answer, trickled candidates ------------------------
		await A.evaluate((id) => window.ward.call(id), bId);
		const gotOffer = await waitFor(B, () =>
		    window.ward.msgs.some((m) => m.type === 'offer'));
		const gotAnswer = gotOffer && await waitFor(A, () =>
		    window.ward.msgs.some((m) => m.type === 'answer'));
		check(gotOffer, 'B received an offer');
		check(gotAnswer, 'A received an answer');
		// candidates: wait until each side has everything the other sent
		// (gathering on loopback ends within a second or two)
		for (const p of gotAnswer ? [A, B] : [])
			await waitFor(p, () => window.ward.pc &&
			    window.ward.pc.iceGatheringState === 'complete', null, 5000);
		sa = await state(A);
		let sb = await state(B);
		await waitFor(B, (n) => window.ward.msgs.filter((m) =>
		    m.type === 'ice_candidate').length >= n, sa.candSent, 3000);
		await waitFor(A, (n) => window.ward.msgs.filter((m) =>
		    m.type === 'ice_candidate').length >= n, sb.candSent, 3000);

		// --- data channel (best effort: depends on the sandbox) ----------
		const dcUp = gotAnswer &&
		    await waitFor(A, () => window.ward.dcOpen, null, DC_MS) &&
		    await waitFor(B, () => window.ward.dcOpen, null, 2000);
		if (dcUp) {
			await A.evaluate(() => window.ward.dc.send('ping:hello from A'));
			const crossed = await waitFor(A, () =>
			    window.ward.dcMsgs.includes('pong:hello from A'), null, 5000);
			sb = await state(B);
			if (crossed && sb.dcMsgs.includes('ping:hello from A'))
				check(true, 'data channel open; A -> B and the echo ' +
				    'B -> A crossed it');
			else
				note('the data channel opened but the ping/pong did not ' +
				    'cross it: ' + j({ a: (await state(A)).dcMsgs,
				    b: sb.dcMsgs }));
		} else if (gotAnswer) {
			const ice = (p) => p.evaluate(() => [...window.ward.iceStates,
			    window.ward.pc ? window.ward.pc.iceConnectionState : 'no pc']
			    .join('>'));
			const ia = await ice(A), ib = await ice(B);
			note('the WebRTC data channel did not open in this sandbox ' +
			    `within ${DC_MS / 1000} s (ICE A: ${ia}, B: ${ib}); ` +
			    'signaling checks still apply');
		}

		// --- the signaling, as both pages saw it -------------------------
		sa = await state(A);
		sb = await state(B);
		const offers = ofType(sb, 'offer');
		check(offers.length === 1, 'B received the offer exactly once',
		    offers.length);
		const o = offers[0] || {};
		check(o.from === aId, "the offer carries from = A's peer_id", o.from);
		check(o.to === bId && o.sdp === sa.localOffer &&
		    typeof o.sdp === 'string' && o.sdp.startsWith('v=0\r\n'),
		    "the offer's sdp (CRLFs and all) and to arrived unchanged");
		const answers = ofType(sa, 'answer');
		check(answers.length === 1, 'A received the answer exactly once',
		    answers.length);
		const an = answers[0] || {};
		check(an.from === bId && an.to === aId && an.sdp === sb.localAnswer,
		    "the answer carries from = B's peer_id and B's sdp unchanged",
		    j({ from: an.from, to: an.to }));
		check(ofType(sa, 'offer').length === 0 &&
		    ofType(sb, 'answer').length === 0,
		    'nobody got its own offer or answer back');
		const ca = ofType(sa, 'ice_candidate'), cb = ofType(sb, 'ice_candidate');
		check(cb.length === sa.candSent && ca.length === sb.candSent,
		    `every trickled ice_candidate was relayed once ` +
		    `(A->B ${sa.candSent}, B->A ${sb.candSent})`,
		    `A sent ${sa.candSent}, B got ${cb.length}; ` +
		    `B sent ${sb.candSent}, A got ${ca.length}`);
		check(cb.every((m) => m.from === aId && m.to === bId &&
		    m.candidate && typeof m.candidate.candidate === 'string') &&
		    ca.every((m) => m.from === bId && m.to === aId &&
		    m.candidate && typeof m.candidate.candidate === 'string'),
		    "each ice_candidate carries from = its sender's peer_id");
		if (sa.candSent === 0 || sb.candSent === 0)
			note(`Chromium gathered few candidates (A ${sa.candSent}, ` +
			    `B ${sb.candSent}): no usable network interface?`);
		else
			check(sa.candAdded === ca.length && sb.candAdded === cb.length,
			    'both pages applied every relayed candidate',
			    `A ${sa.candAdded}/${ca.length}, B ${sb.candAdded}/${cb.length}`);

		// --- a broadcast and a forged "from" -----------------------------
		await A.evaluate(() => window.ward.send({ type: 'chat',
		    text: 'hi room', from: 'deadbeef' }));
		const chat = await waitFor(B, () =>
		    window.ward.msgs.some((m) => m.type === 'chat'));
		sb = await state(B);
		const ch = ofType(sb, 'chat');
		check(chat && ch.length === 1 && ch[0].from === aId &&
		    ch[0].text === 'hi room',
		    "a broadcast chat reaches B with from = A (a forged from is replaced)",
		    j(ch));

		// --- leaving: peer_left ------------------------------------------
		const bClose = await B.evaluate(() => window.ward.leave());
		check(bClose && bClose.code === 1000,
		    'B closed its WebSocket cleanly (1000)', j(bClose));
		const left = await waitFor(A, (id) => window.ward.msgs.some((m) =>
		    m.type === 'peer_left' && m.peer_id === id), bId);
		check(left, "A: peer_left naming B's peer_id");

		// --- no errors anywhere; the other room heard nothing ------------
		sa = await state(A);
		sb = await state(B);
		const sc = await state(C);
		check(sa.errors.length === 0 && sb.errors.length === 0 &&
		    sc.errors.length === 0, 'no signaling error on any page',
		    j({ A: sa.errors, B: sb.errors, C: sc.errors }));
		check(sc.msgs.length === 1 && sc.msgs[0].type === 'welcome',
		    'C (other room) received nothing but its welcome',
		    j(sc.msgs.map((m) => m.type)));

		const aClose = await A.evaluate(() => window.ward.leave());
		const cClose = await C.evaluate(() => window.ward.leave());
		check(aClose && aClose.code === 1000 && cClose &&
		    cClose.code === 1000, 'A and C closed cleanly (1000)',
		    j({ aClose, cClose }));
		await browser.close();
		browser = null;

		// --- SIGTERM: exit 0 ---------------------------------------------
		const st = await ward.stop();
		check(st !== null && st.code === 0,
		    'ward exits 0 on SIGTERM within 5 s',
		    st ? j(st) : 'did not exit in 6 s');
		if (st && st.ms !== undefined)
			console.log(`     (stopped in ${st.ms} ms)`);
	} catch (e) {
		check(false, 'no exception in the test', e && e.stack || e);
	} finally {
		if (VERBOSE || failed)
			console.log('--- ward log tail ---\n' + ward.log.slice(-3000));
		await cleanup();
		clearTimeout(dog);
	}
}

await main();
console.log(`call.test.mjs: ${((Date.now() - t0) / 1000).toFixed(1)} s` +
    (notes.length ? `, ${notes.length} note(s)` : ''));
finish();
