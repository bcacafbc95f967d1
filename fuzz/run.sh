#!/bin/sh
# make fuzz: runs each libFuzzer target for a set time under ASan + UBSan.
# usage: sh fuzz/run.sh BUILD_DIR SECONDS fuzz_csv fuzz_model_load ...
# Each target works on a scratch corpus BUILD_DIR/corpus/NAME (new inputs land there, never in
# the repository), seeded from fuzz/corpus/NAME (and tests/fixtures for the CSV target). A
# finding (crash, sanitizer report, leak, timeout, out-of-memory) makes libFuzzer exit non-zero
# and leaves BUILD_DIR/crash-* etc.; this script then exits 1. Prints each run's final stats.
set -u
BUILD=$1
SECONDS_EACH=$2
shift 2
status=0
for name in "$@"; do
    t=${name#fuzz_}
    seeds="fuzz/corpus/$t"
    [ "$t" = csv ] && seeds="$seeds tests/fixtures"
    work="$BUILD/corpus/$t"
    mkdir -p "$work"
    dict=
    [ -f "fuzz/$t.dict" ] && dict="-dict=fuzz/$t.dict"
    echo "== $name: $SECONDS_EACH s"
    # -rss_limit_mb: the loaders must refuse, not allocate, what a small input asks for;
    # -timeout: one input may not take seconds.
    if ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
        "$BUILD/fuzz/$name" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=1024 \
            -max_len=65536 -artifact_prefix="$BUILD/" -print_final_stats=1 \
            $dict "$work" $seeds 2>"$BUILD/$name.log"; then
        grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)|#[0-9]+.*DONE' \
            "$BUILD/$name.log" | tail -n 3
        echo "$name: no findings"
    else
        tail -n 40 "$BUILD/$name.log"
        echo "$name: FINDING (input saved under $BUILD/)"
        status=1
    fi
done
exit $status
