/*
 * exported_model.c — a program built from nothing but the header `lstmsrc export-c` writes
 * (default prefix "model"): no lstmsrc library, no malloc. Reads one CSV line per reading from
 * stdin (the first MODEL_INPUTS fields are the inputs; a header line is skipped) and prints one
 * line per reading as `lstmsrc predict --proba` does: the decisions, then the probabilities,
 * every field empty until the window is full.
 *
 *   lstmsrc export-c model.lsm -o model.h
 *   cc -std=c99 -O2 -I. examples/exported_model.c -lm -o exported_model
 *   ./exported_model < new.csv
 */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

int main(void)
{
    model_state st;                      /* MODEL_RAM_BYTES: all the state there is */
    float x[MODEL_INPUTS], probs[MODEL_OUTPUTS];
    unsigned char on[MODEL_OUTPUTS];
    char line[4096];
    unsigned k;
    int first = 1;

    model_init(&st);
    if (MODEL_MULTICLASS)
        fputs("class,prob", stdout);
    else
        for (k = 0; k < MODEL_OUTPUTS; k++) printf("%s%s", k ? "," : "", model_output_name(k));
    for (k = 0; k < MODEL_OUTPUTS; k++) printf(",%s_prob", model_output_name(k));
    putchar('\n');

    while (fgets(line, sizeof line, stdin)) {
        char *p = line, *end;
        for (k = 0; k < MODEL_INPUTS; k++) {
            /* strtod then float, as lstmsrc reads numbers (strtof may round differently) */
            x[k] = (float)strtod(p, &end);
            if (end == p) break;
            p = end + (*end == ',');
        }
        if (k < MODEL_INPUTS) {
            if (first) {                 /* the header line */
                first = 0;
                continue;
            }
            fprintf(stderr, "not a reading: %s", line);
            return 1;
        }
        first = 0;
        if (!model_push(&st, x, probs)) {  /* window not full yet: empty fields */
            for (k = 1; k < MODEL_OUTPUTS * 2 + MODEL_MULTICLASS * (2 - MODEL_OUTPUTS); k++)
                putchar(',');
            putchar('\n');
            continue;
        }
        k = (unsigned)model_decide(probs, on);
        if (MODEL_MULTICLASS)
            printf("%s,%.6f", model_output_name(k), probs[k]);
        else
            for (k = 0; k < MODEL_OUTPUTS; k++) printf("%s%d", k ? "," : "", on[k]);
        for (k = 0; k < MODEL_OUTPUTS; k++) printf(",%.6f", probs[k]);
        putchar('\n');
    }
    return 0;
}
