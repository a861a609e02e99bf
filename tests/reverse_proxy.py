"""A small reverse proxy for tests, doing what the nginx block in docs/deployment.md does:
append the address it received the connection from to X-Forwarded-For (after whatever the
client sent, as nginx's ``$proxy_add_x_forwarded_for``), set X-Real-IP, and pass WebSocket
upgrades through. It connects to the app from ``--source`` (any 127.0.0.0/8 address on Linux),
so the app can tell the proxy's connections from a browser's.

    python tests/reverse_proxy.py --port 8600 --upstream 127.0.0.1:8501 --source 127.0.0.5

Plain requests are sent upstream with ``Connection: close`` so every request comes on its own
connection and gets its own header (the proxy does not parse responses). One line per request
goes to stdout: the request line and the X-Forwarded-For it sent.
"""

from __future__ import annotations

import argparse
import asyncio

MAX_HEAD = 64 * 1024


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        try:
            writer.close()
        except ConnectionError:
            pass


def _rewrite(head: bytes, peer: str) -> tuple[bytes, str]:
    lines = head.decode("latin-1").split("\r\n")
    request, fields = lines[0], [line for line in lines[1:] if line]
    forwarded = [line.split(":", 1)[1].strip() for line in fields if line.lower().startswith("x-forwarded-for:")]
    upgrade = any(line.lower().startswith("upgrade:") for line in fields)
    drop = ("x-forwarded-for:", "x-real-ip:") + (() if upgrade else ("connection:", "keep-alive:"))
    kept = [line for line in fields if not line.lower().startswith(drop)]
    chain = ", ".join(forwarded + [peer])
    kept += [f"X-Forwarded-For: {chain}", f"X-Real-IP: {peer}"]
    if not upgrade:
        kept.append("Connection: close")
    return ("\r\n".join([request, *kept]) + "\r\n\r\n").encode("latin-1"), f"{request} | X-Forwarded-For: {chain}"


async def _handle(client_r, client_w, upstream: tuple[str, int], source: str) -> None:
    peer = client_w.get_extra_info("peername")[0]
    try:
        head = await client_r.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        client_w.close()
        return
    head, line = _rewrite(head, peer)
    print(line, flush=True)
    up_r, up_w = await asyncio.open_connection(*upstream, local_addr=(source, 0), limit=MAX_HEAD)
    up_w.write(head)
    await up_w.drain()
    await asyncio.gather(_pipe(client_r, up_w), _pipe(up_r, client_w))


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="HOST:PORT of the app")
    parser.add_argument("--source", default="127.0.0.1", help="address the proxy connects to the app from")
    args = parser.parse_args()
    host, port = args.upstream.rsplit(":", 1)
    server = await asyncio.start_server(lambda r, w: _handle(r, w, (host, int(port)), args.source),
                                        "127.0.0.1", args.port, limit=MAX_HEAD)
    print(f"proxy ready on 127.0.0.1:{args.port}", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main())
