#!/bin/sh
# The kernels LSTMSRC_ISA picks, through the CLI: --version names them; every ISA this CPU has
# predicts a model within 1e-5 of the portable kernels and trains the same seed twice to the same
# bytes; AVX-512, AMX (which changes only bf16 products) and AVX2 give the same fp32 bytes (same
# operations in the same order in this build); an unknown name, or an ISA this CPU lacks, is refused with one line and
# exit 2. ISAs the CPU lacks are skipped with the reason.
# Usage: sh tests/cli_isa.sh [BUILD]. Ends with "N passed, N failed, N skipped".
. tests/lib_cli.sh "$@"

best=$("$L" --version | sed -n 's/.*this CPU.s best: \([a-z0-9]*\).*/\1/p')
check "--version names the kernels in use and the CPU's best ($best)" test -n "$best"
check "LSTMSRC_ISA=portable is used" sh -c "LSTMSRC_ISA=portable '$L' --version | grep -q 'kernels: portable'"
check "LSTMSRC_ISA=avx1024 is refused with exit 2 and one line" sh -c "
    LSTMSRC_ISA=avx1024 '$L' --version >'$T/o' 2>'$T/e'; rc=\$?
    [ \$rc -eq 2 ] && [ ! -s '$T/o' ] && [ \$(wc -l <'$T/e') -eq 1 ] && grep -q 'not one of' '$T/e'"

"$L" gen --rows 6000 --sources 2 --seed 3 -o "$T/d.csv" >/dev/null
OPTS="--epochs 2 --hidden 20 --batch 64 --threads 2 --seed 4 --quiet"
LSTMSRC_ISA=portable "$L" train "$T/d.csv" -o "$T/portable.lsm" $OPTS >/dev/null 2>&1
LSTMSRC_ISA=portable "$L" predict "$T/portable.lsm" "$T/d.csv" --proba -o "$T/portable.pred" \
    >/dev/null 2>&1
for isa in avx2 avx512 amx; do
    if LSTMSRC_ISA=$isa "$L" --version >/dev/null 2>"$T/why"; then
        LSTMSRC_ISA=$isa "$L" train "$T/d.csv" -o "$T/$isa.lsm" $OPTS >/dev/null 2>&1
        LSTMSRC_ISA=$isa "$L" train "$T/d.csv" -o "$T/$isa.2.lsm" $OPTS >/dev/null 2>&1
        check "$isa: the same seed and threads give the same model bytes" cmp "$T/$isa.lsm" "$T/$isa.2.lsm"
        LSTMSRC_ISA=$isa "$L" predict "$T/portable.lsm" "$T/d.csv" --proba -o "$T/$isa.pred" \
            >/dev/null 2>&1
        check "$isa: predicts the portable kernels' model within 1e-5 of them" \
            $CMP -v tol=1e-5 "$T/portable.pred" "$T/$isa.pred"
    else
        skip "$isa" "$(cat "$T/why")"
    fi
done
if [ -f "$T/avx512.lsm" ] && [ -f "$T/avx2.lsm" ]; then
    check "avx512 and avx2 models are the same bytes" cmp "$T/avx512.lsm" "$T/avx2.lsm"
else
    skip "avx512 vs avx2 bytes" "this CPU lacks one of them"
fi
if [ -f "$T/amx.lsm" ] && [ -f "$T/avx2.lsm" ]; then
    check "amx and avx2 fp32 models are the same bytes" cmp "$T/amx.lsm" "$T/avx2.lsm"
else
    skip "amx vs avx2 bytes" "this CPU lacks one of them"
fi
if ! LSTMSRC_ISA=avx512 "$L" --version >/dev/null 2>&1; then
    check "LSTMSRC_ISA=avx512 on a CPU without it is refused with exit 2" sh -c "
        LSTMSRC_ISA=avx512 '$L' train '$T/d.csv' -o '$T/x.lsm' $OPTS 2>'$T/e'; [ \$? -eq 2 ] &&
        grep -q lacks '$T/e' && [ ! -e '$T/x.lsm' ]"
else
    skip "avx512 refused" "this CPU has AVX-512"
fi
echo "cli_isa: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
