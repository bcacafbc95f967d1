#!/bin/sh
# Work not thrown away:
#  - a checkpoint that cannot be written (--checkpoint /dev/full) is a warning: training goes
#    on to the end and the model is saved;
#  - train tries its outputs (-o, --checkpoint, --plot) before training: a missing directory,
#    a parent that is a file and an empty name fail at once;
#  - a second SIGINT while train stops (0, 10, 200 ms after the first) does not kill it, and
#    one that finds it saving says so with the time measured;
#  - predict, plot, export-c and gen try their -o before reading anything;
#  - stream on SIGINT/SIGTERM writes the rows still waiting and exits 130;
#  - a stop takes effect between the chunks of one big step (timed against that step);
#  - a final save that fails puts the model in MODEL.saved-PID or $TMPDIR and names it;
#  - a full disk (tmpfs in a namespace, a file-size limit, /dev/full): message, non-zero exit,
#    the previous file intact.
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
    : >"$T/err" # the wait below must not read the last run's
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

# the second signal says that the save is under way and about how long it takes, from what was
# measured: here each epoch's checkpoint write. The run is held in its last write (--plot to a
# FIFO nobody reads yet) so that the second signal surely finds it saving.
second_says() {
    rm -f "$T"/say.* "$T/plot.fifo"
    mkfifo "$T/plot.fifo"
    : >"$T/err"
    "$L" train "$T/s.csv" -o "$T/say.lsm" --epochs 1000 --hidden 16 --seq 4 --threads 1 \
        --checkpoint "$T/say.ckpt" --plot "$T/plot.fifo" >"$T/out" 2>"$T/err" &
    pid=$!
    i=0
    while ! grep -q "^Epoch 3/" "$T/err" 2>/dev/null && [ $i -lt 400 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    kill -INT $pid
    i=0
    while ! grep -q "best model so far saved" "$T/err" 2>/dev/null && [ $i -lt 400 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.2
    kill -INT $pid
    sleep 0.2
    timeout 60 cat "$T/plot.fifo" >/dev/null # a run that died does not hang the test
    wait $pid
    rc=$?
    grep -v "^Epoch" "$T/err"
    [ "$rc" -eq 130 ] && grep -q "already stopping: saving the model and training state, done in \
about [0-9][0-9]* s by the last checkpoint measured; the save is not cut" "$T/err"
}
check "a second SIGINT while saving says so, with the time a checkpoint took" second_says

# every command that writes tries its output before the work: a missing directory, a parent
# that is a file and "" fail at once with one line naming the path (the model and data are not
# even read: a missing data file is not what the message is about), and nothing is left behind
"$L" train "$T/d.csv" -o "$T/w.lsm" --epochs 1 --hidden 8 --seq 4 --threads 1 --quiet \
    >/dev/null 2>&1
mkdir -p "$T/outs"
: >"$T/outs/afile"
out_first() { # WANT_RC PATTERN OUT CMD...: CMD with -o OUT fails with WANT_RC, naming PATTERN
    want=$1 pat=$2 o=$3
    shift 3
    "$@" -o "$o" >"$T/out" 2>"$T/err"
    rc=$?
    cat "$T/err"
    [ "$rc" -eq "$want" ] && [ "$(lines "$T/err")" -le 2 ] && grep -q -- "$pat" "$T/err" &&
        [ "$(ls -A "$T/outs")" = afile ] && [ ! -s "$T/out" ]
}
for c in predict plot export-c gen; do
    case $c in
        predict | plot) set -- "$L" $c "$T/w.lsm" "$T/missing.csv" ;;
        export-c) set -- "$L" $c "$T/missing.lsm" ;;
        gen) set -- "$L" $c --rows 100000000 ;;
    esac
    check "$c -o in a missing directory fails first" \
        out_first 1 "$T/outs/nonexistent_dir/x: cannot create" "$T/outs/nonexistent_dir/x" "$@"
    check "$c -o under a file fails first" \
        out_first 1 "$T/outs/afile/x: cannot create" "$T/outs/afile/x" "$@"
    check "$c -o '' is a usage error before any work" out_first 2 "-o needs a file name" "" "$@"
done

# stream: SIGINT/SIGTERM end the input instead of killing it. A centred model (window 4: rows
# wait 2 lines for their decision) fed 30 lines through a FIFO that stays open: after the
# signal every line read has its output line, the same bytes as predict on those rows, exit 130
head -n 31 "$T/d.csv" >"$T/head.csv"
"$L" predict "$T/w.lsm" "$T/head.csv" -o "$T/head.pred" >/dev/null 2>&1
stream_signal() {
    rm -f "$T/fifo" "$T/sout"
    : >"$T/sout"
    mkfifo "$T/fifo"
    "$L" stream "$T/w.lsm" <"$T/fifo" >"$T/sout" 2>"$T/err" &
    pid=$!
    exec 3>"$T/fifo"
    cat "$T/head.csv" >&3
    # the lines a centred model can answer come out; the last ones wait for rows to come
    i=0
    while [ "$(lines "$T/sout")" -lt 20 ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    waiting=$(( $(lines "$T/head.pred") - $(lines "$T/sout") ))
    kill -"$1" $pid
    (sleep 30 && kill -KILL $pid) 2>/dev/null & # a stream that ignores the signal fails, not hangs
    dog=$!
    wait $pid
    rc=$?
    kill $dog 2>/dev/null
    exec 3>&-
    cat "$T/err"
    echo "rc $rc, $waiting lines were waiting"
    [ "$rc" -eq 130 ] && [ "$waiting" -gt 0 ] && cmp "$T/sout" "$T/head.pred" &&
        grep -q "interrupted after 31 input lines" "$T/err"
}
check "stream on SIGINT: the rows still waiting are written, exit 130" stream_signal INT
check "stream on SIGTERM: the rows still waiting are written, exit 130" stream_signal TERM
# a line cut short by the signal (no line end yet) is not taken for a reading
stream_cut_line() {
    rm -f "$T/fifo" "$T/sout"
    : >"$T/sout"
    mkfifo "$T/fifo"
    "$L" stream "$T/w.lsm" <"$T/fifo" >"$T/sout" 2>"$T/err" &
    pid=$!
    exec 3>"$T/fifo"
    cat "$T/head.csv" >&3
    printf '28' >&3
    i=0
    while [ "$(lines "$T/sout")" -lt 20 ] && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.2
    kill -INT $pid
    wait $pid
    rc=$?
    exec 3>&-
    cat "$T/err"
    [ "$rc" -eq 130 ] && cmp "$T/sout" "$T/head.pred" &&
        grep -q "interrupted after 31 input lines (an unfinished last line dropped)" "$T/err"
}
check "stream on SIGINT drops an unfinished last line" stream_cut_line

# a stop request takes effect between the chunks of one big step, not at its end: one step of
# 16000 windows of 200 rows (about 80 chunks) is timed whole, then a run of the same is sent
# SIGTERM a quarter into the step; it must end (model saved, exit 130) in well under the
# rest of the step, as measured in this same run
now() { date +%s.%N; }
"$L" gen --rows 16199 --sources 2 --seed 3 -o "$T/big.csv" >/dev/null 2>&1
big_step() {
    rm -f "$T"/big.lsm*
    : >"$T/err"
    "$L" train "$T/big.csv" -o "$T/big.lsm" --epochs 1 --val 0 --batch 16000 --hidden 64 \
        --seq 200 --label-at last --threads 1 >"$T/out" 2>"$T/err" &
    pid=$!
    i=0
    while ! grep -q "rows," "$T/err" 2>/dev/null && [ $i -lt 2000 ]; do
        sleep 0.02
        i=$((i + 1))
    done
}
stop_mid_step() {
    big_step
    t0=$(now)
    wait $pid || return 1
    full=$(awk -v a="$t0" -v b="$(now)" 'BEGIN { print b - a }')
    big_step
    sleep "$(awk -v f="$full" 'BEGIN { print f / 4 }')"
    t1=$(now)
    kill -TERM $pid
    wait $pid
    rc=$?
    stop=$(awk -v a="$t1" -v b="$(now)" 'BEGIN { print b - a }')
    cat "$T/err"
    echo "one step: ${full}s; SIGTERM a quarter in ended the run in ${stop}s (rc $rc)"
    [ "$rc" -eq 130 ] && "$L" inspect "$T/big.lsm" >/dev/null &&
        awk -v f="$full" -v s="$stop" 'BEGIN { exit !(s < f / 4) }'
}
check "SIGTERM mid-step stops between chunks, long before the step would end" stop_mid_step

# the final save fails (the directory removed, the target's place taken by a directory, a
# full device): the model goes next to the target as MODEL.saved-PID, else into $TMPDIR, the
# message names it, the exit status is 1 and the fallback loads
wait_training() { # PID: until the run has printed its "rows," line (training under way)
    i=0
    while ! grep -q "rows," "$T/err" 2>/dev/null && [ $i -lt 200 ]; do
        sleep 0.05
        i=$((i + 1))
    done
    sleep 0.3
}
fallback_saved() { # WHERE: the fallback the message must name, as a grep pattern
    alt=$(sed -n 's/.*the model was saved to \(.*\) instead$/\1/p' "$T/err")
    [ -n "$alt" ] && echo "$alt" | grep -q "$1" && [ -f "$alt" ] && "$L" inspect "$alt" >/dev/null
}
dir_removed() {
    rm -rf "$T/gone" "$T/tmpd"
    mkdir -p "$T/gone" "$T/tmpd"
    : >"$T/err"
    TMPDIR="$T/tmpd" "$L" train "$T/s.csv" -o "$T/gone/m.lsm" --epochs 1000 --hidden 16 \
        --seq 4 --threads 1 >"$T/out" 2>"$T/err" &
    pid=$!
    wait_training
    rm -rf "$T/gone"
    [ "$1" = file ] && : >"$T/gone" # a parent that became a file
    kill -TERM $pid
    wait $pid
    rc=$?
    cat "$T/err"
    [ "$rc" -eq 1 ] && fallback_saved "^$T/tmpd/m\.lsm\.saved-$pid\$"
}
check "the output directory removed during training: the model saved in \$TMPDIR" dir_removed
check "the output directory replaced by a file: the model saved in \$TMPDIR" dir_removed file
target_taken() {
    rm -rf "$T/taken.lsm"*
    : >"$T/err"
    "$L" train "$T/s.csv" -o "$T/taken.lsm" --epochs 1000 --hidden 16 --seq 4 --threads 1 \
        >"$T/out" 2>"$T/err" &
    pid=$!
    wait_training
    mkdir "$T/taken.lsm"
    kill -TERM $pid
    wait $pid
    rc=$?
    cat "$T/err"
    [ "$rc" -eq 1 ] && grep -q "taken.lsm: cannot" "$T/err" &&
        fallback_saved "^$T/taken\.lsm\.saved-$pid\$"
}
check "a directory in the model's place: the model saved next to it" target_taken
full_device() {
    rm -rf "$T/tmpd"
    mkdir -p "$T/tmpd"
    TMPDIR="$T/tmpd" "$L" train "$T/d.csv" -o /dev/full --epochs 1 --hidden 8 --seq 4 \
        --threads 1 --quiet >"$T/out" 2>"$T/err"
    rc=$?
    cat "$T/err"
    [ "$rc" -eq 1 ] && fallback_saved "^$T/tmpd/full\.saved-[0-9]*\$"
}
check "train -o /dev/full: the model saved in \$TMPDIR" full_device

# A full file system. A small tmpfs, mounted in a user and mount namespace of its own (unshare
# -rm: no privilege needed where the kernel allows it), is filled but for 8 KiB: the probe
# passes, the real output does not fit. Each command that writes says so, exits non-zero, and
# the previous file at its path is intact with no temporary left; train's model goes to
# $TMPDIR instead. Where namespaces are refused, a file-size limit (ulimit -f, SIGXFSZ
# ignored: writes fail with EFBIG) stands in for the full disk.
cat >"$T/full.sh" <<'FULL'
# sh full.sh L T MODE (tmpfs or ulimit): runs every writer against a full disk, prints "ok NAME"
# or "FAIL NAME" per command
L=$1 T=$2 mode=$3 D=$T/full
mkdir -p "$D" "$T/tmpd"
if [ "$mode" = tmpfs ]; then
    mount -t tmpfs -o size=512k lstmsrc-full "$D" || exit 3
fi
for f in p.csv g.csv h.h s.svg m.lsm; do echo "previous $f" >"$D/$f"; done
if [ "$mode" = tmpfs ]; then
    dd if=/dev/zero of="$D/pad" bs=8192 count=1 2>/dev/null
    dd if=/dev/zero of="$D/fill" bs=4096 2>/dev/null
    rm -f "$D/pad"
else
    ulimit -f 16 # 512-byte blocks: 8 KiB
    trap '' XFSZ
fi
one() { # NAME FILE CMD...: CMD fails with a one-line message naming FILE, FILE intact
    name=$1 f=$2
    shift 2
    TMPDIR=$T/tmpd "$@" >"$T/full.out" 2>"$T/full.err"
    rc=$?
    why="\(No space left on device\|File too large\)"
    if [ "$rc" -ne 0 ] && grep -q "$D/$f: cannot write: $why" "$T/full.err" && [ "$(cat "$D/$f")" = "previous $f" ] &&
        [ -z "$(ls -A "$D" | grep '\.tmp\.')" ]; then
        echo "ok $name"
    else
        echo "FAIL $name (exit $rc)"
        cat "$T/full.err"
        ls -A "$D"
    fi
}
one predict p.csv "$L" predict "$T/w.lsm" "$T/d.csv" -o "$D/p.csv"
one gen g.csv "$L" gen --rows 3000 -o "$D/g.csv"
one export-c h.h "$L" export-c "$T/w.lsm" -o "$D/h.h"
one plot s.svg "$L" plot "$T/w.lsm" "$T/d.csv" -o "$D/s.svg"
one train m.lsm "$L" train "$T/d.csv" -o "$D/m.lsm" --epochs 1 --hidden 64 --seq 4 --threads 1 \
    --quiet
alt=$(sed -n 's/.*the model was saved to \(.*\) instead$/\1/p' "$T/full.err")
if [ "$mode" = ulimit ]; then # the limit is everywhere: no fallback fits either, and says so
    grep -q "no fallback could be written either" "$T/full.err" && echo "ok train fallback"
else
    case $alt in
        "$T"/tmpd/m.lsm.saved-*) "$L" inspect "$alt" >/dev/null && echo "ok train fallback" ;;
        *) echo "FAIL train fallback: '$alt'" ;;
    esac
fi
FULL
full_disk() { # MODE
    if [ "$1" = tmpfs ]; then
        unshare -rm sh "$T/full.sh" "$L" "$T" tmpfs >"$T/full.log" 2>&1
    else
        sh "$T/full.sh" "$L" "$T" ulimit >"$T/full.log" 2>&1
    fi
    cat "$T/full.log"
    [ "$(grep -c '^ok' "$T/full.log")" -eq 6 ] && ! grep -q FAIL "$T/full.log"
}
if command -v unshare >/dev/null 2>&1 && unshare -rm sh -c \
    "mkdir -p '$T/mnt' && mount -t tmpfs -o size=64k none '$T/mnt'" >/dev/null 2>&1; then
    check "a full tmpfs: every writer says so, exits non-zero, the previous file intact" \
        full_disk tmpfs
else
    skip "a full tmpfs" "no user and mount namespaces here (unshare -rm)"
fi
rm -rf "$T/full" "$T/tmpd"
check "a file-size limit: every writer says so, exits non-zero, the previous file intact" \
    full_disk ulimit
check "predict -o /dev/full: a message and exit 1" \
    sh -c '! "$1" predict "$2/w.lsm" "$2/d.csv" -o /dev/full 2>"$2/err" &&
        grep -q "/dev/full: cannot write: No space left on device" "$2/err"' sh "$L" "$T"
check "plot -o /dev/full: a message and exit 1" \
    sh -c '! "$1" plot "$2/w.lsm" "$2/d.csv" -o /dev/full 2>"$2/err" &&
        grep -q "/dev/full: cannot write: No space left on device" "$2/err"' sh "$L" "$T"

echo "cli_lost: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
