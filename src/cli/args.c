/*
 * args.c — typed flag parsing and error reporting shared by the subcommands.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "base/outfile.h"
#include "cli.h"
#include "data/timecol.h"
#include "svg.h" /* utf8_len */

int cli_fail(const char *cmd, const struct lstmsrc_error *err)
{
    fprintf(stderr, "lstmsrc: %s: %s\n", cmd,
            err->msg[0] ? err->msg : lstmsrc_status_str(err->code));
    return err->code == LSTMSRC_ERR_ARG ? EXIT_USAGE : 1;
}

int cli_probe(const char *cmd, const char *flag, const char *path)
{
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    if (!path || outfile_probe(path, &err) == LSTMSRC_OK) return 0;
    if (err.code == LSTMSRC_ERR_ARG) return cli_usage(cmd, "%s needs a file name", flag);
    return cli_fail(cmd, &err);
}

int cli_precision_refused(const char *cmd, int p)
{
    if (lstmsrc_precision_available((enum lstmsrc_precision)p)) return 0;
    fprintf(stderr,
            "lstmsrc: %s: --precision bf16 needs AVX-512 BF16 (avx512_bf16) and the AVX-512 "
            "kernels, which this CPU (or LSTMSRC_ISA) does not give; use --precision fp32\n",
            cmd);
    return EXIT_USAGE;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lstmsrc: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'lstmsrc %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_flag(char **argv, int argc, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        *val = NULL;
        return 1;
    }
    *val = argv[++*i];
    return 1;
}

/* Callers pass the argument as given; "--seq=x" is still the flag --seq in a message. */
#define FLAG_NAME(flag) (int)strcspn(flag, "="), flag

static int missing(const char *cmd, const char *flag, const char *val)
{
    if (val) return 0;
    cli_usage(cmd, "%.*s needs a value", FLAG_NAME(flag));
    return 1;
}

int cli_need_value(const char *cmd, const char *flag, const char *val)
{
    return !missing(cmd, flag, val);
}

int cli_int(const char *cmd, const char *flag, const char *val, long min, long max, int *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < min || v > max) {
        cli_usage(cmd, "%.*s expects an integer from %ld to %ld, found \"%s\"", FLAG_NAME(flag),
                  min, max, val);
        return 0;
    }
    *out = (int)v;
    return 1;
}

int cli_size(const char *cmd, const char *flag, const char *val, size_t min, size_t max,
             size_t *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || end == val || *end || val[0] == '-' || v < min || v > max) {
        cli_usage(cmd, "%.*s expects an integer from %zu to %zu, found \"%s\"", FLAG_NAME(flag),
                  min, max, val);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

int cli_u64(const char *cmd, const char *flag, const char *val, uint64_t *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || end == val || *end || val[0] == '-') {
        cli_usage(cmd, "%.*s expects a non-negative integer, found \"%s\"", FLAG_NAME(flag), val);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

int cli_float(const char *cmd, const char *flag, const char *val, double min, double max,
              float *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(v) || v < min || v > max) {
        cli_usage(cmd, "%.*s expects a number from %g to %g, found \"%s\"", FLAG_NAME(flag), min,
                  max, val);
        return 0;
    }
    *out = (float)v;
    return 1;
}

void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", fp); /* not UTF-8 (names may hold any bytes): stay valid JSON */
            n = 1;
        } else if (n > 1) {
            fwrite(p, 1, (size_t)n, fp);
        } else {
            switch (*p) {
            case '"':
                fputs("\\\"", fp);
                break;
            case '\\':
                fputs("\\\\", fp);
                break;
            case '\n':
                fputs("\\n", fp);
                break;
            case '\r':
                fputs("\\r", fp);
                break;
            case '\t':
                fputs("\\t", fp);
                break;
            default:
                if (*p < 0x20)
                    fprintf(fp, "\\u%04x", *p);
                else
                    fputc(*p, fp);
            }
        }
        p += n;
    }
    fputc('"', fp);
}

void json_num(FILE *fp, double x)
{
    if (!isfinite(x))
        fputs("null", fp);
    else
        fprintf(fp, "%.6g", x);
}

/* The reading flags (cli_opts_ingest): each a parser over struct lstmsrc_columns. */
static int in_missing(const char *cmd, const char *flag, const char *v, void *p)
{
    ((struct lstmsrc_columns *)p)->missing = v;
    return !missing(cmd, flag, v);
}

static int in_invalid_below(const char *cmd, const char *flag, const char *v, void *p)
{
    struct lstmsrc_columns *cols = p;
    cols->use_invalid_below = 1;
    return cli_float(cmd, flag, v, -3.4e38, 3.4e38, &cols->invalid_below);
}

static int in_time(const char *cmd, const char *flag, const char *v, void *p)
{
    ((struct lstmsrc_columns *)p)->time_column = v;
    return !missing(cmd, flag, v);
}

static int in_no_time(const char *cmd, const char *flag, const char *v, void *p)
{
    (void)cmd, (void)flag, (void)v;
    ((struct lstmsrc_columns *)p)->no_time = 1;
    return 1;
}

/* --period D, --max-gap D */
static int in_duration(const char *cmd, const char *flag, const char *v, void *p)
{
    struct lstmsrc_columns *cols = p;
    double d;
    if (missing(cmd, flag, v)) return 0;
    if (!time_parse_duration(v, &d)) {
        cli_usage(cmd, "%.*s expects a duration like 60, 60s, 5m, 1h, found \"%s\"",
                  FLAG_NAME(flag), v);
        return 0;
    }
    if (flag[2] == 'p')
        cols->period = d;
    else
        cols->max_gap = d;
    return 1;
}

/* --from T, --until T */
static int in_range(const char *cmd, const char *flag, const char *v, void *p)
{
    struct lstmsrc_columns *cols = p;
    if (flag[2] == 'f')
        cols->from = v;
    else
        cols->until = v;
    return !missing(cmd, flag, v);
}

static int in_fill(const char *cmd, const char *flag, const char *v, void *p)
{
    struct lstmsrc_columns *cols = p;
    if (missing(cmd, flag, v)) return 0;
    if (!strcmp(v, "hold")) {
        cols->fill = LSTMSRC_FILL_HOLD;
    } else if (!strcmp(v, "linear")) {
        cols->fill = LSTMSRC_FILL_LINEAR;
    } else {
        cli_usage(cmd, "--fill expects hold or linear, found \"%s\"", v);
        return 0;
    }
    return 1;
}

static int in_fill_max(const char *cmd, const char *flag, const char *v, void *p)
{
    return cli_int(cmd, flag, v, 1, LSTMSRC_FILL_MAX_LIMIT,
                   &((struct lstmsrc_columns *)p)->fill_max);
}

static int in_decimal(const char *cmd, const char *flag, const char *v, void *p)
{
    if (missing(cmd, flag, v)) return 0;
    if ((v[0] != '.' && v[0] != ',') || v[1]) {
        cli_usage(cmd, "--decimal expects . or , (the decimal mark), found \"%s\"", v);
        return 0;
    }
    ((struct lstmsrc_columns *)p)->decimal = v[0];
    return 1;
}

static int in_on_above(const char *cmd, const char *flag, const char *v, void *p)
{
    struct lstmsrc_columns *cols = p;
    if (missing(cmd, flag, v)) return 0;
    if (!*v) {
        cli_usage(cmd, "--on-above needs W, NAME=W or auto");
        return 0;
    }
    if (!strcmp(v, "auto")) {
        cols->on_above_auto = 1;
        cols->on_above = NULL;
    } else {
        cols->on_above = v;
    }
    cols->label_on_above = NULL; /* the user's thresholds over a model's */
    return 1;
}

#define INGEST(name, fn, value)                                                                    \
    {                                                                                              \
        name, NULL, CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, fn, value, 0                               \
    }
const struct cli_opt cli_opts_ingest[] = {
    INGEST("--missing", in_missing, 1),
    INGEST("--invalid-below", in_invalid_below, 1),
    INGEST("--time", in_time, 1),
    INGEST("--no-time", in_no_time, 0),
    INGEST("--period", in_duration, 1),
    INGEST("--max-gap", in_duration, 1),
    INGEST("--from", in_range, 1),
    INGEST("--until", in_range, 1),
    INGEST("--fill", in_fill, 1),
    INGEST("--fill-max", in_fill_max, 1),
    INGEST("--decimal", in_decimal, 1),
    INGEST("--on-above", in_on_above, 1),
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

void cli_ingest_apply(const struct lstmsrc_columns *user, struct lstmsrc_columns *cols)
{
    if (user->missing) cols->missing = user->missing;
    if (user->decimal) cols->decimal = user->decimal;
    if (user->fill) cols->fill = user->fill;
    if (user->fill_max) cols->fill_max = user->fill_max;
    if (user->time_column) cols->time_column = user->time_column;
    if (user->no_time) cols->no_time = 1;
    if (user->period > 0.0) cols->period = user->period;
    if (user->max_gap > 0.0) cols->max_gap = user->max_gap;
    if (user->from) cols->from = user->from;
    if (user->until) cols->until = user->until;
    if (user->use_invalid_below) {
        cols->use_invalid_below = 1;
        cols->invalid_below = user->invalid_below;
    }
    if (user->on_above || user->on_above_auto) {
        cols->on_above = user->on_above;
        cols->on_above_auto = user->on_above_auto;
        cols->label_on_above = NULL;
    }
}

void cli_ingest_counts(const struct lstmsrc_dataset *ds, struct cli_ingest *in)
{
    memset(in, 0, sizeof *in);
    if (!ds) return;
    in->time_name = lstmsrc_dataset_time(ds, &in->period, &in->n[CLI_IN_IRREGULAR],
                                         &in->n[CLI_IN_GAPS], &in->n[CLI_IN_DROPPED]);
    in->source = lstmsrc_dataset_source(ds);
    lstmsrc_dataset_missing(ds, &in->n[CLI_IN_CELLS], &in->n[CLI_IN_MISSING],
                            &in->n[CLI_IN_INVALID]);
    in->n[CLI_IN_SEGMENTS] = lstmsrc_dataset_segments(ds);
    in->n[CLI_IN_ROWS] = lstmsrc_dataset_rows(ds);
    in->n[CLI_IN_FILES] = lstmsrc_dataset_files(ds);
    in->n[CLI_IN_SKIPPED] = lstmsrc_dataset_files_skipped(ds);
    in->n[CLI_IN_FILLED] = lstmsrc_dataset_filled(ds);
}

void cli_report_ingest_counts(const char *cmd, const struct cli_ingest *in)
{
    const size_t *n = in->n;
    if (in->time_name) {
        fprintf(stderr,
                "lstmsrc: %s: %s: time column \"%s\", a row every %g s (%zu irregular "
                "step%s, %zu gap%s)",
                cmd, n[CLI_IN_FILES] > 1 ? "the files" : in->source, in->time_name, in->period,
                n[CLI_IN_IRREGULAR], n[CLI_IN_IRREGULAR] == 1 ? "" : "s", n[CLI_IN_GAPS],
                n[CLI_IN_GAPS] == 1 ? "" : "s");
        if (n[CLI_IN_DROPPED])
            fprintf(stderr, "; %zu rows outside --from/--until left out", n[CLI_IN_DROPPED]);
        if (n[CLI_IN_SKIPPED])
            fprintf(stderr, "; %zu file%s wholly outside left out", n[CLI_IN_SKIPPED],
                    n[CLI_IN_SKIPPED] == 1 ? "" : "s");
        fputc('\n', stderr);
    }
    const size_t files = n[CLI_IN_FILES], rows = n[CLI_IN_MISSING], segs = n[CLI_IN_SEGMENTS];
    const size_t cells = n[CLI_IN_CELLS], invalid = n[CLI_IN_INVALID], filled = n[CLI_IN_FILLED];
    if (rows == 0 && segs == files) return;
    char name[64];
    if (files > 1) snprintf(name, sizeof name, "%zu files", files);
    fprintf(stderr,
            "lstmsrc: %s: %s: %zu of %zu rows missing (%zu missing cell%s, %zu invalid "
            "reading%s), %zu segment%s",
            cmd, files > 1 ? name : in->source, rows, n[CLI_IN_ROWS], cells, cells == 1 ? "" : "s",
            invalid, invalid == 1 ? "" : "s", segs, segs == 1 ? "" : "s");
    if (filled)
        fprintf(stderr, "; %zu of the missing row%s bridged by --fill", filled,
                filled == 1 ? "" : "s");
    fputc('\n', stderr);
}

void cli_report_ingest(const char *cmd, const struct lstmsrc_dataset *ds)
{
    for (int j = 0; lstmsrc_dataset_has_labels(ds) && j < lstmsrc_dataset_outputs(ds); j++)
        if (lstmsrc_dataset_task(ds) == LSTMSRC_TASK_MULTILABEL &&
            lstmsrc_dataset_on_above_auto(ds, j))
            fprintf(stderr,
                    "lstmsrc: %s: \"%s\" holds power: ON above %.4g W, where its "
                    "distribution splits in two (--on-above %s=W to choose)\n",
                    cmd, lstmsrc_dataset_output_name(ds, j),
                    (double)lstmsrc_dataset_on_above(ds, j), lstmsrc_dataset_output_name(ds, j));
    struct cli_ingest in;
    cli_ingest_counts(ds, &in);
    cli_report_ingest_counts(cmd, &in);
}

const char *cli_data_name(const char *const *files, int n, char *buf, size_t cap)
{
    if (n <= 1) return files[0];
    snprintf(buf, cap, "%s and %d more file%s", files[0], n - 1, n > 2 ? "s" : "");
    return buf;
}
