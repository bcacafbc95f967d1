#!/bin/sh
# train --scaler per-file: each file's channels standardised by that file's own mean and std, in
# training and in every later file (eval, predict, plot), so predictions do not move when a
# file's reading is scaled and shifted (x * 3 + 500), while the global scaler's do; eval and
# predict agree; stream needs --scale-from FILE and then equals predict on that file; export-c
# refuses; the model file keeps the mode and refuses a corrupted one.
. tests/lib_cli.sh "$@"

"$L" gen --rows 3000 --sources 2 --seed 4 -o "$T/a.csv" 2>/dev/null
"$L" gen --rows 2000 --sources 2 --seed 5 -o "$T/b.csv" 2>/dev/null
# the same rows, reading * 3 + 500 (labels kept)
awk -F, 'NR == 1 { print; next } { $1 = sprintf("%.9g", $1 * 3 + 500); print }' OFS=, \
    "$T/b.csv" >"$T/b3.csv"
for sc in global per-file; do
    "$L" train "$T/a.csv" "$T/b.csv" -o "$T/$sc.lsm" --scaler "$sc" --epochs 2 --hidden 8 \
        --seq 9 --features raw,diff --threads 1 --quiet >/dev/null 2>"$T/$sc.err"
    check "train --scaler $sc" test -s "$T/$sc.lsm"
    "$L" predict "$T/$sc.lsm" "$T/b.csv" --proba -o "$T/p_$sc.csv" 2>/dev/null
    "$L" predict "$T/$sc.lsm" "$T/b3.csv" --proba -o "$T/p3_$sc.csv" 2>/dev/null
done
check "per-file: predictions on x * 3 + 500 equal those on x (up to float rounding)" \
    $CMP -v tol=2e-4 "$T/p_per-file.csv" "$T/p3_per-file.csv"
check "global: predictions on x * 3 + 500 differ from those on x" \
    sh -c "! $CMP -v tol=2e-4 '$T/p_global.csv' '$T/p3_global.csv'"
check "per-file and global models differ" sh -c "! cmp -s '$T/global.lsm' '$T/per-file.lsm'"
check "inspect says the scaler" sh -c "'$L' inspect '$T/per-file.lsm' | grep -q 'scaler: per-file'"
check "inspect --json says the scaler" \
    sh -c "'$L' inspect --json '$T/per-file.lsm' | grep -q '\"scaler\":\"per-file\"'"
check "global model: inspect names no per-file scaler" \
    sh -c "! '$L' inspect '$T/global.lsm' | grep -q 'per-file'"

# eval on the scaled file scores as on the file itself; eval and predict agree
"$L" eval "$T/per-file.lsm" "$T/b.csv" --json >"$T/e.json" 2>/dev/null
"$L" eval "$T/per-file.lsm" "$T/b3.csv" --json >"$T/e3.json" 2>/dev/null
mf() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['macro_f1'])" "$1"; }
check "per-file: eval macro F1 on x * 3 + 500 equals it on x" test "$(mf "$T/e.json")" = "$(mf "$T/e3.json")"
# eval over two files fits each by itself: the scaled file scores as it does alone
"$L" eval "$T/per-file.lsm" "$T/b3.csv" "$T/b3.csv" --json >"$T/e33.json" 2>/dev/null
check "per-file: eval of two files fits each by itself" test "$(mf "$T/e33.json")" = "$(mf "$T/e3.json")"
"$L" predict "$T/per-file.lsm" "$T/b.csv" -o "$T/d.csv" 2>/dev/null
check "per-file: eval's decisions are predict's (accuracy from predict's lines)" \
    sh -c "python3 - '$T/b.csv' '$T/d.csv' '$T/e.json' <<'PY'
import csv, json, sys
truth = list(csv.reader(open(sys.argv[1])))[1:]
pred = list(csv.reader(open(sys.argv[2])))[1:]
e = json.load(open(sys.argv[3]))
n = ok = 0
for t, p in zip(truth, pred):
    if p[0] == '': continue
    n += 1; ok += t[1:3] == p[0:2]
assert n == e['windows'], (n, e['windows'])
assert abs(ok / n - e['subset_accuracy']) < 1e-6, (ok / n, e['subset_accuracy'])
PY"

# stream: refused without --scale-from (exit 2), equal to predict with it
tail -n +2 "$T/b3.csv" | cut -d, -f1 >"$T/b3.in"
rc=0
"$L" stream "$T/per-file.lsm" <"$T/b3.in" >/dev/null 2>"$T/s.err" || rc=$?
check "stream: a per-file model without --scale-from is refused, exit 2" \
    sh -c "test $rc -eq 2 && grep -q 'scale-from' '$T/s.err' && test \$(wc -l <'$T/s.err') -le 2"
"$L" stream "$T/per-file.lsm" --scale-from "$T/b3.csv" --proba <"$T/b3.in" >"$T/s.csv" 2>/dev/null
"$L" predict "$T/per-file.lsm" "$T/b3.csv" --proba -o "$T/p3.csv" 2>/dev/null
check "stream --scale-from equals predict on the same file" sh -c "tail -n +2 '$T/p3.csv' | cmp -s - '$T/s.csv'"
rc=0
"$L" stream "$T/global.lsm" --scale-from "$T/b.csv" <"$T/b3.in" >/dev/null 2>"$T/s2.err" || rc=$?
check "stream --scale-from with a global model: refused, exit 2" \
    sh -c "test $rc -eq 2 && grep -q 'global scaler' '$T/s2.err'"
rc=0
"$L" export-c "$T/per-file.lsm" -o "$T/m.h" >/dev/null 2>"$T/x.err" || rc=$?
check "export-c refuses a per-file model in one line" \
    sh -c "test $rc -ne 0 && grep -q 'per-file scaler' '$T/x.err' && test ! -e '$T/m.h'"
rc=0
"$L" train "$T/a.csv" -o "$T/ft.lsm" --init "$T/per-file.lsm" --epochs 1 --threads 1 --quiet \
    >/dev/null 2>"$T/ft.err" || rc=$?
check "train --init a per-file model without --scaler per-file: refused" \
    sh -c "test $rc -ne 0 && grep -q 'per-file scaler' '$T/ft.err'"

# the model file: round trip, and a corrupted mode refused (the CRC rewritten to match)
corrupt() { # MODE: the scaler block's mode set to MODE, CRC rewritten
    python3 - "$T/per-file.lsm" "$T/bad.lsm" "$1" <<'PY'
import struct, sys, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
assert struct.unpack_from('<I', b, 8)[0] == 6 and struct.unpack_from('<I', b, 24)[0] & 8
p = len(b) - 4
# the scaler block is the u32 right before the parameter count (u64) and the parameters
off = next(o for o in range(60, p - 12) if struct.unpack_from('<Q', b, o + 4)[0] * 4 == p - o - 12)
assert struct.unpack_from('<I', b, off)[0] == 1
struct.pack_into('<I', b, off, int(sys.argv[3]))
struct.pack_into('<I', b, p, zlib.crc32(bytes(b[:p])) & 0xffffffff)
open(sys.argv[2], 'wb').write(b)
PY
}
corrupt 1
check "the mode rewritten as it was (CRC recomputed) loads, same bytes" cmp -s "$T/per-file.lsm" "$T/bad.lsm"
corrupt 2
rc=0
"$L" inspect "$T/bad.lsm" >/dev/null 2>"$T/bad.err" || rc=$?
check "a corrupted scaler mode is refused with its offset" \
    sh -c "test $rc -ne 0 && grep -q 'scaler block at offset [0-9]*: mode 2, expected 1 (per-file)' '$T/bad.err'"
corrupt 0
rc=0
"$L" predict "$T/bad.lsm" "$T/b.csv" -o "$T/bad.csv" >/dev/null 2>"$T/bad0.err" || rc=$?
check "mode 0 in a scaler block is refused too" sh -c "test $rc -ne 0 && grep -q 'mode 0' '$T/bad0.err'"
"$L" inspect --json "$T/global.lsm" >"$T/ig.json"
check "a global model stays an older version (no scaler block)" \
    python3 -c "import struct,sys; b=open('$T/global.lsm','rb').read(); sys.exit(struct.unpack_from('<I', b, 8)[0] >= 6)"
# the Python package: scaler="per-file" trains such a model, and its predictions fit x itself
case "${TEST_CFLAGS:-}" in *-fsanitize*) san=1 ;; *) san=0 ;; esac
if [ "$san" = 1 ]; then
    skip "python: train(scaler='per-file')" "a sanitizer build's liblstmsrc.so cannot be loaded by python"
elif /usr/bin/python3 -c "import numpy" 2>/dev/null && [ -e "$BUILD/liblstmsrc.so" ]; then
    check "python: train(scaler='per-file') predicts x * 3 + 500 as x" \
        env LSTMSRC_LIB="$BUILD/liblstmsrc.so" PYTHONPATH=python /usr/bin/python3 -c "
import numpy as np, lstmsrc
r = np.random.default_rng(1); x = np.abs(r.normal(100, 30, 3000)).astype(np.float32)
y = (x > 120).astype(np.uint8)[:, None]
m = lstmsrc.train(x, y, seq=5, epochs=1, hidden=8, scaler='per-file', threads=1, features='raw,diff')
assert np.nanmax(np.abs(m.predict_proba(x) - m.predict_proba(x * 3 + 500))) < 1e-4
g = lstmsrc.train(x, y, seq=5, epochs=1, hidden=8, threads=1, features='raw,diff')
assert np.nanmax(np.abs(g.predict_proba(x) - g.predict_proba(x * 3 + 500))) > 1e-2
"
else
    skip "python: train(scaler='per-file')" "no numpy or no $BUILD/liblstmsrc.so"
fi
echo "cli_scaler: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
