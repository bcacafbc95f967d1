#!/bin/sh
# End-to-end tests of the core commands through the CLI: gen -> train -> eval reaches the accuracy
# the brief promises on a later file (multi-label, class column, combined classes, readings in the
# thousands), a fixed seed gives the same model bytes, malformed data gives one FILE:LINE:COL line
# with exit 1 and writes nothing, impossible options exit 2.
# usage: sh tests/cli_core.sh BUILD_DIR
BUILD=${1:-build}
L="$BUILD/lstmsrc"
T=$(mktemp -d)
export TMPDIR="$T" # a model train cannot save lands here (its fallback), not in /tmp
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok $1: $2"; }

# json_get FILE KEY: a top-level number from eval --json (no Python needed)
json_get() { grep -o "\"$2\":[-0-9.e+]*" "$1" | head -n 1 | cut -d: -f2; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 >= b + 0) }'; }

# a small but honest config: 150k rows, 8 epochs (lr 3e-3 converges in that budget)
FAST="--epochs 8 --hidden 32 --batch 256 --lr 0.003 --threads 2 --quiet"

"$L" gen --rows 150000 --sources 3 --seed 11 -o "$T/train.csv" || bad gen "gen failed"
"$L" gen --rows 30000 --sources 3 --seed 12 -o "$T/test.csv"
"$L" gen --rows 150000 --sources 3 --seed 11 --classes -o "$T/train_c.csv"
"$L" gen --rows 30000 --sources 3 --seed 12 --classes -o "$T/test_c.csv"

# ---- multi-label, 3 sources
if "$L" train "$T/train.csv" -o "$T/ml.lsm" $FAST >/dev/null &&
    "$L" eval "$T/ml.lsm" "$T/test.csv" --json >"$T/ml.json"; then
    acc=$(json_get "$T/ml.json" subset_accuracy)
    if ge "$acc" 0.995; then ok "multilabel exact-match $acc >= 0.995"; else bad multilabel "exact-match $acc < 0.995"; fi
    rule=$(grep -o '"threshold":{"macro_f1":[-0-9.e+]*' "$T/ml.json" | cut -d: -f3)
    f1=$(json_get "$T/ml.json" macro_f1)
    if ge "$f1" "$rule"; then ok "multilabel macro F1 $f1 beats the threshold rule $rule"; else bad rule "$f1 < $rule"; fi
else
    bad multilabel "train or eval failed"
fi

# ---- multi-class from an integer class column (8 classes)
if "$L" train "$T/train_c.csv" --class-column class -o "$T/mc.lsm" $FAST >/dev/null &&
    "$L" eval "$T/mc.lsm" "$T/test_c.csv" --json >"$T/mc.json"; then
    acc=$(json_get "$T/mc.json" accuracy)
    if ge "$acc" 0.995; then ok "class column accuracy $acc >= 0.995"; else bad multiclass "accuracy $acc < 0.995"; fi
    grep -q '"task":"multiclass"' "$T/mc.json" && grep -q '"confusion":\[\[' "$T/mc.json" &&
        ok "multiclass json has task and confusion" || bad mcjson "keys missing"
else
    bad multiclass "train or eval failed"
fi

# ---- multi-class by combining the 0/1 columns (--task multiclass: 2^3 classes)
if "$L" train "$T/train.csv" --task multiclass -o "$T/cb.lsm" $FAST >/dev/null &&
    "$L" eval "$T/cb.lsm" "$T/test.csv" --json >"$T/cb.json"; then
    acc=$(json_get "$T/cb.json" accuracy)
    if ge "$acc" 0.995; then ok "combined classes accuracy $acc >= 0.995"; else bad combined "accuracy $acc < 0.995"; fi
    grep -q '"name":"src2+src3"' "$T/cb.json" && ok "combined class names" || bad names "no src2+src3 class"
else
    bad combined "train or eval failed"
fi

# ---- raw readings in the tens of thousands, tab separated: scaled inside, same quality
awk -F, 'NR == 1 { gsub(",", "\t"); print; next } { $1 = sprintf("%.1f", $1 * 100); OFS = "\t"; $1 = $1; print }' \
    "$T/train.csv" >"$T/big_train.tsv"
awk -F, 'NR == 1 { gsub(",", "\t"); print; next } { $1 = sprintf("%.1f", $1 * 100); OFS = "\t"; $1 = $1; print }' \
    "$T/test.csv" >"$T/big_test.tsv"
if "$L" train "$T/big_train.tsv" -o "$T/big.lsm" $FAST >/dev/null &&
    "$L" eval "$T/big.lsm" "$T/big_test.tsv" --json >"$T/big.json"; then
    acc=$(json_get "$T/big.json" subset_accuracy)
    if ge "$acc" 0.995; then ok "readings x100, tab separated: exact-match $acc"; else bad scaled "exact-match $acc < 0.995"; fi
else
    bad scaled "train or eval failed on tab-separated large readings"
fi

# ---- same data, seed and threads: same bytes; another seed: other bytes
head -n 20001 "$T/train.csv" >"$T/small.csv"
"$L" train "$T/small.csv" -o "$T/d1.lsm" --epochs 2 --hidden 16 --threads 2 --seed 7 --quiet >/dev/null
"$L" train "$T/small.csv" -o "$T/d2.lsm" --epochs 2 --hidden 16 --threads 2 --seed 7 --quiet >/dev/null
"$L" train "$T/small.csv" -o "$T/d3.lsm" --epochs 2 --hidden 16 --threads 2 --seed 8 --quiet >/dev/null
if cmp -s "$T/d1.lsm" "$T/d2.lsm"; then ok "same seed and threads: identical model bytes"; else bad determinism "models differ"; fi
if ! cmp -s "$T/d1.lsm" "$T/d3.lsm"; then ok "another seed: another model"; else bad seed "seed ignored"; fi
"$L" train "$T/small.csv" -o "$T/s1.lsm" --epochs 1 --hidden 16 --threads 1 --seed 7 --quiet >/dev/null
"$L" train "$T/small.csv" -o "$T/s2.lsm" --epochs 1 --hidden 16 --threads 1 --seed 7 --quiet >/dev/null
cmp -s "$T/s1.lsm" "$T/s2.lsm" && ok "single thread deterministic" || bad det1 "models differ"
# the cut of a batch into chunks does not depend on the thread count: 1, 2 and 3 threads, the
# same bytes (d1 above: 2 threads, 2 epochs)
"$L" train "$T/small.csv" -o "$T/t1.lsm" --epochs 2 --hidden 16 --threads 1 --seed 7 --quiet >/dev/null
"$L" train "$T/small.csv" -o "$T/t3.lsm" --epochs 2 --hidden 16 --threads 3 --seed 7 --quiet >/dev/null
if cmp -s "$T/d1.lsm" "$T/t1.lsm" && cmp -s "$T/d1.lsm" "$T/t3.lsm"; then
    ok "1, 2 and 3 threads: identical model bytes"
else
    bad threads "models differ with the thread count"
fi
# more threads than a batch has chunks, and a last batch of one partial chunk: whichever
# thread runs a chunk, the same bytes
for i in 1 2 3; do
    "$L" train "$T/small.csv" -o "$T/c$i.lsm" --epochs 1 --hidden 16 --threads 5 --batch 200 \
        --seed 7 --quiet >/dev/null
done
if cmp -s "$T/c1.lsm" "$T/c2.lsm" && cmp -s "$T/c1.lsm" "$T/c3.lsm"; then
    ok "5 threads on chunks of a batch: identical model bytes"
else
    bad det5 "models differ"
fi

# ---- inspect prints the model; --json is one object
if "$L" inspect "$T/d1.lsm" >"$T/inspect.txt" && grep -q "src1" "$T/inspect.txt" &&
    "$L" inspect "$T/d1.lsm" --json >"$T/inspect.json" && [ "$(head -c 1 "$T/inspect.json")" = "{" ]; then
    ok "inspect text and json"
else
    bad inspect "inspect failed"
fi
if command -v python3 >/dev/null 2>&1; then
    for j in ml mc cb big; do
        python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/$j.json" 2>/dev/null ||
            bad json "$j.json is not valid JSON"
    done
    python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$T/inspect.json" && ok "json parses"
fi

# ---- malformed data: exit 1, one line naming FILE:LINE(:COL), nothing written
for f in tests/fixtures/bad_*.csv; do
    [ -e "$f" ] || continue
    rm -f "$T/never.lsm"
    "$L" train "$f" -o "$T/never.lsm" --epochs 1 --quiet >"$T/out" 2>"$T/err"
    rc=$?
    lines=$(wc -l <"$T/err")
    if [ "$rc" -eq 1 ] && [ "$lines" -eq 1 ] && [ ! -e "$T/never.lsm" ] &&
        grep -Eq "^lstmsrc: train: $f(:[0-9]+(:[0-9]+)?)?: " "$T/err"; then
        ok "$(basename "$f"): $(cat "$T/err")"
    else
        bad "$(basename "$f")" "exit $rc, $lines lines: $(head -c 200 "$T/err")"
    fi
done
"$L" train "$T/missing.csv" -o "$T/never.lsm" --quiet 2>"$T/err"
[ $? -eq 1 ] && grep -q "missing.csv" "$T/err" && ok "missing file: exit 1" || bad missing "$(cat "$T/err")"
"$L" train "$T/small.csv" -o "$T/never.lsm" --input nosuch --quiet 2>"$T/err"
rc=$?
[ $rc -ne 0 ] && grep -q 'nosuch' "$T/err" && [ ! -e "$T/never.lsm" ] && ok "unknown column named: $(cat "$T/err")" ||
    bad column "exit $rc: $(cat "$T/err")"

# ---- impossible options: exit 2
for opts in "--seq 0" "--hidden -3" "--epochs x" "--val 0.9" "--lr nan" "--bogus" "--threshold 2" "--pos-weight 1,-2" \
    "--select best" "--select"; do
    "$L" train "$T/small.csv" -o "$T/never.lsm" $opts --quiet >/dev/null 2>"$T/err"
    rc=$?
    [ $rc -eq 2 ] && [ ! -e "$T/never.lsm" ] && ok "usage error for $opts" || bad "opts $opts" "exit $rc: $(cat "$T/err")"
done
"$L" train "$T/small.csv" -o "$T/f1.lsm" --select f1 --epochs 2 --hidden 16 --threads 1 \
    --quiet >/dev/null 2>"$T/err"
[ $? -eq 0 ] && [ -s "$T/f1.lsm" ] && ok "--select f1 trains" || bad "select f1" "$(cat "$T/err")"
"$L" eval "$T/small.csv" "$T/small.csv" >/dev/null 2>"$T/err"
[ $? -eq 1 ] && ok "eval of a CSV as a model: $(cat "$T/err")" || bad evalcsv "$(cat "$T/err")"

echo "cli_core: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
