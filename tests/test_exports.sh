#!/bin/bash
# The shared library exports only the public prpath_* API, every public
# header compiles on its own (C11 and C++), and a program built against
# the public headers links with libprpath.so and runs.
set -u
lib="$BUILDDIR/libprpath.so"
[ -f "$lib" ] || { echo "no $lib"; exit 1; }
fail=0
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBR]$/ {print $3}' | grep -v '^prpath_' )
if [ -n "$bad" ]; then
	echo "FAIL: symbols exported outside the prpath_ namespace:"; echo "$bad" | head -20; fail=1
fi
# the export list (src/libprpath.sym) is exactly the functions the public
# headers declare, and exactly what the library exports: a function added
# to a header but not to the list (or the other way round) fails here
python3 - "$SRCDIR" "$lib" <<'PY' || fail=1
import glob, re, subprocess, sys
src, lib = sys.argv[1], sys.argv[2]
declared = set()
for f in glob.glob(src + "/include/prpath/*.h"):
    t = re.sub(r"/\*.*?\*/", "", open(f).read(), flags=re.S)
    for m in re.finditer(r"(?m)^(?!static|typedef|#)[A-Za-z_][^;{}()]*?\b(prpath_[a-z0-9_]+)\s*\([^;{}]*\)\s*;", t):
        declared.add(m.group(1))
sym = open(src + "/src/libprpath.sym").read()
sym = re.sub(r"/\*.*?\*/", "", sym, flags=re.S)
listed = set(re.findall(r"\b(prpath_[a-z0-9_]+);", sym))
out = subprocess.run(["nm", "-D", "--defined-only", lib], capture_output=True, text=True).stdout
exported = {l.split()[2].split("@")[0] for l in out.splitlines()
            if len(l.split()) == 3 and l.split()[1] in "TDBR"}
ok = True
for what, a, b in (("declared but not listed", declared, listed),
                   ("listed but not declared", listed, declared),
                   ("exported but not listed", exported, listed),
                   ("listed but not exported", listed, exported)):
    d = sorted(a - b)
    if d:
        print("FAIL: %s in src/libprpath.sym: %s" % (what, ", ".join(d)))
        ok = False
# every public constant (macro, enumerator) carries the PRPATH_ prefix:
# the headers are included next to libiscsi's and the kernel's
bad = set()
for f in glob.glob(src + "/include/prpath/*.h"):
    t = re.sub(r"/\*.*?\*/", "", open(f).read(), flags=re.S)
    for m in re.finditer(r"(?m)^#\s*define\s+([A-Za-z_][A-Za-z0-9_]*)", t):
        if not m.group(1).startswith("PRPATH_"):
            bad.add(m.group(1))
    for body in re.findall(r"\benum\b[^{;]*\{([^}]*)\}", t):
        for item in body.split(","):
            m = re.match(r"\s*([A-Za-z_][A-Za-z0-9_]*)", item)
            if m and not m.group(1).startswith("PRPATH_"):
                bad.add(m.group(1))
if bad:
    print("FAIL: public constants without the PRPATH_ prefix: %s" % ", ".join(sorted(bad)[:20]))
    ok = False
if len(declared) < 100:
    print("FAIL: only %d public functions found: the header scan is broken" % len(declared))
    ok = False
print("export list: %d functions, headers and library agree" % len(listed) if ok else "")
sys.exit(0 if ok else 1)
PY
n=$(nm -D --defined-only "$lib" | awk '$2 == "T"' | wc -l)
[ "$n" -ge 40 ] || { echo "FAIL: only $n functions exported"; fail=1; }
for f in prpath_strerror prpath_lu_new prpath_lu_execute prpath_dev_open prpath_sense_classify \
	 prpath_decode_read_keys prpath_target_new; do
	nm -D --defined-only "$lib" | grep -qw "$f" || { echo "FAIL: $f not exported"; fail=1; }
done
# the C++ half cannot check anything without g++: that is a failure, not a
# pass (tools/install-deps.sh installs g++)
command -v g++ >/dev/null 2>&1 ||
	{ echo "FAIL: g++ not found: the public headers cannot be checked as C++ (Debian package g++)"; exit 1; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
for h in "$SRCDIR"/include/prpath/*.h; do
	name=prpath/$(basename "$h")
	printf '#include <%s>\nint main(void) { return 0; }\n' "$name" > "$tmp/h.c"
	cc -std=c11 -Wall -Wextra -Werror -pedantic -I"$SRCDIR/include" -c "$tmp/h.c" -o "$tmp/h.o" ||
		{ echo "FAIL: $name does not compile alone (C11)"; fail=1; }
	cp "$tmp/h.c" "$tmp/h.cc"
	g++ -std=c++11 -Wall -Werror -I"$SRCDIR/include" -c "$tmp/h.cc" -o "$tmp/h.o" ||
		{ echo "FAIL: $name does not compile as C++"; fail=1; }
done
cat > "$tmp/use.c" <<'C'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <prpath/prpath.h>
#include <prpath/path.h>
int main(void)
{
	struct prpath_lu_config cfg = { .size = 1 << 20 };
	struct prpath_lu *lu;
	struct prpath_nexus *nx;
	uint8_t cdb[10], buf[64];
	struct prpath_cmd c;
	uint64_t keys[4];
	struct prpath_read_keys rk = { .keys = keys, .keys_cap = 4 };

	if (prpath_lu_new(&cfg, &lu) || prpath_lu_nexus_open(lu, "iqn.x:y,i,0x000000000001", 1, &nx))
		return 1;
	memset(&c, 0, sizeof(c));
	prpath_cdb_pr_in(cdb, sizeof(cdb), PRPATH_PR_IN_READ_KEYS, sizeof(buf));
	c.cdb = cdb; c.cdb_len = sizeof(cdb); c.data_in = buf; c.data_in_cap = sizeof(buf);
	if (prpath_lu_execute(nx, &c) || c.status != PRPATH_SCSI_STATUS_GOOD ||
	    prpath_decode_read_keys(buf, c.data_in_len, &rk) || rk.nkeys_total != 0)
		return 2;
	{
		/* the single-path handle and URL helpers (include/prpath/path.h) */
		char why[256], url[] = "iscsi://bob%s3cret@127.0.0.1:1/iqn.2026-11.x:t/0";
		struct prpath_path *p = NULL;

		if (prpath_url_check("http://x/y", why, sizeof(why)) != -EINVAL || !why[0])
			return 3;
		if (!prpath_url_same_path("iscsi://127.0.0.1/iqn.2026-11.x:t/0",
					  "iscsi://127.0.0.1:3260/IQN.2026-11.x:t/0"))
			return 4;
		if (!prpath_url_redact(url) || strstr(url, "s3cret"))
			return 5;
		if (prpath_iscsi_name_check("iqn.2026-11.x:t") != 0 ||
		    prpath_iscsi_name_check("not a name") == 0)
			return 6;
		/* nothing listens on port 1: a reason, no handle */
		if (prpath_path_open("iscsi://127.0.0.1:1/iqn.2026-11.x:t/0", "iqn.2026-11.x:i",
				     PRPATH_PATH_OBSERVER, 2000, &p, why, sizeof(why)) >= 0 ||
		    p || !why[0])
			return 7;
		if (prpath_path_open("bogus", "iqn.2026-11.x:i", 0, 2000, &p, why,
				     sizeof(why)) != -EINVAL)
			return 8;
	}
	{
		/* typed commands and identity on an in-process path */
		struct prpath_path *lp = NULL;
		uint8_t kb[64];
		size_t kl = 0;
		char id[80];
		int rtp = 0;

		if (prpath_path_open_lu(lu, "iqn.x:z,i,0x000000000002", 1, &lp) ||
		    prpath_path_pr_out(lp, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0x77, false) ||
		    prpath_path_pr_in(lp, PRPATH_PR_IN_READ_KEYS, kb, sizeof(kb), &kl) ||
		    prpath_decode_read_keys(kb, kl, &rk) || rk.nkeys_total != 1 || keys[0] != 0x77)
			return 9;
		/* a RESERVE by an unregistered nexus: the SCSI outcome, typed */
		if (prpath_path_pr_out(lp, PRPATH_PR_OUT_REGISTER_AND_IGNORE, 0, 0, 0, false) ||
		    prpath_path_pr_out(lp, PRPATH_PR_OUT_RESERVE, PRPATH_PR_TYPE_WERO, 0x77, 0,
				       false) != PRPATH_ERR_CONFLICT)
			return 10;
		if (prpath_path_identity(lp, id, sizeof(id), &rtp) || !id[0] || rtp != 1)
			return 11;
		prpath_path_close(lp);
	}
	printf("ok %s\n", prpath_strerror(PRPATH_ERR_FENCED));
	prpath_lu_nexus_close(nx);
	prpath_lu_free(lu);
	return 0;
}
C
if cc -std=c11 -Wall -Werror -I"$SRCDIR/include" "$tmp/use.c" -L"$BUILDDIR" -lprpath -o "$tmp/use" \
	$(case "${MESON_SANITIZE:-}" in *address*) echo -fsanitize=address,undefined;; esac); then
	out=$(LD_LIBRARY_PATH="$BUILDDIR" "$tmp/use") || { echo "FAIL: program against libprpath.so: $out"; fail=1; }
	case "$out" in "ok "*) ;; *) echo "FAIL: unexpected output '$out'"; fail=1;; esac
else
	echo "FAIL: a program using only public headers does not link against libprpath.so"; fail=1
fi
[ $fail -eq 0 ] && echo "exports and public headers: ok"
exit $fail
