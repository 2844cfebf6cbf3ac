// ward-status.js - <ward-status>: a custom element showing ward's socket
// status (GET /consultation/socket-status/, polled through ward-client.js).
// Served at /static/ward-status.js.
//
//   <script type="module" src="http://ward:8000/static/ward-status.js"></script>
//   <ward-status mode="compact"></ward-status>
//   <ward-status mode="full" poll="5000" api-url="http://ward:8000"></ward-status>
//   <ward-status mode="details"></ward-status>
//
// mode     compact (a dot and a count), full (plus counts by type and the
//          last error), details (plus endpoints, URLs and the time read)
// poll     ms between reads, default 10000 (at least 1000)
// api-url  ward's http(s) base; default: where this script came from
//
// It fires a "ward-status" event (detail: the status) after every read;
// in React use it as <ward-status mode="full" /> and listen with a ref.
import { SocketStatusService } from './ward-client.js';

const SCRIPT_ORIGIN = new URL(import.meta.url).origin;

const CSS = `
:host{display:inline-block;font:13px/1.4 system-ui,sans-serif;color:#1d2733}
.box{border:1px solid #d5dbe1;border-radius:6px;padding:4px 8px;background:#fff}
:host([mode="compact"]) .box{border-radius:12px;padding:2px 8px}
.dot{display:inline-block;width:9px;height:9px;border-radius:50%;background:#c62828;margin-right:5px;vertical-align:middle}
.on .dot{background:#1a7f37}
.err{color:#c62828;margin-top:3px}
table{border-collapse:collapse;margin-top:4px}td{padding:0 8px 0 0}
.mute{color:#66707a;font-size:.9em}
[hidden]{display:none!important}
`;

export class WardStatusElement extends HTMLElement {
  static get observedAttributes() { return ['mode', 'poll', 'api-url']; }

  constructor() {
    super();
    this.root = this.attachShadow({ mode: 'open' });
    this.root.innerHTML = `<style>${CSS}</style><div class="box" part="box">
      <span class="dot"></span><span class="label">WebSocket …</span>
      <div class="bytype" hidden><table></table></div>
      <div class="err" role="alert" hidden></div>
      <div class="more mute" hidden></div></div>`;
    this.service = null;
    this.unsub = null;
  }

  get mode() {
    const m = this.getAttribute('mode');
    return m === 'full' || m === 'details' ? m : 'compact';
  }

  connectedCallback() { this.start(); }
  disconnectedCallback() { this.stop(); }
  attributeChangedCallback() { if (this.isConnected) { this.stop(); this.start(); } }

  start() {
    const poll = Math.max(1000, Number(this.getAttribute('poll')) || 10000);
    this.service = new SocketStatusService({ apiUrl: this.getAttribute('api-url') || SCRIPT_ORIGIN });
    this.unsub = this.service.subscribe((s) => this.render(s));
    this.service.initialize(poll);
  }

  stop() {
    if (this.unsub) this.unsub();
    if (this.service) this.service.stopPolling();
    this.unsub = null;
    this.service = null;
  }

  /** The latest status (see SocketStatus in ward-client.d.ts). */
  get status() { return this.service ? this.service.getStatus() : null; }

  render(s) {
    const $ = (sel) => this.root.querySelector(sel);
    const mode = this.mode;
    $('.box').classList.toggle('on', !!s.active);
    $('.label').textContent = (s.active ? 'Active' : 'Inactive') +
      (s.totalSockets > 0 || mode !== 'compact' ? ' · ' + s.totalSockets + ' connection' + (s.totalSockets === 1 ? '' : 's') : '');
    const rows = Object.entries(s.socketsByType || {});
    const t = $('table');
    t.replaceChildren(...rows.map(([k, n]) => {
      const tr = document.createElement('tr');
      const a = document.createElement('td');
      const b = document.createElement('td');
      a.textContent = k;
      b.textContent = String(n);
      tr.append(a, b);
      return tr;
    }));
    $('.bytype').hidden = mode === 'compact' || rows.length === 0;
    $('.err').textContent = s.lastError ? 'Error: ' + s.lastError : '';
    $('.err').hidden = !s.lastError || mode === 'compact';
    if (mode === 'compact') this.title = s.lastError ? 'Error: ' + s.lastError : '';
    const more = $('.more');
    more.hidden = mode !== 'details';
    if (mode === 'details') {
      const eps = Object.entries(s.endpoints || {}).map(([k, v]) => k + ' ' + v).join(' · ');
      more.textContent = 'API ' + s.apiUrl + ' · WS ' + s.wsUrl + (s.timestamp ? ' · read ' + s.timestamp : '') +
        (eps ? ' · ' + eps : '');
    }
    this.dispatchEvent(new CustomEvent('ward-status', { detail: s, bubbles: true, composed: true }));
  }
}

if (!customElements.get('ward-status')) customElements.define('ward-status', WardStatusElement);
