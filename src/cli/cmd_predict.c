/*
 * cmd_predict.c — `lstmsrc predict MODEL DATA.csv [--proba] [-o OUT.csv]`: one output line per
 * input row, in order, in constant memory whatever the file size.
 *
 * The file is read in chunks of CHUNK rows of the model's input columns (matched by name; label
 * columns are not needed). The last seq_len - 1 rows of a chunk are kept in front of the next
 * (and the row before them, for a first-difference channel), so every window is predicted
 * exactly once and lines up with its labelled row: the row it ends at, or for a model labelled
 * at the centre the row label_offset before. Rows without a full window around them (the first
 * seq_len - 1 - label_offset and the last label_offset) get the empty row. Decisions pass
 * through the model's minimum-duration filter (pred_out.c), which holds a row back until it is
 * settled. Lines are formatted into one large buffer and written in big blocks. A file written
 * with -o goes to a temporary name next to it and is renamed into place when complete
 * (outfile.c; a device or FIFO is written in place).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "base/outfile.h"

static const char cmd[] = "predict";

/* Rows read and predicted per chunk; output bytes buffered before a write. */
#define CHUNK 65536
#define OUT_BUF ((size_t)1 << 20)

static void predict_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lstmsrc predict MODEL DATA.csv [--proba] [--raw] [-o OUT.csv] [--threads N]\n"
            "       lstmsrc predict MODEL A.csv B.csv ... -o DIR  (one output per file, DIR/A.csv ...)\n"
            "\n"
            "Predicts every row of DATA.csv (\"-\" = stdin): the window of the model's length that\n"
            "ends at the row. Input columns are matched by the names stored in the model; other\n"
            "columns (labels) are ignored, so new data needs only the input columns. Memory stays\n"
            "the same whatever the file size.\n"
            "\n"
            "Output (CSV, one line per input row, in order, after a header line):\n"
            "  multi-label   one 0/1 column per source, named after it: 1 = ON, i.e. the\n"
            "                probability > the source's threshold tuned in training, then\n"
            "                the source's minimum on/off durations (see lstmsrc inspect) over\n"
            "                the whole file; --raw leaves them out\n"
            "  multi-class   class,prob: the most probable class and its probability\n"
            "  --proba       adds NAME_prob: every output's probability\n"
            "Probabilities have 6 decimals. Rows without a full window have every field empty\n"
            "(\",,\"): the first seq_len-1 rows, or for a model trained with --label-at center\n"
            "the first seq_len-1-seq_len/2 and the last seq_len/2. Line N+1 of the output is\n"
            "row N of the input.\n"
            "\n"
            "options:\n"
            "  --proba         add each output's probability\n"
            "  --raw           decisions without the minimum on/off durations\n"
            "  -o FILE         output file, written to a temporary name and renamed\n"
            "                  (default \"-\" = stdout)\n"
            "  --threads N     (default 0 = all cores; the output is the same for any N)\n"
            "  -h, --help      this text\n"
            "\n"
            "example:\n"
            "  lstmsrc predict model.lsm new.csv --proba -o predictions.csv\n");
    fputs("\n" CLI_INGEST_HELP, fp);
}

struct sink {
    FILE *fp;
    char *buf;
    size_t used;
    int failed;     /* errno of the first failed write, or -1 */
    /* with a time column: each input row's time, in order, until its line is written */
    int time_kind;  /* 0 none, 1 ISO 8601, 2 Unix seconds */
    double *tq;
    size_t tq_head, tq_n, tq_cap;
    int oom;
};

/* Queues the time of the next input row. */
static void sink_time(struct sink *s, double t)
{
    if (s->tq_head + s->tq_n == s->tq_cap) {
        if (s->tq_head) { /* slide the pending times to the front */
            memmove(s->tq, s->tq + s->tq_head, s->tq_n * sizeof *s->tq);
            s->tq_head = 0;
        } else {
            size_t cap = s->tq_cap ? 2 * s->tq_cap : 4096;
            double *q = realloc(s->tq, cap * sizeof *q);
            if (!q) {
                s->oom = 1;
                return;
            }
            s->tq = q;
            s->tq_cap = cap;
        }
    }
    s->tq[s->tq_head + s->tq_n++] = t;
}

/* Writes the next row's time and a comma at dst; returns bytes (0 without a time column). */
static size_t time_field(struct sink *s, char *dst)
{
    if (!s->time_kind) return 0;
    double t = 0.0;
    if (s->tq_n) {
        t = s->tq[s->tq_head++];
        s->tq_n--;
    }
    return pred_out_time(s->time_kind, t, dst);
}

static void sink_flush(struct sink *s)
{
    if (s->used && !s->failed) {
        errno = 0;
        if (fwrite(s->buf, 1, s->used, s->fp) != s->used) s->failed = errno ? errno : -1;
    }
    s->used = 0;
}

/* Room for `need` more bytes. */
static char *sink_room(struct sink *s, size_t need)
{
    if (OUT_BUF - s->used < need) sink_flush(s);
    return s->buf + s->used;
}

static void sink_put(struct sink *s, const char *p, size_t n)
{
    memcpy(sink_room(s, n), p, n);
    s->used += n;
}

/* One input row's line: its time (with a time column) and `p`. */
static void sink_line(struct sink *s, const char *p, size_t n)
{
    char *d = sink_room(s, n + PRED_OUT_TIME);
    size_t tl = time_field(s, d);
    memcpy(d + tl, p, n);
    s->used += tl + n;
}

/* Writes every line the prediction queue has ready, each after its row's time. */
static void sink_drain(struct sink *s, struct pred_out *po)
{
    for (;;) {
        char *d = sink_room(s, po->row_max + PRED_OUT_TIME);
        char tb[PRED_OUT_TIME];
        size_t tl = 0;
        /* the time is taken only for a line that comes */
        size_t n = pred_out_next(po, d + (s->time_kind ? PRED_OUT_TIME : 0));
        if (n == 0) return;
        if (s->time_kind) {
            tl = time_field(s, tb);
            memmove(d + tl, d + PRED_OUT_TIME, n);
            memcpy(d, tb, tl);
        }
        s->used += tl + n;
    }
}

/* The segment being predicted: its last seq_len - 1 rows (more while a chunk is added), the row
 * before them, and how many of its rows have their line out. */
struct series {
    const struct lstmsrc_model *m;
    size_t F, K, keep, lead;       /* inputs, outputs, seq_len - 1, empty rows before a window */
    int threads;
    float *x;                      /* (keep + CHUNK, F) */
    float *probs;                  /* (CHUNK, K) */
    size_t have, rows, emitted;    /* rows in x; rows of the segment so far; lines written */
    float prev[LSTMSRC_MAX_INPUTS];
    int has_prev;
};

/* Adds n consecutive rows of the segment (n <= CHUNK) and writes the lines of every window they
 * complete. */
static enum lstmsrc_status series_add(struct series *se, struct pred_out *po, struct sink *sk,
                                      const float *rows, size_t n, struct lstmsrc_error *err)
{
    const size_t F = se->F, K = se->K, keep = se->keep;
    memcpy(se->x + se->have * F, rows, n * F * sizeof *rows);
    size_t carried = se->have;
    se->have += n;
    se->rows += n;
    /* rows [carried, have) are new; row i ends a full window iff i >= keep */
    size_t first_full = carried > keep ? carried : keep;
    if (se->have > keep) {
        size_t w0 = first_full - keep, nw = se->have - keep - w0;
        /* the windows ending at rows [first_full, have): start rows [w0, w0 + nw) */
        const float *before = w0 ? se->x + (w0 - 1) * F : se->has_prev ? se->prev : NULL;
        enum lstmsrc_status st = lstmsrc_predict_rows_after(se->m, before, se->x + w0 * F,
                                                            nw + keep, se->probs, nw, se->threads,
                                                            err);
        if (st) return st;
        for (; se->emitted < se->lead; se->emitted++) sink_line(sk, po->empty, po->empty_len);
        se->emitted += nw;
        for (size_t w = 0; w < nw; w++) {
            pred_out_push(po, se->probs + w * K);
            sink_drain(sk, po);
        }
    }
    /* carry the last `keep` rows (fewer at the start of a short segment) */
    size_t c = se->have < keep ? se->have : keep;
    if (se->have > c) {
        memcpy(se->prev, se->x + (se->have - c - 1) * F, F * sizeof *se->x);
        se->has_prev = 1;
    }
    memmove(se->x, se->x + (se->have - c) * F, c * F * sizeof *se->x);
    se->have = c;
    return LSTMSRC_OK;
}

/* Ends the segment: its pending decisions settle, and the rows after its last labelled row (or
 * every row of a segment shorter than a window) get the empty line. */
static void series_end(struct series *se, struct pred_out *po, struct sink *sk)
{
    pred_out_finish(po);
    sink_drain(sk, po);
    for (; se->emitted < se->rows; se->emitted++) sink_line(sk, po->empty, po->empty_len);
    se->have = se->rows = se->emitted = 0;
    se->has_prev = 0;
}

/* Predicts one file into out_path ("-": stdout); returns the exit code. */
static int predict_file(const char *model_path, const char *data_path, const char *out_path,
                        int proba, int threads, int raw, const struct lstmsrc_columns *user)
{
    int rc = 1;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_rows *rows = NULL;
    struct lstmsrc_columns cols;
    struct lstmsrc_model_info info;
    struct pred_out po = {0};
    struct sink sk = {0};
    float *x = NULL;
    uint8_t *mark = NULL;
    double *times = NULL;
    struct series se = {0};
    struct outfile of;
    int opened = 0; /* of holds a temporary to remove on failure */

    enum lstmsrc_status st = lstmsrc_model_load(model_path, &m, &err);
    if (!st && raw) st = lstmsrc_model_set_durations(m, NULL, NULL, &err);
    if (!st) {
        lstmsrc_model_columns(m, 1, &cols);
        cli_ingest_apply(user, &cols);
        st = lstmsrc_rows_open(data_path, &cols, &rows, &err);
    }
    if (st) {
        rc = cli_fail(cmd, &err);
        goto cleanup;
    }
    lstmsrc_model_get_info(m, &info);
    se.m = m;
    se.F = (size_t)info.inputs;
    se.K = (size_t)info.outputs;
    se.keep = (size_t)info.seq_len - 1;
    se.lead = se.keep - (size_t)info.label_offset;
    se.threads = threads;
    const size_t F = se.F;
    se.x = malloc((se.keep + CHUNK) * F * sizeof *se.x);
    se.probs = malloc((size_t)CHUNK * se.K * sizeof *se.probs);
    x = malloc((size_t)CHUNK * F * sizeof *x);
    mark = malloc(CHUNK);
    sk.buf = malloc(OUT_BUF);
    if (!se.x || !se.probs || !x || !mark || !sk.buf || !pred_out_init(&po, m, proba)) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        goto cleanup;
    }
    if ((st = outfile_open(&of, out_path, &err))) {
        rc = cli_fail(cmd, &err);
        goto cleanup;
    }
    opened = 1;
    sk.fp = of.fp;

    const char *tname = lstmsrc_rows_time(rows, &sk.time_kind, NULL, NULL);
    if (tname) { /* the time column leads, as in the input */
        char q[2 * LSTMSRC_MAX_NAME + 4];
        sink_put(&sk, q, pred_out_name(tname, q));
        times = malloc((size_t)CHUNK * sizeof *times);
        if (!times) {
            fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
            goto cleanup;
        }
    }
    sink_put(&sk, po.header, po.header_len);
    size_t total = 0; /* rows read so far */
    for (;;) {
        size_t n;
        if ((st = lstmsrc_rows_read_timed(rows, x, times, mark, CHUNK, &n, &err))) {
            rc = cli_fail(cmd, &err);
            goto cleanup;
        }
        if (n == 0) break;
        total += n;
        for (size_t i = 0; times && i < n; i++) sink_time(&sk, times[i]);
        if (sk.oom) {
            fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
            goto cleanup;
        }
        /* runs of rows of one segment; a missing row ends the segment and gets the empty line */
        for (size_t i = 0, j; i < n; i = j) {
            if (mark[i] == LSTMSRC_ROW_MISSING) {
                if (se.rows) series_end(&se, &po, &sk);
                sink_line(&sk, po.empty, po.empty_len);
                j = i + 1;
                continue;
            }
            if (mark[i] == LSTMSRC_ROW_BREAK && se.rows) series_end(&se, &po, &sk);
            for (j = i + 1; j < n && mark[j] == LSTMSRC_ROW_OK; j++) continue;
            if ((st = series_add(&se, &po, &sk, x + i * F, j - i, &err))) {
                rc = cli_fail(cmd, &err);
                goto cleanup;
            }
        }
        if (sk.failed) break;
    }
    series_end(&se, &po, &sk);
    if (total == 0 && !sk.failed) {
        fprintf(stderr, "lstmsrc: %s: %s: no data rows\n", cmd, data_path);
        goto cleanup;
    }
    sink_flush(&sk);
    opened = 0;
    if ((st = outfile_commit(&of, sk.failed, &err))) {
        rc = cli_fail(cmd, &err);
        goto cleanup;
    }
    {
        size_t cells, mrows, invalid, segs;
        lstmsrc_rows_missing(rows, &cells, &mrows, &invalid, &segs);
        const size_t filled = lstmsrc_rows_filled(rows);
        if (mrows || segs > 1) {
            char tail[96] = "their lines are empty";
            if (filled)
                snprintf(tail, sizeof tail, "%zu bridged by --fill%s", filled,
                         filled < mrows ? ", the others' lines empty" : "");
            fprintf(stderr, "lstmsrc: %s: %s: %zu of %zu rows missing (%zu missing cell%s, %zu "
                            "invalid reading%s), %zu segment%s; %s\n",
                    cmd, data_path, mrows, total, cells, cells == 1 ? "" : "s", invalid,
                    invalid == 1 ? "" : "s", segs, segs == 1 ? "" : "s", tail);
        }
    }
    rc = 0;

cleanup:
    if (opened) outfile_abort(&of);
    pred_out_free(&po);
    free(sk.buf);
    free(x);
    free(mark);
    free(times);
    free(sk.tq);
    free(se.x);
    free(se.probs);
    lstmsrc_rows_close(rows);
    lstmsrc_model_free(m);
    return rc;
}

/* DIR/NAME for input `in` (its base name, a ".gz" dropped) into out (cap bytes); 0 when it does
 * not fit. */
static int output_in_dir(const char *dir, const char *in, char *out, size_t cap)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    size_t bl = strlen(base), dl = strlen(dir);
    if (bl > 3 && !strcmp(base + bl - 3, ".gz")) bl -= 3;
    int slash = dl && dir[dl - 1] == '/';
    int n = snprintf(out, cap, "%s%s%.*s", dir, slash ? "" : "/", (int)bl, base);
    return n > 0 && (size_t)n < cap;
}

int cmd_predict(int argc, char **argv)
{
    const char *model_path = NULL, *out_path = "-";
    int proba = 0, threads = 0, raw = 0, bad = 0, n_data = 0;
    struct lstmsrc_columns user = {0}; /* reading flags over the model's own */
    for (int i = 1; i < argc; i++) {
        const char *val;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            predict_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--proba")) {
            proba = 1;
        } else if (!strcmp(argv[i], "--raw")) {
            raw = 1;
        } else if (cli_flag(argv, argc, &i, "-o", &val) ||
                   cli_flag(argv, argc, &i, "--output", &val)) {
            if (!val) return cli_usage(cmd, "-o needs a file name");
            out_path = val;
        } else if (cli_flag(argv, argc, &i, "--threads", &val)) {
            if (!cli_int(cmd, "--threads", val, 0, 256, &threads)) return EXIT_USAGE;
        } else if (cli_ingest_flag(cmd, argv, argc, &i, &user, &bad)) {
            if (bad) return EXIT_USAGE;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage(cmd, "unknown option \"%s\"", argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else {
            argv[1 + n_data++] = argv[i]; /* DATA.csv, or several (never past i) */
        }
    }
    if (!n_data) return cli_usage(cmd, "needs MODEL and DATA.csv");
    if (n_data == 1) {
        /* the output is tried before the model and the data are read */
        int prc = cli_probe(cmd, "-o", out_path);
        if (prc) return prc;
        return predict_file(model_path, argv[1], out_path, proba, threads, raw, &user);
    }

    /* several files: one output each, named after it, in the directory -o names */
    struct stat st;
    if (!strcmp(out_path, "-") || stat(out_path, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_usage(cmd, "%d data files need -o DIR (an existing directory), one output "
                              "per file", n_data);
    char (*outs)[4096] = malloc((size_t)n_data * sizeof *outs);
    if (!outs) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        return 1;
    }
    int rc = 0;
    /* every output is named and tried before the first file is read */
    for (int i = 0; i < n_data && !rc; i++) {
        struct stat a, b;
        if (!output_in_dir(out_path, argv[1 + i], outs[i], sizeof outs[i])) {
            fprintf(stderr, "lstmsrc: %s: %s: output path too long\n", cmd, argv[1 + i]);
            rc = 1;
        } else if (stat(argv[1 + i], &a) == 0 && stat(outs[i], &b) == 0 && a.st_dev == b.st_dev &&
                   a.st_ino == b.st_ino) {
            rc = cli_usage(cmd, "%s would be written over its own input; -o another directory",
                           outs[i]);
        } else {
            for (int j = 0; j < i && !rc; j++)
                if (!strcmp(outs[i], outs[j]))
                    rc = cli_usage(cmd, "%s and %s would both write %s", argv[1 + j],
                                   argv[1 + i], outs[i]);
            if (!rc) rc = cli_probe(cmd, "-o", outs[i]);
        }
    }
    for (int i = 0; i < n_data && !rc; i++) {
        rc = predict_file(model_path, argv[1 + i], outs[i], proba, threads, raw, &user);
        if (!rc) fprintf(stderr, "lstmsrc: %s: %s -> %s\n", cmd, argv[1 + i], outs[i]);
    }
    free(outs);
    return rc;
}
