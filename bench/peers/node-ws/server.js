#!/usr/bin/env node
// Plain-broadcast WebSocket peer server on the `ws` package, for Huddle's fan-out benchmarks.
//
// Protocol (shared with ../websocketpp_broadcast.cpp; see ../README.md):
//   - listen on 127.0.0.1:PORT (argv: `PORT` or `--port PORT`), print "listening on 127.0.0.1:PORT";
//   - WebSocket upgrade on /ws?room=NAME (member) or /ws?room=NAME&role=pub (publisher);
//   - every data message a client sends goes, unchanged and with the same opcode, to every member
//     of the sender's room except the sender; publishers never receive;
//   - exit cleanly on SIGTERM/SIGINT. Node runs it on one event loop.
'use strict';

const http = require('node:http');
const { WebSocketServer, WebSocket } = require('ws');

function parsePort(argv) {
  let port = NaN;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--port' && i + 1 < argv.length) port = Number(argv[++i]);
    else if (a.startsWith('--port=')) port = Number(a.slice(7));
    else port = Number(a);
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    process.stderr.write('usage: node server.js PORT | --port PORT\n');
    process.exit(2);
  }
  return port;
}

// "/ws?room=NAME[&role=pub]" -> { room, publisher } or null.
function parseTarget(url) {
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (path !== '/ws' || q < 0) return null;
  const params = new URLSearchParams(url.slice(q + 1));
  const room = params.get('room');
  if (room === null) return null;
  return { room, publisher: params.get('role') === 'pub' };
}

const port = parsePort(process.argv.slice(2));

/** @type {Map<string, Set<WebSocket>>} room name -> member connections */
const rooms = new Map();
const SEND_BINARY = { binary: true, compress: false };
const SEND_TEXT = { binary: false, compress: false };

const wss = new WebSocketServer({
  noServer: true,
  perMessageDeflate: false,
  clientTracking: true, // used only to close everyone on shutdown
  // Default subprotocol handling accepts the first offered one; no subprotocol is fine too.
});

const server = http.createServer((req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('WebSocket upgrade required on /ws?room=NAME\n');
});

server.on('upgrade', (req, socket, head) => {
  const target = parseTarget(req.url || '');
  if (!target) {
    socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => onOpen(ws, target));
});

function onOpen(ws, target) {
  let members = rooms.get(target.room);
  if (!members) {
    members = new Set();
    rooms.set(target.room, members);
  }
  if (!target.publisher) members.add(ws);

  ws.on('message', (data, isBinary) => {
    // `data` is the received payload Buffer; ws frames it per receiver without copying it.
    const opts = isBinary ? SEND_BINARY : SEND_TEXT;
    for (const m of members) {
      if (m !== ws && m.readyState === WebSocket.OPEN) m.send(data, opts);
    }
  });
  ws.on('close', () => {
    members.delete(ws);
    if (members.size === 0 && rooms.get(target.room) === members) rooms.delete(target.room);
  });
  ws.on('error', () => {}); // a 'close' follows
}

let stopping = false;
function shutdown() {
  if (stopping) return;
  stopping = true;
  server.close();
  for (const ws of wss.clients) ws.close(1001, 'shutdown');
  wss.close();
  // Clients that never answer the closing handshake must not keep us alive.
  setTimeout(() => process.exit(0), 500).unref();
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
});
