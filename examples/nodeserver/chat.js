#!/usr/bin/env node
// A pub/sub chat server on Node's net module (no npm packages), fixed and
// broken, for stallproof's RunExec and `stallproof check -exec`.
//
// Protocol, lines ending in "\n":
//
//   server -> client   HELLO         once the client is counted in
//   client -> server   PUB <text>    publish <text>
//   server -> client   OK <n>        the publish's number, to the publisher
//   server -> client   MSG <text>    to every connected client, publisher too
//   server -> client   ERR <reason>  a line that is not a PUB
//
// Usage: node chat.js [--broken] [--port PORT]; PORT in the environment
// works too. It listens on 127.0.0.1.
//
// Fixed (the default): every client has its own queue of lines; its writer
// writes while socket.write() accepts more and waits for that client's
// 'drain' otherwise. A publish appends MSG to every queue without waiting;
// a client whose queue would pass MAX_PENDING bytes is dropped (destroyed),
// so a client that stops reading costs at most MAX_PENDING bytes and slows
// no one.
//
// Broken (--broken): the common wrong way. Publishes go through one shared
// queue, handled one at a time: MSG is written to every client in turn, and
// when a client's write() says its buffer is full the broadcaster waits for
// that client's 'drain' before it goes on. A client that stops reading
// never drains: the shared queue stops, and no publish of anyone is
// answered again until that client disconnects.
'use strict';

const net = require('net');

const MAX_PENDING = 64 * 1024; // bytes queued per client before it is dropped
const MAX_LINE = 64 * 1024;

function parseArgs(argv) {
  const args = { broken: false, port: Number(process.env.PORT || 9000) };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--broken') args.broken = true;
    else if (argv[i] === '--port') args.port = Number(argv[++i]);
    else {
      console.error(`chat.js: unknown argument ${argv[i]}; usage: chat.js [--broken] [--port PORT]`);
      process.exit(2);
    }
  }
  return args;
}

// onLines calls f with every complete line the socket sends, without its
// "\n"; a line longer than MAX_LINE ends the connection.
function onLines(sock, f) {
  let buf = '';
  sock.setEncoding('utf8');
  sock.on('data', (chunk) => {
    buf += chunk;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i).replace(/\r$/, '');
      buf = buf.slice(i + 1);
      f(line);
    }
    if (buf.length > MAX_LINE) sock.destroy();
  });
}

// Fixed: a queue and a writer per client.
class Client {
  constructor(sock) {
    this.sock = sock;
    this.queue = [];
    this.pending = 0;
    this.waiting = false; // for 'drain'
    this.dropped = false;
    sock.on('drain', () => {
      this.waiting = false;
      this.flush();
    });
  }

  // send queues line; false if that would pass MAX_PENDING.
  send(line) {
    if (this.dropped) return false;
    if (this.pending + line.length > MAX_PENDING) return false;
    this.pending += line.length;
    this.queue.push(line);
    this.flush();
    return true;
  }

  flush() {
    while (!this.waiting && this.queue.length > 0 && !this.dropped) {
      const line = this.queue.shift();
      this.pending -= line.length;
      if (!this.sock.write(line)) this.waiting = true; // wait for this client only
    }
  }

  drop() {
    this.dropped = true;
    this.queue = [];
    this.sock.destroy();
  }
}

function serveFixed() {
  const clients = new Set();
  let n = 0;
  return (sock) => {
    sock.setNoDelay(true); // no Nagle: a reply after a push goes out at once
    const c = new Client(sock);
    clients.add(c);
    sock.on('error', () => {});
    sock.on('close', () => clients.delete(c));
    c.send('HELLO\n');
    onLines(sock, (line) => {
      if (c.dropped) return;
      if (!line.startsWith('PUB ')) {
        if (!c.send('ERR unknown command\n')) c.drop();
        return;
      }
      n++;
      const msg = `MSG ${line.slice(4)}\n`;
      for (const other of clients) {
        if (!other.send(msg)) {
          clients.delete(other);
          other.drop(); // a slow consumer: dropped, never waited for
        }
      }
      if (!c.send(`OK ${n}\n`)) c.drop();
    });
  };
}

// Broken: one shared queue of publishes, written to every client in turn.
function serveBroken() {
  const clients = new Set();
  const publishes = [];
  let busy = false;
  let n = 0;

  // written resolves once sock has taken line: at once, or at its 'drain'
  // (or when it closes).
  function written(sock, line) {
    if (sock.destroyed || sock.write(line)) return Promise.resolve();
    return new Promise((resolve) => {
      sock.once('drain', resolve);
      sock.once('close', resolve);
    });
  }

  async function broadcaster() {
    if (busy) return;
    busy = true;
    while (publishes.length > 0) {
      const { from, text } = publishes.shift();
      n++;
      for (const sock of [...clients]) {
        await written(sock, `MSG ${text}\n`); // the bug: everyone waits for this client
      }
      await written(from, `OK ${n}\n`);
    }
    busy = false;
  }

  return (sock) => {
    sock.setNoDelay(true);
    clients.add(sock);
    sock.on('error', () => {});
    sock.on('close', () => clients.delete(sock));
    sock.write('HELLO\n');
    onLines(sock, (line) => {
      if (!line.startsWith('PUB ')) {
        sock.write('ERR unknown command\n');
        return;
      }
      publishes.push({ from: sock, text: line.slice(4) });
      broadcaster();
    });
  };
}

const args = parseArgs(process.argv.slice(2));
const server = net.createServer(args.broken ? serveBroken() : serveFixed());
server.listen(args.port, '127.0.0.1', () => {
  console.log(`chat.js: ${args.broken ? 'broken' : 'fixed'} server on 127.0.0.1:${args.port}`);
});
process.on('SIGTERM', () => process.exit(0));
