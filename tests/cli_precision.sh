#!/bin/sh
# --precision on train, predict, eval and stream: an unknown value, or bf16 where the CPU (or
# LSTMSRC_ISA=avx2) gives no AVX-512 BF16, is refused with one line and exit 2 before any work;
# auto is fp32 today (the quality gate, bench/PRECISION.md), so it and the default give the fp32
# bytes. Where the CPU has AVX-512 BF16: a bf16 run trains a loadable fp32 model, the same bytes
# again and on another thread count, different from fp32's (bf16 was used); predict, eval and
# stream run with it, bf16 predictions of an fp32 model stay within 0.05 of fp32's with at most
# 1 % of the lines' decisions changed. Without it those checks are skipped with the reason.
# Usage: sh tests/cli_precision.sh [BUILD]. Ends with "N passed, N failed, N skipped".
. tests/lib_cli.sh "$@"

"$L" gen --rows 6000 --sources 2 --seed 3 -o "$T/d.csv" >/dev/null
OPTS="--epochs 2 --hidden 20 --batch 64 --threads 2 --seed 4 --quiet"

check "--precision fp64 is refused with exit 2" sh -c "
    '$L' train '$T/d.csv' -o '$T/x.lsm' $OPTS --precision fp64 2>'$T/e'; [ \$? -eq 2 ] &&
    grep -q 'expects fp32, bf16 or auto' '$T/e' && [ ! -e '$T/x.lsm' ]"
"$L" train "$T/d.csv" -o "$T/fp32.lsm" $OPTS >/dev/null 2>&1
"$L" train "$T/d.csv" -o "$T/auto.lsm" $OPTS --precision auto >/dev/null 2>&1
"$L" train "$T/d.csv" -o "$T/fp32b.lsm" $OPTS --precision fp32 >/dev/null 2>&1
check "auto (fp32 today) and --precision fp32 give the default's model bytes" sh -c "
    cmp '$T/fp32.lsm' '$T/auto.lsm' && cmp '$T/fp32.lsm' '$T/fp32b.lsm'"

# LSTMSRC_ISA=avx2 takes the AVX-512 kernels away: bf16 is refused on any CPU
for c in train predict eval stream; do
    case $c in
    train) args="'$T/d.csv' -o '$T/x.lsm' $OPTS" ;;
    stream) args="'$T/fp32.lsm' <'$T/d.csv'" ;;
    *) args="'$T/fp32.lsm' '$T/d.csv'" ;;
    esac
    check "$c --precision bf16 without AVX-512 (LSTMSRC_ISA=avx2): one line, exit 2" sh -c "
        LSTMSRC_ISA=avx2 '$L' $c $args --precision bf16 >'$T/o' 2>'$T/e'; [ \$? -eq 2 ] &&
        [ \$(wc -l <'$T/e') -eq 1 ] && grep -q 'avx512_bf16' '$T/e' && [ ! -s '$T/o' ] &&
        [ ! -e '$T/x.lsm' ]"
done

if "$L" train "$T/d.csv" -o "$T/bf16.lsm" $OPTS --precision bf16 >/dev/null 2>"$T/why"; then
    "$L" train "$T/d.csv" -o "$T/bf16.2.lsm" $OPTS --precision bf16 >/dev/null 2>&1
    "$L" train "$T/d.csv" -o "$T/bf16.1.lsm" $OPTS --threads 1 --precision bf16 >/dev/null 2>&1
    check "bf16: the same seed gives the same model bytes, on 2 threads and on 1" sh -c "
        cmp '$T/bf16.lsm' '$T/bf16.2.lsm' && cmp '$T/bf16.lsm' '$T/bf16.1.lsm'"
    check "bf16: the model differs from fp32's (bf16 products were used)" sh -c "
        ! cmp -s '$T/bf16.lsm' '$T/fp32.lsm'"
    check "bf16: the model is an fp32 model file that predict (fp32) loads" sh -c "
        '$L' inspect '$T/bf16.lsm' >/dev/null &&
        '$L' predict '$T/bf16.lsm' '$T/d.csv' --proba -o '$T/b.pred' && [ -s '$T/b.pred' ]"
    "$L" predict "$T/fp32.lsm" "$T/d.csv" --proba -o "$T/f.pred" >/dev/null 2>&1
    "$L" predict "$T/fp32.lsm" "$T/d.csv" --proba --precision bf16 -o "$T/fb.pred" >/dev/null 2>&1
    check "bf16: predictions of the fp32 model within 0.05, at most 1 % of lines changed" sh -c "
        $CMP -v tol=0.05 '$T/f.pred' '$T/fb.pred' >'$T/c' || true; cat '$T/c';
        tail -1 '$T/c' | awk '{ n = \$2; m = \$(NF-1); exit !(n > 1000 && m <= n / 100) }'"
    check "bf16: predict gives the same bytes on 1 and 2 threads" sh -c "
        '$L' predict '$T/fp32.lsm' '$T/d.csv' --proba --precision bf16 --threads 1 -o '$T/fb1.pred' &&
        '$L' predict '$T/fp32.lsm' '$T/d.csv' --proba --precision bf16 --threads 2 -o '$T/fb2.pred' &&
        cmp '$T/fb1.pred' '$T/fb2.pred'"
    check "bf16: eval runs" sh -c "'$L' eval '$T/fp32.lsm' '$T/d.csv' --precision bf16 | grep -q F1"
    check "bf16: stream runs, a line per row" sh -c "
        '$L' stream '$T/fp32.lsm' --precision bf16 <'$T/d.csv' >'$T/s.out' &&
        [ \$(wc -l <'$T/s.out') -ge 6000 ]"
    # one row per product in stream, blocks of rows in predict: a row's bf16 products do not
    # depend on the rest of its call (tests/test_bf16.c), so the two agree byte for byte
    check "bf16: stream --proba = predict --proba, byte for byte" sh -c "
        '$L' stream '$T/fp32.lsm' --precision bf16 --proba <'$T/d.csv' >'$T/sp.out' &&
        cmp '$T/fb1.pred' '$T/sp.out'"
    "$L" train "$T/d.csv" -o "$T/ck.lsm" $OPTS --epochs 1 --precision bf16 --checkpoint "$T/b.ckpt" \
        >/dev/null 2>&1
    check "bf16: its checkpoint is refused to an fp32 run, naming --precision; a bf16 resume ends with the bf16 model" sh -c "
        ! '$L' train '$T/d.csv' -o '$T/x.lsm' $OPTS --resume '$T/b.ckpt' 2>'$T/e' &&
        grep -q -- '--precision' '$T/e' &&
        '$L' train '$T/d.csv' -o '$T/res.lsm' $OPTS --precision bf16 --resume '$T/b.ckpt' &&
        cmp '$T/res.lsm' '$T/bf16.lsm'"
else
    skip "bf16 runs" "$(cat "$T/why")"
fi
echo "cli_precision: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
