#!/bin/sh
# cli_export_bi.sh — `export-c` of bidirectional models (train --bidirectional), end to end, on
# tiny models trained here: 1 and 2 layers, label at the last row and at the centre (window 6:
# the reverse direction reads 1 or 4 rows), multi-label and multi-class, raw and raw + diff:
#   the header builds alone with cc -std=c99 -Wall -Wextra -Werror -pedantic, says it is
#     bidirectional, sizeof(PREFIX_state) == PREFIX_RAM_BYTES == the size export-c prints;
#   its decisions are predict --raw's and its probabilities within 1e-5, for every full window;
#   the check can fail: the same header with the head's reverse half left out, or (centred
#     label) with the reverse direction reading its rows oldest first, gives other outputs.
# Usage: sh tests/cli_export_bi.sh [BUILD]. Ends with "N passed, N failed".
. tests/lib_cli.sh "$@"

"$L" gen --rows 8000 --seed 11 -o "$T/train.csv" || exit 1
"$L" gen --rows 2000 --seed 12 -o "$T/test.csv" || exit 1

# one line per full window, as predict --proba --raw writes the row the window answers for;
# exits 3 if the state's size is not the one the header reports
cat >"$T/run.c" <<'EOF'
#include <stdio.h>
#include <stdlib.h>
#include "bi.h"

int main(void)
{
    bi_state s;
    float x[bi_INPUTS], p[bi_OUTPUTS];
    unsigned char on[bi_OUTPUTS];
    char line[256];
    unsigned k;
    if (sizeof s != bi_RAM_BYTES || bi_DIRECTIONS != 2 ||
        bi_FORWARD_STEPS + bi_REVERSE_STEPS != bi_SEQ_LEN + 1) {
        fprintf(stderr, "sizeof(bi_state) %u, bi_RAM_BYTES %u\n", (unsigned)sizeof s,
                (unsigned)bi_RAM_BYTES);
        return 3;
    }
    bi_init(&s);
    if (!fgets(line, sizeof line, stdin)) return 1;   /* header */
    while (fgets(line, sizeof line, stdin)) {
        x[0] = (float)strtod(line, NULL);
        if (!bi_push(&s, x, p)) continue;
        if (bi_MULTICLASS) {
            int c = bi_decide(p, on);
            printf("%s,%.6f", bi_output_name((unsigned)c), p[c]);
        } else {
            bi_decide(p, on);
            for (k = 0; k < bi_OUTPUTS; k++) printf("%s%d", k ? "," : "", on[k]);
        }
        for (k = 0; k < bi_OUTPUTS; k++) printf(",%.6f", p[k]);
        putchar('\n');
    }
    return 0;
}
EOF

# build DIR: compiles $T/DIR/bi.h with run.c into $T/DIR/run
build() {
    "$CCX" -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I"$T/$1" "$T/run.c" -lm -o "$T/$1/run"
}

for cfg in "1 last multilabel raw" "1 center multilabel raw" "2 last multiclass raw" \
    "2 center multilabel raw,diff"; do
    # shellcheck disable=SC2086
    set -- $cfg
    cf="$1 layer(s), label $2, $3, $4"
    d="l$1$2"
    mkdir -p "$T/$d" "$T/$d-nohead" "$T/$d-fwd"
    "$L" train "$T/train.csv" -o "$T/$d/m.lsm" --bidirectional --layers "$1" --label-at "$2" \
        --task "$3" --features "$4" --seq 6 --hidden 5 --epochs 1 --threads 1 --quiet \
        >/dev/null || exit 1
    "$L" export-c "$T/$d/m.lsm" -o "$T/$d/bi.h" --prefix bi >"$T/$d/sizes" 2>&1
    check "$cf: export-c exit 0, the header says bidirectional" \
        sh -c "test $? -eq 0 && grep -q '^#define bi_DIRECTIONS 2' '$T/$d/bi.h' &&
               grep -q 'bi_wr\\[' '$T/$d/bi.h' && grep -q 'bidirectional' '$T/$d/bi.h'"
    ram=$(sed -n 's/.*RAM \([0-9]*\) bytes.*/\1/p' "$T/$d/sizes")
    check "$cf: RAM printed ($ram) == bi_RAM_BYTES" grep -q "^#define bi_RAM_BYTES $ram\$" \
        "$T/$d/bi.h"
    check "$cf: builds with -std=c99 -Wall -Wextra -Werror -pedantic" build "$d"
    "$T/$d/run" <"$T/test.csv" >"$T/$d/e.csv"
    check "$cf: runs, sizeof(bi_state) == bi_RAM_BYTES" test $? -eq 0
    "$L" predict "$T/$d/m.lsm" "$T/test.csv" --proba --raw -o "$T/$d/p.csv" || exit 1
    grep -v '^,' "$T/$d/p.csv" | tail -n +2 >"$T/$d/p_body.csv"
    check "$cf: predict answers for full windows only" \
        test "$(lines "$T/$d/p_body.csv")" -eq $((2000 - 5))
    check "$cf: export-c == predict --raw (same decisions, probabilities within 1e-5)" \
        $CMP -v tol=1e-5 "$T/$d/p_body.csv" "$T/$d/e.csv"

    # the check above can fail: a head that leaves out the reverse direction...
    sed '/acc += s->hr\[j\]/d' "$T/$d/bi.h" >"$T/$d-nohead/bi.h"
    check "$cf: (a header whose head leaves out the reverse direction differs from predict)" \
        sh -c "! cmp -s '$T/$d/bi.h' '$T/$d-nohead/bi.h' && '$CCX' -std=c99 -O2 \
               -I'$T/$d-nohead' '$T/run.c' -lm -o '$T/$d-nohead/run' &&
               '$T/$d-nohead/run' <'$T/test.csv' >'$T/$d-nohead/e.csv' &&
               ! $CMP -v tol=1e-5 '$T/$d/p_body.csv' '$T/$d-nohead/e.csv'"
    # ... and, where it reads more than one row, a reverse direction that reads them oldest
    # first
    [ "$2" = center ] || continue
    sed -e 's/unsigned slot = s->head + (bi_SEQ_LEN - 1 - t);/unsigned slot = s->head + (bi_FORWARD_STEPS - 1 + t);/' \
        -e 's/s->xr + (bi_REVERSE_STEPS - 1 - t) \* bi_HIDDEN/s->xr + t * bi_HIDDEN/' \
        "$T/$d/bi.h" >"$T/$d-fwd/bi.h"
    check "$cf: (a header whose reverse direction reads its rows oldest first differs)" \
        sh -c "! cmp -s '$T/$d/bi.h' '$T/$d-fwd/bi.h' && '$CCX' -std=c99 -O2 \
               -I'$T/$d-fwd' '$T/run.c' -lm -o '$T/$d-fwd/run' &&
               '$T/$d-fwd/run' <'$T/test.csv' >'$T/$d-fwd/e.csv' &&
               ! $CMP -v tol=1e-5 '$T/$d/p_body.csv' '$T/$d-fwd/e.csv'"
done

echo "cli_export_bi: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
