/*
 * pred_out.c — the output lines shared by `lstmsrc predict` and `lstmsrc stream`, so both print
 * the same bytes for the same window: a CSV header, one row per input row, and the empty-fields
 * row for input rows without a prediction. Rows are formatted by hand into a caller buffer
 * (no printf per number): decisions "0"/"1", probabilities with 6 decimals ("0.031250").
 * Multi-label decisions pass through the model's minimum on/off durations filter; rows wait in a
 * queue of (decision delay + 1) rows until their decision is settled, with the empty lines that
 * came after them, so lines leave in input order.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "data/timecol.h"

/* Bytes of one probability: "0.123456", or "nan" and the like through snprintf. */
#define PROB_MAX 16

static int needs_quotes(const char *s)
{
    if (!*s) return 1;
    if (s[0] == ' ' || s[0] == '\t' || s[strlen(s) - 1] == ' ' || s[strlen(s) - 1] == '\t')
        return 1;
    return strpbrk(s, ",\"\r\n;") != NULL;
}

/* A CSV field: as is, or in quotes with inner quotes doubled. Caller frees. */
static char *csv_quote(const char *s)
{
    if (!s) s = "";
    size_t n = strlen(s), q = 0;
    if (!needs_quotes(s)) {
        char *d = malloc(n + 1);
        if (d) memcpy(d, s, n + 1);
        return d;
    }
    for (size_t i = 0; i < n; i++)
        q += s[i] == '"';
    char *d = malloc(n + q + 3), *w = d;
    if (!d) return NULL;
    *w++ = '"';
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"') *w++ = '"';
        *w++ = s[i];
    }
    *w++ = '"';
    *w = '\0';
    return d;
}

void pred_out_free(struct pred_out *o)
{
    if (!o) return;
    if (o->qnames)
        for (int k = 0; k < o->k; k++)
            free(o->qnames[k]);
    free(o->qnames);
    free(o->header);
    free(o->empty);
    free(o->on);
    lstmsrc_filter_free(o->filter);
    free(o->pend_probs);
    free(o->pend_empty);
    o->qnames = NULL;
    o->header = o->empty = NULL;
    o->on = NULL;
    o->filter = NULL;
    o->pend_probs = NULL;
    o->pend_empty = NULL;
}

int pred_out_init(struct pred_out *o, const struct lstmsrc_model *m, int proba)
{
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(m, &info);
    memset(o, 0, sizeof *o);
    o->m = m;
    o->k = info.outputs;
    o->multiclass = info.task == LSTMSRC_TASK_MULTICLASS;
    o->proba = proba;
    o->qnames = calloc((size_t)o->k, sizeof *o->qnames);
    o->on = malloc((size_t)o->k);
    if (!o->qnames || !o->on || lstmsrc_filter_create(m, &o->filter, NULL)) goto nomem;
    o->cap = (size_t)lstmsrc_filter_delay(o->filter) + 1;
    o->pend_probs = malloc(o->cap * (size_t)o->k * sizeof *o->pend_probs);
    o->pend_empty = calloc(o->cap, sizeof *o->pend_empty);
    if (!o->pend_probs || !o->pend_empty) goto nomem;
    size_t names = 0, longest = 0;
    for (int k = 0; k < o->k; k++) {
        if (!(o->qnames[k] = csv_quote(info.output_names[k]))) goto nomem;
        size_t l = strlen(o->qnames[k]);
        names += l + 1;
        if (l > longest) longest = l;
    }
    /* header: names (multi-label) or "class,prob", then NAME_prob per output with --proba;
     * "_prob" goes inside the quotes of a quoted name */
    size_t hcap = 32 + names + (proba ? names + 8 * (size_t)o->k : 0);
    if (!(o->header = malloc(hcap))) goto nomem;
    char *w = o->header;
    if (o->multiclass) {
        w += sprintf(w, "class,prob");
    } else {
        for (int k = 0; k < o->k; k++)
            w += sprintf(w, "%s%s", k ? "," : "", o->qnames[k]);
    }
    if (proba) {
        for (int k = 0; k < o->k; k++) {
            const char *q = o->qnames[k];
            size_t l = strlen(q);
            *w++ = ',';
            if (q[0] == '"') {
                memcpy(w, q, l - 1);
                w += l - 1;
                w += sprintf(w, "_prob\"");
            } else {
                memcpy(w, q, l);
                w += l;
                w += sprintf(w, "_prob");
            }
        }
    }
    *w++ = '\n';
    o->header_len = (size_t)(w - o->header);

    /* empty row: as many fields as the header, all empty; a lone empty field is written ""
     * since a blank line is skipped (or refused) by CSV readers and would shift the rows */
    int fields = (o->multiclass ? 2 : o->k) + (proba ? o->k : 0);
    if (!(o->empty = malloc((size_t)fields + 3))) goto nomem;
    if (fields == 1) {
        memcpy(o->empty, "\"\"\n", 3);
        o->empty_len = 3;
    } else {
        memset(o->empty, ',', (size_t)fields - 1);
        o->empty[fields - 1] = '\n';
        o->empty_len = (size_t)fields;
    }

    o->row_max = (o->multiclass ? longest + 1 + PROB_MAX + 1 : 2 * (size_t)o->k) +
                 (proba ? (size_t)o->k * (PROB_MAX + 1) : 0) + 2;
    if (o->row_max < o->empty_len) o->row_max = o->empty_len;
    if (o->row_max < o->header_len) o->row_max = o->header_len;
    return 1;
nomem:
    pred_out_free(o);
    return 0;
}

/* A probability with 6 decimals, rounded half up; p * 1e6 is exact in double. */
static char *put_prob(char *d, float p)
{
    if (!(p >= 0.0f && p <= 1.0f)) return d + snprintf(d, PROB_MAX, "%.6f", (double)p);
    unsigned long v = (unsigned long)((double)p * 1e6 + 0.5);
    d[0] = v >= 1000000ul ? '1' : '0';
    if (v >= 1000000ul) v = 0;
    d[1] = '.';
    for (int i = 7; i >= 2; i--) {
        d[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return d + 8;
}

/* The line for probabilities `probs` with decisions o->on. */
static size_t format_row(struct pred_out *o, const float *probs, char *dst)
{
    char *w = dst;
    const int K = o->k;
    if (o->multiclass) {
        int c = 0;
        while (c < K - 1 && !o->on[c])
            c++;
        size_t l = strlen(o->qnames[c]);
        memcpy(w, o->qnames[c], l);
        w += l;
        *w++ = ',';
        w = put_prob(w, probs[c]);
    } else {
        for (int k = 0; k < K; k++) {
            *w++ = o->on[k] ? '1' : '0';
            *w++ = ',';
        }
        w--;
    }
    if (o->proba)
        for (int k = 0; k < K; k++) {
            *w++ = ',';
            w = put_prob(w, probs[k]);
        }
    *w++ = '\n';
    return (size_t)(w - dst);
}

size_t pred_out_row(struct pred_out *o, const float *probs, char *dst)
{
    lstmsrc_decide(o->m, probs, 1, o->on);
    return format_row(o, probs, dst);
}

void pred_out_push(struct pred_out *o, const float *probs)
{
    /* the filter settles at least one row per push once it holds cap rows, and every caller
     * takes the ready lines after each push: there is always room */
    if (o->n == o->cap) abort();
    size_t slot = (o->head + o->n) % o->cap;
    memcpy(o->pend_probs + slot * (size_t)o->k, probs, (size_t)o->k * sizeof *probs);
    o->pend_empty[slot] = 0;
    o->n++;
    lstmsrc_decide(o->m, probs, 1, o->on);
    if (lstmsrc_filter_push(o->filter, o->on, NULL)) abort();
}

void pred_out_empty(struct pred_out *o)
{
    if (o->n == 0)
        o->owed++;
    else
        o->pend_empty[(o->head + o->n - 1) % o->cap]++;
}

void pred_out_finish(struct pred_out *o)
{
    lstmsrc_filter_flush(o->filter);
}

size_t pred_out_next(struct pred_out *o, char *dst)
{
    if (o->owed) {
        o->owed--;
        memcpy(dst, o->empty, o->empty_len);
        return o->empty_len;
    }
    if (o->n == 0 || !lstmsrc_filter_pop(o->filter, o->on)) return 0;
    size_t len = format_row(o, o->pend_probs + o->head * (size_t)o->k, dst);
    o->owed = o->pend_empty[o->head];
    o->head = (o->head + 1) % o->cap;
    o->n--;
    return len;
}

size_t pred_out_time(int kind, double t, char *dst)
{
    size_t len = 0;
    if (!isnan(t)) {
        if (kind == 1)
            time_format(t, 1, dst, PRED_OUT_TIME - 1);
        else
            snprintf(dst, PRED_OUT_TIME - 1, "%.15g", t);
        len = strlen(dst);
    }
    dst[len] = ',';
    return len + 1;
}

size_t pred_out_name(const char *name, char *dst)
{
    size_t n = 0;
    int q = strpbrk(name, ",;\t\"\r\n") != NULL;
    if (q) dst[n++] = '"';
    for (const char *p = name; *p; p++) {
        if (*p == '"') dst[n++] = '"';
        dst[n++] = *p;
    }
    if (q) dst[n++] = '"';
    dst[n++] = ',';
    return n;
}
