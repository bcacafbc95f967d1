#!/bin/sh
# Work not thrown away:
#  - a checkpoint that cannot be written (--checkpoint /dev/full) is a warning: training goes
#    on to the end and the model is saved;
#  - train tries its outputs (-o, --checkpoint, --plot) before training: a missing directory,
#    a parent that is a file and an empty name fail at once.
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
