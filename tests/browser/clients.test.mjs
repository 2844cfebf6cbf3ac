// clients.test.mjs - the client side in headless Chromium (issue 13):
//   1. /static/ward-client.js imported by a page: SocketStatusService with
//      its defaults (the page's origin), the unified manager and its
//      whiteboard/telemedicine helpers between two managers
//   2. /static/ward-status.js: <ward-status> in compact, full and
//      details modes
//   3. the seed 003 client (seed003/websocket.js, only WS_URL changed)
//      in two tabs against ward with whiteboard_practice = message:
//      whiteboard updates cross between the tabs of one practice and not
//      to a third tab of another; telemedicine join, offer/answer, chat,
//      leave; its "No handler" logs only for ward's informational types
//   4. /docs on a phone-sized screen
//
//   WARD_BIN=build/host/ward node tests/browser/clients.test.mjs
import { mkdirSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ward, ROOT, check, finish, launch, until, watchdog } from './lib.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const SHOTS = join(ROOT, 'build', 'screenshots');
const ward = new Ward(['rate_limit=0', 'whiteboard_practice=message']);
let browser = null;

async function cleanup() {
	if (browser) await browser.close().catch(() => {});
	try { await ward.stop(); } catch (e) { check(false, 'a clean server log', e.message); }
	ward.cleanup();
}
watchdog(55000, cleanup);

async function wardClientInPage(ctx) {
	const p = await ctx.newPage();
	const errs = [];
	p.on('pageerror', (e) => errs.push(String(e)));
	await p.goto(ward.url + '/');
	const r = await p.evaluate(async () => {
		const w = await import('/static/ward-client.js');
		const out = {};
		const s = w.default;
		out.api = s.getApiUrl();
		out.testEcho = await s.testConnection('/ws/echo');
		const a = new w.WebSocketManager(), b = new w.WebSocketManager();
		const states = [];
		a.onStatusChange((x) => states.push(x));
		a.connect(); b.connect();
		const wait = (f, ms = 3000) => new Promise((res) => {
			const t0 = Date.now();
			const tick = () => (f() || Date.now() - t0 > ms) ? res(f()) : setTimeout(tick, 20);
			tick();
		});
		await wait(() => a.isConnected() && b.isConnected() && a.getClientId() && b.getClientId());
		out.states = states.slice();
		await s.initialize(300);
		await wait(() => s.getSocketCountByType().unified === 2);
		out.byType = s.getSocketCountByType();
		out.active = s.isSocketActive();
		const wa = new w.WhiteboardService(a), wb = new w.WhiteboardService(b);
		const ups = [];
		wb.onWhiteboardUpdate((m) => ups.push(m));
		wa.subscribe('pp'); wb.subscribe('pp');
		await new Promise((res) => setTimeout(res, 200));
		wa.sendWhiteboardUpdate('pp', { n: 1 });
		await wait(() => ups.length === 1);
		out.update = ups[0];
		const ta = new w.TelemedicineService(a), tb = new w.TelemedicineService(b);
		const chats = [];
		ta.onChatMessage((m) => chats.push(m));
		ta.joinRoom('r1', 'ap', 'ua', 'Ann');
		tb.joinRoom('r1', 'ap', 'ub', 'Ben');
		await new Promise((res) => setTimeout(res, 200));
		tb.sendChatMessage('r1', 'ap', 'hi Ann', 'Ben', 'ub');
		await wait(() => chats.length === 1);
		out.chat = chats[0];
		s.stopPolling();
		a.disconnect(); b.disconnect();
		out.final = a.getStatus();
		return out;
	});
	check(r.api === ward.url, 'ward-client.js: apiUrl defaults to the page origin', r.api);
	check(r.testEcho === true, 'ward-client.js: testConnection in the browser');
	check(JSON.stringify(r.states) === '["connecting","connected"]',
	    'ward-client.js: manager states in the browser', JSON.stringify(r.states));
	check(r.byType && r.byType.unified === 2 && r.active, 'ward-client.js: status counts',
	    JSON.stringify(r.byType));
	check(r.update && r.update.data && r.update.data.n === 1 && r.update.practiceId === 'pp',
	    'ward-client.js: whiteboard update between two managers', JSON.stringify(r.update));
	check(r.chat && r.chat.message === 'hi Ann' && r.chat.from === 'ub',
	    'ward-client.js: telemedicine chat', JSON.stringify(r.chat));
	check(r.final === 'disconnected', 'ward-client.js: disconnect');
	check(errs.length === 0, 'ward-client.js: no page errors', errs.join('; '));
	await p.close();
}

async function statusElement(ctx) {
	const p = await ctx.newPage();
	await p.goto(ward.url + '/');
	await p.evaluate(async () => {
		document.body.innerHTML = '<h2>&lt;ward-status&gt;</h2>' +
		    '<p><ward-status id="c" mode="compact" poll="1000"></ward-status></p>' +
		    '<p><ward-status id="f" mode="full" poll="1000"></ward-status></p>' +
		    '<p><ward-status id="d" mode="details" poll="1000"></ward-status></p>';
		window.events = 0;
		document.addEventListener('ward-status', () => window.events++);
		await import('/static/ward-status.js');
		window.ws1 = new WebSocket(location.origin.replace('http', 'ws') + '/ws/call/st-room/');
		await new Promise((r) => { window.ws1.onopen = r; });
	});
	const shadow = (id) => p.evaluate((i) => {
		const e = document.getElementById(i);
		const r = e && e.shadowRoot;
		if (!r) return '';
		return [...r.querySelectorAll('.label, .bytype:not([hidden]), .more:not([hidden])')]
		    .map((x) => x.textContent).join(' | ');
	}, id);
	const full = await until(async () => { const t = await shadow('f'); return /Active/.test(t) && /call/.test(t) && t; }, 3000);
	check(full, '<ward-status mode=full>: active with counts by type', await shadow('f'));
	// each element polls on its own (poll="1000"): wait for its next read
	const compact = await until(async () => { const t = await shadow('c'); return /Active/.test(t) && t; }, 3000) ||
	    await shadow('c');
	check(/Active · 1 connection/.test(compact) && !/call/.test(compact),
	    '<ward-status mode=compact>: state and count only', compact);
	const det = await until(async () => { const t = await shadow('d'); return /ws\/call/.test(t) && t; }, 3000) ||
	    await shadow('d');
	check(/API http/.test(det) && /ws\/call/.test(det), '<ward-status mode=details>: urls and endpoints', det);
	check(await p.evaluate(() => window.events) >= 3, '<ward-status> fires ward-status events');
	await p.screenshot({ path: join(SHOTS, 'ward-status.png') });
	await p.evaluate(() => window.ws1.close());
	await p.close();
}

async function seedTab(ctx, src, label, logs) {
	const p = await ctx.newPage();
	p.on('console', (m) => logs.push({ tab: label, text: m.text() }));
	p.on('pageerror', (e) => logs.push({ tab: label, text: 'PAGEERROR ' + e }));
	await p.goto(ward.url + '/');
	await p.addScriptTag({ type: 'module', content: src +
	    '\nwindow.seed = { webSocketManager, whiteboardService, telemedicineService, WebSocketStatus };' });
	await until(() => p.evaluate(() => !!window.seed), 3000);
	return p;
}

async function seed003(ctx) {
	let src = readFileSync(join(HERE, 'seed003', 'websocket.js'), 'utf8');
	const before = src;
	src = src.replace("const WS_URL = 'ws://localhost:9002/ws';",
	    `const WS_URL = '${ward.wsUrl}/ws';`);
	check(src !== before && src.split('\n').length === before.split('\n').length,
	    'seed 003 client: only the URL line changed');
	const logs = [];
	const tabs = [];
	for (const [label, practice] of [['A', 42], ['B', 42], ['C', 43]]) {
		const p = await seedTab(ctx, src, label, logs);
		await p.evaluate((pr) => {
			window.got = [];
			window.myPracticeId = pr;
			const { whiteboardService } = window.seed;
			whiteboardService.onWhiteboardUpdate((message) => {
				if (message.practiceId === window.myPracticeId)
					window.got.push(message);
			});
			window.statuses = [];
			whiteboardService.onStatusChange((s) => window.statuses.push(s));
			whiteboardService.connect();
		}, practice);
		tabs.push(p);
	}
	const [A, B, C] = tabs;
	const connected = await until(async () => {
		for (const t of tabs)
			if (await t.evaluate(() => window.seed.webSocketManager.getStatus()) !== 'connected') return false;
		return true;
	}, 4000);
	check(connected, 'seed 003: three tabs connected');
	// each tab's whiteboard announces itself once (its first update picks
	// the practice under whiteboard_practice = message)
	for (const t of tabs)
		await t.evaluate(() => window.seed.whiteboardService.sendWhiteboardUpdate(window.myPracticeId, { opened: true }));
	await until(() => B.evaluate(() => window.got.length >= 1), 2000);
	await A.evaluate(() => window.seed.whiteboardService.sendWhiteboardUpdate(42, { updated: true }));
	const bgot = await until(() => B.evaluate(() => window.got.find((m) => m.data && m.data.updated)), 2000);
	check(bgot && bgot.practiceId === 42, 'seed 003 whiteboard: tab B gets tab A\'s update', JSON.stringify(bgot));
	const agot = await A.evaluate(() => window.got.filter((m) => m.data && m.data.updated).length);
	check(agot === 0, 'seed 003 whiteboard: the sender does not get its own');
	const cgot = await C.evaluate(() => window.got.length + ':' + JSON.stringify(window.got));
	check(cgot.startsWith('0:'), 'seed 003 whiteboard: practice 43 gets nothing', cgot);
	await C.evaluate(() => window.seed.whiteboardService.sendWhiteboardUpdate(42, { sneaky: true }));
	await new Promise((r) => setTimeout(r, 300));
	const sneaked = await B.evaluate(() => window.got.some((m) => m.data && m.data.sneaky));
	check(!sneaked, 'seed 003 whiteboard: tab C cannot cross into practice 42 afterwards');

	// telemedicine between A and B
	await A.evaluate(() => {
		const t = window.seed.telemedicineService;
		window.tm = { joined: [], answers: [], chat: [], left: [] };
		t.onUserJoined((m) => window.tm.joined.push(m));
		t.onAnswer((m) => window.tm.answers.push(m));
		t.onChatMessage((m) => window.tm.chat.push(m));
		t.onUserLeft((m) => window.tm.left.push(m));
		t.connect();
		t.joinRoom('room-7', 'appt-7', 'dr-1', 'Dr One');
	});
	await B.evaluate(() => {
		const t = window.seed.telemedicineService;
		window.tm = { offers: [], chat: [] };
		t.onOffer((m) => {
			window.tm.offers.push(m);
			t.sendAnswer('room-7', 'appt-7', { type: 'answer', sdp: 'v=0-b' }, 'pt-1');
		});
		t.onChatMessage((m) => window.tm.chat.push(m));
		t.connect();
		t.joinRoom('room-7', 'appt-7', 'pt-1', 'Pat');
	});
	const j = await until(() => A.evaluate(() => window.tm.joined[0]), 2000);
	check(j && j.userId === 'pt-1' && j.userName === 'Pat', 'seed 003 telemedicine: user_joined', JSON.stringify(j));
	await A.evaluate(() => window.seed.telemedicineService.sendOffer('room-7', 'appt-7', { type: 'offer', sdp: 'v=0-a' }, 'dr-1'));
	const off = await until(() => B.evaluate(() => window.tm.offers[0]), 2000);
	check(off && off.offer && off.offer.sdp === 'v=0-a' && off.from === 'dr-1',
	    'seed 003 telemedicine: offer with from', JSON.stringify(off));
	const ans = await until(() => A.evaluate(() => window.tm.answers[0]), 2000);
	check(ans && ans.answer && ans.answer.sdp === 'v=0-b' && ans.from === 'pt-1',
	    'seed 003 telemedicine: answer back', JSON.stringify(ans));
	await B.evaluate(() => window.seed.telemedicineService.sendChatMessage('room-7', 'appt-7', 'Hello!', 'Pat', 'pt-1'));
	const ch = await until(() => A.evaluate(() => window.tm.chat[0]), 2000);
	check(ch && ch.message === 'Hello!' && ch.from === 'pt-1', 'seed 003 telemedicine: chat', JSON.stringify(ch));
	await B.evaluate(() => window.seed.telemedicineService.leaveRoom('room-7', 'appt-7', 'pt-1'));
	const lf = await until(() => A.evaluate(() => window.tm.left[0]), 2000);
	check(lf && lf.userId === 'pt-1', 'seed 003 telemedicine: user_left', JSON.stringify(lf));

	// ward's extra messages the seed registers no handler for: connected
	// (clientId, services) and telemedicine_joined (participants) always,
	// error only where ward refused something (tab C crossing practices)
	const nh = (tab) => [...new Set(logs.filter((l) => l.tab === tab && /No handler/.test(l.text))
	    .map((l) => l.text.replace(/.*No handler for message type:\s*/, '')))].sort();
	check(['A', 'B'].every((t) => nh(t).every((x) => ['connected', 'telemedicine_joined'].includes(x))),
	    'seed 003: "No handler" in A and B only for connected / telemedicine_joined',
	    JSON.stringify([nh('A'), nh('B')]));
	check(JSON.stringify(nh('C')) === '["connected","error"]',
	    'seed 003: tab C\'s crossing attempt is refused with an error', JSON.stringify(nh('C')));
	const bad = logs.filter((l) => !/No handler/.test(l.text) && /PAGEERROR|not connected|error/i.test(l.text));
	check(bad.length === 0, 'seed 003: no errors or unsent messages logged', JSON.stringify(bad.slice(0, 3)));
	await A.screenshot({ path: join(SHOTS, 'seed003-tab-a.png') });
}

async function docsOnPhone() {
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 },
	    deviceScaleFactor: 2, isMobile: true });
	const p = await phone.newPage();
	await p.goto(ward.url + '/docs');
	const over = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	check(over <= 1, '/docs on a phone: no sideways scrolling', over);
	const n = await p.evaluate(() => document.querySelectorAll('.ep').length);
	check(n >= 40, '/docs on a phone: every endpoint shown', n);
	await p.screenshot({ path: join(SHOTS, 'docs-phone.png') });
	await phone.close();
}

try {
	mkdirSync(SHOTS, { recursive: true });
	if (!check(await ward.start(), 'ward is healthy', ward.log.slice(-2000)))
		finish(1);
	browser = await launch();
	const ctx = await browser.newContext();
	await wardClientInPage(ctx);
	await statusElement(ctx);
	await seed003(ctx);
	await docsOnPhone();
} catch (e) {
	check(false, 'no exception', e && e.stack);
}
await cleanup();
finish();
