/*
 * cmd_predict.c — `lstmsrc predict MODEL DATA.csv [--proba] [-o OUT.csv]`: one output line per
 * input row, in order, in constant memory whatever the file size.
 *
 * The file is read in chunks of CHUNK rows of the model's input columns (matched by name; label
 * columns are not needed). The last seq_len - 1 rows of a chunk are kept in front of the next
 * (and the row before them, for a first-difference channel), so every window is predicted
 * exactly once and lines up with its labelled row: the row it ends at, or for a model labelled
 * at the centre the row label_offset before. Rows without a full window around them (the first
 * seq_len - 1 - label_offset and the last label_offset) get the empty row. Lines are formatted
 * into one large buffer and
 * written in big blocks. A file written with -o goes to "OUT.tmp.PID" and is renamed into place
 * when complete (a device or FIFO is written in place).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

static const char cmd[] = "predict";

/* Rows read and predicted per chunk; output bytes buffered before a write. */
#define CHUNK 65536
#define OUT_BUF ((size_t)1 << 20)

static void predict_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lstmsrc predict MODEL DATA.csv [--proba] [-o OUT.csv] [--threads N]\n"
            "\n"
            "Predicts every row of DATA.csv (\"-\" = stdin): the window of the model's length that\n"
            "ends at the row. Input columns are matched by the names stored in the model; other\n"
            "columns (labels) are ignored, so new data needs only the input columns. Memory stays\n"
            "the same whatever the file size.\n"
            "\n"
            "Output (CSV, one line per input row, in order, after a header line):\n"
            "  multi-label   one 0/1 column per source, named after it: 1 = ON, i.e. the\n"
            "                probability > the source's threshold tuned in training\n"
            "  multi-class   class,prob: the most probable class and its probability\n"
            "  --proba       adds NAME_prob: every output's probability\n"
            "Probabilities have 6 decimals. Rows without a full window have every field empty\n"
            "(\",,\"): the first seq_len-1 rows, or for a model trained with --label-at center\n"
            "the first seq_len-1-seq_len/2 and the last seq_len/2. Line N+1 of the output is\n"
            "row N of the input.\n"
            "\n"
            "options:\n"
            "  --proba         add each output's probability\n"
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

int cmd_predict(int argc, char **argv)
{
    const char *model_path = NULL, *data_path = NULL, *out_path = "-";
    int proba = 0, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            predict_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--proba")) {
            proba = 1;
        } else if (cli_flag(argv, argc, &i, "-o", &val) ||
                   cli_flag(argv, argc, &i, "--output", &val)) {
            if (!val || !val[0]) return cli_usage(cmd, "-o needs a file name");
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

    int rc = 1;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_rows *rows = NULL;
    struct lstmsrc_columns cols;
    struct lstmsrc_model_info info;
    struct pred_out po = {0};
    struct sink sk = {NULL, NULL, 0, 0};
    float *x = NULL, *probs = NULL;
    char *tmp = NULL;
    int to_stdout = !strcmp(out_path, "-");

    enum lstmsrc_status st = lstmsrc_model_load(model_path, &m, &err);
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
    struct stat sb;
    if (to_stdout) {
        sk.fp = stdout;
    } else if (stat(out_path, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        /* a device or a FIFO is written in place: renaming over it would replace the node */
        if (!(sk.fp = fopen(out_path, "wb"))) {
            fprintf(stderr, "lstmsrc: %s: %s: cannot open: %s\n", cmd, out_path, strerror(errno));
            goto cleanup;
        }
    } else {
        size_t cap = strlen(out_path) + 32;
        if (!(tmp = malloc(cap))) {
            fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
            goto cleanup;
        }
        snprintf(tmp, cap, "%s.tmp.%ld", out_path, (long)getpid());
        if (!(sk.fp = fopen(tmp, "wb"))) {
            fprintf(stderr, "lstmsrc: %s: %s: cannot create: %s\n", cmd, tmp, strerror(errno));
            free(tmp);
            tmp = NULL;
            goto cleanup;
        }
    }

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
                char *d = sink_room(&sk, po.row_max);
                sk.used += pred_out_row(&po, probs + w * K, d);
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
    if (total == 0 && !sk.failed) {
        fprintf(stderr, "lstmsrc: %s: %s: no data rows\n", cmd, data_path);
        goto cleanup;
    }
    /* the rows after the last labelled row, or every row of a file shorter than a window */
    for (; emitted < total; emitted++) sink_put(&sk, po.empty, po.empty_len);
    sink_flush(&sk);
    if (!sk.failed) {
        errno = 0;
        if (fflush(sk.fp) != 0 || ferror(sk.fp)) sk.failed = errno ? errno : -1;
    }
    if (!to_stdout) {
        errno = 0;
        if (fclose(sk.fp) != 0 && !sk.failed) sk.failed = errno ? errno : -1;
        sk.fp = NULL;
    }
    if (sk.failed) {
        fprintf(stderr, "lstmsrc: %s: cannot write %s: %s\n", cmd,
                to_stdout ? "stdout" : tmp ? tmp : out_path,
                sk.failed > 0 ? strerror(sk.failed) : "write error");
        goto cleanup;
    }
    if (tmp && rename(tmp, out_path) != 0) {
        fprintf(stderr, "lstmsrc: %s: cannot rename %s to %s: %s\n", cmd, tmp, out_path,
                strerror(errno));
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (!to_stdout && sk.fp) fclose(sk.fp);
    if (tmp) {
        if (rc) remove(tmp);
        free(tmp);
    }
    pred_out_free(&po);
    free(sk.buf);
    free(x);
    free(probs);
    lstmsrc_rows_close(rows);
    lstmsrc_model_free(m);
    return rc;
}
