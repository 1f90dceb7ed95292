#!/usr/bin/env python3
"""Bad-peer checks for `prpath target` (driven by test_target_robust.sh).

Usage: target_robust.py PORT IQN ALLOWED_INITIATOR [--live | --nop]
Sends garbage, oversized, truncated and malformed PDUs, leaves half-open
connections behind, and checks each answer the target gives. Prints
HALFOPEN_READY when the half-open connections are in place; keeps them open
until stdin closes, then checks the time-outs (login deadline, slow reader).
With --live: opens connections in several states, prints LIVE_READY and
keeps them until stdin closes (the caller stops the target meanwhile).
With --nop (a target started with --nop-interval 2): NOP-In pings of idle
sessions, and the drop of peers that do not answer or stall mid-PDU.
Exit status 0 when every check passed."""
import socket
import struct
import sys
import threading
import time

PORT, IQN, INI = int(sys.argv[1]), sys.argv[2], sys.argv[3]
failures = []


def check(cond, what):
    print(("ok: " if cond else "FAIL: ") + what, flush=True)
    if not cond:
        failures.append(what)


def conn():
    s = socket.create_connection(("127.0.0.1", PORT), 5)
    s.settimeout(5)
    return s


def recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        try:
            d = s.recv(n - len(buf))
        except (ConnectionResetError, BrokenPipeError):
            return None
        if not d:
            return None
        buf += d
    return buf


def recv_pdu(s):
    h = recv_exact(s, 48)
    if h is None:
        return None, None
    dlen = int.from_bytes(h[5:8], "big")
    ahs = h[4] * 4
    rest = recv_exact(s, ahs + ((dlen + 3) & ~3))
    return h, (rest[ahs:ahs + dlen] if rest is not None else None)


def closed_by_peer(s, timeout=5):
    s.settimeout(timeout)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def pdu(op, flags, data=b"", imm=False, lun=b"\0" * 8, itt=1, f20=0,
        f24=0, f28=0, rest=b"\0" * 16, ahs=b"", dlen=None):
    h = bytearray(48)
    h[0] = op | (0x40 if imm else 0)
    h[1] = flags
    h[4] = len(ahs) // 4
    h[5:8] = (len(data) if dlen is None else dlen).to_bytes(3, "big")
    h[8:16] = lun
    h[16:20] = struct.pack(">I", itt)
    h[20:24] = struct.pack(">I", f20)
    h[24:28] = struct.pack(">I", f24)
    h[28:32] = struct.pack(">I", f28)
    h[32:48] = rest
    return bytes(h) + ahs + data + b"\0" * ((-len(data)) % 4)


def kv(**k):
    return b"".join(f"{a}={b}".encode() + b"\0" for a, b in k.items())


ISID = bytes([0x80, 0x11, 0x22, 0x33, 0x44, 0x55])


def login(s, target=IQN, ini=INI, stype="Normal", isid=ISID, extra=None,
          want_data=False):
    keys = {"InitiatorName": ini, "SessionType": stype,
            "HeaderDigest": "None", "DataDigest": "None",
            "MaxRecvDataSegmentLength": "65536"}
    if stype == "Normal":
        keys["TargetName"] = target
    keys.update(extra or {})
    h = bytearray(pdu(3, 0x87, kv(**keys), imm=True, itt=0x10))
    h[8:14] = isid
    s.sendall(bytes(h))
    rh, data = recv_pdu(s)
    if rh is None:
        return (None, None, None) if want_data else (None, None)
    if want_data:
        return (rh[36] << 8) | rh[37], rh, data
    return (rh[36] << 8) | rh[37], rh


# ---- helpers for SCSI commands in the full feature phase ----
def login_ok(isid, extra=None):
    s = conn()
    st, rh = login(s, isid=isid, extra=extra)
    if st != 0:
        s.close()
        return None, None
    return s, struct.unpack(">I", rh[28:32])[0]


def scsi_send(s, cdb, itt, cmdsn, r=False, w=False, edtl=0, data=b"",
              lun=b"\0" * 8):
    flags = 0x80 | (0x40 if r else 0) | (0x20 if w else 0)
    s.sendall(pdu(1, flags, data, lun=lun, itt=itt, f20=edtl, f24=cmdsn,
                  rest=cdb.ljust(16, b"\0")))


def scsi_wait(s, itt):
    """Reads PDUs until the status of @itt: returns (status, sense bytes,
    data-in bytes) or ("r2t", hdr, None); None when the connection ends."""
    din = b""
    while True:
        rh, data = recv_pdu(s)
        if rh is None:
            return None
        if struct.unpack(">I", rh[16:20])[0] != itt:
            continue
        op = rh[0] & 0x3F
        if op == 0x31:
            return "r2t", rh, None
        if op == 0x25:
            din += data or b""
            if rh[1] & 0x01:
                return rh[3], b"", din
            continue
        if op == 0x21:
            sense = data[2:] if data and len(data) > 2 else b""
            return rh[3], sense, din
        if op == 0x3F:
            return "reject", rh, None


def ua_of(sense):
    if len(sense) < 14:
        return None
    return (sense[2] & 0x0F, sense[12], sense[13])


class Ses:
    def __init__(self, isid, extra=None):
        self.s, self.cmdsn = login_ok(isid, extra)
        self.itt = 0x1000

    def cmd(self, cdb, **kw):
        self.itt += 1
        scsi_send(self.s, cdb, self.itt, self.cmdsn, **kw)
        self.cmdsn += 1
        return self.itt, scsi_wait(self.s, self.itt)

    def drain_uas(self):
        """TEST UNIT READY until GOOD; returns the unit attentions seen."""
        uas = []
        for _ in range(8):
            _, res = self.cmd(bytes(6))
            if res is None or res[0] == 0:
                break
            uas.append(ua_of(res[1]))
        return uas

    def prout(self, sa, rk, sark, ptype=0):
        params = struct.pack(">QQ", rk, sark) + b"\0" * 8
        cdb = bytes([0x5F, sa, ptype, 0, 0, 0, 0, 0, 24, 0])
        _, res = self.cmd(cdb, w=True, edtl=24, data=params)
        return res

    def close(self):
        self.s.close()


WRITE10_1 = bytes([0x2A, 0, 0, 0, 0, 0, 0, 0, 1, 0])


if len(sys.argv) > 4 and sys.argv[4] == "--live":
    # connections in every state for a shutdown test: a session with a
    # write waiting for its data, a reader that stopped reading while the
    # target sends, a login cut off in the middle of a PDU, an idle socket
    live = Ses(bytes([0x80, 0, 0, 0, 0x11, 1]))
    live.drain_uas()
    _, res = live.cmd(WRITE10_1, w=True, edtl=1 << 20)
    check(res is not None and res[0] == "r2t", "live: a write waits for data")
    rd = Ses(bytes([0x80, 0, 0, 0, 0x11, 2]))
    try:
        rd.s.settimeout(0.2)
        for i in range(2000):
            rd.s.sendall(pdu(0, 0x80, b"y" * 60000, imm=True, itt=500 + i,
                             f20=0xFFFFFFFF))
    except (socket.timeout, OSError):
        pass
    cut = conn()
    cut.sendall(pdu(3, 0x87, kv(InitiatorName=INI), imm=True)[:60])
    idle = conn()
    print("LIVE_READY", flush=True)
    sys.stdin.read()
    sys.exit(1 if failures else 0)

if len(sys.argv) > 4 and sys.argv[4] == "--nop":
    # the target runs with --nop-interval 2: NOP-In pings after 2 s of
    # silence, the connection dropped 2 s later when nothing arrives
    IV = 2.0
    res = {}

    def silent():
        s, _ = login_ok(bytes([0x80, 0, 0, 0, 0x4E, 1]))
        t0 = time.monotonic()
        s.settimeout(15)
        rh, _ = recv_pdu(s)
        res["ping_at"] = time.monotonic() - t0
        res["ping"] = rh
        rh2, _ = recv_pdu(s)
        res["closed_at"] = time.monotonic() - t0 if rh2 is None else None
        s.close()

    def answerer():
        s, cmdsn = login_ok(bytes([0x80, 0, 0, 0, 0x4E, 2]))
        t0 = time.monotonic()
        pings, ttts = 0, set()
        s.settimeout(0.5)
        while time.monotonic() - t0 < 4 * IV + 1:
            try:
                rh, _ = recv_pdu(s)
            except socket.timeout:
                continue
            if rh is None:
                break
            ttt = struct.unpack(">I", rh[20:24])[0]
            if rh[0] & 0x3F == 0x20 and ttt != 0xFFFFFFFF:
                pings += 1
                ttts.add(ttt)
                s.sendall(pdu(0, 0x80, imm=True, lun=rh[8:16],
                              itt=0xFFFFFFFF, f20=ttt, f24=cmdsn))
        res["pings"] = pings
        res["ttts"] = len(ttts)
        s.settimeout(5)
        try:
            s.sendall(pdu(0, 0x80, b"alive", imm=True, itt=0x4E2,
                          f20=0xFFFFFFFF, f24=cmdsn))
            while True:
                rh, data = recv_pdu(s)
                if rh is None or struct.unpack(">I", rh[16:20])[0] == 0x4E2:
                    break
        except OSError:
            rh, data = None, None
        res["alive"] = rh is not None and data == b"alive"
        s.close()

    def staller():
        s, cmdsn = login_ok(bytes([0x80, 0, 0, 0, 0x4E, 3]))
        s.sendall(pdu(0, 0x80, b"half", imm=True, itt=0x4E3,
                      f20=0xFFFFFFFF, f24=cmdsn)[:20])
        t0 = time.monotonic()
        res["stall_closed"] = (time.monotonic() - t0
                               if closed_by_peer(s, 15) else None)
        s.close()

    thr = [threading.Thread(target=f) for f in (silent, answerer, staller)]
    for x in thr:
        x.start()
    for x in thr:
        x.join()
    ping = res.get("ping")
    check(ping is not None and ping[0] & 0x3F == 0x20 and ping[1] == 0x80 and
          ping[16:20] == b"\xff" * 4 and ping[20:24] != b"\xff" * 4 and
          1.5 <= res["ping_at"] <= IV + 1.5,
          "an idle session gets a NOP-In ping with a valid TTT after the "
          "interval (after %r s)" % res.get("ping_at"))
    closed = res.get("closed_at")
    check(closed is not None and 2 * IV - 0.5 <= closed <= 2 * IV + 2,
          "a session that does not answer the ping is dropped after "
          "interval + timeout (after %r s)" % closed)
    check(res.get("pings", 0) >= 3 and res.get("ttts") == res.get("pings")
          and res.get("alive"),
          "a session that answers the pings stays (%r pings, %r tags, "
          "alive %r)" % (res.get("pings"), res.get("ttts"), res.get("alive")))
    st = res.get("stall_closed")
    check(st is not None and IV - 0.5 <= st <= IV + 2,
          "a peer that stops in the middle of a PDU is dropped after the "
          "timeout (after %r s)" % st)
    sys.exit(1 if failures else 0)

# 1. garbage before login: the connection is dropped
s = conn()
s.sendall(bytes((i * 37 + 11) & 0xFF for i in range(300)))
check(closed_by_peer(s), "garbage before login closes the connection")
s.close()

# 2. oversized login data segment
s = conn()
s.sendall(pdu(3, 0x87, imm=True, dlen=0xFFFFFF)[:48] + b"A" * 1000)
check(closed_by_peer(s), "oversized login PDU closes the connection")
s.close()

# 3. truncated PDU then close (abrupt disconnect)
s = conn()
s.sendall(pdu(3, 0x87, kv(InitiatorName=INI), imm=True)[:30])
s.close()

# 4. wrong target name: 02/03
s = conn()
st, _ = login(s, target="iqn.2000-01.invalid:nope")
check(st == 0x0203, "unknown TargetName answered with 02/03 (got %r)" % st)
s.close()

# 5. initiator not in --allow: 02/02 authorization failure (RFC 7143 11.13.5;
#    02/01 would tell it to try other credentials)
s = conn()
st, _ = login(s, ini="iqn.2000-01.invalid:intruder")
check(st == 0x0202, "initiator not allowed answered with 02/02 (got %r)" % st)
s.close()

# 6. missing InitiatorName: 02/07
s = conn()
h = pdu(3, 0x87, kv(TargetName=IQN, SessionType="Normal"), imm=True)
s.sendall(h)
rh, _ = recv_pdu(s)
check(rh is not None and rh[36] == 2 and rh[37] == 7,
      "missing InitiatorName answered with 02/07")
s.close()

# 7. full feature phase: bad opcode -> Reject 0x05, session keeps working
s = conn()
st, rh = login(s)
check(st == 0, "normal login succeeds (status %r)" % st)
cmdsn = struct.unpack(">I", rh[28:32])[0]
s.sendall(pdu(0x1C, 0x80, f24=cmdsn))
rh, data = recv_pdu(s)
check(rh is not None and rh[0] & 0x3F == 0x3F and rh[2] == 0x05,
      "unknown opcode answered with Reject reason 05")
# a target opcode sent by the initiator
s.sendall(pdu(0x21, 0x80, f24=cmdsn))
rh, data = recv_pdu(s)
check(rh is not None and rh[0] & 0x3F == 0x3F, "target opcode rejected")
# AHS garbage on a SCSI command -> Reject 0x09
s.sendall(pdu(1, 0x80, itt=5, f24=cmdsn, ahs=bytes([0, 200, 1, 0]),
              rest=bytes([0]) + b"\0" * 15))
rh, data = recv_pdu(s)
check(rh is not None and rh[0] & 0x3F == 0x3F and rh[2] == 0x09,
      "AHS garbage answered with Reject reason 09")
cmdsn += 1  # a rejected command still used its CmdSN
# NOP ping still answered
s.sendall(pdu(0, 0x80, b"hello", imm=True, itt=7, f20=0xFFFFFFFF, f24=cmdsn))
rh, data = recv_pdu(s)
check(rh is not None and rh[0] & 0x3F == 0x20 and data == b"hello",
      "NOP-Out ping echoed after rejects")
# TEST UNIT READY to a missing LUN: CHECK CONDITION 05/25/00
lun9 = bytes([0, 9, 0, 0, 0, 0, 0, 0])
s.sendall(pdu(1, 0x80, lun=lun9, itt=8, f24=cmdsn))
cmdsn += 1
while True:
    rh, data = recv_pdu(s)
    if rh is None or rh[0] & 0x3F == 0x21:
        break
ok = (rh is not None and rh[3] == 2 and data is not None and len(data) >= 16
      and data[2 + 2] & 0x0F == 5 and data[2 + 12] == 0x25 and data[2 + 13] == 0)
check(ok, "command to a missing LUN: CHECK CONDITION 05/25/00")
# login PDU in full feature phase: rejected, connection kept
s.sendall(pdu(3, 0x87, kv(InitiatorName=INI), imm=True))
rh, data = recv_pdu(s)
check(rh is not None and rh[0] & 0x3F == 0x3F, "login in full feature phase rejected")
# data segment above our MaxRecvDataSegmentLength: connection dropped
s.sendall(pdu(0, 0x80, imm=True, itt=9, f20=0xFFFFFFFF, f24=cmdsn,
              dlen=0x800000)[:48] + b"B" * 4096)
dropped = False
for _ in range(4):
    rh, data = recv_pdu(s)
    if rh is None:
        dropped = True
        break
check(dropped, "oversized data segment in full feature phase drops the connection")
s.close()

# 8. CRC32C header and data digests, both ways
def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def dig(data):
    return struct.pack("<I", crc32c(data))


s = conn()
keys = kv(InitiatorName=INI, SessionType="Normal", TargetName=IQN,
          HeaderDigest="CRC32C", DataDigest="CRC32C")
h = bytearray(pdu(3, 0x87, keys, imm=True, itt=0x20))
h[8:14] = bytes([0x80, 0, 0, 0, 0, 0x42])
s.sendall(bytes(h))
rh, data = recv_pdu(s)
check(rh is not None and rh[36] == 0 and b"HeaderDigest=CRC32C" in data
      and b"DataDigest=CRC32C" in data, "CRC32C digests negotiated")
ping = b"digest-ping"
p = pdu(0, 0x80, ping, imm=True, itt=0x21, f20=0xFFFFFFFF)
hdr, seg = p[:48], p[48:]
s.sendall(hdr + dig(hdr) + seg + dig(seg))
rhdr = recv_exact(s, 48)
rhd = recv_exact(s, 4)
ok = rhdr is not None and rhd == dig(rhdr) and rhdr[0] & 0x3F == 0x20
if ok:
    dlen = int.from_bytes(rhdr[5:8], "big")
    rseg = recv_exact(s, (dlen + 3) & ~3)
    rdd = recv_exact(s, 4)
    ok = rseg[:dlen] == ping and rdd == dig(rseg)
check(ok, "NOP-In carries correct header and data digests")
# a PDU with a wrong header digest ends the connection (ERL 0)
s.sendall(hdr + b"\0\0\0\0" + seg + dig(seg))
check(closed_by_peer(s), "bad header digest drops the connection")
s.close()

# 9. session reinstatement: same initiator + ISID, TSIH 0 closes the old one
RISID = bytes([0x80, 0, 0, 0, 0, 0x77])
a = conn()
st_a, _ = login(a, isid=RISID)
b = conn()
st_b, rb = login(b, isid=RISID)
check(st_a == 0 and st_b == 0, "both logins with the same ISID succeed")
check(closed_by_peer(a), "the older session is closed on reinstatement")
ecmd = struct.unpack(">I", rb[28:32])[0]
b.sendall(pdu(0, 0x80, b"still", imm=True, itt=0x31, f20=0xFFFFFFFF, f24=ecmd))
rh, data = recv_pdu(b)
check(rh is not None and data == b"still", "the reinstated session works")
a.close()
b.close()

# 9b. extended CDB (AHS type 1) longer than the 260 bytes a CDB may have
s, cmdsn = login_ok(bytes([0x80, 0, 0, 0, 0, 0x9B]))
check(s is not None, "login for the long-CDB check")
if s is not None:
    ext = b"\0" * 245                       # 16 + 245 = 261 CDB bytes
    ahs_body = b"\0" + ext                  # reserved byte + CDB bytes
    ahs = struct.pack(">HB", len(ahs_body), 1) + ahs_body
    ahs += b"\0" * ((-len(ahs)) % 4)
    s.sendall(pdu(1, 0xA0, itt=0x9B, f20=512, f24=cmdsn, ahs=ahs,
                  rest=bytes([0x7F]) + b"\0" * 15))
    rh, _ = recv_pdu(s)
    check(rh is not None and rh[0] & 0x3F == 0x3F and rh[2] == 0x09,
          "a 261-byte CDB (extended CDB AHS) is rejected with reason 09")
    s.close()

# 9c. commands the target answers itself, with no data buffer (EDTL 0)
se = Ses(bytes([0x80, 0, 0, 0, 0, 0x9C]))
check(se.s is not None, "login for the EDTL 0 checks")
if se.s is not None:
    _, res = se.cmd(bytes([0x12, 0, 0, 0, 36, 0]), lun=lun9)
    check(res is not None and res[0] == 0 and res[2] == b"",
          "INQUIRY to a missing LUN without a data buffer: GOOD, no data")
    _, res = se.cmd(bytes([0xA0, 0, 0, 0, 0, 0, 0, 0, 0, 16, 0, 0]), r=True)
    check(res is not None and res[0] == 0 and res[2] == b"",
          "REPORT LUNS with EDTL 0: GOOD, no data")
    _, res = se.cmd(bytes([0x03, 0, 0, 0, 18, 0]), lun=lun9)
    check(res is not None and res[0] == 0 and res[2] == b"",
          "REQUEST SENSE to a missing LUN without a data buffer: GOOD")
    se.close()

# 9d. a write task that never ran (ABORT TASK, or its connection dropped)
# leaves the task set: a later PREEMPT AND ABORT of that initiator's key
# reports 2A/05 only, not 2F/00 COMMANDS CLEARED BY ANOTHER INITIATOR.
prev = Ses(bytes([0x80, 0, 0, 0, 0, 0xB0]))
check(prev.s is not None, "login of the preempting initiator")
prev.drain_uas()
res = prev.prout(0x06, 0, 0xB0B0)
check(res is not None and res[0] == 0, "preempting initiator registers")
for variant in ("abort", "disconnect"):
    isid = bytes([0x80, 0, 0, 0, 0, 0xA1 if variant == "abort" else 0xA2])
    key = 0xA1A1 if variant == "abort" else 0xA2A2
    v = Ses(isid)
    v.drain_uas()
    res = v.prout(0x06, 0, key)
    check(res is not None and res[0] == 0, "%s: victim registers" % variant)
    witt, res = v.cmd(WRITE10_1, w=True, edtl=512)
    check(res is not None and res[0] == "r2t", "%s: WRITE waits for data (R2T)" % variant)
    if variant == "abort":
        v.s.sendall(pdu(2, 0x81, imm=True, itt=0x7777, f20=witt, f24=v.cmdsn,
                        rest=struct.pack(">I", v.cmdsn - 1) + b"\0" * 12))
        rh, _ = recv_pdu(v.s)
        check(rh is not None and rh[0] & 0x3F == 0x22 and rh[2] == 0,
              "abort: ABORT TASK of the waiting WRITE: function complete")
    else:
        v.close()
        time.sleep(0.3)
    res = prev.prout(0x05, 0xB0B0, key, ptype=1)
    check(res is not None and res[0] == 0, "%s: PREEMPT AND ABORT GOOD" % variant)
    if variant == "disconnect":
        v = Ses(isid)
    uas = v.drain_uas()
    check(uas == [(6, 0x2A, 0x05)],
          "%s: the victim sees 2A/05 only (got %r)" % (variant, uas))
    v.close()
prev.close()

# 9e. concurrent logins with one initiator port name: exactly one session
# survives (the reinstatements must not leave two of them running)
def closed_now(s):
    s.setblocking(False)
    try:
        d = s.recv(4096)
        return d == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        s.setblocking(True)


CISID = bytes([0x80, 0, 0, 0, 0, 0xCC])
bad_rounds = 0
for rnd in range(15):
    socks = [conn() for _ in range(6)]
    keys = kv(InitiatorName=INI, SessionType="Normal", TargetName=IQN,
              HeaderDigest="None", DataDigest="None")
    h = bytearray(pdu(3, 0x87, keys, imm=True, itt=0x10))
    h[8:14] = CISID
    for x in socks:
        x.sendall(bytes(h[:-1]))
    for x in socks:
        x.sendall(bytes(h[-1:]))
    for x in socks:
        recv_pdu(x)
    time.sleep(0.3)
    alive = [x for x in socks if not closed_now(x)]
    if len(alive) != 1:
        bad_rounds += 1
    for x in socks:
        x.close()
check(bad_rounds == 0,
      "concurrent logins of one I_T nexus leave exactly one session "
      "(%d of 15 rounds did not)" % bad_rounds)

# 9f. a flood of connections that never log in does not lock out a real
# initiator: more idle connections than the target's connection cap, then a
# normal login must still succeed
flood = []
try:
    for _ in range(300):
        flood.append(conn())
except OSError:
    pass
time.sleep(0.5)
s, cmdsn = login_ok(bytes([0x80, 0, 0, 0, 0, 0x9F]))
check(len(flood) == 300 and s is not None,
      "login succeeds while %d idle connections are open" % len(flood))
if s is not None:
    s.close()
for x in flood:
    x.close()
time.sleep(0.5)

# 9g. buffers for commands are bounded target-wide, not only per
# connection: 32 MiB writes waiting for their data on many sessions fill the
# target's 512 MiB budget, then the next one gets TASK SET FULL; closing the
# sessions gives the budget back
big = []
for i in range(9):
    b = Ses(bytes([0x80, 0, 0, 0, 0x9D, i]))
    if b.s is None:
        break
    big.append(b)
    b.drain_uas()
check(len(big) == 9, "nine sessions for the buffer budget check")
results = []
for b in big[:8]:
    for _ in range(2):
        _, res = b.cmd(WRITE10_1, w=True, edtl=32 << 20)
        results.append(res[0] if res else None)
check(results == ["r2t"] * 16,
      "sixteen 32 MiB writes wait for their data (got %r)" % results)
_, res = big[8].cmd(WRITE10_1, w=True, edtl=32 << 20)
check(res is not None and res[0] == 0x28,
      "the next one is answered TASK SET FULL (got %r)" % (res and res[0],))
for b in big:
    b.close()
time.sleep(0.5)
b = Ses(bytes([0x80, 0, 0, 0, 0x9D, 0x10]))
b.drain_uas()
_, res = b.cmd(WRITE10_1, w=True, edtl=32 << 20)
check(res is not None and res[0] == "r2t",
      "after the sessions closed the budget is free again")
b.close()

# 9g2. outgoing data segments stay within the initiator's
# MaxRecvDataSegmentLength: a login answer (20 NotUnderstood keys) and a
# NOP-In echo of a ping longer than that
s = conn()
pad = {("X-org.prpath.test-padding-key-%02d" % i): "v" for i in range(20)}
pad["MaxRecvDataSegmentLength"] = "512"
st, rh, data = login(s, isid=bytes([0x80, 0, 0, 0, 0, 0xD1]), extra=pad,
                     want_data=True)
dlen = int.from_bytes(rh[5:8], "big") if rh is not None else None
check(rh is not None and dlen <= 512 and st in (0, 0x0302),
      "a login response stays within the initiator's MaxRecvDataSegmentLength"
      " 512 (status %r, %r bytes)" % (st, dlen))
s.close()
se = Ses(bytes([0x80, 0, 0, 0, 0, 0xD2]),
         extra={"MaxRecvDataSegmentLength": "512"})
check(se.s is not None, "login with MaxRecvDataSegmentLength=512")
if se.s is not None:
    ping = bytes(range(256)) * 8
    se.s.sendall(pdu(0, 0x80, ping, imm=True, itt=0xD2, f20=0xFFFFFFFF,
                     f24=se.cmdsn))
    rh, data = recv_pdu(se.s)
    check(rh is not None and rh[0] & 0x3F == 0x20 and data == ping[:512],
          "a 2048-byte ping is echoed truncated to the initiator's 512 bytes "
          "(got %r bytes)" % (len(data) if data is not None else None))
    se.close()


# 9g3. unsolicited data is limited to FirstBurstLength, and Data-Out PDUs
# must follow each other without overlap or gap (DataPDUInOrder=Yes)
FB = {"FirstBurstLength": "512", "InitialR2T": "No", "ImmediateData": "Yes"}
WRITE10_2 = bytes([0x2A, 0, 0, 0, 0, 0x10, 0, 0, 2, 0])
READ10_2 = bytes([0x28, 0, 0, 0, 0, 0x10, 0, 0, 2, 0])


def wcmd(se, data=b"", final=True, edtl=1024):
    se.itt += 1
    se.s.sendall(pdu(1, 0x20 | (0x80 if final else 0), data, itt=se.itt,
                     f20=edtl, f24=se.cmdsn, rest=WRITE10_2.ljust(16, b"\0")))
    se.cmdsn += 1
    return se.itt


def data_out(s, itt, ttt, off, data, datasn, final):
    try:
        s.sendall(pdu(5, 0x80 if final else 0, data, itt=itt, f20=ttt,
                      rest=struct.pack(">IIII", 0, datasn, off, 0)))
    except OSError:
        pass


def proto_reject_and_drop(s):
    """Reads PDUs (R2Ts are skipped) until a Reject or a status: True for
    a Reject with reason 04 (protocol error) followed by the end of the
    connection."""
    got = None
    while True:
        try:
            rh, _ = recv_pdu(s)
        except socket.timeout:
            got = "no answer"
            break
        if rh is None:
            break
        op = rh[0] & 0x3F
        if op == 0x3F:
            got = rh[2]
            break
        if op in (0x21, 0x25):
            got = ("status", rh[3])
            break
    return got == 4 and closed_by_peer(s), got


se = Ses(bytes([0x80, 0, 0, 0, 0, 0xD3]), FB)
se.drain_uas()
itt = wcmd(se, b"a" * 256, final=False)
data_out(se.s, itt, 0xFFFFFFFF, 256, b"b" * 256, 0, True)
res = scsi_wait(se.s, itt)
ok = res is not None and res[0] == "r2t" and \
    struct.unpack(">II", res[1][40:48]) == (512, 512)
if ok:
    data_out(se.s, itt, struct.unpack(">I", res[1][20:24])[0], 512,
             b"c" * 512, 0, True)
    res = scsi_wait(se.s, itt)
    ok = res is not None and res[0] == 0
    _, rd = se.cmd(READ10_2, r=True, edtl=1024)
    ok = ok and rd is not None and rd[2] == b"a" * 256 + b"b" * 256 + b"c" * 512
check(ok, "FirstBurstLength 512: immediate + unsolicited Data-Out up to it, "
      "then R2T for the rest: GOOD and the data read back")
se.close()

se = Ses(bytes([0x80, 0, 0, 0, 0, 0xD4]), FB)
se.drain_uas()
wcmd(se, b"x" * 1024)
ok, got = proto_reject_and_drop(se.s)
check(ok, "immediate data beyond FirstBurstLength: Reject 04 and the "
      "connection ends (got %r)" % (got,))
se.close()

se = Ses(bytes([0x80, 0, 0, 0, 0, 0xD5]), FB)
se.drain_uas()
itt = wcmd(se, final=False)
data_out(se.s, itt, 0xFFFFFFFF, 0, b"y" * 1024, 0, True)
ok, got = proto_reject_and_drop(se.s)
check(ok, "unsolicited Data-Out beyond FirstBurstLength: Reject 04 and the "
      "connection ends (got %r)" % (got,))
se.close()

for variant in ("overlap", "gap"):
    se = Ses(bytes([0x80, 0, 0, 0, 0, 0xD6 if variant == "overlap" else 0xD7]))
    se.drain_uas()
    itt = wcmd(se)
    res = scsi_wait(se.s, itt)
    if res is not None and res[0] == "r2t":
        ttt = struct.unpack(">I", res[1][20:24])[0]
        if variant == "overlap":
            data_out(se.s, itt, ttt, 0, b"z" * 512, 0, False)
            data_out(se.s, itt, ttt, 0, b"z" * 512, 1, True)
        else:
            data_out(se.s, itt, ttt, 512, b"z" * 512, 0, True)
        ok, got = proto_reject_and_drop(se.s)
    else:
        ok, got = False, res
    check(ok, "Data-Out with %s (DataPDUInOrder=Yes): Reject 04 and the "
          "connection ends (got %r)" % (variant, got))
    se.close()

# 9h. a login that trickles in (one byte a second) is dropped by the overall
# login deadline, not kept alive by its per-read timeout
drip_result = {}


def drip():
    t0 = time.monotonic()
    d = socket.create_connection(("127.0.0.1", PORT), 5)
    body = pdu(3, 0x87, kv(InitiatorName=INI, SessionType="Normal",
                           TargetName=IQN) * 4, imm=True)
    try:
        for i in range(len(body)):
            if time.monotonic() - t0 > 40:
                break
            d.sendall(body[i:i + 1])
            time.sleep(1)
            if closed_now(d):
                drip_result["closed"] = time.monotonic() - t0
                break
    except OSError:
        drip_result["closed"] = time.monotonic() - t0
    d.close()


drip_thr = threading.Thread(target=drip)
drip_thr.start()

# 10. slow reader: pings whose answers are never read; others keep working
slow = conn()
st, rh = login(slow, isid=bytes([0x80, 0, 0, 0, 0, 9]))
check(st == 0, "slow reader logs in")
payload = b"x" * 60000
try:
    slow.settimeout(0.2)
    for i in range(2000):  # until the target stops reading
        slow.sendall(pdu(0, 0x80, payload, imm=True, itt=100 + i,
                         f20=0xFFFFFFFF))
except (socket.timeout, OSError):
    pass
slow_t0 = time.monotonic()

# 11. half-open connections (never send anything), kept until stdin closes
half = [conn() for _ in range(20)]
print("HALFOPEN_READY", flush=True)
sys.stdin.read()
for h in half:
    h.close()
drip_thr.join()
closed = drip_result.get("closed")
check(closed is not None and 15 <= closed <= 27,
      "a trickling login is dropped by the 20 s login deadline (after %r s)"
      % closed)
# the slow reader's answers have not been read for a long time: the target
# gave up on it (send timeout) instead of serving it forever
wait = slow_t0 + 40 - time.monotonic()
if wait > 0:
    time.sleep(wait)
check(closed_by_peer(slow, 10), "a peer that never reads is dropped")
slow.close()
sys.exit(1 if failures else 0)
