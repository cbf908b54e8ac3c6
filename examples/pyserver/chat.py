#!/usr/bin/env python3
"""A pub/sub chat server in Python asyncio (standard library only), fixed
and broken, for stallproof's RunExec and `stallproof check -exec`.

Protocol, lines ending in "\\n":

    server -> client   HELLO              once the client is counted in
    client -> server   PUB <text>         publish <text>
    server -> client   OK <n>             the publish's number, to the publisher
    server -> client   MSG <text>         to every connected client, publisher too
    server -> client   ERR <reason>       a line that is not a PUB

Usage: chat.py [--broken] [--port PORT]; PORT in the environment works too.
It listens on 127.0.0.1.

Fixed (the default): every client has a bounded queue of lines and a writer
task that alone writes to it and awaits its drain(). A publish puts MSG on
every queue without waiting; a client whose queue would go past
MAX_PENDING bytes is dropped (its connection closed), so a client that
stops reading costs at most MAX_PENDING bytes and slows no one.

Broken (--broken): the common wrong way. The broadcast holds one
asyncio.Lock and writes to every client in turn, awaiting each one's
drain(): once a client that stopped reading has filled its socket buffer
and the transport's 64 KiB, drain() waits forever, with the lock held, and
every publish of every client waits behind it.
"""

import argparse
import asyncio
import os

MAX_PENDING = 64 * 1024  # bytes queued per client before it is dropped
MAX_LINE = 64 * 1024


class Client:
    def __init__(self, writer):
        self.writer = writer
        self.queue = asyncio.Queue()
        self.pending = 0
        self.dropped = False

    def send(self, line):
        """Queue line; False if that would go past MAX_PENDING."""
        if self.dropped:
            return False
        if self.pending + len(line) > MAX_PENDING:
            return False
        self.pending += len(line)
        self.queue.put_nowait(line)
        return True

    async def write_loop(self):
        try:
            while True:
                line = await self.queue.get()
                if line is None:
                    return
                self.pending -= len(line)
                self.writer.write(line)
                await self.writer.drain()  # waits for this client only
        except (ConnectionError, OSError):
            self.drop()

    def drop(self):
        if not self.dropped:
            self.dropped = True
            self.queue.put_nowait(None)
            self.writer.transport.abort()


class Fixed:
    def __init__(self):
        self.clients = set()
        self.n = 0

    def publish(self, text):
        self.n += 1
        msg = b"MSG " + text + b"\n"
        for c in list(self.clients):
            if not c.send(msg):
                self.clients.discard(c)
                c.drop()  # a slow consumer: dropped, never waited for
        return self.n

    async def handle(self, reader, writer):
        c = Client(writer)
        self.clients.add(c)
        writer_task = asyncio.create_task(c.write_loop())
        c.send(b"HELLO\n")
        try:
            while not c.dropped:
                line = await reader.readline()
                if not line:
                    break
                line = line.rstrip(b"\r\n")
                if line.startswith(b"PUB "):
                    n = self.publish(line[4:])
                    if not c.send(b"OK %d\n" % n):
                        c.drop()
                elif not c.send(b"ERR unknown command\n"):
                    c.drop()
        except (ConnectionError, OSError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            self.clients.discard(c)
            if not c.dropped:
                c.queue.put_nowait(None)  # flush what is queued, then stop
                try:
                    await asyncio.wait_for(writer_task, 1)
                except (asyncio.TimeoutError, ConnectionError, OSError):
                    pass
            c.drop()
            await asyncio.gather(writer_task, return_exceptions=True)


class Broken:
    def __init__(self):
        self.clients = set()
        self.n = 0
        self.lock = asyncio.Lock()

    async def broadcast(self, line):
        async with self.lock:  # the bug: held across every client's drain()
            for w in list(self.clients):
                try:
                    w.write(line)
                    await w.drain()
                except (ConnectionError, OSError):
                    self.clients.discard(w)

    async def handle(self, reader, writer):
        self.clients.add(writer)
        try:
            writer.write(b"HELLO\n")
            await writer.drain()
            while True:
                line = await reader.readline()
                if not line:
                    break
                line = line.rstrip(b"\r\n")
                if line.startswith(b"PUB "):
                    self.n += 1
                    n = self.n
                    await self.broadcast(b"MSG " + line[4:] + b"\n")
                    writer.write(b"OK %d\n" % n)
                else:
                    writer.write(b"ERR unknown command\n")
                await writer.drain()
        except (ConnectionError, OSError, ValueError, asyncio.LimitOverrunError):
            pass
        finally:
            self.clients.discard(writer)
            writer.transport.abort()


async def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--broken", action="store_true", help="serve the broken broadcast")
    ap.add_argument("--port", type=int, default=int(os.environ.get("PORT", "9000")))
    args = ap.parse_args()
    srv = Broken() if args.broken else Fixed()
    server = await asyncio.start_server(srv.handle, "127.0.0.1", args.port, limit=MAX_LINE)
    print("chat.py: %s server on 127.0.0.1:%d" % ("broken" if args.broken else "fixed", args.port), flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
