// lib.mjs - what the browser suites of issue 13 share: a ward process on a
// free port (with extra --set lines), HS256 tokens, checks that print one
// line each and a final "N passed, M failed", and Debian's chromium.
//
// Env: WARD_BIN (default <repo>/build/host/ward), CHROMIUM_BIN (default
// /usr/bin/chromium), BROWSER_TEST_VERBOSE=1.
import { spawn } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const WARD_BIN = process.env.WARD_BIN || join(ROOT, 'build', 'host', 'ward');
export const CHROMIUM = process.env.CHROMIUM_BIN || '/usr/bin/chromium';
export const VERBOSE = !!process.env.BROWSER_TEST_VERBOSE;
export const HOST = '127.0.0.1';
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let passed = 0, failed = 0;

export function check(ok, what, detail) {
	if (ok) {
		passed++;
		console.log(`ok   ${what}`);
	} else {
		failed++;
		console.log(`FAIL ${what}${detail !== undefined ? ': ' + detail : ''}`);
	}
	return ok;
}

export function finish(code) {
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(code !== undefined ? code : (failed ? 1 : 0));
}

// Fail and exit when the run takes longer than ms.
export function watchdog(ms, cleanup) {
	const t = setTimeout(async () => {
		check(false, `whole run within ${ms / 1000} s`);
		try { await cleanup(); } catch {}
		finish(1);
	}, ms);
	t.unref();
}

const b64u = (b) => Buffer.from(b).toString('base64url');

export function token(secret, role, { name = 'User', sub = '1', ttl = 600, ...extra } = {}) {
	const now = Math.floor(Date.now() / 1000);
	const si = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' })) + '.' +
	    b64u(JSON.stringify({ sub, role, name, iat: now, exp: now + ttl, ...extra }));
	return si + '.' + createHmac('sha256', secret).update(si).digest('base64url');
}

export function freePort() {
	return new Promise((res, rej) => {
		const s = createServer();
		s.unref();
		s.on('error', rej);
		s.listen(0, HOST, () => {
			const { port } = s.address();
			s.close(() => res(port));
		});
	});
}

export function healthStatus(port) {
	return new Promise((res) => {
		const req = http.get({ host: HOST, port, path: '/health',
		    agent: false, timeout: 1000 }, (r) => {
			r.resume();
			r.on('end', () => res(r.statusCode));
		});
		req.on('timeout', () => req.destroy());
		req.on('error', () => res(0));
	});
}

// The development CA and certificates (make dev-tls; exported by tls.mk).
export const TLS_DIR = process.env.WARD_TLS_TEST_DIR ||
    join(ROOT, 'build', 'dev-tls');

export class Ward {
	// opts.tls: also a TLS listener (this.tlsPort) with the development
	// certificate; tlsUrl / wssUrl name it.
	constructor(sets = [], opts = {}) {
		this.sets = sets;
		this.tls = !!opts.tls;
		this.tlsPort = 0;
		this.tmp = mkdtempSync(join(tmpdir(), 'ward-browser-'));
		this.secret = randomBytes(32).toString('hex');
		this.log = '';
		this.proc = null;
		this.port = 0;
		this.exit = null;
	}

	get url() { return `http://${HOST}:${this.port}`; }
	get wsUrl() { return `ws://${HOST}:${this.port}`; }
	get tlsUrl() { return `https://${HOST}:${this.tlsPort}`; }
	get wssUrl() { return `wss://${HOST}:${this.tlsPort}`; }
	token(role, opts) { return token(this.secret, role, opts); }

	// Start on a free port, or on this.port again when keepPort is set.
	async start(keepPort = false) {
		const env = {};
		for (const [k, v] of Object.entries(process.env))
			if (!k.startsWith('WARD_') && !['WEBSOCKET_ENABLED',
			    'WEBSOCKET_HEARTBEAT_INTERVAL', 'REDIS_HOST', 'REDIS_PORT',
			    'REDIS_PASSWORD'].includes(k))
				env[k] = v;
		for (let attempt = 0; attempt < 3; attempt++) {
			if (!keepPort || !this.port)
				this.port = await freePort();
			this.exit = null;
			const args = ['--set', `listen=${HOST}:${this.port}`,
			    '--set', `jwt_secret=${this.secret}`,
			    '--set', `data_dir=${this.tmp}`];
			if (this.tls) {
				if (!keepPort || !this.tlsPort)
					this.tlsPort = await freePort();
				args.push('--set', `tls_listen=${HOST}:${this.tlsPort}`,
				    '--set', `tls_cert=${join(TLS_DIR, 'server-ec.pem')}`,
				    '--set', `tls_key=${join(TLS_DIR, 'server-ec.key')}`);
			}
			for (const s of this.sets)
				args.push('--set', s);
			const p = spawn(WARD_BIN, args, { cwd: this.tmp, env,
			    stdio: ['ignore', 'pipe', 'pipe'] });
			this.proc = p;
			const keep = (b) => {
				this.log += b.toString();
				if (VERBOSE)
					process.stderr.write(b);
				if (this.log.length > 200000)
					this.log = this.log.slice(-100000);
			};
			p.stdout.on('data', keep);
			p.stderr.on('data', keep);
			this.exited = new Promise((r) => p.on('exit',
			    (code, signal) => { this.exit = { code, signal }; r(this.exit); }));
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
			if (!/in use/i.test(this.log) && !keepPort)
				break;
			await sleep(200);
		}
		return false;
	}

	async stop(ms = 6000) {
		if (!this.proc || this.exit !== null)
			return;
		this.proc.kill('SIGTERM');
		const r = await Promise.race([this.exited, sleep(ms).then(() => null)]);
		if (r === null) {
			this.proc.kill('SIGKILL');
			await this.exited;
		}
		// sanitizer builds (make VARIANT=asan) report into the log
		const bad = /ERROR: (Address|Leak)Sanitizer|runtime error:/.exec(this.log);
		if (bad)
			throw new Error('sanitizer report in the ward log: ' +
			    this.log.slice(Math.max(0, bad.index - 200), bad.index + 1500));
	}

	cleanup() {
		if (this.proc && this.exit === null)
			this.proc.kill('SIGKILL');
		try { rmSync(this.tmp, { recursive: true, force: true }); } catch {}
	}

	async api(method, path, body, tok) {
		const r = await fetch(this.url + path, { method,
		    headers: { 'Content-Type': 'application/json',
		    ...(tok ? { Authorization: 'Bearer ' + tok } : {}) },
		    body: body === undefined ? undefined : JSON.stringify(body) });
		let j = null;
		try { j = await r.json(); } catch {}
		return { status: r.status, json: j };
	}
}

export async function launch() {
	const { chromium } = await import('playwright-core');
	return chromium.launch({
		executablePath: CHROMIUM,
		headless: true,
		timeout: 20000,
		args: ['--headless', '--no-sandbox', '--disable-gpu',
		    '--disable-quic', '--no-first-run',
		    '--disable-background-networking',
		    '--disable-component-update', '--disable-sync'],
	});
}

// Poll fn (async) until it returns truthy or ms pass; returns its value.
export async function until(fn, ms = 5000, step = 50) {
	const end = Date.now() + ms;
	let v;
	while (Date.now() < end) {
		try { v = await fn(); } catch { v = undefined; }
		if (v)
			return v;
		await sleep(step);
	}
	return v;
}
