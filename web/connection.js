// One WebSocket to /ws speaking huddle.v1+json (docs/PROTOCOL.md), that reconnects by itself.
//
// - Every connection starts with `hello` carrying the same memberId (kept in localStorage by the
//   app), then the rooms rejoin with resume (room.js), then every command still unanswered is
//   written again with its original opId: the server's dedup answers a retry of an applied command
//   with the original seq (`duplicate`), so nothing happens twice.
// - Commands issued while disconnected wait in the queue and go out after the rejoin.
// - Requests that only make sense on one connection (join, history, export, markRead, typing) are
//   `transient`: they fail with { code: 'DISCONNECTED' } when the connection drops.

export const SUBPROTOCOL = 'huddle.v1+json';

const RECONNECT_MIN_MS = 250;
const RECONNECT_MAX_MS = 3000;
const REQUEST_TIMEOUT_MS = 20000;

export class CommandError extends Error {
  constructor(error) {
    super(error?.message || error?.code || 'error');
    this.code = error?.code ?? 'ERROR_CODE_UNSPECIFIED';
    this.serverMessage = error?.message ?? '';
    this.retryable = Boolean(error?.retryable);
  }
}

function randomHex(bytes) {
  const a = new Uint8Array(bytes);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

export function wsUrl() {
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${location.host}/ws`;
}

export const newMemberId = () => `w-${randomHex(8)}`;

export class Connection {
  // handlers: { onStatus(status), onHello(helloResult), onOpen() (rejoin rooms here),
  //             onFrame(frame) (everything but replies), onClose() }
  constructor({ url, displayName, memberId, token, handlers }) {
    this.url = url;
    this.token = token ?? ''; // --auth jwt: sent in every hello.
    this.displayName = displayName;
    this.memberId = memberId;
    this.handlers = handlers;
    this.ws = null;
    this.generation = 0;
    this.status = 'connecting'; // connecting | open | closed (waiting to reconnect)
    this.ready = false; // hello answered on the current connection
    this.nextRequestId = 1;
    this.pending = new Map(); // requestId -> { frame, transient, resolve, reject, sentAt }
    this.opPrefix = randomHex(6);
    this.opCounter = 0;
    this.backoff = 0;
    this.timer = null;
    this.stopped = false;
    this.everOpened = false;
    this.internal = new Map(); // requestId -> onReply, for this connection's own requests
    this.tick = setInterval(() => this.expire(), 1000);
  }

  newOpId() {
    this.opCounter += 1;
    return `${this.opPrefix}-${this.opCounter}`;
  }

  start() {
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearInterval(this.tick);
    clearTimeout(this.timer);
    if (this.ws) this.ws.close(1000);
  }

  setStatus(status) {
    this.status = status;
    this.handlers.onStatus?.(status);
  }

  connect() {
    const gen = ++this.generation;
    this.ready = false;
    this.setStatus('connecting');
    let ws;
    try {
      ws = new WebSocket(this.url, [SUBPROTOCOL]);
    } catch {
      this.dropped(gen);
      return;
    }
    this.ws = ws;
    ws.onopen = () => {
      if (gen !== this.generation) return;
      this.sendHello(gen);
    };
    ws.onmessage = (m) => {
      if (gen !== this.generation) return;
      if (typeof m.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(m.data);
      } catch {
        ws.close(4000);
        return;
      }
      for (const frame of msg.frames ?? []) {
        if (gen !== this.generation) return;
        if (frame.reply) this.onReply(frame.reply);
        else this.handlers.onFrame?.(frame);
      }
    };
    ws.onclose = () => this.dropped(gen);
    ws.onerror = () => {}; // onclose follows.
  }

  sendHello(gen) {
    const id = this.nextRequestId++;
    const hello = { displayName: this.displayName };
    if (this.memberId) hello.memberId = this.memberId;
    if (this.token) {
      hello.token = this.token;
      delete hello.memberId; // The token's subject is the member.
    }
    this.internal.set(id, (reply) => {
      if (gen !== this.generation) return;
      if (reply.error) {
        this.handlers.onFatal?.(new CommandError(reply.error));
        this.stopped = true;
        this.ws.close(1000);
        return;
      }
      this.memberId = reply.hello?.member?.memberId ?? this.memberId;
      this.epoch = reply.hello?.epoch;
      this.ready = true;
      this.backoff = 0;
      this.everOpened = true;
      this.setStatus('open');
      this.handlers.onHello?.(reply.hello);
      this.handlers.onOpen?.(); // Joins (with resume) go out before the queued commands.
      for (const [rid, p] of this.pending) {
        if (!p.transient) this.write(rid, p);
      }
    });
    this.raw({ requestId: id, hello });
  }

  dropped(gen) {
    if (gen !== this.generation) return;
    this.generation += 1; // Every handler of the old socket is stale now.
    this.ready = false;
    if (this.ws) {
      this.ws.onopen = this.ws.onmessage = this.ws.onclose = null;
      try {
        this.ws.close();
      } catch {
        /* already closed */
      }
    }
    this.ws = null;
    this.internal = new Map();
    for (const [rid, p] of this.pending) {
      if (p.transient) {
        this.pending.delete(rid);
        p.reject(new CommandError({ code: 'DISCONNECTED', message: 'disconnected' }));
      } else {
        p.sentAt = 0;
      }
    }
    this.handlers.onClose?.();
    if (this.stopped) return;
    this.setStatus('closed');
    this.backoff = this.backoff === 0 ? RECONNECT_MIN_MS : Math.min(this.backoff * 2, RECONNECT_MAX_MS);
    const delay = this.backoff * (0.5 + Math.random());
    this.timer = setTimeout(() => this.connect(), delay);
  }

  // Closes the current socket and reconnects at once (used after a gap in a room's events).
  reconnectNow() {
    if (this.ws) this.ws.close(4000);
  }

  raw(obj) {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(obj));
  }

  write(requestId, p) {
    p.sentAt = Date.now();
    this.raw({ ...p.frame, requestId });
  }

  // A command: `command` is { key: body }, e.g. { vote: { roomId, ideaId } }. Resolves with the
  // Reply, rejects with a CommandError carrying the server's code and message.
  // options.opId: true to give it an op id (every command that appends an event);
  // options.transient: fail on disconnect instead of retrying on the next connection.
  send(command, { opId = false, transient = false } = {}) {
    return new Promise((resolve, reject) => {
      const id = this.nextRequestId++;
      const frame = { ...command };
      if (opId) frame.opId = this.newOpId();
      const p = { frame, transient, resolve, reject, sentAt: 0 };
      if (transient && !this.ready) {
        reject(new CommandError({ code: 'DISCONNECTED', message: 'disconnected' }));
        return;
      }
      this.pending.set(id, p);
      if (this.ready) this.write(id, p);
    });
  }

  // A request tied to this connection (join, history): answered by `onReply(reply)`, or never if
  // the connection drops first.
  internalRequest(command, onReply) {
    if (!this.ready) return;
    const id = this.nextRequestId++;
    this.internal.set(id, onReply);
    this.raw({ requestId: id, ...command });
  }

  onReply(reply) {
    const id = Number(reply.requestId ?? 0);
    const fn = this.internal?.get(id);
    if (fn) {
      this.internal.delete(id);
      fn(reply);
      return;
    }
    const p = this.pending.get(id);
    if (!p) {
      if (reply.error) this.handlers.onStrayError?.(new CommandError(reply.error));
      return;
    }
    this.pending.delete(id);
    if (reply.error) p.reject(new CommandError(reply.error));
    else p.resolve(reply);
  }

  expire() {
    const now = Date.now();
    for (const [id, p] of this.pending) {
      if (p.sentAt && now - p.sentAt > REQUEST_TIMEOUT_MS) {
        this.pending.delete(id);
        p.reject(new CommandError({ code: 'TIMEOUT', message: 'no answer from the server in time' }));
      }
    }
  }
}
