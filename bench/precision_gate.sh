#!/bin/sh
# The quality gate `--precision auto` waits on: the same seeds and settings trained and evaluated
# in fp32 and in bf16, and bf16 holds when
#   - on gen data (train: lstmsrc gen --seed 1, test: --seed 2, 100,000 rows, 3 sources) the
#     exact-match accuracy (subset_accuracy) is within 0.001 of fp32's, and
#   - on both real households (../shared/data: REFIT house 2 and IDEAL house 65, the _train file
#     to train with every default, the _test file to evaluate, as docs/RESULTS.md does) the macro
#     F1 is within 0.01 of fp32's.
# Prints a Markdown report (CPU, each run's numbers, the verdict) on stdout; exit status 0 when
# the gate holds, 1 when it does not, 2 when this CPU cannot run bf16.
# Usage: sh bench/precision_gate.sh [BUILD [DATA_DIR]]  (THREADS=N: training threads, default 2;
# the models do not depend on it)
set -u
BUILD=${1:-build}
DATA=${2:-../shared/data}
THREADS=${THREADS:-2}
L=$BUILD/lstmsrc
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

if ! "$L" train /dev/null -o "$T/x.lsm" --precision bf16 2>"$T/why" && grep -q bf16 "$T/why"; then
    echo "precision gate: cannot run here: $(cat "$T/why")"
    exit 2
fi

# the first "NAME":value of a one-line JSON file: the model's own (the baselines come after)
field() { grep -o "\"$1\":[^,}]*" "$2" | head -1 | cut -d: -f2; }

cpu=$(grep -m1 'model name' /proc/cpuinfo | sed 's/.*: //')
flags=$(grep -o -w 'avx512f\|avx512_bf16\|amx_tile' /proc/cpuinfo | sort -u | tr '\n' ' ')
echo "# Precision gate: fp32 vs bf16"
echo
echo "CPU: $cpu ($flags); $(date -u +%Y-%m-%d), $("$L" --version | head -1)"
echo "Command: \`sh bench/precision_gate.sh\` (training threads: $THREADS; models do not depend on it)"
echo

"$L" gen --seed 1 -o "$T/gen_train.csv" >/dev/null
"$L" gen --seed 2 -o "$T/gen_test.csv" >/dev/null
verdict=0
echo "| data | metric | fp32 | bf16 | bf16 - fp32 | allowed | holds | train s fp32 / bf16 |"
echo "| --- | --- | ---: | ---: | ---: | ---: | --- | --- |"
for set in gen refit ideal; do
    case $set in
    gen) tr=$T/gen_train.csv te=$T/gen_test.csv metric=subset_accuracy tol=0.001
        name="gen (seed 1 / 2)" ;;
    refit) tr=$DATA/refit_house2_1min_train.csv te=$DATA/refit_house2_1min_test.csv
        metric=macro_f1 tol=0.01 name="REFIT house 2" ;;
    ideal) tr=$DATA/ideal_house65_1min_train.csv te=$DATA/ideal_house65_1min_test.csv
        metric=macro_f1 tol=0.01 name="IDEAL house 65" ;;
    esac
    for p in fp32 bf16; do
        s0=$(date +%s.%N)
        "$L" train "$tr" -o "$T/$set.$p.lsm" --threads "$THREADS" --quiet --precision $p \
            >/dev/null 2>"$T/$set.$p.err" || { echo "train $set $p failed:"; cat "$T/$set.$p.err"; exit 1; }
        s1=$(date +%s.%N)
        eval "sec_$p=\$(echo \"\$s1 - \$s0\" | bc)"
        "$L" eval "$T/$set.$p.lsm" "$te" --json --precision $p >"$T/$set.$p.json" 2>/dev/null
    done
    a=$(field $metric "$T/$set.fp32.json")
    b=$(field $metric "$T/$set.bf16.json")
    ok=$(awk -v a="$a" -v b="$b" -v t="$tol" 'BEGIN { d = b - a; if (d < 0) d = -d; print (d <= t ? "yes" : "NO") }')
    d=$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%+.4f", b - a }')
    [ "$ok" = yes ] || verdict=1
    printf '| %s | %s | %.4f | %.4f | %s | %s | %s | %.1f / %.1f |\n' "$name" "$metric" "$a" "$b" "$d" \
        "$tol" "$ok" "$sec_fp32" "$sec_bf16"
done
echo
if [ $verdict -eq 0 ]; then
    echo "Verdict: the gate HOLDS on this CPU."
else
    echo "Verdict: the gate does NOT hold: \`--precision auto\` stays fp32."
fi
exit $verdict
