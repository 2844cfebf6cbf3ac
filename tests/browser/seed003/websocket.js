// websocket.js - the seed 003 client (/src/lib/websocket/: manager.ts,
// whiteboard-service.ts, telemedicine-service.ts, index.ts), written as a
// seed developer would from the seed document's API and message types,
// types stripped, in one module.  Only WS_URL differs from the seed (its
// default was ws://localhost:9002/ws); the browser test sets it to ward.
const WS_URL = 'ws://localhost:9002/ws';

export const WebSocketStatus = {
  DISCONNECTED: 'disconnected',
  CONNECTING: 'connecting',
  CONNECTED: 'connected',
  RECONNECTING: 'reconnecting',
  ERROR: 'error',
};

class WebSocketManager {
  constructor() {
    this.ws = null;
    this.status = WebSocketStatus.DISCONNECTED;
    this.messageHandlers = new Map();
    this.statusHandlers = new Set();
    this.reconnectAttempts = 0;
    this.maxReconnectAttempts = 5;
    this.reconnectDelay = 1000;
    this.services = {
      whiteboard: { name: 'Whiteboard', messageTypes: ['whiteboard_update'], enabled: true },
      telemedicine: {
        name: 'Telemedicine',
        messageTypes: ['telemedicine_offer', 'telemedicine_answer', 'telemedicine_ice_candidate',
          'telemedicine_user_joined', 'telemedicine_user_left', 'telemedicine_chat_message'],
        enabled: true,
      },
    };
  }

  connect() {
    if (this.ws && (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING)) return;
    this.setStatus(this.reconnectAttempts > 0 ? WebSocketStatus.RECONNECTING : WebSocketStatus.CONNECTING);
    try {
      this.ws = new WebSocket(WS_URL);
      this.ws.onopen = () => {
        console.log('WebSocket connected');
        this.reconnectAttempts = 0;
        this.setStatus(WebSocketStatus.CONNECTED);
      };
      this.ws.onmessage = (event) => {
        try {
          const message = JSON.parse(event.data);
          this.handleMessage(message);
        } catch (error) {
          console.error('Error parsing WebSocket message:', error);
        }
      };
      this.ws.onclose = () => {
        console.log('WebSocket disconnected');
        this.setStatus(WebSocketStatus.DISCONNECTED);
        this.attemptReconnect();
      };
      this.ws.onerror = (error) => {
        console.error('WebSocket error:', error);
        this.setStatus(WebSocketStatus.ERROR);
      };
    } catch (error) {
      console.error('Failed to connect WebSocket:', error);
      this.setStatus(WebSocketStatus.ERROR);
    }
  }

  attemptReconnect() {
    if (this.reconnectAttempts < this.maxReconnectAttempts) {
      this.reconnectAttempts++;
      setTimeout(() => this.connect(), this.reconnectDelay * this.reconnectAttempts);
    }
  }

  disconnect() {
    this.reconnectAttempts = this.maxReconnectAttempts;
    if (this.ws) {
      this.ws.close();
      this.ws = null;
    }
    this.setStatus(WebSocketStatus.DISCONNECTED);
  }

  handleMessage(message) {
    const handlers = this.messageHandlers.get(message.type);
    if (handlers && handlers.size > 0) {
      handlers.forEach((handler) => handler(message));
    } else {
      console.log('No handler for message type:', message.type);
    }
  }

  registerHandler(type, handler) {
    if (!this.messageHandlers.has(type)) this.messageHandlers.set(type, new Set());
    this.messageHandlers.get(type).add(handler);
    return () => this.messageHandlers.get(type)?.delete(handler);
  }

  sendMessage(message) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send(JSON.stringify(message));
    } else {
      console.warn('WebSocket not connected, message not sent:', message);
    }
  }

  onStatusChange(handler) {
    this.statusHandlers.add(handler);
    return () => this.statusHandlers.delete(handler);
  }

  setStatus(status) {
    this.status = status;
    this.statusHandlers.forEach((h) => h(status));
  }

  getStatus() { return this.status; }
  enableService(name) { if (this.services[name]) this.services[name].enabled = true; }
  disableService(name) { if (this.services[name]) this.services[name].enabled = false; }
  getServices() { return this.services; }
}

export const webSocketManager = new WebSocketManager();

class WhiteboardWebSocketService {
  connect() { webSocketManager.enableService('whiteboard'); webSocketManager.connect(); }
  disconnect() { webSocketManager.disconnect(); }
  onWhiteboardUpdate(handler) { return webSocketManager.registerHandler('whiteboard_update', handler); }
  sendWhiteboardUpdate(practiceId, data) {
    webSocketManager.sendMessage({ type: 'whiteboard_update', practiceId, data, timestamp: Date.now() });
  }
  onStatusChange(handler) { return webSocketManager.onStatusChange(handler); }
}

class TelemedicineWebSocketService {
  connect() { webSocketManager.enableService('telemedicine'); webSocketManager.connect(); }
  disconnect() { webSocketManager.disconnect(); }
  joinRoom(roomId, appointmentId, userId, userName) {
    webSocketManager.sendMessage({ type: 'telemedicine_join', roomId, appointmentId, userId, userName });
  }
  leaveRoom(roomId, appointmentId, userId) {
    webSocketManager.sendMessage({ type: 'telemedicine_leave', roomId, appointmentId, userId });
  }
  sendOffer(roomId, appointmentId, offer, userId) {
    webSocketManager.sendMessage({ type: 'telemedicine_offer', roomId, appointmentId, offer, from: userId });
  }
  sendAnswer(roomId, appointmentId, answer, userId) {
    webSocketManager.sendMessage({ type: 'telemedicine_answer', roomId, appointmentId, answer, from: userId });
  }
  sendIceCandidate(roomId, appointmentId, candidate, userId) {
    webSocketManager.sendMessage({ type: 'telemedicine_ice_candidate', roomId, appointmentId, candidate, from: userId });
  }
  sendChatMessage(roomId, appointmentId, message, userName, userId) {
    webSocketManager.sendMessage({ type: 'telemedicine_chat_message', roomId, appointmentId, message,
      userName, from: userId, timestamp: Date.now() });
  }
  onOffer(h) { return webSocketManager.registerHandler('telemedicine_offer', h); }
  onAnswer(h) { return webSocketManager.registerHandler('telemedicine_answer', h); }
  onIceCandidate(h) { return webSocketManager.registerHandler('telemedicine_ice_candidate', h); }
  onUserJoined(h) { return webSocketManager.registerHandler('telemedicine_user_joined', h); }
  onUserLeft(h) { return webSocketManager.registerHandler('telemedicine_user_left', h); }
  onChatMessage(h) { return webSocketManager.registerHandler('telemedicine_chat_message', h); }
}

export const whiteboardService = new WhiteboardWebSocketService();
export const telemedicineService = new TelemedicineWebSocketService();

// legacy compatibility (index.ts)
export const connectWebSocket = () => webSocketManager.connect();
export const registerMessageHandler = (type, handler) => webSocketManager.registerHandler(type, handler);
