/*
 * stream_library.c — the lstmsrc library in a few lines: load a model, push readings from
 * stdin through a stream one at a time, pass the decisions through the model's minimum on/off
 * durations filter, print each row as soon as its decision is settled.
 *
 *   make && cc -Iinclude examples/stream_library.c build/liblstmsrc.a -lm -lpthread -lz
 *   printf 'reading\n2832.26\n2833.10\n...' | ./a.out model.lsm
 *
 * Input: one line per row, the model's inputs as its first comma-separated fields (labels
 * after them are ignored; a first line that is not a number, like a CSV header, is skipped).
 * Output: one line per row, in order: the 0/1 decision of every output (multi-class: 1 for the
 * most probable class), then every probability; empty fields for a row without a full window.
 * For a multi-label model these are the lines of `lstmsrc predict --proba` (without the header).
 * A push answers for the row pushed label_offset pushes ago (0 for a model labelled at the
 * window's last row, seq_len / 2 for one labelled at its centre), so the first
 * seq_len - 1 - label_offset rows and the last label_offset rows have no window: empty lines.
 * A row's line comes out once the filter has settled its decision: up to label_offset + the
 * model's decision_delay rows later, so its probabilities wait in a small ring until then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lstmsrc.h"

static void put_row(const uint8_t *on, const float *probs, int outputs)
{
    for (int k = 0; k < outputs; k++)
        printf("%s%d", k ? "," : "", on[k]);
    for (int k = 0; k < outputs; k++)
        printf(",%.6f", probs[k]);
    putchar('\n');
    fflush(stdout);
}

static void put_empty(int outputs)
{
    for (int k = 1; k < 2 * outputs; k++)
        putchar(',');
    putchar('\n');
    fflush(stdout);
}

int main(int argc, char **argv)
{
    struct lstmsrc_error err;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_stream *s = NULL;
    struct lstmsrc_filter *f = NULL;
    struct lstmsrc_model_info info;
    if (argc != 2) {
        fprintf(stderr, "usage: %s MODEL < readings\n", argv[0]);
        return 2;
    }
    if (lstmsrc_model_load(argv[1], &m, &err) || lstmsrc_stream_create(m, &s, &err) ||
        lstmsrc_filter_create(m, &f, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        lstmsrc_stream_free(s);
        lstmsrc_model_free(m);
        return 1;
    }
    lstmsrc_model_get_info(m, &info);
    /* probabilities of the rows the filter holds: at most decision_delay + 1 */
    size_t cap = (size_t)info.decision_delay + 1, head = 0, held = 0;
    float *ring = malloc(cap * (size_t)info.outputs * sizeof *ring);
    if (!ring) {
        lstmsrc_filter_free(f);
        lstmsrc_stream_free(s);
        lstmsrc_model_free(m);
        return 1;
    }

    float row[LSTMSRC_MAX_INPUTS], probs[LSTMSRC_MAX_CLASSES];
    uint8_t on[LSTMSRC_MAX_CLASSES];
    char line[4096];
    long n = 0, rows = 0; /* lines read, rows pushed */
    int rc = 0;
    while (fgets(line, sizeof line, stdin)) {
        n++;
        char *p = line;
        int i;
        for (i = 0; i < info.inputs; i++) { /* the first fields are the inputs */
            size_t len = strcspn(p, ",\r\n");
            if (!lstmsrc_parse_number(p, len, &row[i])) break;
            p += len + (p[len] == ',');
        }
        if (i < info.inputs) {
            if (n == 1) continue; /* a header line */
            fprintf(stderr, "line %ld: not a row of %d numbers\n", n, info.inputs);
            rc = 1;
            break;
        }
        int ready;
        if (lstmsrc_stream_push(s, row, probs, &ready, &err)) {
            fprintf(stderr, "line %ld: %s\n", n, err.msg);
            rc = 1;
            break;
        }
        rows++;       /* this push answers row rows - 1 - label_offset, if that is >= 0 */
        if (!ready) { /* the first seq_len - 1 pushes */
            if (rows > info.label_offset) put_empty(info.outputs); /* that row has no window */
            continue;
        }
        lstmsrc_decide(m, probs, 1, on);
        memcpy(ring + (head + held) % cap * (size_t)info.outputs, probs,
               (size_t)info.outputs * sizeof *probs);
        held++;
        lstmsrc_filter_push(f, on, &err);   /* room: settled rows popped below */
        while (lstmsrc_filter_pop(f, on)) { /* each line as soon as it is settled */
            put_row(on, ring + head * (size_t)info.outputs, info.outputs);
            head = (head + 1) % cap;
            held--;
        }
    }
    lstmsrc_filter_flush(f); /* the end: every row settles */
    while (lstmsrc_filter_pop(f, on)) {
        put_row(on, ring + head * (size_t)info.outputs, info.outputs);
        head = (head + 1) % cap;
    }
    for (long i = 0; i < rows && i < info.label_offset; i++) /* the last rows: no window */
        put_empty(info.outputs);
    free(ring);
    lstmsrc_filter_free(f);
    lstmsrc_stream_free(s);
    lstmsrc_model_free(m);
    return rc;
}
