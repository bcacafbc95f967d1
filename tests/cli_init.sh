#!/bin/sh
# train --init MODEL, fine-tuning from a trained model:
#  - on the same data it continues: epoch 1's training loss is below a fresh model's epoch 1;
#  - the architecture comes from the init model; an option or data column that differs (window,
#    features, outputs) is refused with one line naming it (exit 2 for an option, 1 for data);
#  - --init with --resume or --checkpoint is a usage error;
#  - inspect (text and --json) names the init model and its file's CRC-32;
#  - the same seed gives the same bytes; --init-scaler keep and refit differ.
# usage: sh tests/cli_init.sh BUILD_DIR
BUILD=${1:-build}
L="$BUILD/lstmsrc"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok $1: $2"; }

O="--seq 8 --hidden 8 --batch 64 --threads 1 --lr 0.003"
"$L" gen --rows 6000 --sources 3 --seed 5 -o "$T/d.csv" || bad gen "gen failed"
"$L" train "$T/d.csv" -o "$T/a.lsm" --epochs 2 $O >/dev/null 2>"$T/a.err" || bad base "train failed"
"$L" train "$T/d.csv" -o "$T/b.lsm" --epochs 1 --init "$T/a.lsm" --threads 1 --lr 0.003 \
    --batch 64 >/dev/null 2>"$T/b.err" || bad init "train --init failed: $(tail -1 "$T/b.err")"
# the training loss at the end of epoch 1 (the line with val_loss)
loss1() { tr '\r' '\n' <"$1" | grep -m1 'Epoch 1/.*val_loss' | sed 's/.* - loss \([0-9.]*\) .*/\1/'; }
fresh=$(loss1 "$T/a.err")
cont=$(loss1 "$T/b.err")
if [ -n "$fresh" ] && [ -n "$cont" ] && awk -v a="$cont" -v b="$fresh" 'BEGIN{exit !(a < b)}'; then
    ok "--init continues: epoch 1 loss $cont < fresh $fresh"
else
    bad continues "epoch 1 loss with --init '$cont', fresh '$fresh'"
fi

crc=$(od -An -tx1 -j $(($(wc -c <"$T/a.lsm") - 4)) "$T/a.lsm" | awk '{print $4 $3 $2 $1}')
if "$L" inspect "$T/b.lsm" | grep -q "init          a.lsm (crc32 $crc)" &&
    "$L" inspect --json "$T/b.lsm" | grep -q "\"init\":{\"name\":\"a.lsm\",\"crc32\":\"$crc\"}"; then
    ok "inspect names the init model and its crc32 $crc"
else
    bad inspect "$("$L" inspect "$T/b.lsm" | grep init)"
fi
if "$L" inspect --json "$T/a.lsm" | grep -q '"init":null'; then
    ok "a fresh model has init null"
else
    bad "inspect fresh" "no \"init\":null"
fi

"$L" train "$T/d.csv" -o "$T/b2.lsm" --epochs 1 --init "$T/a.lsm" --threads 1 --lr 0.003 \
    --batch 64 --quiet >/dev/null 2>&1
if cmp -s "$T/b.lsm" "$T/b2.lsm"; then ok "same seed, same bytes"; else bad bytes "models differ"; fi
# on other data (another house) keep and refit scale differently
"$L" gen --rows 6000 --sources 3 --seed 6 -o "$T/e.csv" || bad gen "gen failed"
for s in keep refit; do
    "$L" train "$T/e.csv" -o "$T/$s.lsm" --epochs 1 --init "$T/a.lsm" --init-scaler $s \
        --threads 1 --lr 0.003 --batch 64 --quiet >/dev/null 2>&1
done
if [ -s "$T/refit.lsm" ] && ! cmp -s "$T/keep.lsm" "$T/refit.lsm" &&
    [ "$("$L" inspect --json "$T/keep.lsm" | grep -o '"inputs":\[[^]]*\]')" = \
      "$("$L" inspect --json "$T/a.lsm" | grep -o '"inputs":\[[^]]*\]')" ]; then
    ok "--init-scaler refit differs from keep"
else
    bad refit "refit model missing or identical"
fi

# refused: exit code and the one line it says
refused() { # name, want rc, want text, args...
    name=$1 want=$2 text=$3
    shift 3
    "$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 1 --quiet "$@" >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq "$want" ] && grep -q -- "$text" "$T/err" && [ ! -e "$T/x.lsm" ]; then
        ok "$name refused (exit $rc)"
    else
        bad "$name" "exit $rc: $(cat "$T/err")"
    fi
}
refused "other window" 2 "a.lsm has window (seq) 8, this training 9" --init "$T/a.lsm" --seq 9
refused "other features" 2 "a.lsm has features raw,diff, this training diff" --init "$T/a.lsm" \
    --features diff
refused "other outputs" 1 "d.csv: 2 outputs, a.lsm has 3" --init "$T/a.lsm" --labels src1,src2
awk -F, 'BEGIN{OFS=","} NR==1{$3="other"} {print}' "$T/d.csv" >"$T/o.csv"
"$L" train "$T/o.csv" -o "$T/x.lsm" --epochs 1 --quiet --init "$T/a.lsm" >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q 'output 2 is "other", a.lsm'"'"'s is "src2"' "$T/err"; then
    ok "renamed output refused (exit 1)"
else
    bad "renamed output" "exit $rc: $(cat "$T/err")"
fi
refused "with --resume" 2 "--init and --resume exclude each other" --init "$T/a.lsm" --resume x
refused "with --checkpoint" 2 "--init and --checkpoint exclude each other" --init "$T/a.lsm" \
    --checkpoint "$T/c.ckpt"
refused "--init-scaler alone" 2 "--init-scaler needs --init MODEL" --init-scaler refit
refused "missing init" 1 "no.lsm: cannot open" --init "$T/no.lsm"

echo "cli_init: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
