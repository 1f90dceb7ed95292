#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes the seed corpus of the SCSI codec fuzz targets.

    tools/gen_codec_corpus.py [FUZZ_CORPUS_DIR]   (default: fuzz/corpus)

Each seed is a small binary file fuzz/corpus/<target>/seed-<name>: valid
examples plus nasty ones (truncated data, length fields that lie). Files
that libFuzzer adds next to them are left alone.
"""
import os
import struct
import sys


def be16(v):
    return struct.pack(">H", v)


def be32(v):
    return struct.pack(">I", v)


def be64(v):
    return struct.pack(">Q", v)


def tid(name, isid=None, fmt=None, addl=None, proto=5):
    s = name.encode() + (b",i,0x" + isid.encode() if isid else b"") + b"\0"
    n = (len(s) + 3) & ~3
    n = max(n, 20)
    if addl is None:
        addl = n
    if fmt is None:
        fmt = 1 if isid else 0
    return bytes([fmt << 6 | proto, 0]) + be16(addl) + s.ljust(n, b"\0")


IQN = "iqn.2024-01.com.example:h1"
T1 = tid(IQN, "400001370000")
T0 = tid("iqn.b")


def sense_seeds():
    fixed = bytes([0x70, 0, 0x06, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x2a, 0x05, 0, 0, 0, 0])
    desc = bytes([0x72, 0x05, 0x24, 0x00, 0, 0, 0, 12,
                  0x00, 0x0a, 0x80, 0] + list(be64(0x1234)))
    return {
        "fixed-ua": fixed,
        "fixed-info-valid": bytes([0xf0]) + fixed[1:3] + be32(0xdeadbeef) + fixed[7:],
        "fixed-deferred": bytes([0x71]) + fixed[1:],
        "fixed-cut-7": fixed[:7],
        "fixed-cut-13": fixed[:13],
        "fixed-lying-length": fixed[:7] + bytes([0xff]) + fixed[8:14],
        "fixed-addl-0": fixed[:7] + bytes([0]) + fixed[8:],
        "desc-illegal": desc,
        "desc-deferred": bytes([0x73]) + desc[1:],
        "desc-cut": desc[:14],
        "desc-lying-desc-length": desc[:9] + bytes([0xff]) + desc[10:],
        "desc-vendor-then-info": desc[:7] + bytes([16, 0x80, 2, 1, 2]) + desc[8:],
        "desc-header-only": desc[:4],
        "bad-response-code": bytes([0x12]) + fixed[1:],
        "empty": b"",
        "one-byte": b"\x70",
    }


def prin_seeds():
    # first byte: size of the caller's arrays (low 4 bits)
    keys = be32(0x102) + be32(24) + be64(0x1111) + be64(0x22) + be64(0x1111)
    res = be32(9) + be32(16) + be64(0xdeadbeef) + be32(0) + bytes([0, 0x05, 0, 0])
    caps = be16(8) + bytes([0x9d, 0xd1, 0xea, 0x01, 0, 0])
    d1 = be64(0xaaaa) + be32(0) + bytes([0x01, 0x05]) + be32(0) + be16(1) + be32(len(T1)) + T1
    d2 = be64(0xbbbb) + be32(0) + bytes([0x02, 0x05]) + be32(0) + be16(2) + be32(24) + bytes(24)
    d3 = be64(0xcccc) + be32(0) + bytes([0, 0]) + be32(0) + be16(1) + be32(len(T0)) + T0
    body = d1 + d2 + d3
    fs = be32(0x55) + be32(len(body)) + body
    return {
        "read-keys": b"\x08" + keys,
        "read-keys-small-array": b"\x01" + keys,
        "read-keys-cut": b"\x08" + keys[:20],
        "read-keys-lying": b"\x08" + keys[:4] + be32(0xfffffff8) + keys[8:],
        "read-keys-odd-length": b"\x08" + keys[:4] + be32(20) + keys[8:],
        "read-reservation": b"\x08" + res,
        "read-reservation-none": b"\x08" + be32(3) + be32(0),
        "read-reservation-cut": b"\x08" + res[:13],
        "read-reservation-bad-len": b"\x08" + res[:4] + be32(8) + res[8:],
        "caps": b"\x08" + caps,
        "caps-short-length": b"\x08" + be16(4) + caps[2:],
        "full-status": b"\x08" + fs,
        "full-status-small-array": b"\x01" + fs,
        "full-status-cut": b"\x08" + fs[:100],
        "full-status-lying-list": b"\x08" + fs[:4] + be32(0x7ffffff0) + fs[8:],
        "full-status-lying-desc": b"\x08" + fs[:28] + be32(0xfffffff0) + fs[32:],
        "full-status-desc-past-list": b"\x08" + fs[:4] + be32(60) + fs[8:],
        "full-status-bad-tid": b"\x08" + fs[:8] + d1[:24] + T1[:3] + b"\x2d" + T1[4:] + d2,
        "header-only": b"\x08" + bytes(8),
        "tiny": b"\x00\x01\x02",
    }


def inquiry_seeds():
    inq = (bytes([0, 0, 6, 0x12, 31, 0x10, 0, 2]) + b"PRPATH  " +
           b"DEVSERVER       " + b"010 ")
    t10 = bytes([0x02, 0x01, 0, 12]) + b"PRPATH  xy  "
    naa = bytes([0x51, 0x83, 0, 16, 0x60, 0x01, 0x40, 0x50] + [0] * 6 + [0, 0, 0, 0, 0xab, 0xcd])
    rtp = bytes([0x51, 0x94, 0, 4, 0, 0, 0, 2])
    name = bytes([0x53, 0x98, 0, 8]) + b"iqn.t\0\0\0"
    body = t10 + naa + rtp + name
    vpd = bytes([0, 0x83]) + be16(len(body)) + body
    rc16 = be64(0x3fffff) + be32(4096) + bytes([0, 0, 0xc0, 0]) + bytes(16)
    return {
        "inquiry": inq,
        "inquiry-cut": inq[:20],
        "inquiry-short-addl": inq[:4] + bytes([10]) + inq[5:],
        "inquiry-control-chars": inq[:8] + b"\x01\x7f\xff" + inq[11:],
        "vpd83": vpd,
        "vpd83-cut": vpd[:30],
        "vpd83-lying-page": vpd[:2] + be16(0xffff) + vpd[4:],
        "vpd83-desig-crosses-end": vpd[:2] + be16(14) + vpd[4:],
        "vpd83-wrong-page": vpd[:1] + b"\x80" + vpd[2:],
        "vpd83-eui-only": bytes([0, 0x83, 0, 12, 0x01, 0x02, 0, 8]) + be64(0x0011223344556677),
        "vpd83-scsi-name-lu": bytes([0, 0x83, 0, 12, 0x03, 0x08, 0, 8]) + b"iqn.lu\0\0",
        "vpd83-zero-length-desig": bytes([0, 0x83, 0, 8, 0x01, 0x03, 0, 0, 0x01, 0x03, 0, 0]),
        "rc16": rc16,
        "rc16-cut": rc16[:12],
        "rc16-zero-block": be64(1) + be32(0) + bytes(20),
        "tiny": b"\x00\x83",
    }


def prout_seeds():
    basic = be64(0x1122334455667788) + be64(0xabcd) + bytes(4) + bytes([0x05, 0, 0, 0])
    tids = T1 + T0
    spec = be64(0) + be64(0x1234) + bytes(4) + bytes([0x08, 0, 0, 0]) + be32(len(tids)) + tids
    move = be64(0xa) + be64(0xb) + bytes([0, 0x03]) + be16(2) + be32(len(T1)) + T1
    return {
        "basic": basic,
        "basic-too-long": basic + bytes(4),
        "basic-cut": basic[:20],
        "spec-i-pt": spec,
        "spec-i-pt-empty": spec[:24] + be32(0),
        "spec-i-pt-lying": spec[:24] + be32(0xffff) + tids,
        "spec-i-pt-no-length": spec[:26],
        "spec-i-pt-bad-tid": spec[:28] + T1[:3] + b"\x2a" + T1[4:] + T0,
        "move": move,
        "move-cut": move[:40],
        "move-short-tid": move[:20] + be32(20) + T1[:20],
        "move-odd-tid": move[:20] + be32(46) + T1[:46],
        "move-uppercase-isid": move[:24] + tid(IQN, "40000137000A"),
        "move-fc-tid": move[:20] + be32(24) + bytes(24),
        "tid-fmt1": T1,
        "tid-fmt0": T0,
        "tid-fmt0-padded": tid("iqn.a", addl=40),
        "tid-no-nul": bytes([5, 0, 0, 20]) + b"i" * 20,
        "tid-junk-padding": bytes([5, 0, 0, 20]) + b"iqn.a\0x" + bytes(13),
        "tid-fmt2": tid("iqn.a", fmt=2),
        "tid-sas": tid("iqn.a", proto=6),
        "tid-addl-lies": T1[:2] + be16(200) + T1[4:],
        "tid-long-name": tid("n" * 223, "000000000001"),
        "tid-name-too-long": tid("n" * 224),
    }


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")
    targets = {
        "fuzz_sense": sense_seeds(),
        "fuzz_prin": prin_seeds(),
        "fuzz_inquiry": inquiry_seeds(),
        "fuzz_prout_params": prout_seeds(),
    }
    for target, seeds in targets.items():
        d = os.path.join(root, target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print("%s: %d seeds" % (target, len(seeds)))


if __name__ == "__main__":
    main()
