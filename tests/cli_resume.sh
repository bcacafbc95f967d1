#!/bin/sh
# Nothing lost on interruption, through the CLI:
#  - train --checkpoint after epoch 1, then --resume to 3 epochs: the model equals an
#    uninterrupted 3-epoch run, byte for byte (also with a bidirectional top layer);
#  - SIGINT in the middle of training: exit 130, the best model so far and the checkpoint are
#    written, the message says how to resume; running that command (with the epochs cut to
#    just past the interruption) ends with the uninterrupted run's model, byte for byte;
#  - SIGTERM without --checkpoint still saves the state to MODEL.ckpt;
#  - a checkpoint of other options (--bidirectional added or dropped among them) or a corrupted
#    one is refused with a clear message.
# usage: sh tests/cli_resume.sh BUILD_DIR
BUILD=${1:-build}
L="$BUILD/lstmsrc"
T=$(mktemp -d)
export TMPDIR="$T" # a model train cannot save lands here (its fallback), not in /tmp
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok $1: $2"; }

O="--label-at last --seq 4 --hidden 8 --batch 32 --threads 2 --lr 0.003"
"$L" gen --rows 12000 --sources 3 --seed 21 -o "$T/d.csv" || bad gen "gen failed"

# ---- end-of-epoch checkpoint, resumed
"$L" train "$T/d.csv" -o "$T/ref3.lsm" --epochs 3 $O --quiet >/dev/null || bad ref "train failed"
"$L" train "$T/d.csv" -o "$T/one.lsm" --epochs 1 --checkpoint "$T/e.ckpt" $O --quiet >/dev/null
if "$L" train "$T/d.csv" -o "$T/res3.lsm" --epochs 3 --resume "$T/e.ckpt" $O --quiet >/dev/null &&
    cmp -s "$T/ref3.lsm" "$T/res3.lsm"; then
    ok "resumed after epoch 1 == uninterrupted, byte for byte"
else
    bad resume "resumed model differs from the uninterrupted one"
fi

# ---- the same with a bidirectional top layer (2 layers, centred label)
B="$O --bidirectional --layers 2 --label-at center"
"$L" train "$T/d.csv" -o "$T/bref3.lsm" --epochs 3 $B --quiet >/dev/null || bad bref "train failed"
"$L" train "$T/d.csv" -o "$T/bone.lsm" --epochs 1 --checkpoint "$T/b.ckpt" $B --quiet >/dev/null
if "$L" train "$T/d.csv" -o "$T/bres3.lsm" --epochs 3 --resume "$T/b.ckpt" $B --quiet >/dev/null &&
    cmp -s "$T/bref3.lsm" "$T/bres3.lsm"; then
    ok "bidirectional: resumed after epoch 1 == uninterrupted, byte for byte"
else
    bad "bidirectional resume" "resumed model differs from the uninterrupted one"
fi

# ---- the same with weight averaging (--ema): the average travels in the checkpoint; a model
# unlike the plain one; --ema out of (0, 1) is a usage error
E="$O --ema 0.9"
"$L" train "$T/d.csv" -o "$T/eref3.lsm" --epochs 3 $E --quiet >/dev/null || bad eref "train failed"
"$L" train "$T/d.csv" -o "$T/eone.lsm" --epochs 1 --checkpoint "$T/em.ckpt" $E --quiet >/dev/null
if "$L" train "$T/d.csv" -o "$T/eres3.lsm" --epochs 3 --resume "$T/em.ckpt" $E --quiet >/dev/null &&
    cmp -s "$T/eref3.lsm" "$T/eres3.lsm" && ! cmp -s "$T/eref3.lsm" "$T/ref3.lsm"; then
    ok "--ema: resumed after epoch 1 == uninterrupted, byte for byte (and not the plain model)"
else
    bad "ema resume" "resumed model differs from the uninterrupted one, or --ema changed nothing"
fi
if ! "$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 3 --resume "$T/em.ckpt" $O --quiet 2>"$T/eerr" >/dev/null &&
    grep -q -- '--ema' "$T/eerr"; then
    ok "--ema: its checkpoint refused to a run without it, naming --ema"
else
    bad "ema refused" "$(cat "$T/eerr")"
fi
"$L" train "$T/d.csv" -o "$T/x.lsm" --ema 1 $O --quiet 2>"$T/eerr" >/dev/null
rc=$?
if [ "$rc" -eq 2 ] && grep -q -- '--ema' "$T/eerr"; then
    ok "--ema 1: usage error, exit 2"
else
    bad "ema 1" "exit $rc: $(cat "$T/eerr")"
fi

# ---- SIGINT mid-training: wait for epoch 1's checkpoint, then interrupt (lands in a later
# epoch, usually mid-way); 1000 epochs so training cannot end first
"$L" train "$T/d.csv" -o "$T/sig.lsm" --epochs 1000 --checkpoint "$T/sig.ckpt" $O >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ ! -e "$T/sig.ckpt" ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
done
kill -INT $pid
wait $pid
rc=$?
done_epochs=$(sed -n 's/.*interrupted after \([0-9]*\) complete epoch.*/\1/p' "$T/err")
hint=$(sed -n '/to continue:$/{n;p;}' "$T/err")
if [ "$rc" -eq 130 ] && [ -n "$done_epochs" ] && grep -q "best model so far saved to $T/sig.lsm" "$T/err" &&
    grep -q "training state saved to $T/sig.ckpt" "$T/err" && [ -n "$hint" ]; then
    ok "SIGINT: exit 130 after $done_epochs epochs, model and state saved, hint:$hint"
else
    bad sigint "exit $rc: $(cat "$T/err")"
fi
if "$L" inspect "$T/sig.lsm" >/dev/null 2>&1; then ok "the interrupted run's model loads"; else bad sigmodel "does not load"; fi
# the printed command, with the program path and the epochs to run changed
E=$((done_epochs + 2))
cmd=$(echo "$hint" | sed "s| lstmsrc | \"\$L\" |; s|--epochs 1000|--epochs $E|")
case "$cmd" in *"--resume $T/sig.ckpt"*) ok "hint resumes from the checkpoint" ;; *) bad hint "$cmd" ;; esac
eval "$cmd --quiet" >/dev/null 2>"$T/err2"
rc=$?
"$L" train "$T/d.csv" -o "$T/refE.lsm" --epochs $E $O --quiet >/dev/null
if [ "$rc" -eq 0 ] && cmp -s "$T/sig.lsm" "$T/refE.lsm"; then
    ok "resumed after SIGINT == uninterrupted $E epochs, byte for byte"
else
    bad "resume after SIGINT" "exit $rc: $(cat "$T/err2")"
fi

# ---- a checkpoint made on 2 threads, resumed on 1: the same bytes as the uninterrupted run
"$L" train "$T/d.csv" -o "$T/thr.lsm" --epochs 1 --checkpoint "$T/thr.ckpt" $O --quiet >/dev/null
O1=$(echo "$O" | sed 's/--threads 2/--threads 1/')
"$L" train "$T/d.csv" -o "$T/thr.lsm" --epochs 3 --resume "$T/thr.ckpt" $O1 --quiet >/dev/null 2>"$T/thr.err"
rc=$?
"$L" train "$T/d.csv" -o "$T/thr3.lsm" --epochs 3 $O --quiet >/dev/null
if [ "$rc" -eq 0 ] && cmp -s "$T/thr.lsm" "$T/thr3.lsm"; then
    ok "checkpoint from 2 threads resumed on 1 == uninterrupted, byte for byte"
else
    bad "resume on another thread count" "exit $rc: $(cat "$T/thr.err")"
fi

# ---- SIGTERM without --checkpoint (nor --threads): the state goes to MODEL.ckpt and the hint
# repeats the command (no thread count needed: any gives the same bits); wait for epoch 1's line
"$L" train "$T/d.csv" -o "$T/term.lsm" --epochs 1000 --seq 4 --hidden 8 --batch 32 >/dev/null \
    2>"$T/term.err" &
pid=$!
i=0
while ! grep -q "^Epoch 1/" "$T/term.err" 2>/dev/null && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do
    sleep 0.05
    i=$((i + 1))
done
kill -TERM $pid
wait $pid
rc=$?
if [ "$rc" -eq 130 ] && [ -s "$T/term.lsm" ] && [ -s "$T/term.lsm.ckpt" ] &&
    grep -Eq -- "--batch 32 --resume $T/term.lsm.ckpt" "$T/term.err"; then
    ok "SIGTERM: exit $rc, model and $T/term.lsm.ckpt written"
else
    bad sigterm "exit $rc: $(cat "$T/term.err")"
fi

# ---- refusals
"$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 3 --resume "$T/e.ckpt" --seq 4 --hidden 16 --batch 32 \
    --threads 2 --lr 0.003 --quiet >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "checkpoint made with --hidden 8, this run has --hidden 16" "$T/err" &&
    [ ! -e "$T/x.lsm" ]; then
    ok "other options refused: $(cat "$T/err")"
else
    bad "other options" "exit $rc: $(cat "$T/err")"
fi
"$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 3 --resume "$T/e.ckpt" $O --select f1 --quiet \
    >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 2 ] && grep -q "checkpoint made with --select loss, this run has --select f1" "$T/err" &&
    [ ! -e "$T/x.lsm" ]; then
    ok "other epoch selection refused: $(cat "$T/err")"
else
    bad "other select" "exit $rc: $(cat "$T/err")"
fi
# a checkpoint resumed with the other --bidirectional setting, both ways (everything else equal)
for c in "e.ckpt:$O --bidirectional" "b.ckpt:$O --layers 2 --label-at center --directions 1"; do
    "$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 3 --resume "$T/${c%%:*}" ${c#*:} --quiet \
        >/dev/null 2>"$T/err"
    rc=$?
    if [ "$rc" -eq 2 ] && [ "$(wc -l <"$T/err")" -eq 1 ] && grep -q "${c%%:*}: checkpoint made with" "$T/err" &&
        grep -q -- "--directions" "$T/err" && [ ! -e "$T/x.lsm" ]; then
        ok "other direction count refused (${c%%:*}): $(cat "$T/err")"
    else
        bad "other direction count (${c%%:*})" "exit $rc: $(cat "$T/err")"
    fi
done
cp "$T/e.ckpt" "$T/bad.ckpt"
printf 'X' | dd of="$T/bad.ckpt" bs=1 seek=300 conv=notrunc 2>/dev/null
"$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 3 --resume "$T/bad.ckpt" $O --quiet >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "bad.ckpt: checksum mismatch" "$T/err" && [ ! -e "$T/x.lsm" ]; then
    ok "corrupted checkpoint refused: $(cat "$T/err")"
else
    bad corrupted "exit $rc: $(cat "$T/err")"
fi
"$L" train "$T/d.csv" -o "$T/x.lsm" --epochs 3 --resume "$T/ref3.lsm" $O --quiet >/dev/null 2>"$T/err"
rc=$?
if [ "$rc" -eq 1 ] && grep -q "a model file, not a checkpoint" "$T/err"; then
    ok "model given as checkpoint refused: $(cat "$T/err")"
else
    bad "model as checkpoint" "exit $rc: $(cat "$T/err")"
fi

echo "cli_resume: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
