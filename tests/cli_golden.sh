#!/bin/sh
# Model bytes that must not move: each run below trains on the committed data in
# tests/fixtures/golden/ and its model file's SHA-256 must equal the one in
# tests/fixtures/golden/models.sha256, written by the code before a refactoring. A change that
# is meant to keep behaviour (moving code, splitting functions) keeps these; a change that
# means to alter training says so and rewrites them with
#   sh tests/cli_golden.sh build --write
# The runs cover the training paths: multi-label and multi-class, centred and last labels,
# bidirectional and stacked layers, the doctor's defaults, --select f1 with patience, tuned
# durations, fixed thresholds and manual pos-weights, stride, clipping, several files, a
# checkpointed run, a run stopped and resumed, and fine-tuning with --init. Each runs with the
# portable kernels, and with AVX2 where the CPU has it (AVX-512 gives AVX2's bytes:
# tests/cli_isa.sh), on 2 threads (the thread count does not change the bytes).
# Usage: sh tests/cli_golden.sh [BUILD] [--write]. Ends with "N passed, N failed, N skipped".
. tests/lib_cli.sh "$@"
G=tests/fixtures/golden
SUMS=$G/models.sha256
WRITE=0
[ "${2:-}" = --write ] && WRITE=1
[ $WRITE -eq 1 ] && : >"$SUMS.new"

COMMON="--epochs 3 --hidden 12 --batch 64 --threads 2 --seed 5 --quiet"
# name|arguments (the model is written to $T/ISA.NAME.lsm; INIT names the model of run "a")
RUNS='a|G/ml.csv COMMON
b|G/ml.csv COMMON --seq 9 --label-at last --layers 2 --features raw --select f1 --patience 2 --durations tune
c|G/ml.csv COMMON --seq 6 --threshold 0.4 --pos-weight 2,1,3 --min-on 2 --stride 2 --clip 1 --lr 0.003
d|G/ml.csv G/ml2.csv COMMON --seq 7 --val 0.2
e|G/ml.csv COMMON --seq 8 --task multiclass
f|G/mc.csv COMMON --seq 8 --class-column class --label-at last --directions 1
g|G/ml2.csv COMMON --init INIT --epochs 2
h|G/ml2.csv COMMON --init INIT --init-scaler refit --epochs 2'

isas=portable
if LSTMSRC_ISA=avx2 "$L" --version >/dev/null 2>"$T/why"; then
    isas="portable avx2"
else
    skip "avx2 runs" "$(cat "$T/why")"
fi

# run ISA NAME ARGS...: trains $T/ISA.NAME.lsm, then checks or records its hash
run() {
    isa=$1
    name=$2
    shift 2
    out=$T/$isa.$name.lsm
    LSTMSRC_ISA=$isa "$L" train "$@" -o "$out" >"$T/$isa.$name.log" 2>&1 || {
        failed=$((failed + 1))
        echo "FAIL $isa $name: train failed"
        sed -n 1,20p "$T/$isa.$name.log"
        return
    }
    got=$(sha256sum "$out" | cut -d' ' -f1)
    if [ $WRITE -eq 1 ]; then
        echo "$isa $name $got" >>"$SUMS.new"
        passed=$((passed + 1))
        echo "wrote $isa $name $got"
        return
    fi
    want=$(awk -v i="$isa" -v n="$name" '$1 == i && $2 == n { print $3 }' "$SUMS")
    check "$isa $name: model bytes as committed (train $*)" test "$got" = "$want"
}

for isa in $isas; do
    echo "$RUNS" | while IFS='|' read -r name args; do
        echo "$name|$(echo "$args" | sed "s#G/#$G/#g; s#COMMON#$COMMON#; s#INIT#$T/$isa.a.lsm#")"
    done >"$T/runs"
    while IFS='|' read -r name args; do
        # shellcheck disable=SC2086 # the arguments are words
        run "$isa" "$name" $args
    done <"$T/runs"
    # a run with a checkpoint after every epoch, and one stopped after 2 epochs (its
    # checkpoint) and resumed: both give run "a"'s model
    # shellcheck disable=SC2086
    run "$isa" a_ckpt "$G/ml.csv" $COMMON --checkpoint "$T/$isa.ck"
    # shellcheck disable=SC2086
    LSTMSRC_ISA=$isa "$L" train "$G/ml.csv" $COMMON --epochs 2 --checkpoint "$T/$isa.ck2" \
        -o "$T/$isa.part.lsm" >/dev/null 2>&1
    # shellcheck disable=SC2086
    run "$isa" a_resumed "$G/ml.csv" $COMMON --resume "$T/$isa.ck2"
    if [ $WRITE -eq 0 ]; then
        check "$isa: a checkpointed run gives the plain run's model" \
            cmp "$T/$isa.a.lsm" "$T/$isa.a_ckpt.lsm"
    fi
done
if [ $WRITE -eq 1 ]; then
    mv "$SUMS.new" "$SUMS"
    echo "wrote $SUMS"
fi
echo "cli_golden: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
