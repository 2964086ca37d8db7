"""A real HTTP/1.1 fault-injecting proxy on 127.0.0.1 for the API backend tests.

Each request is read in full, then either forwarded to the upstream server or answered with
a fault: 429 with Retry-After, 500, a dropped connection (closed without a response), or a
stall (nothing until the client's timeout has passed, then closed). Which one is decided by
hashing (seed, request body, how many times this body was seen) — the same requests get the
same faults whatever the order the concurrent client sends them in. A body is faulted at most
`max_faults_per_body` times in a row, so a client that retries enough always gets through.

Whether a request is faulted is the hash's call; which fault it gets cycles through FAULTS in
order, so any run with four or more faults sees every kind, and the counts per kind depend
only on how many faults there were.

`counts` records what was injected, for the tests to match against the run's summary;
`posts`, `first_post` and `last_reply` time the request phase as the server side sees it
(bench/api_throughput.py uses the proxy with fault_rate=0 for that).
The proxy runs its own event loop in a thread and stops by itself when closed.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

FAULTS = ("rate_limit", "server_error", "drop", "stall")


@dataclass
class FaultProxy:
    upstream_port: int
    seed: int = 0
    fault_rate: float = 0.3
    retry_after: int = 1
    stall_seconds: float = 5.0
    max_faults_per_body: int = 2
    upstream_host: str = "127.0.0.1"
    port: int = 0
    counts: Counter = field(default_factory=Counter)
    _seen: Counter = field(default_factory=Counter)
    _faults: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _server: asyncio.AbstractServer | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    posts: int = 0
    first_post: float | None = None  # time.perf_counter() when the first POST arrived
    last_reply: float | None = None  # ... when the last forwarded POST's reply was written

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> "FaultProxy":
        ready = threading.Event()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
            self.port = self._server.sockets[0].getsockname()[1]
            ready.set()
            self._loop.run_forever()
            # stalled handlers are still sleeping: cancel them before the loop goes
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._server.close()
            self._loop.run_until_complete(self._server.wait_closed())
            self._loop.close()

        self._thread = threading.Thread(target=run, name="fault-proxy", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fault proxy did not start")
        return self

    def close(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> "FaultProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def injected(self) -> int:
        return sum(self.counts[f] for f in FAULTS)

    # -- decisions ---------------------------------------------------------------------

    def decide(self, body: bytes) -> str:
        """'forward' or one of FAULTS, from the body and how often it was seen (thread-safe)."""
        digest = hashlib.sha256(body).hexdigest()
        with self._lock:
            seen = self._seen[digest]
            self._seen[digest] += 1
        if seen >= self.max_faults_per_body:
            return "forward"
        h = hashlib.sha256(f"{self.seed}|{digest}|{seen}".encode()).digest()
        draw = int.from_bytes(h[:8], "big") / 2**64
        if draw >= self.fault_rate:
            return "forward"
        with self._lock:
            kind = FAULTS[self._faults % len(FAULTS)]
            self._faults += 1
        return kind

    # -- HTTP --------------------------------------------------------------------------

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                request = await _read_request(reader)
                if request is None:
                    return
                head, body = request
                is_post = head.startswith(b"POST")
                action = self.decide(body) if is_post else "forward"
                with self._lock:
                    self.counts[action] += 1
                    if is_post:
                        self.posts += 1
                        self.first_post = self.first_post or time.perf_counter()
                if action == "rate_limit":
                    writer.write(_response(429, b'{"error":{"message":"rate limited (injected)"}}', {"Retry-After": str(self.retry_after)}))
                elif action == "server_error":
                    writer.write(_response(500, b'{"error":{"message":"internal error (injected)"}}'))
                elif action == "drop":
                    return  # closed in finally, no response
                elif action == "stall":
                    await asyncio.sleep(self.stall_seconds)
                    return
                else:
                    writer.write(await self._forward(head, body))
                await writer.drain()
                if is_post and action == "forward":
                    self.last_reply = time.perf_counter()
                return  # one request per connection: every response says Connection: close
        except (ConnectionError, asyncio.IncompleteReadError):
            return
        finally:
            writer.close()

    async def _forward(self, head: bytes, body: bytes) -> bytes:
        lines = head.split(b"\r\n")
        kept = [l for l in lines[1:] if l and not l.lower().startswith((b"connection:", b"keep-alive:"))]
        upstream_head = b"\r\n".join([lines[0], *kept, b"Connection: close"]) + b"\r\n\r\n"
        reader, writer = await asyncio.open_connection(self.upstream_host, self.upstream_port)
        try:
            writer.write(upstream_head + body)
            await writer.drain()
            return await reader.read()  # upstream closes after the response (Connection: close)
        finally:
            writer.close()


async def _read_request(reader: asyncio.StreamReader) -> tuple[bytes, bytes] | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError:
        return None
    length = 0
    for line in head.split(b"\r\n"):
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    body = await reader.readexactly(length) if length else b""
    return head[:-4], body


def _response(status: int, body: bytes, headers: dict[str, str] | None = None) -> bytes:
    reason = {429: "Too Many Requests", 500: "Internal Server Error"}[status]
    lines = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json", f"Content-Length: {len(body)}", "Connection: close"]
    lines += [f"{k}: {v}" for k, v in (headers or {}).items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body
