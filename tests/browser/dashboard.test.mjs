// dashboard.test.mjs - the admin dashboard (GET /admin/websocket-admin,
// SPEC §7, issue 13) in headless Chromium against a real ward:
//   - a wrong token shows an error (not a blank page)
//   - a good token signs in; the token is in sessionStorage, not the URL
//   - a client a test connects shows up within 2 s; a pool bar moves
//   - switching the whiteboard service off refuses that client's message
//   - a test message sent to a room reaches the client in it; the page
//     shows the delivery count
//   - screenshots (desktop and phone) go to build/screenshots/
//
//   WARD_BIN=build/host/ward node tests/browser/dashboard.test.mjs
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Ward, ROOT, check, finish, launch, sleep, until, watchdog } from './lib.mjs';

const SHOTS = join(ROOT, 'build', 'screenshots');
const ward = new Ward(['rate_limit=0']);
let browser = null;

async function cleanup() {
	if (browser) await browser.close().catch(() => {});
	try { await ward.stop(); } catch (e) { check(false, 'a clean server log', e.message); }
	ward.cleanup();
}
watchdog(55000, cleanup);

// A page on ward's origin that opens sockets as a small app would.
function clientApp() {
	window.got = [];
	window.open2 = (path) => new Promise((res, rej) => {
		const ws = new WebSocket(location.origin.replace('http', 'ws') + path);
		ws.onmessage = (e) => window.got.push({ path, m: JSON.parse(e.data) });
		ws.onopen = () => res(true);
		ws.onerror = () => rej(new Error('ws error ' + path));
		(window.socks = window.socks || {})[path] = ws;
	});
	window.send = (path, o) => window.socks[path].send(JSON.stringify(o));
}

const poolUsed = (page, name) => page.$eval(`#pools .bar[data-pool="${name}"]`,
    (e) => Number(e.dataset.used)).catch(() => -1);
const text = (page, sel) => page.$eval(sel, (e) => e.textContent).catch(() => '');

try {
	mkdirSync(SHOTS, { recursive: true });
	if (!check(await ward.start(), 'ward is healthy', ward.log.slice(-2000)))
		finish(1);
	browser = await launch();
	const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
	const dash = await ctx.newPage();
	const errors = [];
	dash.on('pageerror', (e) => errors.push(String(e)));
	await dash.goto(ward.url + '/admin/websocket-admin');

	// wrong token
	await dash.fill('#token', 'not-a-token');
	await dash.click('#login-form button');
	const bad = await until(async () => (await dash.isVisible('#login-error')) &&
	    await text(dash, '#login-error'), 3000);
	check(/refused/i.test(bad || ''), 'wrong token shows an error', bad);
	check(await dash.isVisible('#login') && !(await dash.isVisible('#dash')),
	    'wrong token: back at the sign-in form');
	await dash.screenshot({ path: join(SHOTS, 'dashboard-wrong-token.png') });
	const doctor = ward.token('doctor', { sub: '5' });
	await dash.fill('#token', doctor);
	await dash.click('#login-form button');
	const nad = await until(async () => (await dash.isVisible('#login-error')) &&
	    await text(dash, '#login-error'), 3000);
	check(/not an admin/i.test(nad || ''), 'non-admin token shows an error', nad);

	// good token
	const tok = ward.token('admin', { name: 'Ada Admin' });
	await dash.fill('#token', tok);
	await dash.click('#login-form button');
	const live = await until(async () => (await text(dash, '#live')) === 'live', 4000);
	check(live, 'admin token: the page goes live', await text(dash, '#live'));
	check(!dash.url().includes(tok) && !dash.url().includes('token'),
	    'the token is not in the URL', dash.url());
	check(await dash.evaluate((t) => sessionStorage.getItem('ward.adminToken') === t, tok),
	    'the token is in sessionStorage');
	const used0 = await poolUsed(dash, 'connections');
	check(used0 >= 0, 'pool bars drawn', used0);

	// a client connects
	const cl = await ctx.newPage();
	await cl.goto(ward.url + '/');
	await cl.evaluate(clientApp);
	const t0 = Date.now();
	const ctok = ward.token('patient', { name: 'Carol', sub: 'u9' });
	await cl.evaluate((t) => Promise.all([window.open2('/ws/call/dash-room/?token=' + t),
	    window.open2('/ws')]), ctok);
	const seen = await until(async () => {
		const rows = await text(dash, '#sockets tbody');
		return rows.includes('call') && rows.includes('unified') && rows.includes('Carol');
	}, 2500, 50);
	const dt = Date.now() - t0;
	check(seen && dt <= 2000, `a connected client shows within 2 s (${dt} ms)`, await text(dash, '#sockets tbody'));
	const roomRow = await until(async () => (await text(dash, '#rooms tbody')).includes('dash-room'), 2000);
	check(roomRow, 'the call room shows with its member');
	const moved = await until(async () => (await poolUsed(dash, 'connections')) > used0, 2500);
	check(moved, 'the connections pool bar moves', `${used0} -> ${await poolUsed(dash, 'connections')}`);
	check(/call/.test(await text(dash, '#by-type tbody')), 'connections by type listed');

	// switch the whiteboard off: the client's message is refused
	await cl.evaluate(() => window.send('/ws', { type: 'subscribe', practiceId: 'p-dash' }));
	await until(() => cl.evaluate(() => window.got.some((g) => g.m.type === 'subscribed')), 2000);
	await until(async () => (await text(dash, '#practices tbody')).includes('p-dash'), 2500);
	check((await text(dash, '#practices tbody')).includes('p-dash'), 'practices listed');
	await dash.click('button[data-service="whiteboard"]');
	const off = await until(async () => (await text(dash, 'button[data-service="whiteboard"]')) === 'off', 3000);
	check(off, 'the whiteboard switch turns off');
	await cl.evaluate(() => window.send('/ws', { type: 'whiteboard_update', practiceId: 'p-dash', data: {} }));
	const refused = await until(() => cl.evaluate(() => window.got.find((g) =>
	    g.m.type === 'error' && /disabled/.test(JSON.stringify(g.m)))), 2000);
	check(refused, "the client's whiteboard message is refused", JSON.stringify(refused));
	await dash.click('button[data-service="whiteboard"]');
	const on = await until(async () => (await text(dash, 'button[data-service="whiteboard"]')) === 'on', 3000);
	check(on, 'and back on');

	// send a test message to the room
	await dash.selectOption('#send-target', 'room');
	await dash.fill('#send-id', 'dash-room');
	await dash.fill('#send-message', '{"type":"admin_test","text":"hi room"}');
	await dash.click('#send-form button');
	const res = await until(async () => /delivered/.test(await text(dash, '#send-result')) &&
	    text(dash, '#send-result'), 3000);
	check(res === 'delivered to 1 client', 'the page shows the delivery count', res);
	const got = await until(() => cl.evaluate(() => window.got.find((g) =>
	    g.path.startsWith('/ws/call') && g.m.type === 'admin_test')), 2000);
	check(got && got.m.text === 'hi room', 'the client in the room gets it', JSON.stringify(got));

	// rate chart has data after a few seconds
	await sleep(1500);
	const drawn = await dash.evaluate(() => {
		const c = document.getElementById('rates');
		const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
		let n = 0;
		for (let i = 3; i < d.length; i += 4) n += d[i] > 0;
		return n;
	});
	check(drawn > 100, 'the rate chart is drawn', drawn);
	await dash.screenshot({ path: join(SHOTS, 'dashboard.png'), fullPage: true });

	// phone-sized
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 },
	    deviceScaleFactor: 2, isMobile: true, hasTouch: true });
	const ph = await phone.newPage();
	await ph.goto(ward.url + '/admin/websocket-admin');
	await ph.evaluate((t) => sessionStorage.setItem('ward.adminToken', t), tok);
	await ph.reload();
	await until(async () => (await text(ph, '#live')) === 'live', 4000);
	const over = await ph.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	check(over <= 1, 'phone: no sideways scrolling', over);
	await ph.screenshot({ path: join(SHOTS, 'dashboard-phone.png'), fullPage: true });

	// the token expires / is revoked: the page says so
	await dash.evaluate(() => sessionStorage.setItem('ward.adminToken', 'x.y.z'));
	const gone = await until(async () => (await dash.isVisible('#login-error')) &&
	    await text(dash, '#login-error'), 3000);
	check(/refused/i.test(gone || ''), 'a token refused mid-session shows an error', gone);
	check(errors.length === 0, 'no page errors', errors.join('; '));
} catch (e) {
	check(false, 'no exception', e && e.stack);
}
await cleanup();
finish();
