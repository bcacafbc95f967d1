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
#include "outfile.h"

static const char cmd[] = "predict";

/* Rows read and predicted per chunk; output bytes buffered before a write. */
#define CHUNK 65536
#define OUT_BUF ((size_t)1 << 20)

static void predict_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lstmsrc predict MODEL DATA.csv [--proba] [--raw] [-o OUT.csv] [--threads N]\n"
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
}

struct sink {
    FILE *fp;
    char *buf;
    size_t used;
    int failed;     /* errno of the first failed write, or -1 */
};

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

/* Writes every line the prediction queue has ready. */
static void sink_drain(struct sink *s, struct pred_out *po)
{
    size_t n;
    while ((n = pred_out_next(po, sink_room(s, po->row_max))) > 0) s->used += n;
}

int cmd_predict(int argc, char **argv)
{
    const char *model_path = NULL, *data_path = NULL, *out_path = "-";
    int proba = 0, threads = 0, raw = 0;
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
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage(cmd, "unknown option \"%s\"", argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else if (!data_path) {
            data_path = argv[i];
        } else {
            return cli_usage(cmd, "unexpected argument \"%s\"", argv[i]);
        }
    }
    if (!data_path) return cli_usage(cmd, "needs MODEL and DATA.csv");
    /* the output is tried before the model and the data are read */
    int prc = cli_probe(cmd, "-o", out_path);
    if (prc) return prc;

    int rc = 1;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_rows *rows = NULL;
    struct lstmsrc_columns cols;
    struct lstmsrc_model_info info;
    struct pred_out po = {0};
    struct sink sk = {NULL, NULL, 0, 0};
    float *x = NULL, *probs = NULL;
    struct outfile of;
    int opened = 0; /* of holds a temporary to remove on failure */

    enum lstmsrc_status st = lstmsrc_model_load(model_path, &m, &err);
    if (!st && raw) st = lstmsrc_model_set_durations(m, NULL, NULL, &err);
    if (!st) {
        lstmsrc_model_columns(m, 1, &cols);
        st = lstmsrc_rows_open(data_path, &cols, &rows, &err);
    }
    if (st) {
        rc = cli_fail(cmd, &err);
        goto cleanup;
    }
    lstmsrc_model_get_info(m, &info);
    const size_t F = (size_t)info.inputs, K = (size_t)info.outputs;
    const size_t keep = (size_t)info.seq_len - 1;   /* rows carried into the next chunk */
    const size_t lead = keep - (size_t)info.label_offset; /* empty rows before the first window */
    float prev[LSTMSRC_MAX_INPUTS];                  /* the row before x[0], once there is one */
    int has_prev = 0;
    size_t emitted = 0;                              /* output rows written */
    x = malloc((keep + CHUNK) * F * sizeof *x);
    probs = malloc((size_t)CHUNK * K * sizeof *probs);
    sk.buf = malloc(OUT_BUF);
    if (!x || !probs || !sk.buf || !pred_out_init(&po, m, proba)) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        goto cleanup;
    }
    if ((st = outfile_open(&of, out_path, &err))) {
        rc = cli_fail(cmd, &err);
        goto cleanup;
    }
    opened = 1;
    sk.fp = of.fp;

    sink_put(&sk, po.header, po.header_len);
    size_t have = 0, total = 0;   /* rows in x (carried + new); rows read so far */
    for (;;) {
        size_t n;
        if ((st = lstmsrc_rows_read(rows, x + have * F, CHUNK, &n, &err))) {
            rc = cli_fail(cmd, &err);
            goto cleanup;
        }
        if (n == 0) break;
        size_t carried = have;
        have += n;
        total += n;
        /* rows [carried, have) are new; row i ends a full window iff i >= keep */
        size_t first_full = carried > keep ? carried : keep;
        if (have > keep) {
            size_t w0 = first_full - keep, nw = have - keep - w0;
            /* the windows ending at rows [first_full, have): start rows [w0, w0 + nw) */
            const float *before = w0 ? x + (w0 - 1) * F : has_prev ? prev : NULL;
            if ((st = lstmsrc_predict_rows_after(m, before, x + w0 * F, nw + keep, probs, nw,
                                                 threads, &err))) {
                rc = cli_fail(cmd, &err);
                goto cleanup;
            }
            for (; emitted < lead; emitted++) sink_put(&sk, po.empty, po.empty_len);
            emitted += nw;
            for (size_t w = 0; w < nw; w++) {
                pred_out_push(&po, probs + w * K);
                sink_drain(&sk, &po);
            }
        }
        /* carry the last `keep` rows (fewer at the start of a short file) */
        size_t c = have < keep ? have : keep;
        if (have > c) {
            memcpy(prev, x + (have - c - 1) * F, F * sizeof *x);
            has_prev = 1;
        }
        memmove(x, x + (have - c) * F, c * F * sizeof *x);
        have = c;
        if (sk.failed) break;
    }
    pred_out_finish(&po);
    sink_drain(&sk, &po);
    if (total == 0 && !sk.failed) {
        fprintf(stderr, "lstmsrc: %s: %s: no data rows\n", cmd, data_path);
        goto cleanup;
    }
    /* the rows after the last labelled row, or every row of a file shorter than a window */
    for (; emitted < total; emitted++) sink_put(&sk, po.empty, po.empty_len);
    sink_flush(&sk);
    opened = 0;
    if ((st = outfile_commit(&of, sk.failed, &err))) {
        rc = cli_fail(cmd, &err);
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (opened) outfile_abort(&of);
    pred_out_free(&po);
    free(sk.buf);
    free(x);
    free(probs);
    lstmsrc_rows_close(rows);
    lstmsrc_model_free(m);
    return rc;
}
