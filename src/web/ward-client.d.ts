// ward-client.d.ts - types for /static/ward-client.js (issue 13, SPEC §7).

/** Any WebSocket constructor: the browser's, or the `ws` package's in Node. */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
}
export type WebSocketConstructor = new (url: string, protocols?: string | string[]) => WebSocketLike;

export declare const WebSocketStatus: {
  readonly DISCONNECTED: 'disconnected';
  readonly CONNECTING: 'connecting';
  readonly CONNECTED: 'connected';
  readonly RECONNECTING: 'reconnecting';
  readonly ERROR: 'error';
};
export type WebSocketStatus = (typeof WebSocketStatus)[keyof typeof WebSocketStatus];

/** Close codes after which the manager does not reconnect: 1002, 1003, 1007, 1008, 1009. */
export declare const FATAL_CLOSE_CODES: readonly number[];

/** Full jitter: a whole number in [0, min(maxMs, baseMs * 2^attempt)). */
export declare function backoffDelay(attempt: number, baseMs?: number, maxMs?: number,
  random?: () => number): number;

/** What GET /consultation/socket-status/ reports, as the seeds' hook returns it. */
export interface SocketStatus {
  active: boolean;
  totalSockets: number;
  socketsByType: Record<string, number>;
  wsUrl: string;
  apiUrl: string;
  endpoints: Record<string, string>;
  isConnecting: boolean;
  lastError: string | null;
  timestamp: string | null;
}

export interface SocketStatusOptions {
  /** http(s) base, default the page's origin. */
  apiUrl?: string;
  /** ws(s) base, default derived from apiUrl. */
  wsUrl?: string;
  /** default "/consultation/socket-status/" */
  statusPath?: string;
  fetch?: typeof fetch;
  WebSocket?: WebSocketConstructor;
}

export declare class SocketStatusService {
  constructor(opts?: SocketStatusOptions);
  configure(opts: SocketStatusOptions): this;
  /** Start polling every pollFrequency ms (default 10000); reads at once. */
  initialize(pollFrequency?: number): Promise<SocketStatus>;
  startPolling(): void;
  stopPolling(): void;
  fetchSocketStatus(): Promise<SocketStatus>;
  /** Returns the unsubscribe function. */
  subscribe(callback: (status: SocketStatus) => void): () => void;
  notifyListeners(): void;
  getStatus(): SocketStatus;
  isSocketActive(): boolean;
  getSocketCountByType(): Record<string, number>;
  getTotalSocketCount(): number;
  getWsUrl(): string;
  getApiUrl(): string;
  getEndpoints(): Record<string, string>;
  getLastError(): string | null;
  /** Opens (and closes) a WebSocket to path, default "/ws/call/test-socket/". */
  testConnection(path?: string, timeoutMs?: number): Promise<boolean>;
  clear(): void;
  getFormattedStatus(): string;
}

/** A message on /ws: always an object with a type. */
export interface WardMessage {
  type: string;
  [key: string]: unknown;
}

export interface ServiceInfo {
  name: string;
  messageTypes: string[];
  enabled: boolean;
}

export interface ManagerOptions {
  /** default: the page's origin as ws(s) + "/ws" */
  url?: string;
  WebSocket?: WebSocketConstructor;
  /** a JWT; sent as Sec-WebSocket-Protocol "bearer, <token>" (or ?token= with tokenIn "query") */
  token?: string;
  tokenIn?: 'protocol' | 'query';
  /** asked after a 1008 "token expired" close; a token reconnects, null gives up */
  getToken?: () => Promise<string | null> | string | null;
  /** first reconnect delay ceiling, default 500 ms */
  baseDelayMs?: number;
  /** delay ceiling, default 30000 ms */
  maxDelayMs?: number;
  /** default Infinity */
  maxAttempts?: number;
  /** messages kept while (re)connecting, default 100, oldest dropped first */
  maxQueue?: number;
  random?: () => number;
}

export declare class WebSocketManager {
  constructor(opts?: ManagerOptions);
  configure(opts: ManagerOptions): this;
  connect(url?: string): void;
  disconnect(): void;
  getStatus(): WebSocketStatus;
  isConnected(): boolean;
  /** The server's clientId from its "connected" message. */
  getClientId(): string | null;
  getLastClose(): { code: number; reason: string } | null;
  getQueueLength(): number;
  onStatusChange(callback: (status: WebSocketStatus) => void): () => void;
  /** type "*" receives every message.  Returns the unregister function. */
  registerHandler<T extends WardMessage = WardMessage>(type: string, handler: (message: T) => void): () => void;
  /** true: sent or queued; false: not connected and not reconnecting. */
  sendMessage(message: WardMessage | string): boolean;
  nextDelay(attempt?: number): number;
  enableService(name: string): void;
  disableService(name: string): void;
  isServiceEnabled(name: string): boolean;
  getServices(): Record<string, ServiceInfo>;
}

export interface WhiteboardUpdate extends WardMessage {
  type: 'whiteboard_update';
  practiceId: string | number;
  data?: unknown;
  from: string;
  fromClientId: string;
}

export declare class WhiteboardService {
  constructor(manager: WebSocketManager);
  connect(): void;
  disconnect(): void;
  /** Join a practice's whiteboard (needed unless the token names one). */
  subscribe(practiceId: string | number): boolean;
  onWhiteboardUpdate(callback: (message: WhiteboardUpdate) => void): () => void;
  sendWhiteboardUpdate(practiceId: string | number, data: unknown): boolean;
  onStatusChange(callback: (status: WebSocketStatus) => void): () => void;
}

export declare class TelemedicineService {
  constructor(manager: WebSocketManager);
  connect(): void;
  disconnect(): void;
  joinRoom(roomId: string, appointmentId: string, userId: string, userName: string): boolean;
  leaveRoom(roomId: string, appointmentId: string, userId: string): boolean;
  sendOffer(roomId: string, appointmentId: string, offer: unknown, userId: string, to?: string): boolean;
  sendAnswer(roomId: string, appointmentId: string, answer: unknown, userId: string, to?: string): boolean;
  sendIceCandidate(roomId: string, appointmentId: string, candidate: unknown, userId: string, to?: string): boolean;
  sendChatMessage(roomId: string, appointmentId: string, message: string, userName: string, userId: string): boolean;
  onJoined(callback: (message: WardMessage) => void): () => void;
  onOffer(callback: (message: WardMessage) => void): () => void;
  onAnswer(callback: (message: WardMessage) => void): () => void;
  onIceCandidate(callback: (message: WardMessage) => void): () => void;
  onUserJoined(callback: (message: WardMessage) => void): () => void;
  onUserLeft(callback: (message: WardMessage) => void): () => void;
  onChatMessage(callback: (message: WardMessage) => void): () => void;
  onStatusChange(callback: (status: WebSocketStatus) => void): () => void;
}

export declare const socketStatusService: SocketStatusService;
export declare const webSocketManager: WebSocketManager;
export declare const whiteboardService: WhiteboardService;
export declare const telemedicineService: TelemedicineService;
export declare function connectWebSocket(): void;
export declare function registerMessageHandler(type: string, handler: (message: WardMessage) => void): () => void;
export default socketStatusService;
