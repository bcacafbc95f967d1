#!/bin/sh
# Hostile input and failing writes through the CLI:
#  - malformed CSVs (every tests/fixtures/bad_*.csv, a NUL in a column name, an overlong line,
#    too many columns or sources): exit 1, one line naming FILE:LINE(:COL), nothing written;
#  - corrupted, truncated and newer-version model files: exit 1 with a clear message;
#  - impossible options: exit 2 with a usage hint, nothing written;
#  - write errors: a path through a regular file, a private full device (never /dev/full: a
#    tool that renames over its target would replace the node), a nearly full small tmpfs
#    holding a good model (which must survive byte for byte), and targets that are not regular
#    files (device, FIFO) written in place by every command that writes a file.
# Root-only parts (mknod, mount) are skipped with a message when not permitted.
# usage: sh tests/cli_robust.sh BUILD_DIR
BUILD=${1:-build}
L="$BUILD/lstmsrc"
T=$(mktemp -d)
export TMPDIR="$T" # a model train cannot save lands here (its fallback), not in /tmp
MNT=
cleanup() {
    [ -n "$MNT" ] && umount "$MNT" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok $1: $2"; }
lines() { wc -l <"$1" | tr -d ' '; }

# tiny data and a tiny model, shared by the tests below
FAST="--epochs 1 --hidden 4 --seq 3 --batch 64 --threads 1 --quiet"
"$L" gen --rows 2000 --sources 2 --seed 3 -o "$T/d.csv" || bad gen "gen failed"
"$L" train "$T/d.csv" -o "$T/good.lsm" $FAST >/dev/null || bad train "train failed"

# ---- malformed CSVs: exit 1, exactly one line "lstmsrc: train: FILE:...", no model
malformed() { # NAME FILE PATTERN [train options]
    name=$1 f=$2 pat=$3
    shift 3
    "$L" train "$f" -o "$T/never.lsm" $FAST "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ "$rc" -ne 1 ]; then
        bad "$name" "exit $rc, want 1: $(head -c 300 "$T/err")"
    elif [ "$(lines "$T/err")" -ne 1 ]; then
        bad "$name" "stderr has $(lines "$T/err") lines: $(head -c 300 "$T/err")"
    elif ! grep -Eq "^lstmsrc: train: $pat" "$T/err"; then
        bad "$name" "message $(cat "$T/err") does not match $pat"
    elif [ -e "$T/never.lsm" ] || ls "$T" | grep -q '\.tmp\.'; then
        bad "$name" "a model or temporary file was written"
    else
        ok "$name: $(cat "$T/err")"
    fi
}
for f in tests/fixtures/bad_*.csv; do
    case "$f" in
        # a bad cell: FILE:LINE:COL
        *label* | *number* | *nan* | *inf* | *huge* | *class*) pat="$f:[0-9]+:[0-9]+: " ;;
        *) pat="$f(:[0-9]+)*: " ;;
    esac
    opt=
    case "$f" in *class*) opt="--class-column class" ;; esac
    malformed "$(basename "$f")" "$f" "$pat" $opt
done
printf 'read\000ing,src1\n1,0\n2,1\n' >"$T/nul_name.csv"
malformed "NUL in a column name" "$T/nul_name.csv" "$T/nul_name.csv:1:1: column name contains a NUL"
awk 'BEGIN { printf "reading,src1\n1,0\n"; s = "1"; while (length(s) < 1100000) s = s s; print s ",1" }' \
    >"$T/long.csv"
malformed "line over 1 MiB" "$T/long.csv" "$T/long.csv:3: line longer than"
awk 'BEGIN { for (i = 1; i <= 4097; i++) printf "c%d%s", i, i < 4097 ? "," : "\n" }' >"$T/wide.csv"
malformed "4097 columns" "$T/wide.csv" "$T/wide.csv:1: more than 4096 fields"
awk 'BEGIN { printf "reading"; for (i = 1; i <= 65; i++) printf ",s%d", i; print "";
             printf "1"; for (i = 1; i <= 65; i++) printf ",0"; print "" }' >"$T/many.csv"
malformed "65 sources" "$T/many.csv" "$T/many.csv: 65 label columns, the limit is 64"

# ---- model files that are not good: exit 1, one clear line
model_refused() { # NAME FILE PATTERN
    "$L" inspect "$2" >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && [ "$(lines "$T/err")" -eq 1 ] && grep -q "$3" "$T/err"; then
        ok "$1: $(cat "$T/err")"
    else
        bad "$1" "exit $rc: $(head -c 300 "$T/err")"
    fi
}
size=$(wc -c <"$T/good.lsm")
head -c $((size - 1)) "$T/good.lsm" >"$T/cut.lsm"
model_refused "truncated model" "$T/cut.lsm" "truncated: file has $((size - 1)) bytes, header promises $size"
# one flipped byte in the middle: the checksum catches it
python3 - "$T/good.lsm" "$T/flip.lsm" "$T/v4.lsm" <<'EOF' 2>/dev/null ||
import sys, struct, zlib
b = bytearray(open(sys.argv[1], 'rb').read())
f = bytearray(b); f[len(f) // 2] ^= 0x10
open(sys.argv[2], 'wb').write(f)
v = bytearray(b); v[8:12] = struct.pack('<I', 7); v[-4:] = struct.pack('<I', zlib.crc32(bytes(v[:-4])))
open(sys.argv[3], 'wb').write(v)
EOF
    echo "skipped: python3 unavailable for the flipped-byte models"
[ -e "$T/flip.lsm" ] && model_refused "flipped byte" "$T/flip.lsm" "checksum mismatch (file corrupted)"
[ -e "$T/v4.lsm" ] && model_refused "newer version" "$T/v4.lsm" "file version 7, this build reads up to 6"
model_refused "CSV given as model" "$T/d.csv" "not an lstmsrc model file (bad magic)"

# ---- impossible options: exit 2 with the usage hint, nothing written
usage() { # NAME ARGS...
    name=$1
    shift
    "$L" train "$T/d.csv" -o "$T/never.lsm" --quiet "$@" >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q "Try 'lstmsrc train --help'" "$T/err" && [ ! -e "$T/never.lsm" ]; then
        ok "usage error for $name"
    else
        bad "usage $name" "exit $rc: $(head -c 300 "$T/err")"
    fi
}
usage "--hidden 0" --hidden 0
usage "--hidden 4097" --hidden 4097
usage "--layers 17" --layers 17
usage "--seq 100001" --seq 100001
usage "--batch 0" --batch 0
usage "--threads 257" --threads 257
usage "--epochs 0" --epochs 0
usage "--val 0.6" --val 0.6
usage "--checkpoint = -o" --checkpoint "$T/never.lsm"
usage "--resume without a file" --resume

# ---- a path through a regular file
: >"$T/file"
"$L" train "$T/d.csv" -o "$T/file/m.lsm" $FAST >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "file/m.lsm: cannot create .*Not a directory" "$T/err" && [ ! -s "$T/file" ]; then
    ok "path through a regular file: $(cat "$T/err")"
else
    bad "path through a file" "exit $rc: $(cat "$T/err")"
fi

# ---- targets that are not regular files are written in place, never renamed over
# writes FILE with each command; ARGS name the output as OUT
writers() { # OUT
    out=$1
    echo "gen --rows 50 -o $out"
    echo "train $T/d.csv -o $out $FAST"
    echo "predict $T/good.lsm $T/d.csv -o $out"
    echo "export-c $T/good.lsm -o $out"
    echo "plot $T/good.lsm $T/d.csv -o $out"
}
if mknod "$T/full" c 1 7 2>/dev/null && [ -c "$T/full" ]; then
    writers "$T/full" | while read -r cmd; do
        name=${cmd%% *}
        # shellcheck disable=SC2086
        "$L" $cmd >/dev/null 2>"$T/err"
        rc=$?
        if [ ! -c "$T/full" ]; then
            bad "$name to a full device" "the device node was replaced (exit $rc)"
            rm -f "$T/full"
            mknod "$T/full" c 1 7
        elif [ "$rc" -ne 1 ] || ! grep -q "No space left on device" "$T/err"; then
            bad "$name to a full device" "exit $rc: $(head -c 300 "$T/err")"
        elif ls "$T" | grep -q '\.tmp\.'; then
            bad "$name to a full device" "temporary file left behind"
        else
            ok "$name to a full device: $(cat "$T/err")"
        fi
    done >"$T/log"
    cat "$T/log"
    pass=$((pass + $(grep -c '^ok' "$T/log")))
    fail=$((fail + $(grep -c '^not ok' "$T/log")))
else
    echo "skipped: full device (mknod not permitted)"
fi
mkfifo "$T/fifo" 2>/dev/null
if [ -p "$T/fifo" ]; then
    writers "$T/fifo" | while read -r cmd; do
        name=${cmd%% *}
        cat "$T/fifo" >"$T/from_fifo" &
        reader=$!
        # shellcheck disable=SC2086
        "$L" $cmd >/dev/null 2>"$T/err" &
        writer=$!
        # a writer that renamed over the FIFO never opens it: release the reader then
        i=0
        while kill -0 "$writer" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
        wait "$writer"
        rc=$?
        [ -p "$T/fifo" ] || : >"$T/fifo.replaced"
        kill "$reader" 2>/dev/null
        wait "$reader" 2>/dev/null
        if [ -e "$T/fifo.replaced" ]; then
            bad "$name to a FIFO" "the FIFO was replaced by a file (exit $rc)"
            rm -f "$T/fifo" "$T/fifo.replaced"
            mkfifo "$T/fifo"
        elif [ "$rc" -ne 0 ] || [ ! -s "$T/from_fifo" ]; then
            bad "$name to a FIFO" "exit $rc, $(wc -c <"$T/from_fifo") bytes read: $(head -c 300 "$T/err")"
        else
            ok "$name to a FIFO: $(wc -c <"$T/from_fifo" | tr -d ' ') bytes through it"
        fi
    done >"$T/log"
    cat "$T/log"
    pass=$((pass + $(grep -c '^ok' "$T/log")))
    fail=$((fail + $(grep -c '^not ok' "$T/log")))
    # the model written through the FIFO is the model, byte for byte
    cat "$T/fifo" >"$T/m_fifo.lsm" &
    "$L" train "$T/d.csv" -o "$T/fifo" $FAST >/dev/null 2>&1
    wait
    "$L" train "$T/d.csv" -o "$T/m_file.lsm" $FAST >/dev/null 2>&1
    if cmp -s "$T/m_fifo.lsm" "$T/m_file.lsm"; then ok "model through a FIFO equals the file"; else bad fifo-bytes "differ"; fi
else
    echo "skipped: FIFO (mkfifo failed)"
fi

# ---- a nearly full small file system holding a good model
mkdir -p "$T/mnt"
if mount -t tmpfs -o size=300k tmpfs "$T/mnt" 2>/dev/null; then
    MNT="$T/mnt"
    cp "$T/good.lsm" "$MNT/m.lsm"
    "$L" plot "$T/good.lsm" "$T/d.csv" --rows 50 -o "$T/old.svg" 2>/dev/null
    cp "$T/old.svg" "$MNT/p.svg"
    # fill what is left, so the next model cannot be written whole
    dd if=/dev/zero of="$MNT/filler" bs=4k 2>/dev/null
    # a bigger model (other bytes) must fail to write and leave m.lsm as it was
    "$L" train "$T/d.csv" -o "$MNT/m.lsm" --epochs 1 --hidden 32 --seq 3 --threads 1 --quiet \
        >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "m.lsm: .*No space left on device" "$T/err" &&
        cmp -s "$T/good.lsm" "$MNT/m.lsm" && [ "$(ls "$MNT" | wc -l)" -eq 3 ]; then
        ok "full tmpfs: $(cat "$T/err"); the old model is intact, no temporary file"
    else
        bad "full tmpfs" "exit $rc, $(ls "$MNT" | tr '\n' ' '): $(cat "$T/err")"
    fi
    # a checkpoint that cannot be written stops training with the error
    "$L" train "$T/d.csv" -o "$T/ck.lsm" --checkpoint "$MNT/c.ckpt" --epochs 2 --hidden 32 \
        --seq 3 --threads 1 --quiet >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "c.ckpt: .*No space left on device" "$T/err" && [ ! -e "$T/ck.lsm" ] &&
        [ "$(ls "$MNT" | wc -l)" -eq 3 ]; then
        ok "checkpoint on a full tmpfs: $(cat "$T/err")"
    else
        bad "checkpoint on full tmpfs" "exit $rc: $(cat "$T/err")"
    fi
    # generated data that does not fit: an error, and no partial file in place
    "$L" gen --rows 100000 -o "$MNT/big.csv" >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 1 ] && grep -q "No space left on device" "$T/err" && [ ! -e "$MNT/big.csv" ] &&
        [ "$(ls "$MNT" | wc -l)" -eq 3 ]; then
        ok "gen on a full tmpfs: $(cat "$T/err")"
    else
        bad "gen on full tmpfs" "exit $rc, $(ls "$MNT" | tr '\n' ' '): $(cat "$T/err")"
    fi
    # every other writer: an error naming the file, the old file intact, nothing left behind
    for w in "predict $T/good.lsm $T/d.csv -o $MNT/p.svg" "export-c $T/good.lsm -o $MNT/p.svg" \
        "plot $T/good.lsm $T/d.csv -o $MNT/p.svg"; do
        # shellcheck disable=SC2086
        "$L" $w >/dev/null 2>"$T/err"
        rc=$?
        if [ "$rc" -eq 1 ] && grep -q "p.svg: .*No space left on device" "$T/err" &&
            cmp -s "$T/old.svg" "$MNT/p.svg" && [ "$(ls "$MNT" | wc -l)" -eq 3 ]; then
            ok "${w%% *} on a full tmpfs keeps the old file: $(cat "$T/err")"
        else
            bad "${w%% *} on full tmpfs" "exit $rc, $(ls "$MNT" | tr '\n' ' '): $(cat "$T/err")"
        fi
    done
    umount "$MNT" && MNT=
else
    echo "skipped: tmpfs (mount -t tmpfs not permitted)"
fi

echo "cli_robust: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
