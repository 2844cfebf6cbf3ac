// ward-client.js - ward's client for browsers and Node >= 20 (ES module, no
// dependencies).  Served by ward at /static/ward-client.js; types beside it
// at /static/ward-client.d.ts.
//
//   SocketStatusService   the seeds' (000/001) status service: polls
//                         GET /consultation/socket-status/
//   WebSocketManager      the seed 003 unified manager for /ws: states,
//                         reconnect with exponential backoff and full
//                         jitter, handlers, a bounded send queue
//   WhiteboardService, TelemedicineService   the seed 003 helpers
//
// Node 20 has no global WebSocket: pass one, e.g.
//   import WebSocket from 'ws';
//   const m = new WebSocketManager({ url: 'ws://127.0.0.1:8000/ws', WebSocket });
// Close codes follow ward's README table: no reconnect after 1002, 1003,
// 1007, 1008 or 1009; a 1008 "token expired" asks getToken() for a new
// token and reconnects with it.

const g = typeof globalThis !== 'undefined' ? globalThis : {};

export const WebSocketStatus = Object.freeze({
  DISCONNECTED: 'disconnected',
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  ERROR: 'error',
});

/* Codes after which reconnecting cannot help (README "Close codes"). */
export const FATAL_CLOSE_CODES = Object.freeze([1002, 1003, 1007, 1008, 1009]);

function originOf() {
  return g.location && g.location.origin && g.location.origin !== 'null' ? g.location.origin : '';
}

function toWs(httpBase) {
  return httpBase.replace(/^http(s?):/i, 'ws$1:');
}

function trimSlash(s) {
  return String(s || '').replace(/\/+$/, '');
}

function safeCall(fn, arg, what) {
  try {
    fn(arg);
  } catch (e) {
    if (g.console) g.console.error('ward-client: ' + what + ' failed', e);
  }
}

/* Full jitter (AWS architecture blog): uniform in [0, min(cap, base * 2^n)). */
export function backoffDelay(attempt, baseMs = 500, maxMs = 30000, random = Math.random) {
  const ceil = Math.min(maxMs, baseMs * Math.pow(2, Math.max(0, attempt)));
  return Math.floor(random() * ceil);
}

// --------------------------------------------------------------------------
// SocketStatusService (seeds 000/001)

export class SocketStatusService {
  /**
   * @param {object} [opts] apiUrl (http base, default: the page's origin),
   *   wsUrl (ws base, default from apiUrl), statusPath, fetch, WebSocket
   */
  constructor(opts = {}) {
    this.listeners = new Set();
    this.pollTimer = null;
    this.pollFrequency = 10000;
    this.configure(opts);
    this.clear();
  }

  configure(opts = {}) {
    if (opts.apiUrl !== undefined || this.apiUrl === undefined)
      this.apiUrl = trimSlash(opts.apiUrl !== undefined ? opts.apiUrl : originOf());
    if (opts.wsUrl !== undefined) this.wsUrl = trimSlash(opts.wsUrl);
    else if (opts.apiUrl !== undefined || this.wsUrl === undefined) this.wsUrl = toWs(this.apiUrl);
    if (opts.statusPath !== undefined || this.statusPath === undefined)
      this.statusPath = opts.statusPath || '/consultation/socket-status/';
    if (opts.fetch) this.fetchImpl = opts.fetch;
    if (opts.WebSocket) this.WebSocketImpl = opts.WebSocket;
    return this;
  }

  /** Start polling every pollFrequency ms (first read at once). */
  initialize(pollFrequency = 10000) {
    this.pollFrequency = Math.max(250, Number(pollFrequency) || 10000);
    this.startPolling();
    return this.fetchSocketStatus();
  }

  startPolling() {
    this.stopPolling();
    this.pollTimer = setInterval(() => { this.fetchSocketStatus(); }, this.pollFrequency);
    if (this.pollTimer && this.pollTimer.unref) this.pollTimer.unref();
  }

  stopPolling() {
    if (this.pollTimer !== null) clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  async fetchSocketStatus() {
    const f = this.fetchImpl || g.fetch;
    this.status = { ...this.status, isConnecting: true };
    try {
      if (!f) throw new Error('no fetch available');
      const r = await f(this.apiUrl + this.statusPath, { headers: { Accept: 'application/json' } });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      const j = await r.json();
      this.status = {
        active: !!j.active,
        totalSockets: Number(j.total_sockets) || 0,
        socketsByType: j.sockets_by_type || {},
        wsUrl: this.wsUrl,
        apiUrl: this.apiUrl,
        endpoints: j.ws_endpoints || {},
        isConnecting: false,
        lastError: null,
        timestamp: j.timestamp || new Date().toISOString(),
      };
    } catch (e) {
      this.status = { ...this.status, isConnecting: false,
        lastError: (e && e.message) || String(e), timestamp: new Date().toISOString() };
    }
    this.notifyListeners();
    return this.getStatus();
  }

  /** Returns the unsubscribe function. */
  subscribe(callback) {
    if (typeof callback !== 'function') throw new TypeError('subscribe needs a function');
    this.listeners.add(callback);
    return () => { this.listeners.delete(callback); };
  }

  notifyListeners() {
    const s = this.getStatus();
    for (const cb of [...this.listeners]) safeCall(cb, s, 'status listener');
  }

  getStatus() { return { ...this.status, socketsByType: { ...this.status.socketsByType } }; }
  isSocketActive() { return !!this.status.active; }
  getSocketCountByType() { return { ...this.status.socketsByType }; }
  getTotalSocketCount() { return this.status.totalSockets; }
  getWsUrl() { return this.wsUrl; }
  getApiUrl() { return this.apiUrl; }
  getEndpoints() { return { ...this.status.endpoints }; }
  getLastError() { return this.status.lastError; }

  /**
   * Open and close a WebSocket to path (default the seeds' test room
   * /ws/call/test-socket/); true when it opened in time.
   */
  testConnection(path = '/ws/call/test-socket/', timeoutMs = 5000) {
    const WS = this.WebSocketImpl || g.WebSocket;
    return new Promise((resolve) => {
      let ws, done = false;
      const end = (ok, err) => {
        if (done) return;
        done = true;
        clearTimeout(t);
        if (!ok) {
          this.status = { ...this.status, lastError: err };
          this.notifyListeners();
        }
        try { ws && ws.close(1000); } catch (e) { /* closing anyway */ }
        resolve(ok);
      };
      const t = setTimeout(() => end(false, 'connection test timed out'), timeoutMs);
      try {
        if (!WS) throw new Error('no WebSocket available');
        ws = new WS(this.wsUrl + (path.startsWith('/') ? path : '/' + path));
        ws.onopen = () => end(true);
        ws.onerror = () => end(false, 'WebSocket connection failed');
        ws.onclose = (ev) => end(false, 'closed ' + (ev && ev.code));
      } catch (e) {
        end(false, (e && e.message) || String(e));
      }
    });
  }

  clear() {
    this.status = { active: false, totalSockets: 0, socketsByType: {}, wsUrl: this.wsUrl,
      apiUrl: this.apiUrl, endpoints: {}, isConnecting: false, lastError: null, timestamp: null };
    this.notifyListeners();
  }

  getFormattedStatus() {
    const s = this.status;
    const lines = [
      'WebSocket status: ' + (s.active ? 'active' : 'inactive'),
      'Total sockets: ' + s.totalSockets,
    ];
    for (const [t, n] of Object.entries(s.socketsByType)) lines.push('  ' + t + ': ' + n);
    lines.push('API: ' + s.apiUrl, 'WS: ' + s.wsUrl);
    if (s.lastError) lines.push('Last error: ' + s.lastError);
    if (s.timestamp) lines.push('Updated: ' + s.timestamp);
    return lines.join('\n');
  }
}

// --------------------------------------------------------------------------
// WebSocketManager (seed 003)

const DEFAULT_SERVICES = {
  whiteboard: { name: 'Whiteboard', messageTypes: ['whiteboard_update'], enabled: true },
  telemedicine: { name: 'Telemedicine', messageTypes: ['telemedicine_offer', 'telemedicine_answer',
    'telemedicine_ice_candidate', 'telemedicine_user_joined', 'telemedicine_user_left',
    'telemedicine_chat_message', 'telemedicine_joined'], enabled: true },
};

export class WebSocketManager {
  /**
   * @param {object} [opts] url (default: the page's origin + /ws),
   *   WebSocket, token, getToken (async: a fresh token after "token
   *   expired"), tokenIn ('protocol' | 'query'), baseDelayMs, maxDelayMs,
   *   maxAttempts, maxQueue, random
   */
  constructor(opts = {}) {
    this.handlers = new Map();
    this.statusListeners = new Set();
    this.queue = [];
    this.ws = null;
    this.status = WebSocketStatus.DISCONNECTED;
    this.attempt = 0;
    this.timer = null;
    this.wanted = false;
    this.clientId = null;
    this.lastClose = null;
    this.lastError = null;
    this.services = JSON.parse(JSON.stringify(DEFAULT_SERVICES));
    this.configure(opts);
  }

  configure(opts = {}) {
    const o = { ...this.opts, ...opts };
    this.opts = o;
    this.url = o.url || (originOf() ? toWs(originOf()) + '/ws' : '');
    this.WebSocketImpl = o.WebSocket || this.WebSocketImpl;
    this.token = o.token !== undefined ? o.token : this.token;
    this.baseDelayMs = o.baseDelayMs !== undefined ? o.baseDelayMs : 500;
    this.maxDelayMs = o.maxDelayMs !== undefined ? o.maxDelayMs : 30000;
    this.maxAttempts = o.maxAttempts !== undefined ? o.maxAttempts : Infinity;
    this.maxQueue = o.maxQueue !== undefined ? o.maxQueue : 100;
    this.random = o.random || Math.random;
    return this;
  }

  getStatus() { return this.status; }
  getClientId() { return this.clientId; }
  getLastClose() { return this.lastClose; }
  getQueueLength() { return this.queue.length; }
  isConnected() { return this.status === WebSocketStatus.CONNECTED; }

  setStatus(s) {
    if (this.status === s) return;
    this.status = s;
    for (const cb of [...this.statusListeners]) safeCall(cb, s, 'status listener');
  }

  onStatusChange(cb) {
    this.statusListeners.add(cb);
    return () => { this.statusListeners.delete(cb); };
  }

  /** type '*' sees every message.  Returns the unregister function. */
  registerHandler(type, handler) {
    if (!this.handlers.has(type)) this.handlers.set(type, new Set());
    this.handlers.get(type).add(handler);
    return () => {
      const s = this.handlers.get(type);
      if (s) { s.delete(handler); if (s.size === 0) this.handlers.delete(type); }
    };
  }

  connect(url) {
    if (url) this.url = url;
    this.wanted = true;
    if (this.ws && (this.status === WebSocketStatus.CONNECTED || this.status === WebSocketStatus.CONNECTING))
      return;
    clearTimeout(this.timer);
    this.timer = null;
    this.open(WebSocketStatus.CONNECTING);
  }

  disconnect() {
    this.wanted = false;
    clearTimeout(this.timer);
    this.timer = null;
    this.queue.length = 0;
    const ws = this.ws;
    this.ws = null;
    if (ws) {
      ws.onopen = ws.onmessage = ws.onerror = ws.onclose = null;
      try { ws.close(1000, 'client disconnect'); } catch (e) { /* gone */ }
    }
    this.attempt = 0;
    this.setStatus(WebSocketStatus.DISCONNECTED);
  }

  open(status) {
    const WS = this.WebSocketImpl || g.WebSocket;
    this.setStatus(status);
    if (!WS || !this.url) {
      this.lastError = !WS ? 'no WebSocket constructor: pass opts.WebSocket' : 'no url';
      this.wanted = false;
      this.setStatus(WebSocketStatus.ERROR);
      return;
    }
    let url = this.url, protocols;
    if (this.token && this.opts.tokenIn === 'query')
      url += (url.includes('?') ? '&' : '?') + 'token=' + encodeURIComponent(this.token);
    else if (this.token)
      protocols = ['bearer', this.token];
    let ws;
    try {
      ws = protocols ? new WS(url, protocols) : new WS(url);
    } catch (e) {
      this.lastError = (e && e.message) || String(e);
      this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (ws !== this.ws) return;
      this.attempt = 0;
      this.setStatus(WebSocketStatus.CONNECTED);
      this.flush();
    };
    ws.onmessage = (ev) => { if (ws === this.ws) this.dispatch(ev.data); };
    ws.onerror = () => { if (ws === this.ws) this.lastError = 'WebSocket error'; };
    ws.onclose = (ev) => { if (ws === this.ws) this.closed(ev.code, String(ev.reason || '')); };
  }

  dispatch(data) {
    let m;
    try { m = JSON.parse(typeof data === 'string' ? data : String(data)); } catch (e) { return; }
    if (!m || typeof m !== 'object') return;
    if (m.type === 'connected' && m.clientId) this.clientId = m.clientId;
    const run = (set) => { if (set) for (const h of [...set]) safeCall(h, m, 'handler ' + m.type); };
    run(this.handlers.get(m.type));
    run(this.handlers.get('*'));
  }

  async closed(code, reason) {
    this.ws = null;
    this.lastClose = { code, reason };
    if (!this.wanted) {
      this.setStatus(WebSocketStatus.DISCONNECTED);
      return;
    }
    if (code === 1008 && /token expired/i.test(reason) && typeof this.opts.getToken === 'function') {
      let t = null;
      try { t = await this.opts.getToken(); } catch (e) { t = null; }
      if (t && this.wanted) {
        this.token = t;
        this.scheduleReconnect();
        return;
      }
    }
    if (FATAL_CLOSE_CODES.includes(code) || code === 1000) {
      this.lastError = 'closed ' + code + (reason ? ' ' + reason : '');
      this.wanted = false;
      this.queue.length = 0;
      this.setStatus(code === 1000 ? WebSocketStatus.DISCONNECTED : WebSocketStatus.ERROR);
      return;
    }
    this.scheduleReconnect();
  }

  /** The delay before the next attempt (full jitter); for tests too. */
  nextDelay(attempt = this.attempt) {
    return backoffDelay(attempt, this.baseDelayMs, this.maxDelayMs, this.random);
  }

  scheduleReconnect() {
    if (this.attempt >= this.maxAttempts) {
      this.wanted = false;
      this.setStatus(WebSocketStatus.ERROR);
      return;
    }
    const d = this.nextDelay(this.attempt);
    this.attempt++;
    this.lastDelay = d;
    this.setStatus(WebSocketStatus.RECONNECTING);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.wanted) this.open(WebSocketStatus.RECONNECTING);
    }, d);
  }

  flush() {
    while (this.queue.length > 0 && this.ws && this.status === WebSocketStatus.CONNECTED) {
      const s = this.queue.shift();
      this.ws.send(s);
    }
  }

  /**
   * Send an object (as JSON) now; while connecting or reconnecting queue
   * it (at most maxQueue, the oldest dropped first).  Returns true when
   * sent or queued, false when not connected and not trying to be.
   */
  sendMessage(message) {
    const s = typeof message === 'string' ? message : JSON.stringify(message);
    if (this.ws && this.status === WebSocketStatus.CONNECTED) {
      this.ws.send(s);
      return true;
    }
    if (!this.wanted) return false;
    if (this.maxQueue <= 0) return false;
    if (this.queue.length >= this.maxQueue) this.queue.shift();
    this.queue.push(s);
    return true;
  }

  enableService(name) { if (this.services[name]) this.services[name].enabled = true; }
  disableService(name) { if (this.services[name]) this.services[name].enabled = false; }
  getServices() { return JSON.parse(JSON.stringify(this.services)); }
  isServiceEnabled(name) { return !!(this.services[name] && this.services[name].enabled); }
}

// --------------------------------------------------------------------------
// Whiteboard and telemedicine helpers (seed 003)

export class WhiteboardService {
  constructor(manager) { this.manager = manager; }
  connect() { this.manager.enableService('whiteboard'); this.manager.connect(); }
  disconnect() { this.manager.disconnect(); }
  /** Join a practice's whiteboard (needed unless the token names one). */
  subscribe(practiceId) { return this.manager.sendMessage({ type: 'subscribe', practiceId }); }
  onWhiteboardUpdate(cb) { return this.manager.registerHandler('whiteboard_update', cb); }
  sendWhiteboardUpdate(practiceId, data) {
    if (!this.manager.isServiceEnabled('whiteboard')) return false;
    return this.manager.sendMessage({ type: 'whiteboard_update', practiceId, data,
      timestamp: new Date().toISOString() });
  }
  onStatusChange(cb) { return this.manager.onStatusChange(cb); }
}

export class TelemedicineService {
  constructor(manager) { this.manager = manager; }
  connect() { this.manager.enableService('telemedicine'); this.manager.connect(); }
  disconnect() { this.manager.disconnect(); }
  send(type, fields) {
    if (!this.manager.isServiceEnabled('telemedicine')) return false;
    return this.manager.sendMessage({ type, ...fields, timestamp: new Date().toISOString() });
  }
  joinRoom(roomId, appointmentId, userId, userName) {
    return this.send('telemedicine_join', { roomId, appointmentId, userId, userName });
  }
  leaveRoom(roomId, appointmentId, userId) {
    return this.send('telemedicine_leave', { roomId, appointmentId, userId });
  }
  sendOffer(roomId, appointmentId, offer, userId, to) {
    return this.send('telemedicine_offer', { roomId, appointmentId, offer, userId, ...(to ? { to } : {}) });
  }
  sendAnswer(roomId, appointmentId, answer, userId, to) {
    return this.send('telemedicine_answer', { roomId, appointmentId, answer, userId, ...(to ? { to } : {}) });
  }
  sendIceCandidate(roomId, appointmentId, candidate, userId, to) {
    return this.send('telemedicine_ice_candidate', { roomId, appointmentId, candidate, userId, ...(to ? { to } : {}) });
  }
  sendChatMessage(roomId, appointmentId, message, userName, userId) {
    return this.send('telemedicine_chat_message', { roomId, appointmentId, message, userName, userId });
  }
  onJoined(cb) { return this.manager.registerHandler('telemedicine_joined', cb); }
  onOffer(cb) { return this.manager.registerHandler('telemedicine_offer', cb); }
  onAnswer(cb) { return this.manager.registerHandler('telemedicine_answer', cb); }
  onIceCandidate(cb) { return this.manager.registerHandler('telemedicine_ice_candidate', cb); }
  onUserJoined(cb) { return this.manager.registerHandler('telemedicine_user_joined', cb); }
  onUserLeft(cb) { return this.manager.registerHandler('telemedicine_user_left', cb); }
  onChatMessage(cb) { return this.manager.registerHandler('telemedicine_chat_message', cb); }
  onStatusChange(cb) { return this.manager.onStatusChange(cb); }
}

// Singletons, as the seeds import them (configure() them in Node).
export const socketStatusService = new SocketStatusService();
export const webSocketManager = new WebSocketManager();
export const whiteboardService = new WhiteboardService(webSocketManager);
export const telemedicineService = new TelemedicineService(webSocketManager);

// Legacy seed 003 names.
export function connectWebSocket() { webSocketManager.connect(); }
export function registerMessageHandler(type, handler) { return webSocketManager.registerHandler(type, handler); }

export default socketStatusService;
