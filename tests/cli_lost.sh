#!/bin/sh
# Work not thrown away:
#  - a checkpoint that cannot be written (--checkpoint /dev/full) is a warning: training goes
#    on to the end and the model is saved;
#  - train tries its outputs (-o, --checkpoint, --plot) before training: a missing directory,
#    a parent that is a file and an empty name fail at once;
#  - a second SIGINT while train stops (0, 10, 200 ms after the first) does not kill it.
# usage: sh tests/cli_lost.sh BUILD_DIR
. tests/lib_cli.sh "$@"

"$L" gen --rows 3000 --sources 2 --seed 3 -o "$T/d.csv" >/dev/null 2>&1

ckpt_full() {
    "$L" train "$T/d.csv" -o "$T/m.lsm" --epochs 2 --hidden 8 --seq 4 --threads 1 \
        --checkpoint /dev/full --quiet >"$T/out" 2>"$T/err" || return 1
    grep -q "warning: /dev/full: cannot write" "$T/err" || return 1
    grep -q "^saved .*2 epochs" "$T/out" || return 1
    "$L" inspect "$T/m.lsm" >/dev/null
}
check "checkpoint on a full device: a warning, 2 epochs run, the model saved" ckpt_full

# the output path is tried before training: nothing trains, one line, exit 1 (2 for "")
precheck() {
    want=$1
    shift
    "$L" train "$T/d.csv" --epochs 20 --hidden 8 --seq 4 --threads 1 "$@" >"$T/out" 2>"$T/err"
    rc=$?
    [ "$rc" -eq "$want" ] && ! grep -q Epoch "$T/err" && [ "$(lines "$T/err")" -le 2 ]
}
: >"$T/afile"
check "train -o in a missing directory fails before training" \
    precheck 1 -o "$T/nonexistent_dir/m.lsm"
check "train -o under a file fails before training" precheck 1 -o "$T/afile/m.lsm"
check "train -o '' is a usage error before training" precheck 2 -o ""
check "train --plot in a missing directory fails before training" \
    precheck 1 -o "$T/p.lsm" --plot "$T/nonexistent_dir/p.svg"

# two SIGINTs mid-training, the second 0, 10 and 200 ms after the first: the handlers stay
# (sigaction), the model is saved and loads, no temporary is left
"$L" gen --rows 20000 --sources 2 --seed 3 -o "$T/s.csv" >/dev/null 2>&1
two_sigints() {
    rm -f "$T"/sig.lsm*
    "$L" train "$T/s.csv" -o "$T/sig.lsm" --epochs 1000 --hidden 16 --seq 4 --threads 1 \
        >"$T/out" 2>"$T/err" &
    pid=$!
    i=0
    while ! grep -q "rows," "$T/err" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.3
    kill -INT $pid
    [ "$1" = 0 ] || sleep "$1"
    kill -INT $pid 2>/dev/null
    wait $pid
    rc=$?
    [ "$rc" -eq 130 ] && "$L" inspect "$T/sig.lsm" >/dev/null &&
        [ -z "$(ls "$T" | grep '^sig\.lsm.*\.tmp')" ]
}
for gap in 0 0.01 0.2; do
    check "two SIGINTs ${gap}s apart: the model is saved" two_sigints $gap
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
