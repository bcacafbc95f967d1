# lib_cli.sh — what the CLI tests that use check() share; sourced as `. tests/lib_cli.sh "$@"`
# from the repository root. Sets BUILD (first argument, default build), L (the lstmsrc binary),
# CMP (the prediction comparer), CCX (a C compiler for strict C99 builds), T (a temporary
# directory removed on exit, also $TMPDIR for the commands), the counters and:
#   check NAME COMMAND...   passes when the command succeeds, else prints its first 20 lines
#   skip NAME REASON        counts a check this machine cannot run, printing why
#   lines FILE              the number of lines in FILE
BUILD=${1:-build}
L=$BUILD/lstmsrc
CMP="awk -f tests/compare_pred.awk"
CCX=${CC_C99:-$(command -v gcc || echo cc)}
T=${KEEP_T:-$(mktemp -d)}
[ -n "${KEEP_T:-}" ] || trap 'rm -rf "$T"' EXIT
# what the commands put in $TMPDIR (train's fallback for a model it could not save) goes in T
TMPDIR=$T
export TMPDIR
passed=0
failed=0
skipped=0

check() {
    name=$1
    shift
    if "$@" >"$T/check.log" 2>&1; then
        passed=$((passed + 1))
        echo "ok $name"
    else
        failed=$((failed + 1))
        echo "FAIL $name"
        sed -n 1,20p "$T/check.log"
    fi
}

# skip NAME REASON: a check that cannot run on this machine (counted, with the reason)
skip() {
    skipped=$((skipped + 1))
    echo "SKIP $1: $2"
}

lines() { wc -l <"$1" | tr -d ' '; }
