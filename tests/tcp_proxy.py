#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A plain TCP forwarder on loopback, for tests that need a path to die:
tcp_proxy.py LISTEN_PORT TARGET_PORT. Prints "ready" once listening.
Killing it (SIGTERM, by its pid) ends every connection through it at once,
as a cut cable would. Stops by itself after --lifetime seconds (default
600) so a test that forgets it leaves nothing behind.

--hold-prout SA: reads the initiator's side as iSCSI PDUs (no digests)
and stops forwarding at the first SCSI Command whose CDB is a PERSISTENT
RESERVE OUT with service action SA: that command, and all after it on the
connection, never reach the target (prints "held"). A test can then
interrupt a command in the middle of its PR sequence."""
import argparse
import signal
import socket
import sys
import threading


class Holder:
    """Splits the initiator's byte stream into iSCSI PDUs and says when
    the PDU to hold begins."""

    def __init__(self, sa):
        self.sa = sa
        self.buf = b""
        self.held = False

    def feed(self, b):
        """Returns the bytes that may be forwarded."""
        if self.held:
            return b""
        self.buf += b
        out = b""
        while len(self.buf) >= 48:
            bhs = self.buf[:48]
            dlen = int.from_bytes(bhs[5:8], "big")
            n = 48 + bhs[4] * 4 + (dlen + 3) // 4 * 4
            if (bhs[0] & 0x3F) == 0x01 and bhs[32] == 0x5F and (bhs[33] & 0x1F) == self.sa:
                self.held = True
                print("held", flush=True)
                self.buf = b""
                return out
            if len(self.buf) < n:
                break
            out += self.buf[:n]
            self.buf = self.buf[n:]
        return out


def pump(src, dst, holder=None):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if holder:
                b = holder.feed(b)
                if holder.held and not b:
                    continue
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
    ap.add_argument("--hold-prout", type=int, default=-1)
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
        h = Holder(a.hold_prout) if a.hold_prout >= 0 else None
        threading.Thread(target=pump, args=(c, t, h), daemon=True).start()
        threading.Thread(target=pump, args=(t, c), daemon=True).start()


if __name__ == "__main__":
    main()
