#!/bin/sh
# `lstmsrc doctor` and the pictures, end to end: doctor on generated data and on the two real
# households in data/ (the findings each must show, the window it suggests, valid JSON), then
# `train --plot` and `lstmsrc plot` on generated and real data: every SVG must be well-formed
# XML (xmllint, else python3) and, where librsvg's rsvg-convert is installed, render to a PNG.
# Odd column names (markup characters, invalid UTF-8) must not break the XML.
# usage: sh tests/cli_doctor.sh BUILD_DIR
BUILD=${1:-build}
L="$BUILD/lstmsrc"
T=$(mktemp -d)
export TMPDIR="$T" # a model train cannot save lands here (its fallback), not in /tmp
trap 'rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); echo "ok $1"; }
bad() { fail=$((fail + 1)); echo "not ok $1: $2"; }
has() { grep -q -- "$2" "$1"; }

REFIT=data/refit_house2_1min_train.csv
REFIT_TEST=data/refit_house2_1min_test.csv
IDEAL=data/ideal_house65_1min_train.csv
IDEAL_TEST=data/ideal_house65_1min_test.csv

# well-formed XML: xmllint, else python3's parser; neither: say so and count nothing
if command -v xmllint >/dev/null 2>&1; then
    xml_ok() { xmllint --noout "$1" 2>"$T/xml.err"; }
elif command -v python3 >/dev/null 2>&1; then
    xml_ok() {
        python3 -c 'import sys, xml.etree.ElementTree as E; E.parse(sys.argv[1])' "$1" 2>"$T/xml.err"
    }
else
    echo "skip: no xmllint or python3, SVGs are not checked for well-formedness"
    xml_ok() { return 0; }
fi
if command -v rsvg-convert >/dev/null 2>&1; then RSVG=1; else
    RSVG=0
    echo "skip: rsvg-convert not installed (Debian: librsvg2-bin), SVGs are not rendered"
fi

# check_svg NAME FILE: well-formed, and rendered to a PNG by a real renderer when there is one
check_svg() {
    if [ ! -s "$2" ]; then bad "$1" "no file"; return; fi
    if xml_ok "$2"; then
        ok "$1 is well-formed XML"
    else
        bad "$1" "not well-formed: $(head -n 2 "$T/xml.err")"
    fi
    if [ "$RSVG" = 1 ]; then
        if rsvg-convert "$2" -o "$T/out.png" 2>"$T/rsvg.err" &&
            [ "$(head -c 4 "$T/out.png" | od -An -c | tr -d ' ')" = "211PNG" ]; then
            ok "$1 renders to PNG ($(wc -c <"$T/out.png") bytes)"
        else
            bad "$1" "rsvg-convert failed: $(head -n 2 "$T/rsvg.err")"
        fi
    fi
}

json_ok() {
    if command -v python3 >/dev/null 2>&1; then
        python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$1" 2>/dev/null
    else
        head -c 1 "$1" | grep -q '{' && tail -c 2 "$1" | grep -q '}'
    fi
}

# ---- doctor on generated data: sources with their own levels, no suspicious readings
"$L" gen --rows 30000 --sources 3 --seed 5 -o "$T/gen.csv"
if "$L" doctor "$T/gen.csv" >"$T/gen.txt"; then ok "doctor gen exits 0"; else bad "doctor gen" "exit $?"; fi
has "$T/gen.txt" "0 problems" && ok "gen: no problems" ||
    bad "gen problems" "$(grep -m1 problem "$T/gen.txt")"
has "$T/gen.txt" "WARN     balance" && ok "gen: balance warning (all off)" || bad "gen balance" "missing"
has "$T/gen.txt" "note     duration" && ok "gen: durations are a note" || bad "gen duration" "missing"
if grep -q '^[A-Za-z]* *\(overlap\|clipped\|outage\|negative\|jump\|flicker\) ' "$T/gen.txt"; then
    bad "gen clean" "suspicious finding"
else
    ok "gen: nothing suspicious"
fi
"$L" doctor "$T/gen.csv" --json >"$T/gen.json" && json_ok "$T/gen.json" && ok "gen --json parses" ||
    bad "gen json" "invalid"
has "$T/gen.json" '"seq_len":null' && ok "gen: no window suggestion" ||
    bad "gen seq" "$(grep -o '"suggested":{[^}]*' "$T/gen.json")"

# ---- doctor on the real households
if [ -f "$REFIT" ] && [ -f "$IDEAL" ]; then
    "$L" doctor "$REFIT" >"$T/refit.txt"; rc=$?
    [ $rc -eq 0 ] && ok "doctor REFIT exits 0 despite warnings" || bad "doctor REFIT" "exit $rc"
    for f in "WARN     clipped" "WARN     overlap" "WARN     flicker" "WARN     duration" \
        "WARN     jump" "note     framing" "--seq 96"; do
        has "$T/refit.txt" "$f" && ok "REFIT: $f" || bad "REFIT" "no '$f'"
    done
    "$L" doctor "$REFIT" --json >"$T/refit.json" && json_ok "$T/refit.json" &&
        ok "REFIT --json parses" || bad "REFIT json" "invalid"
    has "$T/refit.json" '"at_max":231' && ok "REFIT: 231 rows at the 6000 W cap" || bad "REFIT clip" "at_max"
    has "$T/refit.json" '"seq_len":96' && ok "REFIT: json suggests 96" || bad "REFIT seq" "json"

    "$L" doctor "$IDEAL" >"$T/ideal.txt" && ok "doctor IDEAL exits 0" || bad "doctor IDEAL" "exit"
    for f in "WARN     validation" "None of \"WashingMachine\"" "--seq 88" "--val 0.1 stays"; do
        has "$T/ideal.txt" "$f" && ok "IDEAL: $f" || bad "IDEAL" "no '$f'"
    done
    "$L" doctor "$IDEAL_TEST" --json >"$T/ideal.json" && json_ok "$T/ideal.json" &&
        ok "IDEAL test --json parses" || bad "IDEAL json" "invalid"
else
    bad "real data" "data/*.csv missing"
fi

# ---- doctor: readings only, errors
cut -d, -f1 "$T/gen.csv" >"$T/reading.csv"
"$L" doctor "$T/reading.csv" >"$T/r.txt" && has "$T/r.txt" "no labels" &&
    ok "doctor on readings alone" || bad "readings alone" "$(head -n 3 "$T/r.txt")"
"$L" doctor "$T/missing.csv" 2>"$T/err.txt"; rc=$?
[ $rc -eq 1 ] && has "$T/err.txt" "lstmsrc: doctor:" && ok "missing file: exit 1 with a message" ||
    bad "missing" "exit $rc"
"$L" doctor "$T/gen.csv" --bogus 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok "unknown option: exit 2" || bad "bogus option" "exit $rc"

# ---- train --plot, plot on generated data
TINY="--hidden 8 --epochs 2 --batch 256 --threads 2 --quiet"
"$L" gen --rows 6000 --sources 3 --seed 7 -o "$T/g.csv"
"$L" gen --rows 3000 --sources 3 --seed 8 -o "$T/g2.csv"
if "$L" train "$T/g.csv" -o "$T/g.lsm" $TINY --plot "$T/curves.svg" >/dev/null; then
    check_svg "train --plot curves" "$T/curves.svg"
    has "$T/curves.svg" "validation macro F1" && ok "curves have the F1 panel" || bad curves "no F1"
else
    bad "train --plot" "train failed"
fi
if "$L" plot "$T/g.lsm" "$T/g2.csv" --from 500 --rows 1500 -o "$T/tl.svg" 2>/dev/null; then
    check_svg "plot gen" "$T/tl.svg"
    has "$T/tl.svg" '<g id="timeline">' && has "$T/tl.svg" '<g id="precision-recall">' &&
        ok "plot has both figures" || bad "plot figures" "missing group"
    has "$T/tl.svg" "rows 500-1999 of 3000" && ok "plot names its rows" || bad "plot rows" "subtitle"
else
    bad "plot gen" "failed"
fi
if "$L" plot "$T/g.lsm" "$T/g2.csv" --figure pr -o "$T/pr.svg" 2>/dev/null; then
    check_svg "plot --figure pr" "$T/pr.svg"
    has "$T/pr.svg" '<g id="timeline">' && bad "figure pr" "has the timeline" || ok "--figure pr alone"
else
    bad "plot --figure pr" "failed"
fi
cut -d, -f1 "$T/g2.csv" >"$T/g2r.csv"
if "$L" plot "$T/g.lsm" "$T/g2r.csv" -o "$T/nolab.svg" 2>/dev/null; then
    check_svg "plot without labels" "$T/nolab.svg"
else
    bad "plot no labels" "failed"
fi
"$L" plot "$T/g.lsm" "$T/g2r.csv" --figure pr -o "$T/x.svg" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok "threshold figure without labels: exit 2" || bad "pr no labels" "exit $rc"
"$L" plot "$T/g.lsm" "$T/g2.csv" --from 3001 -o "$T/x.svg" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && [ ! -e "$T/x.svg" ] && ok "--from past the end: exit 2, no file" || bad "from" "exit $rc"
"$L" plot "$T/g.lsm" "$T/g2.csv" 2>/dev/null; rc=$?
[ $rc -eq 2 ] && ok "plot without -o: exit 2" || bad "no -o" "exit $rc"

# ---- a picture that cannot be written: exit 1, and a device is never removed
if [ -c /dev/full ]; then
    "$L" plot "$T/g.lsm" "$T/g2.csv" -o /dev/full 2>"$T/full.err"; rc=$?
    [ $rc -eq 1 ] && [ -c /dev/full ] && has "$T/full.err" "No space" &&
        ok "plot to /dev/full: exit 1, device intact" || bad "plot /dev/full" "exit $rc"
    "$L" train "$T/g.csv" -o "$T/g3.lsm" $TINY --plot /dev/full >/dev/null 2>&1; rc=$?
    [ $rc -eq 1 ] && [ -c /dev/full ] && [ -s "$T/g3.lsm" ] &&
        ok "train --plot /dev/full: exit 1, model saved" || bad "train --plot /dev/full" "exit $rc"
fi

# ---- plot on the real households (a tiny model each: the picture, not the model, is tested)
for h in refit ideal; do
    if [ $h = refit ]; then tr=$REFIT_TEST; else tr=$IDEAL_TEST; fi
    [ -f "$tr" ] || continue
    if "$L" train "$tr" -o "$T/$h.lsm" $TINY --seq 10 --plot "$T/$h-curves.svg" >/dev/null &&
        "$L" plot "$T/$h.lsm" "$tr" --from 1000 --rows 1440 -o "$T/$h.svg" 2>/dev/null; then
        check_svg "plot $h" "$T/$h.svg"
        check_svg "curves $h" "$T/$h-curves.svg"
        has "$T/$h.svg" "WashingMachine" && ok "$h plot names the sources" || bad "$h names" "missing"
    else
        bad "plot $h" "train or plot failed"
    fi
done

# ---- column names with markup and invalid UTF-8 stay well-formed
{
    printf '%s' '"re<ad>&ing","a""b'"'"'c",'
    printf '\377src\n'
    awk 'BEGIN { for (i = 0; i < 400; i++) {
        on = (i % 40) < 10; printf "%d,%d,%d\n", 200 + 900 * on, on, (i % 50) < 5 } }'
} >"$T/odd.csv"
if "$L" train "$T/odd.csv" -o "$T/odd.lsm" $TINY --seq 3 >/dev/null &&
    "$L" plot "$T/odd.lsm" "$T/odd.csv" -o "$T/odd.svg" 2>/dev/null &&
    "$L" train "$T/odd.csv" -o "$T/odd2.lsm" $TINY --seq 3 --plot "$T/odd-curves.svg" >/dev/null; then
    check_svg "odd names plot" "$T/odd.svg"
    check_svg "odd names curves" "$T/odd-curves.svg"
    has "$T/odd.svg" "re&lt;ad&gt;&amp;ing" && ok "names escaped" || bad "escape" "no re&lt;ad&gt;&amp;ing"
else
    bad "odd names" "train or plot failed"
fi
"$L" doctor "$T/odd.csv" --json >"$T/odd.json" && json_ok "$T/odd.json" &&
    ok "doctor --json with odd names parses" || bad "odd json" "invalid"

"$L" inspect "$T/odd.lsm" --json >"$T/odd-inspect.json" && json_ok "$T/odd-inspect.json" &&
    grep -q 'ufffdsrc' "$T/odd-inspect.json" &&
    ok "inspect --json with odd names parses" || bad "odd inspect json" "invalid or no U+FFFD"
"$L" eval "$T/odd.lsm" "$T/odd.csv" --json >"$T/odd-eval.json" && json_ok "$T/odd-eval.json" &&
    ok "eval --json with odd names parses" || bad "odd eval json" "invalid"

# a cumulative counter (an energy register: the running sum of the readings, in Wh)
awk -F, 'NR == 1 { sub(/^[^,]*/, "energy_Wh"); print; next }
         { c += $1 / 60; r = $0; sub(/^[^,]*/, "", r); printf "%.3f%s\n", c, r }' \
    "$T/gen.csv" >"$T/counter.csv"
"$L" doctor "$T/counter.csv" >"$T/counter.txt" 2>&1
grep -q 'counter .*Input "energy_Wh" never decreases and rises in' "$T/counter.txt" &&
    grep -q -- '--features diff   every input is a cumulative counter' "$T/counter.txt" &&
    ok "doctor: a running sum is a cumulative counter, --features diff suggested" ||
    bad "counter finding" "$(head -c 600 "$T/counter.txt")"
"$L" doctor "$T/counter.csv" --json >"$T/counter.json" && json_ok "$T/counter.json" &&
    grep -q '"code":"counter"' "$T/counter.json" && grep -q '"features":"diff"' "$T/counter.json" &&
    ok "doctor --json: code counter, suggested features diff" || bad "counter json" "missing"
grep -qi 'counter' "$T/gen.txt" && bad "power reading taken for a counter" "$(grep -i counter "$T/gen.txt")" ||
    ok "doctor: a power reading is no counter"
"$L" train "$T/counter.csv" -o "$T/counter.lsm" --epochs 1 --hidden 8 --seq 5 --threads 1 \
    --quiet 2>"$T/counter.err" >/dev/null &&
    grep -q -- '--features diff chosen by the data doctor: every input is a cumulative counter' \
        "$T/counter.err" &&
    "$L" inspect "$T/counter.lsm" | grep -q 'channels      first difference per input column' &&
    ok "train on a counter chooses --features diff and says so" ||
    bad "train on a counter" "$(cat "$T/counter.err")"
"$L" train "$T/counter.csv" -o "$T/counter2.lsm" --epochs 1 --hidden 8 --seq 5 --threads 1 \
    --quiet --features raw,diff 2>"$T/counter2.err" >/dev/null &&
    ! grep -q 'chosen by the data doctor: every' "$T/counter2.err" &&
    "$L" inspect "$T/counter2.lsm" | grep -q 'raw + first difference' &&
    ok "train --features raw,diff on a counter keeps the user's channels" ||
    bad "train --features on a counter" "$(cat "$T/counter2.err")"

echo "cli_doctor: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
