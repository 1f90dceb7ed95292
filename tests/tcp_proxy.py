#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A plain TCP forwarder on loopback, for tests that need a path to die:
tcp_proxy.py LISTEN_PORT TARGET_PORT. Prints "ready" once listening.
Killing it (SIGTERM, by its pid) ends every connection through it at once,
as a cut cable would. Stops by itself after --lifetime seconds (default
600) so a test that forgets it leaves nothing behind."""
import argparse
import signal
import socket
import sys
import threading


def pump(src, dst):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("listen_port", type=int)
    ap.add_argument("target_port", type=int)
    ap.add_argument("--lifetime", type=float, default=600)
    a = ap.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGALRM, lambda *_: sys.exit(0))
    signal.alarm(int(a.lifetime))
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", a.listen_port))
    ls.listen(16)
    print("ready", flush=True)
    while True:
        c, _ = ls.accept()
        try:
            t = socket.create_connection(("127.0.0.1", a.target_port), timeout=5)
        except OSError:
            c.close()
            continue
        t.settimeout(None)
        for x, y in ((c, t), (t, c)):
            threading.Thread(target=pump, args=(x, y), daemon=True).start()


if __name__ == "__main__":
    main()
