#!/usr/bin/env python3
"""Bad-peer checks for `prpath target` (driven by test_target_robust.sh).

Usage: target_robust.py PORT IQN ALLOWED_INITIATOR
Sends garbage, oversized, truncated and malformed PDUs, leaves half-open
connections behind, and checks each answer the target gives. Prints
HALFOPEN_READY when the half-open connections are in place; keeps them open
until stdin closes. Exit status 0 when every check passed."""
import socket
import struct
import sys
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
        d = s.recv(n - len(buf))
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


def login(s, target=IQN, ini=INI, stype="Normal", isid=ISID):
    keys = {"InitiatorName": ini, "SessionType": stype,
            "HeaderDigest": "None", "DataDigest": "None",
            "MaxRecvDataSegmentLength": "65536"}
    if stype == "Normal":
        keys["TargetName"] = target
    h = bytearray(pdu(3, 0x87, kv(**keys), imm=True, itt=0x10))
    h[8:14] = isid
    s.sendall(bytes(h))
    rh, data = recv_pdu(s)
    if rh is None:
        return None, None
    return (rh[36] << 8) | rh[37], rh


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

# 5. initiator not in --allow: 02/01
s = conn()
st, _ = login(s, ini="iqn.2000-01.invalid:intruder")
check(st == 0x0201, "initiator not allowed answered with 02/01 (got %r)" % st)
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

# 10. slow reader: pings whose answers are never read; others keep working
slow = conn()
st, rh = login(slow, isid=bytes([0x80, 0, 0, 0, 0, 9]))
check(st == 0, "slow reader logs in")
payload = b"x" * 60000
try:
    slow.settimeout(0.2)
    for i in range(200):
        slow.sendall(pdu(0, 0x80, payload, imm=True, itt=100 + i,
                         f20=0xFFFFFFFF))
except (socket.timeout, OSError):
    pass

# 11. half-open connections (never send anything), kept until stdin closes
half = [conn() for _ in range(20)]
print("HALFOPEN_READY", flush=True)
sys.stdin.read()
for h in half:
    h.close()
slow.close()
sys.exit(1 if failures else 0)
