// admin.js - the ward dashboard (SPEC §7).  Plain ES module, no framework.
// The admin token lives in sessionStorage (this tab only) and travels in
// the Authorization header; it never appears in a URL.  Every second the
// page reads the admin APIs and redraws; a refused token returns to the
// sign-in form with the server's reason.
const KEY = 'ward.adminToken';
const $ = (id) => document.getElementById(id);
const HISTORY = 300;			// seconds of rates kept for the chart
const rates = [];			// {t, min, mout, bytes}
let prev = null;			// last totals, for the rates
let timer = 0;
let busy = false;

function token() { return sessionStorage.getItem(KEY) || ''; }

class ApiError extends Error {
  constructor(status, code, detail) {
    super(detail || code || ('HTTP ' + status));
    this.status = status;
    this.code = code;
  }
}

async function api(path, body) {
  const init = { headers: { Authorization: 'Bearer ' + token() }, cache: 'no-store' };
  if (body !== undefined) {
    init.method = 'POST';
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const r = await fetch(path, init);
  let j = null;
  try { j = await r.json(); } catch (e) { j = null; }
  if (!r.ok)
    throw new ApiError(r.status, j && j.error, j && j.detail);
  return j;
}

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined && text !== null) e.textContent = String(text);
  if (cls) e.className = cls;
  return e;
}

// Redraw a table only when what it shows changed, so buttons in it stay
// put between the once-a-second reads.
function sig(c) {
  if (!(c instanceof Node)) return c;
  return c.textContent + (c.dataset ? JSON.stringify(c.dataset) : '');
}

function fillRows(id, rows, empty) {
  const tb = $(id).tBodies[0];
  const s = JSON.stringify(rows.map((r) => r.map(sig)));
  if (tb.dataset.sig === s) return;
  tb.dataset.sig = s;
  const frag = document.createDocumentFragment();
  for (const cells of rows) {
    const tr = el('tr');
    for (const c of cells) {
      const td = el('td');
      if (c instanceof Node) td.appendChild(c); else td.textContent = c === undefined || c === null ? '' : String(c);
      tr.appendChild(td);
    }
    frag.appendChild(tr);
  }
  if (rows.length === 0) {
    const tr = el('tr');
    const td = el('td', empty || 'none', 'hint');
    td.colSpan = $(id).tHead.rows[0].cells.length;
    tr.appendChild(td);
    frag.appendChild(tr);
  }
  tb.replaceChildren(frag);
}

const ENDPOINTS = {
  call: '/ws/call/<room>/', stt: '/ws/stt/…', stt_sales: '/ws/stt/sales/',
  stt_admin: '/ws/stt/admin/', doctor_status: '/ws/doctor-status/',
  notifications: '/ws/notifications/', consultations: '/ws/consultations/',
  unified: '/ws', diagnosis: '/ws/<diagnosis_id>', echo: '/ws/echo', admin: '/ws/admin'
};

function drawPools(pools) {
  const box = $('pools');
  const frag = document.createDocumentFragment();
  for (const [name, p] of Object.entries(pools)) {
    const pct = p.capacity > 0 ? Math.min(100, (100 * p.used) / p.capacity) : 0;
    const d = el('div', null, 'bar' + (pct >= 90 ? ' hot' : ''));
    d.dataset.pool = name;
    d.dataset.used = p.used;
    const lab = el('div', null, 'lab');
    lab.append(el('span', name.replace(/_/g, ' ')), el('span', p.used + ' / ' + p.capacity));
    const tr = el('div', null, 'track');
    const f = el('div', null, 'fill');
    f.style.width = pct.toFixed(1) + '%';
    tr.appendChild(f);
    d.append(lab, tr);
    frag.appendChild(d);
  }
  box.replaceChildren(frag);
}

function noteRates(t) {
  const now = Date.now() / 1000;
  if (prev) {
    const dt = Math.max(0.001, now - prev.at);
    rates.push({
      min: Math.max(0, (t.messages_in - prev.messages_in) / dt),
      mout: Math.max(0, (t.messages_out - prev.messages_out) / dt),
      bytes: Math.max(0, (t.bytes_in + t.bytes_out - prev.bytes_in - prev.bytes_out) / dt / 1024)
    });
    while (rates.length > HISTORY) rates.shift();
  }
  prev = Object.assign({ at: now }, t);
}

function drawRates() {
  const cv = $('rates');
  const w = cv.clientWidth || 600, h = cv.clientHeight || 160;
  const dpr = window.devicePixelRatio || 1;
  if (cv.width !== Math.round(w * dpr)) { cv.width = Math.round(w * dpr); cv.height = Math.round(h * dpr); }
  const g = cv.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, w, h);
  const pad = 28;
  let max = 1;
  for (const r of rates) max = Math.max(max, r.min, r.mout, r.bytes);
  g.strokeStyle = '#e1e5ea'; g.fillStyle = '#66707a'; g.font = '10px sans-serif';
  for (let k = 0; k <= 4; k++) {
    const y = h - 14 - (k * (h - 24)) / 4;
    g.beginPath(); g.moveTo(pad, y); g.lineTo(w, y); g.stroke();
    g.fillText(((max * k) / 4).toFixed(max < 8 ? 1 : 0), 0, y + 3);
  }
  g.fillText('-5 min', pad, h - 2); g.fillText('now', w - 22, h - 2);
  const line = (key, color) => {
    g.strokeStyle = color; g.lineWidth = 1.5; g.beginPath();
    rates.forEach((r, i) => {
      const x = pad + ((w - pad) * (HISTORY - rates.length + i)) / (HISTORY - 1);
      const y = h - 14 - (r[key] * (h - 24)) / max;
      if (i === 0) g.moveTo(x, y); else g.lineTo(x, y);
    });
    g.stroke();
  };
  line('bytes', '#d98b00'); line('mout', '#1a7f37'); line('min', '#0b5cad');
}

function serviceButton(s) {
  const b = el('button', s.enabled ? 'on' : 'off', 'toggle' + (s.enabled ? '' : ' offb'));
  b.type = 'button';
  b.dataset.service = s.name;
  b.setAttribute('aria-pressed', String(!!s.enabled));
  b.addEventListener('click', async () => {
    b.disabled = true;
    try { await api('/admin/api/services/' + encodeURIComponent(s.name), { enabled: !s.enabled }); await refresh(); }
    catch (e) { fail(e); }
    finally { b.disabled = false; }
  });
  return b;
}

function members(list, size) {
  const span = el('span');
  for (const m of list) {
    const who = m.name || m.user || '';
    span.appendChild(el('span', m.socket_id + (who ? ' (' + who + ')' : ''), 'member'));
  }
  if (size > list.length) span.appendChild(el('span', '+' + (size - list.length) + ' more', 'hint'));
  return span;
}

function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 90 ? s + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : Math.round(s / 3600) + ' h';
}

function render(ov, so, ro, dg, dr) {
  $('version').textContent = ov.version || '';
  $('conn-total').textContent = ov.connections.total;
  const c = ov.connections;
  $('ws-total').textContent = c.scope === 'cluster'
    ? c.websockets + ' (cluster of ' + c.instances + ' instances; ' + c.local_websockets + ' here)'
    : c.websockets;
  fillRows('by-type', Object.entries(ov.connections.by_type).map(([t, n]) => [t, ENDPOINTS[t] || '', n]), 'no WebSockets');
  $('redis').textContent = ov.redis || 'not configured';
  $('tls').textContent = ov.tls || 'not configured';
  $('uptime').textContent = ov.uptime_s + ' s';
  drawPools(ov.pools);
  noteRates(ov.totals);
  drawRates();
  fillRows('services', ov.services.map((s) => [s.name, (s.messageTypes || []).join(', '), s.scope || (s.name === 'whiteboard' ? 'practice' : s.name === 'telemedicine' ? 'room' : ''), serviceButton(s)]));
  const rooms = ro.rooms.filter((r) => r.kind !== 'practice' && r.kind !== 'diagnosis');
  fillRows('rooms', rooms.map((r) => [r.kind, r.name, members(r.members, r.size)]), 'no rooms');
  fillRows('practices', ro.rooms.filter((r) => r.kind === 'practice').map((r) => [r.name, members(r.members, r.size)]), 'no practices');
  fillRows('diagnoses', (dg ? dg.diagnoses : []).map((d) => [d.diagnosis_id, d.connections, d.queued, d.dropped || 0]), 'none registered');
  fillRows('doctors', (dr ? dr.doctors : []).map((d) => [d.doctor_id, d.name, d.current_status + (d.status_note ? ' — ' + d.status_note : '')]), 'none registered');
  $('sockets-note').textContent = so.total > so.sockets.length ? '(' + so.sockets.length + ' of ' + so.total + ')' : '';
  fillRows('sockets', so.sockets.map((s) => [s.socket_id, s.socket_type,
    (s.user_info && (s.user_info.name || s.user_info.user_id)) || s.user_id || '',
    (s.user_info && s.user_info.role) || '', s.messages_in + '/' + s.messages_out, ago(s.connected_at)]), 'no sockets');
}

function fail(e) {
  if (e instanceof ApiError && (e.status === 401 || e.status === 403)) {
    signOut(e.status === 401 ? 'Token refused: ' + e.message : 'Not an admin token: ' + e.message);
    return;
  }
  $('dash-error').textContent = 'Cannot read the server: ' + e.message;
  $('dash-error').hidden = false;
  $('live').className = 'pill err';
  $('live').textContent = 'error';
}

async function refresh() {
  if (busy) return;
  busy = true;
  try {
    const opt = (p) => api(p).catch((e) => { if (e.status === 401 || e.status === 403) throw e; return null; });
    const [ov, so, ro, dg, dr] = await Promise.all([api('/admin/api/overview'),
      api('/admin/api/sockets?limit=200'), api('/admin/api/rooms'),
      opt('/api/diagnoses'), opt('/api/doctors/status')]);
    render(ov, so, ro, dg, dr);
    $('dash-error').hidden = true;
    $('live').className = 'pill on';
    $('live').textContent = 'live';
  } catch (e) {
    fail(e);
  } finally {
    busy = false;
  }
}

function signIn() {
  $('login').hidden = true;
  $('dash').hidden = false;
  $('signout').hidden = false;
  $('login-error').hidden = true;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, 1000);
}

function signOut(why) {
  clearInterval(timer);
  timer = 0;
  sessionStorage.removeItem(KEY);
  prev = null;
  rates.length = 0;
  $('dash').hidden = true;
  $('signout').hidden = true;
  $('login').hidden = false;
  $('live').className = why ? 'pill err' : 'pill off';
  $('live').textContent = why ? 'refused' : 'signed out';
  $('login-error').textContent = why || '';
  $('login-error').hidden = !why;
}

$('login-form').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const t = $('token').value.trim();
  $('token').value = '';
  if (!t) return;
  sessionStorage.setItem(KEY, t);
  signIn();
});

$('signout').addEventListener('click', () => signOut());

$('send-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const out = $('send-result');
  let message;
  try { message = JSON.parse($('send-message').value); }
  catch (e) { out.textContent = 'message is not JSON: ' + e.message; return; }
  const body = { target: $('send-target').value, message };
  if (body.target !== 'service') body.id = $('send-id').value.trim();
  out.textContent = 'sending…';
  try {
    const r = await api('/admin/api/send', body);
    out.textContent = 'delivered to ' + r.clients_notified + (r.clients_notified === 1 ? ' client' : ' clients');
    out.dataset.count = r.clients_notified;
  } catch (e) {
    if (e.status === 401 || e.status === 403) fail(e);
    else out.textContent = 'refused: ' + e.message;
  }
});

if (token()) signIn();
