#!/usr/bin/env python3
# SUMMARY
#	tls_peer.py - a TLS peer from Python's ssl module, for the 8xx tests
# SYNOPSIS
#	tls_peer.py client --connect PORT [--ca F] [--cert F --key F]
#	    [--name NAME] [--no-verify] [--tls12] [--timeout S]
#	tls_peer.py server --plain PORT --cert F --key F [--ca F]
#	    [--verify-client] [--timeout S]
# DESCRIPTION
#	The test speaks SIP over plain TCP on loopback, and this program
#	carries the bytes over TLS, so the Perl tests keep their framing
#	(t/lib/Tcp.pm) and the TLS end is a real, independent implementation
#	(OpenSSL through Python's ssl, with its own checks).
#
#	client: listens on a free 127.0.0.1 port and prints "plain PORT",
#	connects over TLS to 127.0.0.1:PORT of --connect (SNI and the
#	checked name: --name, default none and the IP is not checked with
#	--no-verify), prints "tls ok VERSION CIPHER" or "tls error REASON"
#	(then exits 1), accepts one plain connection and relays both ways.
#	When the TLS side ends it prints "closed clean" (close_notify) or
#	"closed unclean REASON" and exits.
#
#	server: listens for TLS on a free port and prints "listen PORT";
#	for every TLS connection, once its handshake is over, prints
#	"accepted ok VERSION PEER-CN" (or "accepted error REASON"), connects
#	to 127.0.0.1:--plain and relays. Runs until killed or --timeout.
#
#	Every wait is bounded by --timeout (default 30 s).
# DIAGNOSTICS
#	Lines on stdout, flushed at once; exit 1 on a failed handshake.
import argparse
import os
import socket
import ssl
import sys
import threading
import time


def say(*words):
    sys.stdout.write(" ".join(str(w) for w in words) + "\n")
    sys.stdout.flush()


def pump(src, dst, tls_side, done):
    """copy src to dst until src ends; report how a TLS source ended"""
    try:
        while True:
            try:
                data = src.recv(65536)
            except (ssl.SSLEOFError, ssl.SSLError, ConnectionResetError) as e:
                if tls_side:
                    say("closed unclean", type(e).__name__)
                break
            if not data:
                if tls_side:
                    say("closed clean")
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        done.set()
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def relay(tls, plain, deadline):
    done = threading.Event()
    threads = [threading.Thread(target=pump, args=(tls, plain, True, done),
                                daemon=True),
               threading.Thread(target=pump, args=(plain, tls, False, done),
                                daemon=True)]
    for t in threads:
        t.start()
    # the TLS side's end is what the test waits for
    threads[0].join(max(0.0, deadline - time.time()))


def client(a):
    deadline = time.time() + a.timeout
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    say("plain", ls.getsockname()[1])
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if a.tls12:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if a.no_verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    elif a.ca:
        ctx.load_verify_locations(a.ca)
    if a.cert:
        ctx.load_cert_chain(a.cert, a.key)
    raw = socket.create_connection(("127.0.0.1", a.connect), timeout=a.timeout)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=a.name,
                              suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError) as e:
        say("tls error", str(e).replace("\n", " "))
        return 1
    say("tls ok", tls.version(), tls.cipher()[0])
    tls.settimeout(None)
    ls.settimeout(max(0.1, deadline - time.time()))
    try:
        plain, _ = ls.accept()
    except socket.timeout:
        say("no plain connection")
        return 1
    relay(tls, plain, deadline)
    return 0


def serve_one(ctx, raw, a, deadline):
    try:
        raw.settimeout(a.timeout)
        tls = ctx.wrap_socket(raw, server_side=True,
                              suppress_ragged_eofs=False)
    except (ssl.SSLError, OSError) as e:
        say("accepted error", str(e).replace("\n", " "))
        return
    cn = "-"
    cert = tls.getpeercert()
    if cert:
        for rdn in cert.get("subject", ()):
            for k, v in rdn:
                if k == "commonName":
                    cn = v
    say("accepted ok", tls.version(), cn)
    tls.settimeout(None)
    try:
        plain = socket.create_connection(("127.0.0.1", a.plain), timeout=5)
    except OSError as e:
        say("plain error", e)
        tls.close()
        return
    relay(tls, plain, deadline)


def server(a):
    deadline = time.time() + a.timeout
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(a.cert, a.key)
    if a.ca:
        ctx.load_verify_locations(a.ca)
    if a.verify_client:
        ctx.verify_mode = ssl.CERT_REQUIRED
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.port))
    ls.listen(64)
    say("listen", ls.getsockname()[1])
    while time.time() < deadline:
        ls.settimeout(max(0.1, deadline - time.time()))
        try:
            raw, _ = ls.accept()
        except socket.timeout:
            break
        threading.Thread(target=serve_one, args=(ctx, raw, a, deadline),
                         daemon=True).start()
    return 0


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=("client", "server"))
    p.add_argument("--connect", type=int)
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--plain", type=int)
    p.add_argument("--ca")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--name")
    p.add_argument("--no-verify", action="store_true")
    p.add_argument("--verify-client", action="store_true")
    p.add_argument("--tls12", action="store_true")
    p.add_argument("--timeout", type=float, default=30)
    a = p.parse_args()
    rc = client(a) if a.mode == "client" else server(a)
    sys.stdout.flush()
    os._exit(rc)


if __name__ == "__main__":
    main()
