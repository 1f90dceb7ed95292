#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# prpathd as a standby daemon against `prpath target` (4 portals, 2 LUNs):
# it logs in every path of every LU at start and says so, registers
# nothing, logs a path it cannot open, stops on SIGTERM with exit 0, and
# never prints a CHAP secret. Started and stopped by its own pid.
set -u
PRPATHD=${PRPATHD:?PRPATHD must point at the prpathd binary}
. "$SRCDIR/tests/e2e_target.sh"
IQN=iqn.2026-11.io.prpath:prpathd
e2e_target_start "$IQN" 3 1M
DPID=
NPID=
stop_daemon() {
	if [ -n "$DPID" ]; then kill "$DPID" 2>/dev/null; wait "$DPID" 2>/dev/null; DPID=; fi
	if [ -n "$NPID" ]; then kill "$NPID" 2>/dev/null; wait "$NPID" 2>/dev/null; NPID=; fi
	if [ -n "${WPID:-}" ]; then kill "$WPID" 2>/dev/null; wait "$WPID" 2>/dev/null; WPID=; fi
	if [ -n "${WTPID:-}" ]; then kill "$WTPID" 2>/dev/null; wait "$WTPID" 2>/dev/null; WTPID=; fi
}
trap 'stop_daemon; e2e_target_cleanup' EXIT
fail() { echo "FAIL: $*"; [ -f "$TMP/d.log" ] && tail -20 "$TMP/d.log"; exit 1; }
wait_log() { # wait_log TEXT SECONDS
	local i
	for i in $(seq 1 $(( $2 * 10 ))); do grep -qF -- "$1" "$TMP/d.log" && return 0; sleep 0.1; done
	return 1
}
u() { echo "iscsi://127.0.0.1:$(( P + $1 ))/$IQN/$2"; }
cat >"$TMP/on_fenced.sh" <<SH
#!/bin/sh
echo "\$PRPATHD_GROUP \$PRPATHD_LU \$PRPATHD_EVENT \$1 \$2" >>"$TMP/fenced.out"
SH
chmod +x "$TMP/on_fenced.sh"
cat >"$TMP/d.conf" <<CONF
[host]
initiator = iqn.2026-11.io.prpath:prpathd-a
check_interval = 1
[group db]
on_fenced = $TMP/on_fenced.sh
lu = data $(u 0 0) $(u 1 0)
path = $(u 2 0)
lu = log $(u 3 1) $(u 0 1) iscsi://u%s3cr3t@127.0.0.1:1/$IQN/1
CONF
SOCK="$TMP/ctl.sock"
# systemd's readiness protocol: a datagram socket in NOTIFY_SOCKET receives
# READY=1 once every LU was tried (Type=notify in tools/prpathd.service.in)
NOTIFY="$TMP/notify.sock"
PY=/usr/bin/python3
[ -x "$PY" ] || PY=$(command -v python3)
"$PY" - "$NOTIFY" >"$TMP/notify.out" 2>&1 <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(60)
print("listening", flush=True)
try:
    while True:
        m = s.recv(4096).decode()
        print(m.replace("\n", " | "), flush=True)
        if "STOPPING=1" in m:
            break
except socket.timeout:
    pass
PY
NPID=$!
for i in $(seq 1 100); do grep -q listening "$TMP/notify.out" && break; sleep 0.1; done
NOTIFY_SOCKET="$NOTIFY" "$PRPATHD" --config "$TMP/d.conf" --socket "$SOCK" -v >"$TMP/d.out" 2>"$TMP/d.log" &
DPID=$!
wait_log "prpathd: ready (control socket $SOCK)" 30 || fail "prpathd did not get ready"
grep -q "group db: exclusive, 2 LU(s) standby (nothing registered), 5 of 6 paths up" "$TMP/d.log" ||
	fail "startup summary: $(grep 'group db' "$TMP/d.log")"
grep -q "db/log path 3 (iscsi://u%\*\*\*@127.0.0.1:1/$IQN/1): " "$TMP/d.log" ||
	fail "the path that cannot be opened is not named: $(grep 'db/log' "$TMP/d.log")"
grep -q s3cr3t "$TMP/d.log" && fail "a CHAP secret was logged"
for i in $(seq 1 50); do grep -q "READY=1" "$TMP/notify.out" && break; sleep 0.1; done
grep -q "READY=1 | STATUS=2 LU(s) standby, control socket $SOCK" "$TMP/notify.out" ||
	fail "no READY=1 on NOTIFY_SOCKET: $(cat "$TMP/notify.out")"
echo "ok: standby with 5 of 6 paths, the failing path named, no secret"
# standby: nothing registered on either LU
for lun in 0 1; do
	"$PRPATH" -o json pr in --read-keys "$(u 3 $lun)" >"$TMP/keys" || fail "pr in on LUN $lun"
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["keys"] == [], d' "$TMP/keys" ||
		fail "LUN $lun has registrations: $(cat "$TMP/keys")"
done
echo "ok: nothing registered by a standby daemon"
# the control socket: mode 0600, and the CLI is its client
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"
"$PRPATH" -S "$SOCK" group list >"$TMP/out" 2>"$TMP/err" || fail "group list: $(cat "$TMP/err")"
grep -qx "db: exclusive, standby, 2 LU(s)" "$TMP/out" || fail "group list: $(cat "$TMP/out")"
"$PRPATH" -S "$SOCK" -o json group status db >"$TMP/out" 2>"$TMP/err" || fail "group status: $(cat "$TMP/err")"
python3 - "$TMP/out" <<'PY' || fail "group status JSON: $(cat "$TMP/out")"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["ok"] and d["group"] == "db" and d["state"] == "standby", d
data, log = d["lus"]
assert data["name"] == "data" and [p["state"] for p in data["paths"]] == ["up"] * 3, data
assert [p.get("relative_target_port") for p in data["paths"]] == [1, 2, 3], data
assert not any(p["registered"] for p in data["paths"]), data
assert [p["state"] for p in log["paths"]] == ["up", "up", "not opened"], log
assert "s3cr3t" not in json.dumps(d) and "***" in log["paths"][2]["url"], log
PY
"$PRPATH" -S "$SOCK" group status db >"$TMP/out" 2>"$TMP/err" || fail "group status (text)"
grep -q "^  3     not opened" "$TMP/out" || fail "group status text: $(cat "$TMP/out")"
rc=0; "$PRPATH" -S "$SOCK" group status nope >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "group status: no group named 'nope'" "$TMP/err" || fail "unknown group: exit $rc: $(cat "$TMP/err")"
rc=0; "$PRPATH" -S "$SOCK" group frobnicate db 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] || fail "group frobnicate: exit $rc"
rc=0; "$PRPATH" -S "$TMP/none.sock" group list 2>"$TMP/err" || rc=$?
[ "$rc" -eq 2 ] && grep -q "cannot reach prpathd at $TMP/none.sock" "$TMP/err" || fail "no daemon: exit $rc: $(cat "$TMP/err")"
# the protocol refuses what is not a request, and goes on serving
python3 - "$SOCK" <<'PY' || fail "raw control requests"
import json, socket, sys
def ask(b):
    s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b)
    a = b""
    while not a.endswith(b"\n"):
        c = s.recv(65536)
        if not c: break
        a += c
    s.close(); return json.loads(a)
for bad, why in ((b"{not json\n", "not one JSON object"), (b"[1,2]\n", "a request is an object"),
                 (b'{"cmd": 5}\n', "a request is an object"), (b'{"cmd": "x"}\n', "unknown command"),
                 (b'{"cmd": "status"}\n', "status needs"), (b'{"cmd": "list"} {"cmd": "list"}\n', "not one JSON object"),
                 (b"x" * 5000 + b"\n", "longer than 4096"), (b'{"cmd": "takeover"}\n', "needs"),
                 (b'{"cmd": "watch"}\n', "watch needs"), (b'{"cmd": "watch", "group": "x"}\n', "no group named")):
    a = ask(bad)
    assert a["ok"] is False and why in a["error"], (bad[:40], a)
assert ask(b'{"cmd": "list"}\n')["ok"] is True
# a client that connects and says nothing (or half a line) holds nobody
# up: others are answered at once, and it is dropped after 2 s
import time
quiet = socket.socket(socket.AF_UNIX); quiet.connect(sys.argv[1])
half = socket.socket(socket.AF_UNIX); half.connect(sys.argv[1]); half.sendall(b'{"cmd": "li')
t0 = time.monotonic()
for _ in range(3):
    assert ask(b'{"cmd": "list"}\n')["ok"] is True
took = time.monotonic() - t0
assert took < 1.0, "answers waited behind a silent client: %.2f s" % took
quiet.settimeout(5); half.settimeout(5)
t0 = time.monotonic()
assert quiet.recv(100) == b"" and half.recv(100) == b""
assert time.monotonic() - t0 < 4.5
quiet.close(); half.close()
PY
echo "ok: control socket: list, status (json and text), errors, raw protocol, silent clients dropped without holding others up"
# ---- watchers: the group's events as they happen, until the daemon stops ---------
WPID=
WTPID=
"$PRPATH" -S "$SOCK" -o json group watch db >"$TMP/watch.json" 2>"$TMP/watch.err" &
WPID=$!
"$PRPATH" -S "$SOCK" group watch db >"$TMP/watch.txt" 2>"$TMP/watch.txt.err" &
WTPID=$!
for i in $(seq 1 50); do grep -q watching "$TMP/watch.json" && grep -q watching "$TMP/watch.txt" && break; sleep 0.1; done
grep -q '"watching":true' "$TMP/watch.json" || fail "watch answer: $(cat "$TMP/watch.json" "$TMP/watch.err")"
grep -qx "group db: standby; watching (interrupt to stop)" "$TMP/watch.txt" || fail "watch text: $(cat "$TMP/watch.txt" "$TMP/watch.txt.err")"
rc=0; "$PRPATH" -S "$SOCK" group watch nope 2>"$TMP/err" || rc=$?
[ "$rc" -eq 1 ] && grep -q "group watch: no group named 'nope'" "$TMP/err" || fail "watch of an unknown group: exit $rc: $(cat "$TMP/err")"
# ---- groups through the daemon ------------------------------------------------
B="-i iqn.2026-11.io.prpath:prpathd-b"
keys_of() { # keys_of LUN -> the registered keys, one per line
	"$PRPATH" -o json pr in --read-keys "$(u 3 "$1")" |
		python3 -c 'import json,sys; print("\n".join(json.load(sys.stdin)["keys"]))'
}
g() { # g EXPECTED-STATUS ARGS...: prpath -S SOCK group ARGS
	local want=$1 rc=0
	shift
	"$PRPATH" -S "$SOCK" group "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" -eq "$want" ] || fail "group $*: exit $rc, expected $want: $(cat "$TMP/out" "$TMP/err")"
	echo "ok: group $* (exit $rc)"
}
g 0 acquire db
grep -qx "group db: active" "$TMP/out" || fail "acquire output: $(cat "$TMP/out")"
[ "$(keys_of 0 | sort -u | wc -l)" -eq 1 ] && [ "$(keys_of 0 | wc -l)" -eq 3 ] || fail "LUN 0 keys: $(keys_of 0)"
[ "$(keys_of 1 | wc -l)" -eq 2 ] || fail "LUN 1 keys (2 live paths): $(keys_of 1)"
g 0 list
grep -qx "db: exclusive, active, 2 LU(s)" "$TMP/out" || fail "list after acquire: $(cat "$TMP/out")"
"$PRPATH" -S "$SOCK" -o json group status db >"$TMP/out" || fail "status after acquire"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [p["registered"] for p in d["lus"][0]["paths"]] == [True]*3, d' "$TMP/out" ||
	fail "status after acquire: $(cat "$TMP/out")"
rc=0; "$PRPATH" $B acquire "$(u 0 0)" "$(u 1 0)" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 24 ] || fail "B's acquire of the daemon's LU: exit $rc"
g 0 acquire db
grep -qx "group db: active (already active)" "$TMP/out" || fail "acquire again: $(cat "$TMP/out")"
g 0 release db
[ -z "$(keys_of 0)" ] && [ -z "$(keys_of 1)" ] || fail "keys after release: $(keys_of 0) / $(keys_of 1)"
# B holds the group's second LU: the daemon's acquire wins the first (the
# arbiter), fails on the second and gives the first up again: never a
# group divided between two hosts
"$PRPATH" $B acquire "$(u 0 1)" "$(u 1 1)" >/dev/null 2>&1 || fail "B acquires LUN 1"
g 24 acquire db
grep -q "LU log: reserved by another host; the LUs taken before it were released again" "$TMP/err" || fail "split acquire: $(cat "$TMP/err")"
[ -z "$(keys_of 0)" ] || fail "the arbiter LU kept a registration: $(keys_of 0)"
g 0 list
grep -qx "db: exclusive, standby, 2 LU(s)" "$TMP/out" || fail "state after a refused acquire: $(cat "$TMP/out")"
# takeover: B loses both
"$PRPATH" $B acquire "$(u 0 0)" "$(u 1 0)" >/dev/null 2>&1 || fail "B acquires LUN 0"
g 0 takeover db
rc=0; "$PRPATH" $B write --lba 1 --pattern 0xbb "$(u 0 0)" "$(u 1 0)" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 24 ] || fail "B's write after the daemon's takeover: exit $rc"
[ "$(keys_of 0 | sort -u | wc -l)" -eq 1 ] && [ "$(keys_of 1 | sort -u | wc -l)" -eq 1 ] || fail "keys after takeover: $(keys_of 0) / $(keys_of 1)"
g 0 release db
[ -z "$(keys_of 0)" ] && [ -z "$(keys_of 1)" ] || fail "keys after the last release"
g 1 takeover nope
echo "ok: group acquire, release, the arbiter, takeover"
# fenced: B takes the group's first LU over; within a check interval or
# two the daemon sees it, the whole group stops, on_fenced runs, and
# nothing of this host is registered again on that LU
g 0 acquire db
"$PRPATH" $B takeover "$(u 0 0)" "$(u 1 0)" >/dev/null 2>&1 || fail "B's takeover of LUN 0"
wait_log "group db: fenced on LU data: every LU of the group stops" 15 || fail "the daemon did not notice it was fenced"
for i in $(seq 1 50); do [ -s "$TMP/fenced.out" ] && break; sleep 0.1; done
grep -qx "db data fenced db data" "$TMP/fenced.out" || fail "on_fenced: $(cat "$TMP/fenced.out" 2>&1)"
g 0 list
grep -qx "db: exclusive, fenced, 2 LU(s)" "$TMP/out" || fail "state after fencing: $(cat "$TMP/out")"
sleep 2.5
DKEY=$(sed -n 's/.*key \(0x[0-9a-f]*\), 1 group(s).*/\1/p' "$TMP/d.log" | head -1)
[ -n "$DKEY" ] || fail "the daemon's key is not in its log"
grep -q "$DKEY" <<<"$(keys_of 0)" && fail "the fenced daemon registered again on LUN 0: $(keys_of 0)"
grep -q "$DKEY" <<<"$(keys_of 1)" || fail "the group's other LU lost the daemon's registration: $(keys_of 1)"
g 0 release db
[ -z "$(keys_of 1)" ] || fail "LUN 1 after releasing the fenced group: $(keys_of 1)"
"$PRPATH" $B release "$(u 0 0)" "$(u 1 0)" >/dev/null 2>&1 || fail "B releases LUN 0"
echo "ok: fenced on one LU: the group stops, on_fenced runs with the group and LU, nothing registers again"
# what the watchers saw, in order
python3 - "$TMP/watch.json" <<'PY' || fail "watch events: $(cat "$TMP/watch.json")"
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
assert lines[0]["ok"] and lines[0]["watching"], lines[0]
ev = [(e["event"], e.get("lu")) for e in lines[1:]]
assert all(e["group"] == "db" and e["time"].endswith("Z") for e in lines[1:]), lines
want = [("acquired", None), ("released", None), ("acquire-failed", "log"),
        ("taken-over", None), ("released", None), ("acquired", None)]
got = [x for x in ev if x[0] in ("acquired", "released", "acquire-failed", "taken-over")]
assert got[:6] == want, got
rest = ev[ev.index(("acquired", None), 3):]
for x in (("fenced", "data"), ("group-fenced", "data"), ("on-fenced-started", "data"), ("released", None)):
    assert x in rest, (x, rest)
assert rest.index(("fenced", "data")) < rest.index(("group-fenced", "data")) < rest.index(("on-fenced-started", "data")), rest
fenced = [e for e in lines[1:] if e["event"] == "fenced"][0]
assert "path" in fenced, fenced
PY
grep -q "^20[0-9-]*T[0-9:.]*Z db/data: group-fenced (this host's key is gone: every LU of the group stopped)$" "$TMP/watch.txt" ||
	fail "watch text events: $(cat "$TMP/watch.txt")"
echo "ok: watchers see acquire, the arbiter's refusal, takeover, fencing and on_fenced as they happen"

# LU data and LU log both go through portal 0: one session (one I_T nexus)
# carries both; two logins with one ISID would have reinstated each other
grep -q "reinstating session iqn.2026-11.io.prpath:prpathd-a" "$TMP/target.log" &&
	fail "the daemon's LUs through one portal ended each other's session: $(grep -c reinstating "$TMP/target.log") reinstatements"
grep -q "session iqn.2026-11.io.prpath:prpathd-a,i,0x[0-9a-f]* on portal 1 logged in" "$TMP/target.log" ||
	fail "no login of the daemon on portal 1 in the target's log"
echo "ok: two LUs through one portal share one session"

# a second daemon on the same socket is refused: one owner of the paths
rc=0; timeout 20 "$PRPATHD" --config "$TMP/d.conf" --socket "$SOCK" 2>"$TMP/d2.log" || rc=$?
[ "$rc" -eq 1 ] && grep -q "another prpathd answers there" "$TMP/d2.log" || fail "second daemon: exit $rc: $(tail -3 "$TMP/d2.log")"
grep -q "group db" "$TMP/d2.log" && fail "the second prpathd opened paths before it was refused"
"$PRPATH" -S "$SOCK" -o json group status db >"$TMP/out" 2>"$TMP/err" || fail "group status after the second daemon"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [p["state"] for p in d["lus"][0]["paths"]] == ["up"]*3, d' "$TMP/out" ||
	fail "the first daemon's paths after the refused second one: $(cat "$TMP/out")"
echo "ok: a second prpathd on the same socket is refused before it opens a path"
# the checker runs every second: the dead path is retried, not fatal
sleep 2.5
kill -0 "$DPID" 2>/dev/null || fail "prpathd died"
# ---- SIGHUP: the file again, without dropping sessions of unchanged LUs ----------
g 0 acquire db
daemon_logins() { grep -c "session iqn.2026-11.io.prpath:prpathd-a,i,0x[0-9a-f]* on portal [0-9]* logged in" "$TMP/target.log"; }
L0=$(daemon_logins)
cp "$TMP/d.conf" "$TMP/d.conf.orig"
cat >>"$TMP/d.conf" <<CONF
[group extra]
lu = x $(u 1 2) $(u 2 2)
CONF
kill -HUP "$DPID"
wait_log "SIGHUP: reloaded $TMP/d.conf: 2 group(s); 2 LU(s) kept with their sessions, 1 started standby, 0 stopped" 10 ||
	fail "reload with a new group: $(grep SIGHUP "$TMP/d.log")"
g 0 list
grep -qx "db: exclusive, active, 2 LU(s)" "$TMP/out" && grep -qx "extra: exclusive, standby, 1 LU(s)" "$TMP/out" ||
	fail "groups after the reload: $(cat "$TMP/out")"
# LUN 2 through portals 1 and 2 rides on the daemon's sessions there: not
# one login more, and db's registrations are where they were
[ "$(daemon_logins)" -eq "$L0" ] || fail "the reload logged in again: $L0 -> $(daemon_logins) logins"
[ "$(keys_of 0 | wc -l)" -eq 3 ] && [ "$(keys_of 1 | wc -l)" -eq 2 ] || fail "keys after the reload: $(keys_of 0) / $(keys_of 1)"
"$PRPATH" -S "$SOCK" -o json group status extra >"$TMP/out" || fail "status of the new group"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [p["state"] for p in d["lus"][0]["paths"]] == ["up"]*2, d' "$TMP/out" ||
	fail "the new group's paths: $(cat "$TMP/out")"
echo "ok: SIGHUP adds a group; the active group keeps its sessions and registrations"
# an active group cannot change under its owner; a bad file changes nothing
sed -i "s|^lu = log .*|lu = log $(u 3 1)|" "$TMP/d.conf"
kill -HUP "$DPID"
wait_log "SIGHUP: group db is active: its mode, aptpl, LUs and paths cannot change until it is released; the running configuration stays" 10 ||
	fail "changing an active group was not refused: $(grep SIGHUP "$TMP/d.log")"
printf 'this is not INI\n' >>"$TMP/d.conf"
kill -HUP "$DPID"
wait_log "SIGHUP: $TMP/d.conf:" 10 || fail "a bad file was not refused: $(grep SIGHUP "$TMP/d.log")"
grep -q "SIGHUP: $TMP/d.conf:[0-9]*: not INI.*; the running configuration stays" "$TMP/d.log" || fail "bad file message: $(grep SIGHUP "$TMP/d.log")"
g 0 list
grep -qx "extra: exclusive, standby, 1 LU(s)" "$TMP/out" || fail "the running configuration changed: $(cat "$TMP/out")"
echo "ok: SIGHUP refuses to change an active group, and a bad file"
# released, it may change: log loses its dead path, extra goes
g 0 release db
sed "s|^lu = log .*|lu = log $(u 3 1) $(u 0 1)|" "$TMP/d.conf.orig" >"$TMP/d.conf"
kill -HUP "$DPID"
wait_log "SIGHUP: reloaded $TMP/d.conf: 1 group(s); 1 LU(s) kept with their sessions, 1 started standby, 2 stopped" 10 ||
	fail "reload of a standby group: $(grep SIGHUP "$TMP/d.log")"
"$PRPATH" -S "$SOCK" -o json group status db >"$TMP/out" || fail "status after the second reload"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert [p["state"] for p in d["lus"][1]["paths"]] == ["up"]*2, d' "$TMP/out" ||
	fail "db/log after the reload: $(cat "$TMP/out")"
g 1 status extra
g 0 acquire db
[ "$(keys_of 1 | wc -l)" -eq 2 ] || fail "the reloaded LU's registrations: $(keys_of 1)"
g 0 release db
echo "ok: SIGHUP changes a standby group and removes another"
# SIGTERM: clean stop, exit 0
kill -TERM "$DPID"
rc=0; wait "$DPID" || rc=$?
DPID=
[ "$rc" -eq 0 ] || fail "prpathd exit $rc after SIGTERM"
grep -q "prpathd: stopped" "$TMP/d.log" || fail "no 'stopped'"
[ -e "$SOCK" ] && fail "the socket was left behind"
wait "$NPID" 2>/dev/null
NPID=
grep -q "STOPPING=1" "$TMP/notify.out" || fail "no STOPPING=1: $(cat "$TMP/notify.out")"
# the watchers end with the daemon: exit 0 after its daemon-stopping
rc=0; wait "$WPID" || rc=$?
[ "$rc" -eq 0 ] || fail "json watcher: exit $rc: $(cat "$TMP/watch.err")"
rc=0; wait "$WTPID" || rc=$?
[ "$rc" -eq 0 ] || fail "text watcher: exit $rc: $(cat "$TMP/watch.txt.err")"
WPID= WTPID=
tail -1 "$TMP/watch.json" | grep -q '"event":"daemon-stopping"' || fail "last event: $(tail -1 "$TMP/watch.json")"
echo "ok: watchers end with exit 0 when prpathd stops"
echo "ok: READY=1 and STOPPING=1 on NOTIFY_SOCKET"
echo "ok: SIGTERM stops with exit 0"
# under the sanitizers, the daemon's own report (it goes to its stderr)
if grep -E "ERROR: (Address|Leak)Sanitizer|runtime error:" "$TMP/d.log"; then
	fail "the sanitizers found something in prpathd"
fi
echo PASS
