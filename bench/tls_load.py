#!/usr/bin/env python3
# SUMMARY
#	tls_load.py - SIP load over established TLS connections, for bench/tls
# SYNOPSIS
#	tls_load.py tx --port P --ca F [--conns N] [--window W] [--seconds S]
#	tls_load.py hold --port P --ca F --conns N --seconds S
# DESCRIPTION
#	tx: a UDP UAS on a free port answers every request with a 200 built
#	from it; N TLS connections (handshakes first, not timed) to the
#	proxy each keep W OPTIONS sip:uas@127.0.0.1:UAS in flight for S
#	seconds. Prints "answered N seconds S rate R" (transactions/s: a
#	request through the proxy over TLS and UDP, its 200 back).
#	hold: opens N TLS connections, prints "held N", keeps them S s.
#	Every run is bounded by S (and the handshakes by 10 s each).
import argparse
import asyncio
import re
import socket
import ssl
import sys
import time


class Uas(asyncio.DatagramProtocol):
    def connection_made(self, t):
        self.t = t

    def datagram_received(self, data, addr):
        head = data.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
        keep = [h for h in head[1:]
                if re.match(rb"(?i)(via|v|from|f|to|t|call-id|i|cseq):", h)]
        self.t.sendto(b"SIP/2.0 200 OK\r\n" + b"\r\n".join(keep)
                      + b"\r\nContent-Length: 0\r\n\r\n", addr)


def ctx_for(ca):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(ca)
    return ctx


async def conn_loop(port, ctx, uas, window, stop, count, cid):
    r, w = await asyncio.wait_for(
        asyncio.open_connection("127.0.0.1", port, ssl=ctx,
                                server_hostname="sip.test"), 10)
    local = w.get_extra_info("sockname")[1]
    n = 0

    def req():
        nonlocal n
        n += 1
        return (f"OPTIONS sip:uas@127.0.0.1:{uas} SIP/2.0\r\n"
                f"Via: SIP/2.0/TLS 127.0.0.1:{local};branch=z9hG4bK{cid}x{n}\r\n"
                "Max-Forwards: 70\r\nTo: <sip:uas@sip.test>\r\n"
                f"From: <sip:uac@sip.test>;tag={cid}\r\n"
                f"Call-ID: b{cid}-{n}\r\nCSeq: {n} OPTIONS\r\n"
                "Content-Length: 0\r\n\r\n").encode()

    w.write(b"".join(req() for _ in range(window)))
    buf = b""
    while time.time() < stop:
        try:
            chunk = await asyncio.wait_for(r.read(65536),
                                           max(0.05, stop - time.time()))
        except asyncio.TimeoutError:
            break
        if not chunk:
            break
        buf += chunk
        got = 0
        while True:
            i = buf.find(b"\r\n\r\n")
            if i < 0:
                break
            buf = buf[i + 4:]           # our 200s have no body
            got += 1
        count[0] += got
        if got and time.time() < stop:
            w.write(b"".join(req() for _ in range(got)))
    w.close()


async def tx(a):
    loop = asyncio.get_running_loop()
    t, _ = await loop.create_datagram_endpoint(
        Uas, local_addr=("127.0.0.1", 0))
    uas = t.get_extra_info("sockname")[1]
    ctx = ctx_for(a.ca)
    count = [0]
    t0 = time.time()
    stop = t0 + a.seconds
    await asyncio.gather(*(conn_loop(a.port, ctx, uas, a.window, stop,
                                     count, i) for i in range(a.conns)),
                         return_exceptions=True)
    s = time.time() - t0
    print(f"answered {count[0]} seconds {s:.2f} rate {count[0] / s:.0f}",
          flush=True)


def hold(a):
    ctx = ctx_for(a.ca)
    held = []
    for _ in range(a.conns):
        s = socket.create_connection(("127.0.0.1", a.port), timeout=10)
        held.append(ctx.wrap_socket(s, server_hostname="sip.test"))
    print("held", len(held), flush=True)
    time.sleep(a.seconds)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("tx", "hold"))
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--ca", required=True)
    p.add_argument("--conns", type=int, default=8)
    p.add_argument("--window", type=int, default=16)
    p.add_argument("--seconds", type=float, default=8)
    a = p.parse_args()
    if a.mode == "tx":
        asyncio.run(tx(a))
    else:
        hold(a)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
