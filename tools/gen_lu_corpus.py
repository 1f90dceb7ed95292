#!/usr/bin/env python3
"""Writes the seed corpus of fuzz/fuzz_lu_cdb.c (see its header for the
record format): PR scenarios and block commands, valid and broken."""
import os, struct, sys

out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
    os.path.dirname(__file__), '..', 'fuzz', 'corpus', 'fuzz_lu_cdb')
os.makedirs(out, exist_ok=True)

def rec(who, cdb, dout=b''):
    return bytes([who, len(cdb) % 17, len(dout) >> 8, len(dout) & 0xff]) + cdb + dout

def prout(sa, typ, plist):
    return bytes([0x5f, sa, typ, 0, 0]) + struct.pack('>I', len(plist)) + b'\0'

def params(rk, sark, flags=0, tids=b''):
    p = struct.pack('>QQ', rk, sark) + b'\0' * 4 + bytes([flags]) + b'\0' * 3
    if flags & 8:
        p += struct.pack('>I', len(tids)) + tids
    return p

def tid(name):
    n = name.encode() + b'\0'
    n += b'\0' * ((-len(n)) % 4)
    if len(n) < 20:
        n += b'\0' * (20 - len(n))
    return bytes([0x45, 0]) + struct.pack('>H', len(n)) + n

def prin(sa, alloc=8192):
    return bytes([0x5e, sa, 0, 0, 0, 0, 0]) + struct.pack('>H', alloc) + b'\0'

def reg(who, key, flags=0, rk=0):
    p = params(rk, key, flags)
    return rec(who, prout(0, 0, p), p)

def reserve(who, key, typ):
    p = params(key, 0)
    return rec(who, prout(1, typ, p), p)

def read10(who, lba=0, n=1):
    return rec(who, bytes([0x28, 0]) + struct.pack('>IBHB', lba, 0, n, 0))

def write10(who, lba=0, n=1):
    return rec(who, bytes([0x2a, 0]) + struct.pack('>IBHB', lba, 0, n, 0), b'\xab' * 512 * n)

tur = lambda who: rec(who, b'\0' * 6)
seeds = {}
seeds['register_reserve_io'] = reg(0, 0xa) + reserve(0, 0xa, 5) + write10(0) + write10(1) + read10(1) + tur(2)
for t in (1, 3, 5, 6, 7, 8):
    seeds[f'type{t}'] = reg(0, 0xa) + reg(1, 0xb) + reserve(0, 0xa, t) + write10(1) + read10(1) + write10(2) + read10(2)
p = params(0xb, 0xa)
seeds['preempt'] = reg(0, 0xa) + reg(1, 0xb) + reserve(0, 0xa, 5) + rec(1, prout(4, 5, p), p) + write10(0)
seeds['preempt_abort'] = reg(0, 0xa) + reg(1, 0xb) + reserve(0, 0xa, 6) + rec(1, prout(5, 6, p), p) + read10(0)
pc = params(0xa, 0)
seeds['clear'] = reg(0, 0xa) + reg(1, 0xb) + rec(0, prout(3, 0, pc), pc) + tur(1)
seeds['release'] = reg(0, 0xa) + reg(1, 0xb) + reserve(0, 0xa, 5) + rec(0, prout(2, 5, pc), pc) + rec(0, prout(2, 6, pc), pc)
seeds['all_tg_pt'] = reg(0, 0xa, flags=4) + rec(2, prin(3))
seeds['spec_i_pt'] = reg(0, 0xa, flags=8) + rec(0, prin(3))
sp = params(0, 0xa, 8, tid('iqn.2026-11.fuzz:b,i,0x000000000002'))
seeds['spec_i_pt_tid'] = rec(0, prout(0, 0, sp), sp) + rec(1, prin(0))
mv = struct.pack('>QQ', 0xa, 0xc) + b'\0' + bytes([0]) + struct.pack('>H', 1)
t = tid('iqn.2026-11.fuzz:b,i,0x000000000002')
mv += struct.pack('>I', len(t)) + t
seeds['register_move'] = reg(0, 0xa) + reserve(0, 0xa, 1) + rec(0, prout(7, 0, mv), mv) + rec(1, prin(1))
seeds['spc2'] = rec(0, bytes([0x16, 0, 0, 0, 0, 0])) + write10(1) + rec(1, prin(0)) + rec(0, bytes([0x17, 0, 0, 0, 0, 0]))
seeds['bad_lengths'] = rec(0, prout(0, 0, b'\0' * 30), b'\0' * 30) + rec(0, bytes([0x5f, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0]))
seeds['bad_opcodes'] = rec(0, bytes([0xff] * 16)) + rec(1, bytes([0xc0] * 10)) + rec(2, bytes([0x5e, 0x1f] + [0] * 8))
seeds['request_sense'] = rec(0, bytes([0x03, 0, 0, 0, 252, 0])) + rec(0, bytes([0x12, 1, 0x83, 0, 255, 0]))
seeds['block_cmds'] = write10(0, 100, 4) + rec(0, bytes([0x41, 0]) + struct.pack('>IBHB', 10, 0, 3, 0), b'\x11' * 512) + \
    rec(0, bytes([0x35] + [0] * 9)) + rec(0, bytes([0x42, 0, 0, 0, 0, 0, 0, 0, 24, 0]),
    struct.pack('>HH', 22, 16) + b'\0' * 4 + struct.pack('>QI', 1, 2) + b'\0' * 4)
caw = bytes([0x89, 0]) + struct.pack('>Q', 5) + b'\0\0\0' + bytes([1, 0, 0])
seeds['caw'] = rec(0, caw, b'\0' * 1024)
seeds['readcap'] = rec(1, bytes([0x9e, 0x10] + [0] * 8 + [0, 0, 0, 32, 0, 0])) + rec(1, bytes([0x25] + [0] * 9))
for name, data in seeds.items():
    with open(os.path.join(out, name), 'wb') as f:
        f.write(data)
print(f'{len(seeds)} seeds in {out}')
