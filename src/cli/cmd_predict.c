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
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/outfile.h"
#include "cli.h"

static const char cmd[] = "predict";

/* Rows read and predicted per chunk; output bytes buffered before a write. */
#define CHUNK 65536
#define OUT_BUF ((size_t)1 << 20)

static void predict_usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: lstmsrc predict MODEL DATA.csv [--proba] [--raw] [-o OUT.csv] [--threads N]\n"
        "       lstmsrc predict MODEL A.csv B.csv ... -o DIR  (one output per file, DIR/A.csv "
        "...)\n"
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
        "  -o FILE         output file (also --output FILE), written to a temporary name\n"
        "                  and renamed\n"
        "                  (default \"-\" = stdout)\n"
        "  --threads N     (default 0 = all cores; the output is the same for any N)\n"
        "  --precision P   fp32 (default), bf16 (products in bf16, sums in fp32; needs\n"
        "                  AVX-512 BF16) or auto (bf16 where the quality gate held; today\n"
        "                  fp32)\n"
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
    int failed; /* errno of the first failed write, or -1 */
    /* with a time column: each input row's time, in order, until its line is written */
    int time_kind; /* 0 none, 1 ISO 8601, 2 Unix seconds */
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
    size_t F, K, keep, lead; /* inputs, outputs, seq_len - 1, empty rows before a window */
    int threads;
    float *x;                   /* (keep + CHUNK, F) */
    float *probs;               /* (CHUNK, K) */
    size_t have, rows, emitted; /* rows in x; rows of the segment so far; lines written */
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
        enum lstmsrc_status st = lstmsrc_predict_rows_after(
            se->m, before, se->x + w0 * F, nw + keep, se->probs, nw, se->threads, err);
        if (st) return st;
        for (; se->emitted < se->lead; se->emitted++)
            sink_line(sk, po->empty, po->empty_len);
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
    for (; se->emitted < se->rows; se->emitted++)
        sink_line(sk, po->empty, po->empty_len);
    se->have = se->rows = se->emitted = 0;
    se->has_prev = 0;
}

/* ============================== parse ============================== */

/* What the command line says. */
struct predict_opts {
    struct lstmsrc_columns user; /* reading flags over the model's own */
    const char *out;             /* -o: a file, "-" (stdout), or a directory for several */
    int proba, raw, threads, precision;
};

/* -o FILE: "" is taken here and refused by cli_probe ("-o needs a file name") */
static int opt_output(const char *cmd_, const char *flag, const char *v, void *p)
{
    (void)flag;
    if (!v) {
        cli_usage(cmd_, "-o needs a file name");
        return 0;
    }
    ((struct predict_opts *)p)->out = v;
    return 1;
}

#define OFF(f) offsetof(struct predict_opts, f)
#define SWITCH(name, f)                                                                            \
    {                                                                                              \
        name, NULL, CLI_SWITCH, OFF(f), 0, 0, 1, NULL, NULL, NULL, 0, 0                            \
    }
const struct cli_opt cli_opts_predict[] = {
    SWITCH("--proba", proba),
    SWITCH("--raw", raw),
    {"-o", "--output", CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, opt_output, 1, 0},
    {"--threads", NULL, CLI_INT, OFF(threads), 0, 256, 0, NULL, NULL, NULL, 0, 0},
    {"--precision", NULL, CLI_CHOICE, OFF(precision), 0, 0, 0, CLI_PRECISION_CHOICES, NULL, NULL, 0,
     0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o; a->pos: MODEL, then the data files. Returns 0 or the exit code (CLI_HELP:
 * the help was printed). */
static int predict_parse(int argc, char **argv, struct predict_opts *o, struct cli_args *a)
{
    memset(o, 0, sizeof *o);
    o->out = "-";
    int rc = cli_parse(cmd, cli_opts_predict, argc, argv, o, &o->user, a);
    if (rc == CLI_HELP) predict_usage(stdout);
    if (rc) return rc;
    if (a->n_pos < 2) return cli_usage(cmd, "needs MODEL and DATA.csv");
    return cli_precision_refused(cmd, o->precision);
}

/* ============================== run ============================== */

/* One file's prediction: everything it holds, freed by job_free. */
struct job {
    struct lstmsrc_error err;
    struct lstmsrc_model *m;
    struct lstmsrc_rows *rows;
    struct pred_out po;
    struct sink sk;
    struct series se;
    float *x;      /* (CHUNK, F) the rows read */
    uint8_t *mark; /* (CHUNK) each row's LSTMSRC_ROW_* */
    double *times; /* (CHUNK) with a time column: each row's time */
    struct outfile of;
    int opened;   /* of holds a temporary to remove on failure */
    size_t total; /* rows read so far */
};

static void job_free(struct job *j)
{
    if (j->opened) outfile_abort(&j->of);
    pred_out_free(&j->po);
    free(j->sk.buf);
    free(j->x);
    free(j->mark);
    free(j->times);
    free(j->sk.tq);
    free(j->se.x);
    free(j->se.probs);
    lstmsrc_rows_close(j->rows);
    lstmsrc_model_free(j->m);
}

static int out_of_memory(void)
{
    fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
    return 1;
}

/* The model (without its durations for --raw) and the data's reader over its columns. Returns 0
 * or the exit code. */
static int job_open(struct job *j, const struct predict_opts *o, const char *model_path,
                    const char *data_path)
{
    struct lstmsrc_columns cols;
    enum lstmsrc_status st = lstmsrc_model_load(model_path, &j->m, &j->err);
    if (!st && o->raw) st = lstmsrc_model_set_durations(j->m, NULL, NULL, &j->err);
    if (!st) st = lstmsrc_model_set_precision(j->m, (enum lstmsrc_precision)o->precision, &j->err);
    if (!st) {
        lstmsrc_model_columns(j->m, 1, &cols);
        cli_ingest_apply(&o->user, &cols);
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(j->m, &info);
        if (info.scaler == LSTMSRC_SCALER_PER_FILE) {
            /* a per-file model: this file's own statistics first, from a first pass */
            struct lstmsrc_dataset *ds = NULL;
            st = lstmsrc_dataset_load(data_path, &cols, &ds, &j->err);
            if (!st) st = lstmsrc_model_scaler_fit(j->m, ds, &j->err);
            lstmsrc_dataset_free(ds);
        }
        if (!st) st = lstmsrc_rows_open(data_path, &cols, &j->rows, &j->err);
    }
    return st ? cli_fail(cmd, &j->err) : 0;
}

/* The segment's shape from the model, and every buffer. Returns 0 or the exit code. */
static int job_alloc(struct job *j, const struct predict_opts *o)
{
    struct lstmsrc_model_info info;
    struct series *se = &j->se;
    lstmsrc_model_get_info(j->m, &info);
    se->m = j->m;
    se->F = (size_t)info.inputs;
    se->K = (size_t)info.outputs;
    se->keep = (size_t)info.seq_len - 1;
    se->lead = se->keep - (size_t)info.label_offset;
    se->threads = o->threads;
    se->x = malloc((se->keep + CHUNK) * se->F * sizeof *se->x);
    se->probs = malloc((size_t)CHUNK * se->K * sizeof *se->probs);
    j->x = malloc((size_t)CHUNK * se->F * sizeof *j->x);
    j->mark = malloc(CHUNK);
    j->sk.buf = malloc(OUT_BUF);
    if (!se->x || !se->probs || !j->x || !j->mark || !j->sk.buf ||
        !pred_out_init(&j->po, j->m, o->proba))
        return out_of_memory();
    return 0;
}

/* Opens the output and writes the header (the time column leads, as in the input). Returns 0
 * or the exit code. */
static int job_begin(struct job *j, const char *out_path)
{
    if (outfile_open(&j->of, out_path, &j->err)) return cli_fail(cmd, &j->err);
    j->opened = 1;
    j->sk.fp = j->of.fp;
    const char *tname = lstmsrc_rows_time(j->rows, &j->sk.time_kind, NULL, NULL);
    if (tname) {
        char q[2 * LSTMSRC_MAX_NAME + 4];
        sink_put(&j->sk, q, pred_out_name(tname, q));
        j->times = malloc((size_t)CHUNK * sizeof *j->times);
        if (!j->times) return out_of_memory();
    }
    sink_put(&j->sk, j->po.header, j->po.header_len);
    return 0;
}

/* Predicts the n rows read: runs of rows of one segment; a missing row ends the segment and
 * gets the empty line. Returns 0 or the exit code. */
static int job_chunk(struct job *j, size_t n)
{
    struct series *se = &j->se;
    const uint8_t *mark = j->mark;
    for (size_t i = 0, e; i < n; i = e) {
        if (mark[i] == LSTMSRC_ROW_MISSING) {
            if (se->rows) series_end(se, &j->po, &j->sk);
            sink_line(&j->sk, j->po.empty, j->po.empty_len);
            e = i + 1;
            continue;
        }
        if (mark[i] == LSTMSRC_ROW_BREAK && se->rows) series_end(se, &j->po, &j->sk);
        for (e = i + 1; e < n && mark[e] == LSTMSRC_ROW_OK; e++)
            continue;
        if (series_add(se, &j->po, &j->sk, j->x + i * se->F, e - i, &j->err))
            return cli_fail(cmd, &j->err);
    }
    return 0;
}

/* Reads and predicts the file chunk by chunk until its end or a failed write. Returns 0 or the
 * exit code. */
static int job_read(struct job *j)
{
    for (;;) {
        size_t n;
        if (lstmsrc_rows_read_timed(j->rows, j->x, j->times, j->mark, CHUNK, &n, &j->err))
            return cli_fail(cmd, &j->err);
        if (n == 0) break;
        j->total += n;
        for (size_t i = 0; j->times && i < n; i++)
            sink_time(&j->sk, j->times[i]);
        if (j->sk.oom) return out_of_memory();
        int rc = job_chunk(j, n);
        if (rc) return rc;
        if (j->sk.failed) break;
    }
    series_end(&j->se, &j->po, &j->sk);
    return 0;
}

/* Puts the output in place. Returns 0 or the exit code. */
static int job_commit(struct job *j, const char *data_path)
{
    if (j->total == 0 && !j->sk.failed) {
        fprintf(stderr, "lstmsrc: %s: %s: no data rows\n", cmd, data_path);
        return 1;
    }
    sink_flush(&j->sk);
    j->opened = 0;
    if (outfile_commit(&j->of, j->sk.failed, &j->err)) return cli_fail(cmd, &j->err);
    return 0;
}

/* ============================== report ============================== */

/* One line on stderr when the file had missing rows or gaps. */
static void job_report(const struct job *j, const char *data_path)
{
    size_t cells, mrows, invalid, segs;
    lstmsrc_rows_missing(j->rows, &cells, &mrows, &invalid, &segs);
    const size_t filled = lstmsrc_rows_filled(j->rows);
    if (!mrows && segs <= 1) return;
    char tail[96] = "their lines are empty";
    if (filled)
        snprintf(tail, sizeof tail, "%zu bridged by --fill%s", filled,
                 filled < mrows ? ", the others' lines empty" : "");
    fprintf(stderr,
            "lstmsrc: %s: %s: %zu of %zu rows missing (%zu missing cell%s, %zu "
            "invalid reading%s), %zu segment%s; %s\n",
            cmd, data_path, mrows, j->total, cells, cells == 1 ? "" : "s", invalid,
            invalid == 1 ? "" : "s", segs, segs == 1 ? "" : "s", tail);
}

/* Predicts one file into out_path ("-": stdout); returns the exit code. */
static int predict_file(const struct predict_opts *o, const char *model_path, const char *data_path,
                        const char *out_path)
{
    struct job j;
    memset(&j, 0, sizeof j);
    int rc = job_open(&j, o, model_path, data_path);
    if (!rc) rc = job_alloc(&j, o);
    if (!rc) rc = job_begin(&j, out_path);
    if (!rc) rc = job_read(&j);
    if (!rc) rc = job_commit(&j, data_path);
    if (!rc) job_report(&j, data_path);
    job_free(&j);
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

/* Under mpirun the files are dealt out over the ranks, file i to rank i mod N, each predicted
 * whole by its rank (the same output as one process). */
static int mine(int i)
{
    return i % cli_mpi_size() == cli_mpi_rank();
}

/* Names every output of several files, in the directory `dir`, and tries each of this rank's
 * before the first file is read. Returns 0 or the exit code. */
static int name_outputs(const char *dir, const char *const *data, int n_data, char (*outs)[4096])
{
    int rc = 0;
    for (int i = 0; i < n_data && !rc; i++) {
        struct stat a, b;
        if (!output_in_dir(dir, data[i], outs[i], sizeof outs[i])) {
            fprintf(stderr, "lstmsrc: %s: %s: output path too long\n", cmd, data[i]);
            rc = 1;
        } else if (stat(data[i], &a) == 0 && stat(outs[i], &b) == 0 && a.st_dev == b.st_dev &&
                   a.st_ino == b.st_ino) {
            rc = cli_usage(cmd, "%s would be written over its own input; -o another directory",
                           outs[i]);
        } else {
            for (int k = 0; k < i && !rc; k++)
                if (!strcmp(outs[i], outs[k]))
                    rc = cli_usage(cmd, "%s and %s would both write %s", data[k], data[i], outs[i]);
            if (!rc && mine(i)) rc = cli_probe(cmd, "-o", outs[i]);
        }
    }
    return rc;
}

/* Several files: one output each, named after it, in the directory -o names. Returns the exit
 * code. */
static int predict_files(const struct predict_opts *o, const char *model_path,
                         const char *const *data, int n_data)
{
    struct stat st;
    if (!strcmp(o->out, "-") || stat(o->out, &st) != 0 || !S_ISDIR(st.st_mode))
        return cli_usage(cmd,
                         "%d data files need -o DIR (an existing directory), one output "
                         "per file",
                         n_data);
    char(*outs)[4096] = malloc((size_t)n_data * sizeof *outs);
    if (!outs) return out_of_memory();
    int rc = name_outputs(o->out, data, n_data, outs);
    for (int i = 0; i < n_data && !rc; i++) {
        if (!mine(i)) continue;
        rc = predict_file(o, model_path, data[i], outs[i]);
        if (!rc) fprintf(stderr, "lstmsrc: %s: %s -> %s\n", cmd, data[i], outs[i]);
    }
    free(outs);
    return rc;
}

/* One file: the output is tried before the model and the data are read. Returns the exit
 * code. */
static int predict_one(const struct predict_opts *o, const char *model_path, const char *data)
{
    int rc = cli_probe(cmd, "-o", o->out);
    return rc ? rc : predict_file(o, model_path, data, o->out);
}

int cmd_predict(int argc, char **argv)
{
    struct predict_opts o;
    struct cli_args a;
    int rc = predict_parse(argc, argv, &o, &a);
    if (rc == CLI_HELP)
        rc = 0;
    else if (rc == 0 && a.n_pos == 2) /* one file: rank 0's under mpirun */
        rc = cli_mpi_rank() == 0 ? predict_one(&o, a.pos[0], a.pos[1]) : 0;
    else if (rc == 0)
        rc = predict_files(&o, a.pos[0], a.pos + 1, a.n_pos - 1);
    cli_args_free(&a);
    return rc;
}
