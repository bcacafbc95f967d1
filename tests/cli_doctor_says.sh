#!/bin/sh
# cli_doctor_says.sh — train and eval say what the doctor knows. train prints the doctor's
# problems before training (on stderr, one line each, in the doctor's words, --quiet or not)
# and still trains; it repeats the doctor's validation warnings when it keeps the doctor's
# validation part, and ends with a warning per source never on in its validation windows. eval
# says, in text (a warning line) and in JSON (beats_all_off / beats_majority), when the model
# does not beat the trivial answer, and says nothing of the kind when it does.
# Usage: sh tests/cli_doctor_says.sh [BUILD]. Ends with "N passed, N failed".
. tests/lib_cli.sh "$@"
TINY="--epochs 1 --hidden 8 --seq 5 --threads 1"

# in_doc FILE PREFIX: docs/COMMANDS.md has a line starting with PREFIX (an example's output), and FILE
# holds that line whole: the example in the docs is what the command prints
in_doc() {
    want=$(grep -m 1 -F -- "$2" docs/COMMANDS.md)
    case "$want" in "$2"*) ;; *) echo "docs/COMMANDS.md: no line starting with: $2"; return 1 ;; esac
    grep -qxF -- "$want" "$1" || { echo "not printed: $want"; return 1; }
}

json_ok() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1"
    else
        head -c 1 "$1" | grep -q '{' && tail -c 2 "$1" | grep -q '}'
    fi
}

"$L" gen --rows 20000 --sources 3 --seed 3 -o "$T/g.csv" || exit 1
"$L" gen --rows 5000 --sources 3 --seed 4 -o "$T/t.csv" || exit 1
# src3 never on; src3 on only in the first 70 % of the rows (never in any --val up to 0.3)
awk -F, 'BEGIN { OFS = "," } NR > 1 { $4 = 0 } { print }' "$T/g.csv" >"$T/never.csv"
awk -F, 'BEGIN { OFS = "," } NR > 14001 { $4 = 0 } { print }' "$T/g.csv" >"$T/trainonly.csv"

# ---- train: the doctor's problems first, training still runs
"$L" train "$T/never.csv" -o "$T/never.lsm" $TINY --quiet >"$T/out" 2>"$T/err"
rc=$?
"$L" doctor "$T/never.csv" --json >"$T/never.json"
never_msg='The source "src3" is never on: there is nothing to learn for it.'
check "never on: train still trains (exit 0, a model)" sh -c "test $rc -eq 0 && test -s '$T/never.lsm'"
check "never on: the doctor's PROBLEM is train's first line on stderr, even with --quiet" \
    sh -c "head -n 1 '$T/err' | grep -qF 'lstmsrc: train: PROBLEM few_positives: $never_msg -> Leave it out (--labels) or add data where it runs.'"
if command -v python3 >/dev/null 2>&1; then
    check "never on: train's line carries the doctor's message and advice word for word" \
        python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
f = [f for f in r["findings"] if f["severity"] == "problem"]
lines = open(sys.argv[2]).read().splitlines()
want = ["lstmsrc: train: PROBLEM %s: %s -> %s" % (x["code"], x["message"], x["advice"]) for x in f]
sys.exit(0 if f and want == [l for l in lines if " PROBLEM " in l] else 1)' "$T/never.json" "$T/err"
else
    skip "never on: word for word" "no python3 to read the doctor's JSON"
fi
check "never on: training ends with a warning that it learned nothing about src3" \
    sh -c "tail -n 1 '$T/err' | grep -qF 'lstmsrc: train: warning: \"src3\" is never on, in the training or the validation windows'"
check "never on: docs/COMMANDS.md's example of train's stderr, word for word (problem)" \
    in_doc "$T/err" 'lstmsrc: train: PROBLEM few_positives: The source "src3"'
check "never on: docs/COMMANDS.md's example of train's stderr, word for word (end warning)" \
    in_doc "$T/err" 'lstmsrc: train: warning: "src3" is never on, in'
check "never on: the summary on stdout is unchanged (no warning there)" \
    sh -c "grep -q '^saved ' '$T/out' && ! grep -q 'warning\|PROBLEM' '$T/out'"

# a problem on real data: REFIT's test file has 40 microwave rows
"$L" train data/refit_house2_1min_test.csv -o "$T/rt.lsm" --epochs 1 --stride 50 --hidden 4 \
    --threads 1 --quiet >/dev/null 2>"$T/err"
rc=$?
check "REFIT test file: train prints the doctor's problem with the microwave and trains" \
    sh -c "test $rc -eq 0 && grep -q '^lstmsrc: train: PROBLEM few_positives: The source \"Microwave\" is on in only 40 rows' '$T/err'"

# ---- train: a source on only in the training part
"$L" train "$T/trainonly.csv" -o "$T/to.lsm" $TINY >"$T/out" 2>"$T/err"
rc=$?
check "training part only: trains, no PROBLEM line" sh -c "test $rc -eq 0 && ! grep -q PROBLEM '$T/err'"
check "training part only: the doctor's validation warning before the first epoch" \
    sh -c "grep -n 'WARN validation: None of \"src3\"' '$T/err' | cut -d: -f1 >'$T/w' &&
           grep -n '^Epoch 1/1' '$T/err' | cut -d: -f1 >'$T/e' && test \$(cat '$T/w') -lt \$(cat '$T/e')"
check "training part only: training ends with the validation warning for src3 (tuned in-sample)" \
    sh -c "tail -n 1 '$T/err' | grep -q '^lstmsrc: train: warning: \"src3\" is never on in the validation part (1996 windows from row 18001 on): its threshold [0-9.]* was tuned on the training windows instead (in-sample: likely too high)'"
check "training part only: one such warning, for src3 alone" \
    sh -c "test \$(grep -c 'is never on in the validation part' '$T/err') -eq 1"
"$L" train "$T/trainonly.csv" -o "$T/to2.lsm" $TINY --threshold 0.5 --quiet >/dev/null 2>"$T/err"
check "training part only, --threshold 0.5: the warning says nothing of tuning" \
    sh -c "tail -n 1 '$T/err' | grep -q 'is never on in the validation part' && ! grep -q 'was tuned' '$T/err'"
# the same source inside the validation part: --val 0.35 holds its last 5 % of rows
"$L" train "$T/trainonly.csv" -o "$T/to3.lsm" $TINY --val 0.35 --quiet >/dev/null 2>"$T/err"
check "--val 0.35 holds src3: no validation warning, before or after" \
    sh -c "! grep -q 'validation' '$T/err'"
"$L" train "$T/trainonly.csv" -o "$T/to4.lsm" $TINY --val 0 --quiet >/dev/null 2>"$T/err"
check "--val 0: no validation part, nothing said about one" \
    sh -c "test -s '$T/to4.lsm' && ! grep -q 'validation' '$T/err'"
"$L" train "$T/g.csv" -o "$T/good.lsm" --epochs 3 --hidden 16 --seq 5 --threads 1 --quiet \
    >/dev/null 2>"$T/err"
check "clean generated data: train says nothing on stderr with --quiet" test ! -s "$T/err"

# real data: IDEAL's training file, whose last 10 % has no washing machine or dishwasher
"$L" train data/ideal_house65_1min_train.csv -o "$T/ideal.lsm" --epochs 1 --stride 50 \
    --hidden 4 --threads 1 --quiet >/dev/null 2>"$T/err"
check "IDEAL: the doctor's validation warnings before, one end warning per missing source" \
    sh -c "test \$(grep -c 'WARN validation: None of' '$T/err') -eq 2 &&
           tail -n 2 '$T/err' | grep -c 'warning: \"\(WashingMachine\|Dishwasher\)\" is never on in the validation part' | grep -qx 2"

# ---- eval: a model that never says on (--threshold 1: no probability is above it)
"$L" train "$T/g.csv" -o "$T/off.lsm" $TINY --threshold 1 --quiet >/dev/null 2>&1
"$L" eval "$T/off.lsm" "$T/t.csv" >"$T/eval.txt" 2>"$T/eval.err"
rc=$?
check "eval of an all-off model: exit 0, stderr empty" sh -c "test $rc -eq 0 && test ! -s '$T/eval.err'"
check "eval of an all-off model: the warning line, both scores named" \
    grep -qx 'warning: the model does not beat "all off" (never anything on) on exact-match accuracy (model 0.765, all off 0.765) or on Hamming loss (model 0.090, all off 0.090); a win takes at least 1 % fewer errors' "$T/eval.txt"
check "eval of an all-off model: docs/COMMANDS.md's example, word for word" \
    in_doc "$T/eval.txt" 'warning: the model does not beat "all off"'
check "eval of an all-off model: the warning is the last line, after the tables" \
    sh -c "tail -n 1 '$T/eval.txt' | grep -q '^warning: ' && grep -q '^Hamming loss' '$T/eval.txt'"
"$L" eval "$T/off.lsm" "$T/t.csv" --json >"$T/eval.json"
check "eval --json of an all-off model: valid JSON" json_ok "$T/eval.json"
check "eval --json of an all-off model: beats_all_off false on both" \
    grep -q '"beats_all_off":{"subset_accuracy":false,"hamming_loss":false}' "$T/eval.json"
check "eval --json: one line, no warning text" \
    sh -c "test \$(wc -l <'$T/eval.json') -eq 1 && ! grep -q 'warning' '$T/eval.json'"

# ---- eval: a model that beats all off says nothing of the kind
"$L" eval "$T/good.lsm" "$T/t.csv" >"$T/good.txt"
"$L" eval "$T/good.lsm" "$T/t.csv" --json >"$T/good.json"
check "eval of a model that beats all off: no warning line" sh -c "! grep -q 'warning' '$T/good.txt'"
check "eval --json of a model that beats all off: beats_all_off true on both" \
    grep -q '"beats_all_off":{"subset_accuracy":true,"hamming_loss":true}' "$T/good.json"
"$L" eval "$T/good.lsm" "$T/t.csv" --raw >"$T/goodraw.txt"
check "eval --raw of that model: no warning line either" sh -c "! grep -q 'warning' '$T/goodraw.txt'"

# ---- multi-class: a model on a constant reading can only answer one class
awk -F, 'BEGIN { OFS = "," } NR > 1 { $1 = 500 } { print }' "$T/g.csv" >"$T/flat.csv"
"$L" train "$T/flat.csv" -o "$T/flat.lsm" $TINY --task multiclass --quiet >/dev/null 2>"$T/err"
check "constant reading: train prints the doctor's constant-input problem and trains" \
    sh -c "test -s '$T/flat.lsm' && grep -q '^lstmsrc: train: PROBLEM constant: Input \"reading\" is 500 in every row' '$T/err'"
"$L" eval "$T/flat.lsm" "$T/t.csv" >"$T/flat.txt"
"$L" eval "$T/flat.lsm" "$T/t.csv" --json >"$T/flat.json"
check "multi-class eval of a one-answer model: the warning names the majority class" \
    grep -q '^warning: the model does not beat always answering "none" on accuracy (model ' "$T/flat.txt"
check "multi-class eval --json: beats_majority false" \
    grep -q '"beats_majority":{"accuracy":false}' "$T/flat.json"
"$L" train "$T/g.csv" -o "$T/mc.lsm" --epochs 3 --hidden 16 --seq 5 --threads 1 --task multiclass \
    --quiet >/dev/null 2>&1
"$L" eval "$T/mc.lsm" "$T/t.csv" >"$T/mc.txt"
"$L" eval "$T/mc.lsm" "$T/t.csv" --json >"$T/mc.json"
check "multi-class eval of a model that beats the majority: no warning, beats_majority true" \
    sh -c "! grep -q warning '$T/mc.txt' && grep -q '\"beats_majority\":{\"accuracy\":true}' '$T/mc.json'"

echo "cli_doctor_says: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
