/*
 * exported_model.c — a program built from nothing but the header `lstmsrc export-c` writes
 * (default prefix "model"): no lstmsrc library, no malloc. Reads one CSV line per reading from
 * stdin (the first model_INPUTS fields are the inputs; a header line is skipped) and prints one
 * line per reading as `lstmsrc predict --proba` does: the decisions after the model's minimum
 * on/off durations, then the probabilities, every field empty for a row without a full window.
 * model_push answers for the row pushed model_LABEL_OFFSET pushes ago (0 for a model labelled
 * at the window's last row, model_SEQ_LEN / 2 for one labelled at its centre), so the first
 * model_SEQ_LEN - 1 - model_LABEL_OFFSET rows and the last model_LABEL_OFFSET rows get empty
 * lines. A row's line comes out once the filter has settled its decision (at most
 * model_LABEL_OFFSET + model_DELAY rows later), so the probabilities wait in a ring of
 * model_DELAY + 1 rows.
 *
 *   lstmsrc export-c model.lsm -o model.h
 *   cc -std=c99 -O2 -I. examples/exported_model.c -lm -o exported_model
 *   ./exported_model < new.csv
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

static float held_probs[(model_DELAY + 1) * model_OUTPUTS];
static unsigned held_head;

static void put_row(const unsigned char *on)
{
    const float *probs = held_probs + held_head * model_OUTPUTS;
    unsigned k, c = 0;
    if (model_MULTICLASS) {
        while (c + 1 < model_OUTPUTS && !on[c])
            c++;
        printf("%s,%.6f", model_output_name(c), probs[c]);
    } else {
        for (k = 0; k < model_OUTPUTS; k++)
            printf("%s%d", k ? "," : "", on[k]);
    }
    for (k = 0; k < model_OUTPUTS; k++)
        printf(",%.6f", probs[k]);
    putchar('\n');
    held_head = (held_head + 1) % (model_DELAY + 1);
}

static void put_empty(void) /* as many empty fields as put_row writes */
{
    unsigned k;
    for (k = 1; k < model_OUTPUTS * 2 + model_MULTICLASS * (2 - model_OUTPUTS); k++)
        putchar(',');
    putchar('\n');
}

int main(void)
{
    model_state st;   /* model_RAM_BYTES: all the state there is */
    model_filter flt; /* and the minimum durations filter's */
    float x[model_INPUTS], probs[model_OUTPUTS];
    unsigned char on[model_OUTPUTS];
    char line[4096];
    unsigned k, held = 0;
    long rows = 0, i; /* rows pushed */
    int first = 1;

    model_init(&st);
    model_filter_init(&flt);
    if (model_MULTICLASS)
        fputs("class,prob", stdout);
    else
        for (k = 0; k < model_OUTPUTS; k++)
            printf("%s%s", k ? "," : "", model_output_name(k));
    for (k = 0; k < model_OUTPUTS; k++)
        printf(",%s_prob", model_output_name(k));
    putchar('\n');

    while (fgets(line, sizeof line, stdin)) {
        char *p = line, *end;
        for (k = 0; k < model_INPUTS; k++) {
            /* strtod then float, as lstmsrc reads numbers (strtof may round differently) */
            x[k] = (float)strtod(p, &end);
            if (end == p) break;
            p = end + (*end == ',');
        }
        if (k < model_INPUTS) {
            if (first) { /* the header line */
                first = 0;
                continue;
            }
            fprintf(stderr, "not a reading: %s", line);
            return 1;
        }
        first = 0;
        rows++; /* this push answers row rows - 1 - model_LABEL_OFFSET, if >= 0 */
        if (!model_push(&st, x, probs)) { /* window not full yet: that row has no window */
            if (rows > model_LABEL_OFFSET) put_empty();
            continue;
        }
        model_decide(probs, on);
        memcpy(held_probs + (held_head + held) % (model_DELAY + 1) * model_OUTPUTS, probs,
               sizeof probs);
        held++;
        model_filter_push(&flt, on); /* room: the settled rows are popped right after */
        while (model_filter_pop(&flt, on)) {
            put_row(on);
            held--;
        }
    }
    model_filter_flush(&flt); /* end of the readings: every row settles */
    while (model_filter_pop(&flt, on))
        put_row(on);
    for (i = 0; i < rows && i < model_LABEL_OFFSET; i++)
        put_empty(); /* the last rows */
    return 0;
}
