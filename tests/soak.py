#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Randomized fault soak (issue 8): host A (tests/e2e_host, the public
library API) holds an LU of a real target over 4 paths, each through its
own fault-injecting TCP proxy, and writes while paths are cut, paused
(bytes held, delivered later in order) and brought back; host B then takes
over, sometimes with only one live path, while A still has writes held in
the network. Every write carries its own byte value, so the blocks tell
which write landed. Invariants, per seed:

  1. no write of the old owner lands after the takeover returned
     (the LU read right after the takeover equals the LU read after A's
     held bytes were delivered and A's writes ended);
  2. no acknowledged write is lost or reordered (each block holds A's last
     acknowledged write to it, or a later write of A whose outcome A could
     not know, never an older one);
  3. the fenced host never registers itself again (A's checker says
     FENCED, READ KEYS shows no key of A);
  4. a takeover with one live path finishes in bounded time;
  5. no host crashes or hangs (every answer within its timeout).

  soak.py --host-bin E2E_HOST --iqn IQN --portal H:P ... --lun N ...
          --seeds FIRST:COUNT

A seed chooses the same operations again (the timing is real, so an
interleaving may differ). Exit status 0 when every seed passed.
"""
import argparse
import os
import random
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e_driver import Env, Fail, check, NP, KA, KB  # noqa: E402

NBLK = 16            # blocks A and B write (LBA 0..15)
HOST_TIMEOUT_MS = 2000
TAKEOVER_BOUND = 20  # seconds: 2 s command timeout, a few round trips


def read_all(h):
    vals = h.ok("read 0 %d -1" % NBLK).split()
    check(len(vals) == NBLK, "read: %r" % vals)
    return vals


def seed_run(env, seed):
    rng = random.Random(seed)
    a, b = env.pair()
    a.ok("open exclusive")
    # lba -> [[val, state, issued, done]]: op counter values; done is
    # None while A does not know the outcome
    hist = {lba: [] for lba in range(NBLK)}
    now = [0]

    def tick():
        now[0] += 1
        return now[0]
    pending = {}                              # awrite id -> (lba, index)
    paused, cut = set(), set()
    nval = 0

    def new_val():
        nonlocal nval
        nval += 1
        check(nval < 250, "too many writes for one-byte values")
        return "%02x" % nval

    for _ in range(rng.randint(15, 35)):
        r = rng.random()
        live = [p for p in range(NP) if p not in cut]
        if r < 0.10 and live:
            # the stale retry: every live path but one holds its bytes, so
            # the write most likely times out on a held path and is retried
            # on the free one; a newer write to the block follows; then the
            # held bytes are let go (they must not land)
            free = rng.choice(live)
            for p in live:
                if p != free and p not in paused:
                    a.ok("pause %d" % p)
                    paused.add(p)
            lba = rng.randrange(NBLK)
            for _ in range(2):
                val = new_val()
                t = tick()
                ans = a.cmd("write %d 1 0x%s -1" % (lba, val), timeout=60)
                hist[lba].append([val, "acked" if ans == "ok" else "unknown", t, t])
            for p in sorted(paused):
                a.ok("resume %d" % p)
            paused.clear()
            time.sleep(0.2)
            a.cmd("check", timeout=60)
        elif r < 0.40:
            lba, val = rng.randrange(NBLK), new_val()
            t = tick()
            ans = a.cmd("write %d 1 0x%s -1" % (lba, val), timeout=60)
            hist[lba].append([val, "acked" if ans == "ok" else "unknown", t, t])
        elif r < 0.65:
            # an asynchronous write on one path, maybe held in the network
            p = rng.randrange(NP)
            if p not in cut and rng.random() < 0.6 and p not in paused:
                a.ok("pause %d" % p)
                paused.add(p)
            lba, val = rng.randrange(NBLK), new_val()
            wid = a.ok("awrite %d 1 0x%s %d" % (lba, val, p))
            hist[lba].append([val, "unknown", tick(), None])
            pending[wid] = (lba, len(hist[lba]) - 1)
        elif r < 0.75 and len(live) > 1:
            p = rng.choice(live)
            a.ok("cut %d" % p)
            cut.add(p)
        elif r < 0.85 and (cut or paused):
            if cut and (not paused or rng.random() < 0.5):
                p = cut.pop()
                a.ok("up %d" % p)
            else:
                p = paused.pop()
                a.ok("resume %d" % p)
        elif r < 0.89:
            a.cmd("check", timeout=60)
        elif r < 0.92 and not paused and not pending:
            # the path list changes between commands: another process
            # of host A (same initiator, same key) with some of A's
            # paths, in another order, opens exclusively: already held,
            # it joins (nothing removed), and afterwards the only key
            # registered is A's: an exclusive open that returns never
            # leaves another host able to write (issue 20)
            sub = rng.sample(range(NP), rng.randint(1, NP))
            b_reg = rng.random() < 0.5
            a2 = env.host_like(a, "A2", sub)
            try:
                if b_reg:
                    # B only registers (no reservation): under A's WERO it
                    # could write; an exclusive open must refuse
                    check(b.raw("prout 0 6 0 0 0x%x" % KB) == (0, (0, 0, 0)),
                          "B registers")
                    ans = a2.cmd("open exclusive retain")
                    check(ans.startswith("err") and ans.endswith("OTHER_KEYS"),
                          "A2's exclusive open with B registered: %s" % ans)
                    keys = a2.keys(0)
                    check(sorted(set(keys)) == sorted({KA, KB}),
                          "the refused open changed keys: %r" % [hex(k) for k in keys])
                    check(b.raw("prout 0 6 0 0 0") == (0, (0, 0, 0)), "B unregisters")
                a2.ok("open exclusive retain")
                keys = a2.keys(0)
                check(keys and set(keys) == {KA},
                      "after A2's exclusive open over paths %r: keys %r"
                      % (sub, [hex(k) for k in keys]))
                a2.ok("close")
            finally:
                a2.close()
                env.hosts.remove(a2)
        else:
            # collect finished asynchronous writes
            for wid in list(pending):
                ans = a.cmd("await %s 1" % wid, timeout=10)
                if ans.startswith("ok"):
                    lba, i = pending.pop(wid)
                    # a pinned write that failed is not fenced (mpath.h):
                    # its outcome stays unknown, it may land any time
                    if ans.split()[1] == "0":
                        hist[lba][i][1] = "acked"
                        hist[lba][i][3] = tick()

    # ---- B takes over while A may still have writes held in the network
    bcut = rng.choice([0, 0, 1, 2, 3])       # B's paths down: one live left
    for p in range(bcut):
        b.ok("cut %d" % p)
    t0 = time.monotonic()
    b.ok("open force", timeout=TAKEOVER_BOUND + 5)
    dt = time.monotonic() - t0
    check(dt < TAKEOVER_BOUND, "takeover with %d live path(s) took %.1f s" % (NP - bcut, dt))
    s1 = read_all(b)
    # let A's held bytes go and A's writes end
    for p in sorted(paused):
        a.ok("resume %d" % p)
    for p in sorted(cut):
        a.ok("up %d" % p)
    for wid in list(pending):
        ans = a.cmd("await %s 30000" % wid, timeout=40)
        check(ans.startswith("ok"), "A's write %s never ended: %s" % (wid, ans))
        lba, i = pending.pop(wid)
        if ans.split()[1] == "0":
            hist[lba][i][1] = "acked"
            hist[lba][i][3] = tick()
    time.sleep(0.3)
    s2 = read_all(b)
    # 1. nothing of A landed after the takeover returned
    check(s1 == s2, "A's writes landed after the takeover: %r -> %r" % (s1, s2))
    # 2. no acknowledged write lost or reordered: a write may be on the
    # block unless an acknowledged write was issued after it had ended
    # (acknowledged, or failed: a failed write must not land late either)
    for lba in range(NBLK):
        ws = hist[lba]
        acked_issues = [w[2] for w in ws if w[1] == "acked"]
        allowed = {w[0] for w in ws
                   if w[3] is None or not any(t > w[3] for t in acked_issues)}
        if not acked_issues:
            allowed.add("00")
        check(s1[lba] in allowed,
              "block %d holds %s; A's writes there (value, outcome): %r" % (lba, s1[lba], ws))
    # 3. A is fenced and stays so
    ans = a.cmd("write 0 1 0xff -1", timeout=60)
    check(ans.startswith("err"), "A wrote after the takeover: %s" % ans)
    a.cmd("check", timeout=60)
    live_b = bcut  # B's first live path
    keys = b.keys(live_b)
    check(KA not in keys, "A's key registered again: %r" % [hex(k) for k in keys])
    # the takeover returned: B's is the only key registered (issue 20)
    check(keys and set(keys) == {KB}, "keys after B's takeover: %r" % [hex(k) for k in keys])
    check(read_all(b) == s2, "the LU changed after A was fenced")
    # B works
    b.ok("write 3 1 0xee -1")
    check(read_all(b)[3] == "ee", "B's write")
    return nval


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--host-bin", required=True)
    ap.add_argument("--iqn", required=True)
    ap.add_argument("--portal", action="append", required=True)
    ap.add_argument("--lun", action="append", type=int, required=True)
    ap.add_argument("--seeds", default="1:20")
    ap.add_argument("--kind", default="prpath")
    args = ap.parse_args()
    first, count = (int(x) for x in args.seeds.split(":"))
    check(len(args.lun) >= count, "need one LUN per seed")
    failed = []
    t_all = time.monotonic()
    with tempfile.TemporaryDirectory() as logdir:
        env = Env(args, os.environ.get("E2E_LOGDIR") or logdir)
        env.host_timeout_ms = HOST_TIMEOUT_MS
        for seed in range(first, first + count):
            env.scenario = "seed%d" % seed
            t0 = time.monotonic()
            try:
                n = seed_run(env, seed)
                print("ok: seed %d (%d writes, %.1f s)" % (seed, n, time.monotonic() - t0))
            except Exception as e:  # noqa: BLE001 - report the seed, go on
                failed.append(seed)
                print("FAIL: seed %d: %s" % (seed, e))
                for h in env.hosts:
                    print("    --- host %s log (tail) ---" % h.name)
                    sys.stdout.write(h.tail())
            finally:
                env.done()
    dt = time.monotonic() - t_all
    print("soak: %d seed(s) in %.0f s (%.0f seeds/hour), %d failed%s" %
          (count, dt, count * 3600 / dt if dt else 0, len(failed),
           (": " + " ".join(map(str, failed))) if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
