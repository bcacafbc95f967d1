/*
 * cmd_stream.c — `lstmsrc stream MODEL`: readings in on stdin, one line at a time, predictions
 * out on stdout, one line per input line, flushed as soon as it is written, until EOF. Memory is
 * one line buffer and one lstmsrc_stream, whatever the length of the stream.
 *
 * Input lines: a bare number per line (one-input model), or CSV fields. A first line that names
 * the model's input columns is a header: columns are then found by name, and the output starts
 * with predict's header line. Without a header the first `inputs` fields of each line are the
 * inputs (further fields, e.g. labels, are ignored). Separator per line: ',' if present outside
 * quotes, else ';', else tab, else runs of blanks (with a header: the header's).
 *
 * Output lines are byte for byte those of `lstmsrc predict` on the same rows. A malformed line
 * (a non-number, too few fields, a blank line) gets the empty row on stdout and a message with
 * its line number on stderr; the stream goes on without it (--strict stops instead).
 *
 * A model labelled at the window's centre decides row t once row t + label_offset is in: each
 * line waits in a queue of label_offset + 1 rows (malformed lines behind a waiting row wait with
 * it, so the output keeps the input's order), and at the end of input the rows still waiting get
 * the empty row, as predict gives the last label_offset rows of a file. Then multi-label
 * decisions pass the model's minimum on/off durations filter (pred_out.c), so a line is written
 * once its decision is settled: at most label_offset + the model's decision delay (lstmsrc
 * inspect) lines after its input line, in order, and every line at the end of input.
 *
 * SIGINT and SIGTERM end the input: the handler (sigaction, kept until exit) puts /dev/null in
 * place of stdin, so the read under way or the next one sees the end of input; the lines
 * already read are handled, an unfinished last line is dropped, the rows still waiting get
 * their lines as at the end of input, and the exit status is 130.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "data/csv.h"
#include "data/dataset.h"
#include "data/timecol.h"

static const char cmd[] = "stream";

#define EXCERPT 40

static void stream_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lstmsrc stream MODEL [--proba] [--raw] [--strict] [--missing LIST]\n"
            "                        [--invalid-below X] [--time COL | --no-time] [--period D]\n"
            "                        [--max-gap D] [--from TIME] [--until TIME]\n"
            "\n"
            "Reads readings from stdin one line at a time and writes one prediction line per\n"
            "input line to stdout, flushed at once, until end of input:\n"
            "  meter-reader | lstmsrc stream model.lsm\n"
            "\n"
            "Input: a bare number per line (one-input model), or CSV lines. A first line that\n"
            "names the model's input columns is a header (columns then found by name, and the\n"
            "output starts with a header line); otherwise the first fields of a line are the\n"
            "inputs in the model's order and further fields are ignored.\n"
            "Output: the lines of `lstmsrc predict` for the same rows (same bytes): decisions\n"
            "(multi-label) or class,prob (multi-class), --proba adds every probability, and\n"
            "every field empty until the model's window is full. A model trained with\n"
            "--label-at center answers each row seq/2 rows later; the last seq/2 rows get empty\n"
            "lines at the end of input. Multi-label decisions go through the model's minimum\n"
            "on/off durations, so a line is written once its decision is settled: up to the\n"
            "model's decision delay (see `lstmsrc inspect`) input lines later again, always in\n"
            "order, the rest at end of input. --raw leaves the durations out.\n"
            "A malformed line gets an empty output line and an error on stderr naming its line\n"
            "number; it is skipped and the stream goes on (exit status 1 at the end).\n"
            "Ctrl-C (SIGINT) or SIGTERM ends the input: every line read gets its output line,\n"
            "the rows still waiting included, then exit status 130.\n"
            "\n"
            "options:\n"
            "  --proba      add each output's probability\n"
            "  --raw        decisions without the minimum on/off durations (no delay)\n"
            "  --strict     stop at the first malformed line (exit status 1)\n"
            "  --scale-from FILE\n"
            "               a per-file model (train --scaler per-file; needed there): its\n"
            "               scaler fitted on FILE, a recording of the same meter, as predict\n"
            "               fits it on the file it reads\n"
            "  --precision P\n"
            "               fp32 (default), bf16 (products in bf16, sums in fp32; needs AVX-512\n"
            "               BF16) or auto (bf16 where the quality gate held; today fp32)\n"
            "  --missing LIST, --invalid-below X\n"
            "               a line with a missing cell (default: empty, NA, NaN, null) or a\n"
            "               reading below X (the model's rule by default) ends the segment:\n"
            "               its line is empty and the next window starts after it, as predict\n"
            "               does\n"
            "  --time COL, --no-time\n"
            "               with a header line: the time column (name or 1-based index; by\n"
            "               default the model's, else one named time, timestamp, date, unix...),\n"
            "               or none. Each output line then starts with its row's time, as in\n"
            "               predict's output; time must go forward (a line whose time does not\n"
            "               is malformed), and a step longer than the gap limit starts a new\n"
            "               segment: the window fills again after it, as after a missing row\n"
            "  --period D, --max-gap D\n"
            "               the gap limit: --max-gap, else 1.5 x --period, else the model's\n"
            "               (from its training data), else 1.5 x the first step (60, 5m, 1h)\n"
            "  --from TIME, --until TIME\n"
            "               leave out the lines outside that time range (no output line), as\n"
            "               predict does\n"
            "  -h, --help   this text\n"
            "\n"
            "example:\n"
            "  printf '2832.26\\n2833.10\\n2835.90\\n2836.00\\n2838.70\\n' | lstmsrc stream "
            "model.lsm\n");
}

/* set by the first SIGINT/SIGTERM; devnull: a descriptor of /dev/null opened beforehand */
static volatile sig_atomic_t stop_flag;
static int devnull = -1;

/* Ends the input: stdin becomes /dev/null (dup2 is async-signal-safe), so a read blocked on a
 * pipe or terminal returns end of input once it restarts (SA_RESTART), and so does the next. */
static void on_signal(int sig)
{
    int e = errno;
    (void)sig;
    stop_flag = 1;
    if (devnull >= 0)
        (void)dup2(devnull, 0);
    else
        (void)close(0);
    errno = e;
}

static void set_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART; /* writes to stdout go on; reads then see the end of input */
    sigemptyset(&sa.sa_mask);
    devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

struct field {
    char *s;
    size_t len;
};

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r';
}

/* The separator of a line: ',' outside quotes, else ';', else tab, else ' ' (runs of blanks). */
static char detect_sep(const char *s, size_t n)
{
    int inq = 0, semi = 0, tab = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            inq = !inq;
        else if (!inq && s[i] == ',')
            return ',';
        else if (!inq) {
            semi |= s[i] == ';';
            tab |= s[i] == '\t';
        }
    }
    return semi ? ';' : tab ? '\t' : ' ';
}

/* Splits s[0..n) in place into at most `max` fields (quotes removed, "" -> "). Returns the
 * field count, -1 for a bad quote, -2 for more than `max` fields. */
static int split(char *s, size_t n, char sep, struct field *f, int max)
{
    size_t i = 0;
    int nf = 0;
    if (sep == ' ')
        while (i < n && is_blank(s[i]))
            i++;
    for (;;) {
        if (nf == max) return -2;
        if (sep != ' ')
            while (i < n && (s[i] == ' ' || s[i] == '\t') && sep != '\t')
                i++;
        if (i < n && s[i] == '"') {
            size_t w = ++i, start = i;
            for (;;) {
                if (i >= n) return -1;
                if (s[i] == '"') {
                    if (i + 1 < n && s[i + 1] == '"') {
                        s[w++] = '"';
                        i += 2;
                        continue;
                    }
                    i++;
                    break;
                }
                s[w++] = s[i++];
            }
            f[nf].s = s + start;
            f[nf].len = w - start;
            nf++;
            while (i < n && (s[i] == ' ' || s[i] == '\t') && sep != '\t')
                i++;
        } else {
            size_t start = i;
            if (sep == ' ')
                while (i < n && !is_blank(s[i]))
                    i++;
            else
                while (i < n && s[i] != sep)
                    i++;
            f[nf].s = s + start;
            f[nf].len = i - start;
            nf++;
        }
        if (sep == ' ') {
            while (i < n && is_blank(s[i]))
                i++;
            if (i >= n) return nf;
            continue;
        }
        if (i >= n) return nf;
        if (s[i] != sep) return -1; /* junk after a closing quote */
        i++;
    }
}

static void trim(const char **s, size_t *n)
{
    while (*n && is_blank(**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && is_blank((*s)[*n - 1]))
        (*n)--;
}

static int same_name(const struct field *f, const char *name)
{
    const char *s = f->s;
    size_t n = f->len;
    trim(&s, &n);
    return strlen(name) == n && memcmp(s, name, n) == 0;
}

struct state {
    struct lstmsrc_model_info info;
    int header;                  /* a header line was seen */
    char sep;                    /* the header's separator */
    int ncols;                   /* the header's field count */
    int idx[LSTMSRC_MAX_INPUTS]; /* input i is field idx[i] */
    struct field *fields;        /* (LSTMSRC_MAX_COLUMNS) */
    const char *missing;         /* --missing, or NULL: the loader's spellings */
    int use_invalid_below;
    float invalid_below;
    /* the time column (with a header): field time_col (-1: none), its kind once the first
     * data line shows it (1 ISO 8601, 2 Unix seconds), the last good time, the step that ends
     * a segment (0: 1.5 x the first step, learned), --from/--until */
    const char *want_time; /* --time, or the model's time column */
    const char *user_time; /* --time */
    int no_time, time_col, time_kind;
    char time_name[LSTMSRC_MAX_NAME + 1];
    double t_prev, max_gap, from, until;
    double t; /* the time of the line parse_row read (NAN: none) */
};

/* 1 when s[0..n) is a number strtod reads whole but that is not a finite float (nan, inf,
 * 1e400): the loader calls that "a finite number" too. */
static int overflows(const char *s, size_t n)
{
    char b[64], *end;
    trim(&s, &n);
    if (n == 0 || n >= sizeof b) return 0;
    memcpy(b, s, n);
    b[n] = '\0';
    double v = strtod(b, &end);
    return end == b + n && !isfinite((float)v);
}

/* The first EXCERPT bytes of a field for a message, control bytes as '?', into t (EXCERPT + 1
 * bytes). */
static void excerpt(const struct field *f, char *t)
{
    size_t l = f->len < EXCERPT ? f->len : EXCERPT;
    memcpy(t, f->s, l);
    t[l] = '\0';
    for (size_t k = 0; k < l; k++)
        if ((unsigned char)t[k] < 0x20) t[k] = '?';
}

/* Reads the time cell f into S->t: -1 with msg (a bad cell, time not going forward), -2 for a
 * time outside --from/--until (the line is left out, as predict leaves it out), 1 when the
 * step from the last time is a gap (the row starts a new segment), else 0. */
static int parse_time(struct state *S, const struct field *f, char *msg, size_t cap)
{
    const int col = S->time_col + 1;
    double t;
    if (!S->time_kind) {
        S->time_kind = time_parse(f->s, f->len, &t) ? 1 : time_parse_unix(f->s, f->len, &t) ? 2 : 0;
    }
    int ok = S->time_kind == 1   ? time_parse(f->s, f->len, &t)
             : S->time_kind == 2 ? time_parse_unix(f->s, f->len, &t)
                                 : 0;
    if (!ok) {
        char e[EXCERPT + 1];
        excerpt(f, e);
        snprintf(msg, cap, "%d: expected %s, found \"%s%s\"", col,
                 S->time_kind == 2 ? "a time in Unix seconds"
                                   : "a date-time like 2014-09-01 00:00:00 (or Unix seconds)",
                 e, f->len > EXCERPT ? "..." : "");
        return -1;
    }
    if (!(t > S->t_prev)) {
        char a[32], b[32];
        time_format(S->t_prev, 1, a, sizeof a);
        time_format(t, 1, b, sizeof b);
        snprintf(msg, cap, "%d: time %s from %s to %s; rows must be in time order", col,
                 t == S->t_prev ? "repeats" : "goes back", a, b);
        return -1;
    }
    if (t < S->from || t > S->until) return -2;
    int gap = 0;
    if (isfinite(S->t_prev)) {
        if (S->max_gap <= 0.0) S->max_gap = 1.5 * (t - S->t_prev); /* from the first step */
        gap = t - S->t_prev > S->max_gap;
    }
    S->t_prev = t;
    S->t = t;
    return gap;
}

/* Fills row from line s[0..n); returns 0, or 1 with msg = why not (" expected ..." or
 * "COL: expected ...", to follow "<stdin>:LINE:"); 2 for a missing row (a missing cell or an
 * invalid reading), 3 for a good row after a time gap, 4 for a row outside --from/--until. */
static int parse_row(struct state *S, char *s, size_t n, float *row, char *msg, size_t cap)
{
    const int F = S->info.inputs;
    char sep = S->header ? S->sep : detect_sep(s, n);
    int nf = split(s, n, sep, S->fields, LSTMSRC_MAX_COLUMNS);
    if (nf == -1) {
        snprintf(msg, cap, " unterminated quote or junk after a closing quote");
        return 1;
    }
    if (nf == -2) {
        snprintf(msg, cap, " more than %d fields", LSTMSRC_MAX_COLUMNS);
        return 1;
    }
    if (S->header && nf != S->ncols) {
        snprintf(msg, cap, " expected %d fields, found %d", S->ncols, nf);
        return 1;
    }
    int gap = 0;
    if (S->time_col >= 0 && (gap = parse_time(S, &S->fields[S->time_col], msg, cap)) < 0)
        return gap == -2 ? 4 : 1;
    if (!S->header && nf < F) {
        snprintf(msg, cap, " expected %d field%s, found %d", F, F == 1 ? "" : "s", nf);
        return 1;
    }
    int missing = 0;
    for (int i = 0; i < F; i++) {
        int c = S->header ? S->idx[i] : i;
        const struct field *f = &S->fields[c];
        if (lstmsrc_cell_missing(S->missing, f->s, f->len)) {
            missing = 1; /* a hole in the readings, as predict reads it */
            continue;
        }
        /* a decimal comma where fields are not split by commas, as the loader reads it */
        if (!lstmsrc_parse_number(f->s, f->len, &row[i]) &&
            !(sep != ',' && csv_parse_float_comma(f->s, f->len, &row[i]))) {
            char t[EXCERPT + 1];
            excerpt(f, t);
            snprintf(msg, cap, "%d: expected %s, found \"%s%s\"", c + 1,
                     overflows(f->s, f->len) ? "a finite number" : "a number", t,
                     f->len > EXCERPT ? "..." : "");
            return 1;
        }
    }
    if (missing || (S->use_invalid_below && row[0] < S->invalid_below)) return 2;
    return gap ? 3 : 0;
}

/* Sets the time column's settings of S (its info filled) from the user's flags over the
 * model's: no time column until a header names one. Fails only on a bad --from/--until. */
static enum lstmsrc_status state_time(struct state *S, const struct lstmsrc_columns *user,
                                      struct lstmsrc_error *err)
{
    S->no_time = user->no_time;
    S->user_time = user->time_column;
    S->want_time = user->time_column ? user->time_column : S->info.time_name;
    S->time_col = -1;
    S->t_prev = -INFINITY;
    S->from = -INFINITY;
    S->until = INFINITY;
    S->max_gap = user->max_gap > 0.0     ? user->max_gap
                 : user->period > 0.0    ? 1.5 * user->period
                 : S->info.max_gap > 0.0 ? S->info.max_gap
                 : S->info.period > 0.0  ? 1.5 * S->info.period
                                         : 0.0;
    if (user->from || user->until)
        return lstmsrc_time_bounds("<stdin>", user, &S->from, &S->until, err);
    return LSTMSRC_OK;
}

/* Drops a UTF-8 byte-order mark from the start of line[0..n) (the first line), as the CSV
 * reader, and so predict, does; returns the new length. */
static size_t skip_bom(char *line, size_t n)
{
    if (n < 3 || memcmp(line, "\xEF\xBB\xBF", 3) != 0) return n;
    memmove(line, line + 3, n - 3);
    return n - 3;
}

/* 1 when the first line's nf fields (in S->fields) are not all numbers and name any of the
 * model's inputs: a header. */
static int names_an_input(const struct state *S, int nf)
{
    int any = 0, numbers = nf > 0;
    for (int c = 0; c < nf && numbers; c++) {
        float v;
        numbers = lstmsrc_parse_number(S->fields[c].s, S->fields[c].len, &v);
    }
    if (numbers) return 0; /* a row of numbers is data, even if a name looks like a number */
    for (int c = 0; c < nf && !any; c++)
        for (int i = 0; i < S->info.inputs; i++)
            any |= same_name(&S->fields[c], S->info.input_names[i]);
    return any;
}

/* Finds each input's column among the header's nf fields (S->idx). Returns 0, or -1 after
 * printing that an input is missing, -2 after printing that two columns share its name. */
static int header_inputs(struct state *S, int nf)
{
    for (int i = 0; i < S->info.inputs; i++) {
        int found = -1;
        for (int c = 0; c < nf && found < 0; c++)
            if (same_name(&S->fields[c], S->info.input_names[i])) found = c;
        if (found < 0) {
            fprintf(stderr, "lstmsrc: %s: <stdin>:1: no column \"%.40s\" in the header line\n", cmd,
                    S->info.input_names[i]);
            return -1;
        }
        for (int c = found + 1; c < nf; c++)
            if (same_name(&S->fields[c], S->info.input_names[i])) {
                fprintf(stderr,
                        "lstmsrc: %s: <stdin>:1: duplicate column name \"%.40s\" (columns %d and "
                        "%d)\n",
                        cmd, S->info.input_names[i], found + 1, c + 1);
                return -2;
            }
        S->idx[i] = found;
    }
    return 0;
}

/* The field's name, trimmed, into nm (LSTMSRC_MAX_NAME + 1 bytes), cut at LSTMSRC_MAX_NAME
 * bytes; returns 0 when it is longer than that. */
static int field_name(const struct field *f, char *nm)
{
    const char *p = f->s;
    size_t l = f->len;
    trim(&p, &l);
    int fits = l <= LSTMSRC_MAX_NAME;
    if (!fits) l = LSTMSRC_MAX_NAME;
    memcpy(nm, p, l);
    nm[l] = '\0';
    return fits;
}

/* The time column among the header's nf fields (S->time_col, -1: none, and S->time_name):
 * --time COL (a name or a 1-based index), the model's, else a column named like a time (time,
 * timestamp, date, unix...) that is no input. Returns 0, or -1 after printing that --time's
 * column is not there. */
static int header_time(struct state *S, int nf)
{
    S->time_col = -1;
    if (!S->no_time && S->want_time) {
        char *end;
        long k = strtol(S->want_time, &end, 10);
        for (int c = 0; c < nf && S->time_col < 0; c++)
            if (same_name(&S->fields[c], S->want_time)) S->time_col = c;
        if (S->time_col < 0 && *S->want_time && !*end && k >= 1 && k <= nf)
            S->time_col = (int)k - 1;
        if (S->time_col < 0 && S->want_time == S->user_time) {
            fprintf(stderr,
                    "lstmsrc: %s: <stdin>:1: no column \"%.40s\" for --time in the "
                    "header line\n",
                    cmd, S->want_time);
            return -1;
        }
    }
    for (int c = 0; c < nf && S->time_col < 0 && !S->no_time; c++) {
        char nm[LSTMSRC_MAX_NAME + 1];
        if (!field_name(&S->fields[c], nm)) continue;
        int input = 0;
        for (int i = 0; i < S->info.inputs; i++)
            input |= S->idx[i] == c;
        if (!input && dataset_time_like_name(nm)) S->time_col = c;
    }
    if (S->time_col >= 0) field_name(&S->fields[S->time_col], S->time_name);
    return 0;
}

/* A first line that is not all numbers and names any of the model's inputs is a header: all of
 * them must be there.
 * Returns 1 for a header, 0 for data, -1 after printing a fatal error (an input missing), -2
 * after printing that two columns share an input's name. */
static int try_header(struct state *S, char *s, size_t n)
{
    char sep = detect_sep(s, n);
    char *copy = malloc(n + 1); /* the fields point into it */
    if (!copy) return 0;
    memcpy(copy, s, n);
    int nf = split(copy, n, sep, S->fields, LSTMSRC_MAX_COLUMNS);
    int rc = 0;
    if (names_an_input(S, nf) && !(rc = header_inputs(S, nf)) && !(rc = header_time(S, nf))) {
        S->header = 1;
        S->sep = sep;
        S->ncols = nf;
        rc = 1;
    }
    free(copy);
    return rc;
}

/* Reads one line of stdin without its '\n' into buf (cap bytes + NUL); bytes beyond cap are
 * dropped and flagged. Returns 0 at the end of input, and for an unfinished line cut by a
 * signal (*cut = 1 then). NUL bytes are kept (and later refused as part of a field), so a NUL
 * never cuts a line short. */
static int read_line(char *buf, size_t cap, size_t *len, int *too_long, int *cut)
{
    size_t n = 0;
    int c;
    *too_long = 0;
    while ((c = getc_unlocked(stdin)) != EOF && c != '\n') {
        if (n < cap)
            buf[n++] = (char)c;
        else
            *too_long = 1;
    }
    if (c == EOF && (n || *too_long) && stop_flag) {
        *cut = 1;
        return 0;
    }
    if (c == EOF && n == 0 && !*too_long) return 0;
    buf[n] = '\0';
    *len = n;
    return 1;
}

static int put_line(const char *p, size_t n)
{
    return fwrite(p, 1, n, stdout) == n && fflush(stdout) == 0;
}

/* The times of the input lines whose output line is not written yet, oldest first (NaN: a
 * line without one). */
struct times {
    double *v;
    size_t head, n, cap;
};

static int times_push(struct times *q, double t)
{
    if (q->head + q->n == q->cap) {
        if (q->head) {
            memmove(q->v, q->v + q->head, q->n * sizeof *q->v);
            q->head = 0;
        } else {
            size_t cap = q->cap ? 2 * q->cap : 64;
            double *v = realloc(q->v, cap * sizeof *v);
            if (!v) return 0;
            q->v = v;
            q->cap = cap;
        }
    }
    q->v[q->head + q->n++] = t;
    return 1;
}

static double times_pop(struct times *q)
{
    if (!q->n) return NAN;
    q->n--;
    return q->v[q->head++];
}

/* Writes every line the prediction queue has ready (buf: PRED_OUT_TIME + row_max bytes), each
 * after its input line's time when the input has a time column; 0 when writing failed. */
static int put_ready(struct pred_out *po, char *buf, const struct state *S, struct times *tq)
{
    size_t n;
    char *d = buf + PRED_OUT_TIME;
    while ((n = pred_out_next(po, d)) > 0) {
        size_t tl = 0;
        if (S->time_col >= 0) {
            char tb[PRED_OUT_TIME];
            tl = pred_out_time(S->time_kind, times_pop(tq), tb);
            memcpy(d - tl, tb, tl);
        }
        if (!put_line(d - tl, tl + n)) return 0;
    }
    return 1;
}

/* Rows waiting for their decision (label_offset of them at most, plus the one just pushed),
 * oldest first; bad_after[i] counts the malformed lines read after waiting row i. */
struct waiting {
    long *bad_after; /* (cap) ring */
    int cap, head, n;
};

/* Hands the oldest waiting row to the output queue, with its window's probabilities (NULL: no
 * prediction), then the empty lines of the malformed lines behind it. */
static void release(struct waiting *q, struct pred_out *po, const float *probs)
{
    if (q->n <= 0) return; /* nothing waits (cannot happen: callers check) */
    long bad = q->bad_after[q->head];
    q->head = q->head + 1 == q->cap ? 0 : q->head + 1;
    q->n--;
    if (probs)
        pred_out_push(po, probs);
    else
        pred_out_empty(po);
    for (long i = 0; i < bad; i++)
        pred_out_empty(po);
}

/* ============================== parse ============================== */

/* What the command line says. */
struct stream_opts {
    const char *model, *scale_from;
    int proba, raw, strict, precision;
    struct lstmsrc_columns user; /* --missing, --invalid-below, --time... over the model's */
};

#define OFF(f) offsetof(struct stream_opts, f)
#define SWITCH(name, f)                                                                            \
    {                                                                                              \
        name, NULL, CLI_SWITCH, OFF(f), 0, 0, 1, NULL, NULL, NULL, 0, 0                            \
    }
const struct cli_opt cli_opts_stream[] = {
    SWITCH("--proba", proba),
    SWITCH("--raw", raw),
    SWITCH("--strict", strict),
    {"--scale-from", NULL, CLI_STRING, OFF(scale_from), 0, 0, 0, NULL, NULL, NULL, 0, 0},
    {"--precision", NULL, CLI_CHOICE, OFF(precision), 0, 0, 0, CLI_PRECISION_CHOICES, NULL, NULL, 0,
     0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o, MODEL from a; then what a stream cannot do. Returns 0 or the exit code
 * (CLI_HELP: the help was printed). */
static int stream_parse(int argc, char **argv, struct stream_opts *o, struct cli_args *a)
{
    int rc = cli_parse(cmd, cli_opts_stream, argc, argv, o, &o->user, a);
    if (rc == CLI_HELP) {
        stream_usage(stdout);
        return CLI_HELP;
    }
    if (rc) return rc;
    if (a->n_pos == 0) return cli_usage(cmd, "needs MODEL");
    if (a->n_pos > 1) return cli_usage(cmd, "unexpected argument '%s'", a->pos[1]);
    o->model = a->pos[0];
    if ((rc = cli_precision_refused(cmd, o->precision))) return rc;
    if (o->user.fill || o->user.fill_max)
        return cli_usage(cmd, "--fill bridges a hole with the row after it, which a stream has "
                              "not read yet: fill before streaming, or use predict");
    /* taken by the commands that read files; a stream has no use for them, and says so */
    if (o->user.decimal)
        return cli_usage(cmd,
                         "--decimal: a stream reads a decimal comma by itself where fields "
                         "are split by ';' or tabs, and cannot where they are split by commas");
    if (o->user.on_above || o->user.on_above_auto)
        return cli_usage(cmd, "--on-above makes label columns ON above a threshold; a stream "
                              "reads no label columns");
    return 0;
}

/* ============================== run ============================== */

/* Everything a stream holds, freed by stream_free. */
struct stream_run {
    struct stream_opts o;
    struct cli_args a;
    struct lstmsrc_error err;
    struct lstmsrc_model *m;
    struct lstmsrc_stream *s;
    struct pred_out po;
    struct state S;
    char *line, *out; /* the input line (LINE_CAP + 1 bytes), an output line */
    float *probs, row[LSTMSRC_MAX_INPUTS];
    struct waiting q;
    struct times tq;
    long lineno, bad, good, holes, holes_t; /* good: rows in the segment so far */
    int cut;                                /* a signal cut the last line short */
};

#define LINE_CAP ((size_t)LSTMSRC_MAX_LINE + 2)

static void stream_free(struct stream_run *r)
{
    free(r->tq.v);
    pred_out_free(&r->po);
    free(r->q.bad_after);
    free(r->out);
    free(r->probs);
    free(r->line);
    free(r->S.fields);
    lstmsrc_stream_free(r->s);
    lstmsrc_model_free(r->m);
    cli_args_free(&r->a);
    if (devnull >= 0) close(devnull);
    devnull = -1;
}

/* Each prints why the stream stops and returns the exit code. */
static int write_failed(void)
{
    fprintf(stderr, "lstmsrc: %s: cannot write to stdout: %s\n", cmd, strerror(errno));
    return 1;
}

static int no_memory(void)
{
    fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
    return 1;
}

/* The model, its stream and the line state. Returns 0 or the exit code. */
static int stream_open(struct stream_run *r)
{
    struct state *S = &r->S;
    const struct lstmsrc_columns *user = &r->o.user;
    enum lstmsrc_status st = lstmsrc_model_load(r->o.model, &r->m, &r->err);
    if (!st && r->o.raw) st = lstmsrc_model_set_durations(r->m, NULL, NULL, &r->err);
    if (!st)
        st = lstmsrc_model_set_precision(r->m, (enum lstmsrc_precision)r->o.precision, &r->err);
    if (st) return cli_fail(cmd, &r->err);
    lstmsrc_model_get_info(r->m, &S->info);
    if (S->info.scaler == LSTMSRC_SCALER_PER_FILE && !r->o.scale_from)
        return cli_usage(cmd,
                         "%s has a per-file scaler, which a stream cannot fit from rows "
                         "still to come: give --scale-from FILE, a recording of the same "
                         "meter",
                         r->o.model);
    if (S->info.scaler != LSTMSRC_SCALER_PER_FILE && r->o.scale_from)
        return cli_usage(cmd,
                         "--scale-from: %s has the global scaler, which the file cannot change",
                         r->o.model);
    if (r->o.scale_from) { /* that recording's statistics, read as predict reads a file */
        struct lstmsrc_columns cols;
        struct lstmsrc_dataset *ds = NULL;
        lstmsrc_model_columns(r->m, 1, &cols);
        cli_ingest_apply(user, &cols);
        st = lstmsrc_dataset_load(r->o.scale_from, &cols, &ds, &r->err);
        if (!st) st = lstmsrc_model_scaler_fit(r->m, ds, &r->err);
        lstmsrc_dataset_free(ds);
        if (st) return cli_fail(cmd, &r->err);
    }
    if ((st = lstmsrc_stream_create(r->m, &r->s, &r->err))) return cli_fail(cmd, &r->err);
    S->missing = user->missing;
    S->use_invalid_below = user->use_invalid_below || S->info.use_invalid_below;
    S->invalid_below = user->use_invalid_below ? user->invalid_below : S->info.invalid_below;
    if (state_time(S, user, &r->err)) return cli_fail(cmd, &r->err);
    r->line = malloc(LINE_CAP + 1);
    S->fields = malloc(LSTMSRC_MAX_COLUMNS * sizeof *S->fields);
    r->probs = malloc((size_t)S->info.outputs * sizeof *r->probs);
    r->q.cap = S->info.label_offset + 1;
    r->q.bad_after = malloc((size_t)r->q.cap * sizeof *r->q.bad_after);
    if (!r->line || !S->fields || !r->probs || !r->q.bad_after ||
        !pred_out_init(&r->po, r->m, r->o.proba) ||
        !(r->out = malloc(PRED_OUT_TIME + r->po.row_max)))
        return no_memory();
    return 0;
}

/* Every waiting row gets its line, empty (no full window around it), and every line queued is
 * ready. */
static void release_all(struct stream_run *r)
{
    while (r->q.n > 0)
        release(&r->q, &r->po, NULL);
    pred_out_finish(&r->po);
}

/* release_all, then every line is written. Returns 0, or the exit code after a failed write. */
static int stream_drain(struct stream_run *r)
{
    release_all(r);
    return put_ready(&r->po, r->out, &r->S, &r->tq) ? 0 : write_failed();
}

/* The segment ends (a missing row, a time gap): the rows waiting get their lines, and the
 * window fills again from the next good row. Returns 0 or the exit code. */
static int segment_end(struct stream_run *r, int empty_line)
{
    release_all(r);
    lstmsrc_stream_reset(r->s);
    r->good = 0;
    if (empty_line) pred_out_empty(&r->po);
    return put_ready(&r->po, r->out, &r->S, &r->tq) ? 0 : write_failed();
}

/* A malformed line: its message, then its empty line in order (after the waiting rows'), or
 * with --strict the end. Returns 0 to go on, else the exit code. */
static int stream_bad_line(struct stream_run *r, const char *msg)
{
    r->bad++;
    fprintf(stderr, "lstmsrc: %s: <stdin>:%ld:%s\n", cmd, r->lineno, msg);
    if (r->o.strict) { /* the lines before this one are complete: write them out */
        int rc = stream_drain(r);
        return rc ? rc : 1;
    }
    if (r->q.n > 0) {
        r->q.bad_after[(r->q.head + r->q.n - 1) % r->q.cap]++; /* after the waiting row's */
        return 0;
    }
    pred_out_empty(&r->po);
    return put_ready(&r->po, r->out, &r->S, &r->tq) ? 0 : write_failed();
}

/* A good row into the stream: it waits, and the push decided the row label_offset good rows
 * back, whose line goes out. Returns 0, the exit code, or -1 with msg when the stream refused
 * the row. */
static int stream_row(struct stream_run *r, char *msg, size_t cap)
{
    int ready;
    if (lstmsrc_stream_push(r->s, r->row, r->probs, &ready, &r->err)) {
        snprintf(msg, cap, " %s", r->err.msg);
        return -1;
    }
    struct waiting *q = &r->q;
    q->bad_after[(q->head + q->n) % q->cap] = 0;
    q->n++;
    if (r->good++ < r->S.info.label_offset) return 0;
    release(q, &r->po, ready ? r->probs : NULL);
    return put_ready(&r->po, r->out, &r->S, &r->tq) ? 0 : write_failed();
}

/* The output's header line (after the time column's name), for the header line just read.
 * Returns 0, or the exit code after a failed write. */
static int put_header(struct stream_run *r)
{
    char hn[2 * LSTMSRC_MAX_NAME + 4];
    if (r->S.time_col >= 0 && !put_line(hn, pred_out_name(r->S.time_name, hn)))
        return write_failed();
    return put_line(r->po.header, r->po.header_len) ? 0 : write_failed();
}

/* A line with a reading (n bytes at r->line, not blank). Returns 0 to go on, else the exit
 * code. */
static int stream_reading(struct stream_run *r, size_t n)
{
    struct state *S = &r->S;
    char msg[LSTMSRC_ERROR_SIZE + 8];
    if (r->lineno == 1) {
        int h = try_header(S, r->line, n);
        if (h < 0) return h == -2 ? 1 : EXIT_USAGE; /* -2: the data's header is ambiguous */
        if (h > 0) return put_header(r);
    }
    if (S->time_col < 0 && (r->o.user.from || r->o.user.until)) {
        fprintf(stderr,
                "lstmsrc: %s: <stdin>:%ld: --from and --until need a time column in a "
                "header line (--time COLUMN)\n",
                cmd, r->lineno);
        return EXIT_USAGE;
    }
    S->t = NAN;
    int failed = parse_row(S, r->line, n, r->row, msg, sizeof msg), rc;
    if (failed == 4) return 0; /* outside --from/--until: no line, as predict */
    if (S->time_col >= 0 && !times_push(&r->tq, S->t)) return no_memory();
    if (failed == 3) { /* a time gap before this good row: a new segment starts */
        r->holes_t++;
        if ((rc = segment_end(r, 0))) return rc;
        failed = 0;
    }
    if (failed == 2) { /* a missing row: the segment ends, as at the end of input */
        r->holes++;
        return segment_end(r, 1);
    }
    if (!failed && (rc = stream_row(r, msg, sizeof msg)) >= 0) return rc;
    return stream_bad_line(r, msg);
}

/* One input line (n bytes at r->line; too_long: cut at the limit). Returns 0 to go on, else
 * the exit code. */
static int stream_line(struct stream_run *r, size_t n, int too_long)
{
    char msg[LSTMSRC_ERROR_SIZE + 8];
    r->lineno++;
    if (r->lineno == 1) n = skip_bom(r->line, n);
    if (n && r->line[n - 1] == '\r') n--;
    r->line[n] = '\0';
    const char *t = r->line;
    size_t tn = n;
    trim(&t, &tn);
    if (!too_long && tn > 0) return stream_reading(r, n);
    if (too_long)
        snprintf(msg, sizeof msg, " line longer than %d bytes", LSTMSRC_MAX_LINE);
    else
        snprintf(msg, sizeof msg, " blank line, expected a reading");
    if (r->S.time_col >= 0 && !times_push(&r->tq, NAN)) return no_memory();
    return stream_bad_line(r, msg);
}

/* Every line of stdin, until its end or a signal. Returns 0, or the exit code when a line
 * stopped the stream. */
static int stream_read(struct stream_run *r)
{
    for (;;) {
        size_t n;
        int too_long, rc;
        if (!read_line(r->line, LINE_CAP, &n, &too_long, &r->cut)) return 0;
        if ((rc = stream_line(r, n, too_long))) return rc;
    }
}

/* ============================== report ============================== */

/* The end of input: the last lines (no full window around them: the empty row, as predict
 * gives them), then what the stream met. Returns the exit code. */
static int stream_report(struct stream_run *r)
{
    int rc = stream_drain(r);
    if (rc) return rc;
    if (stop_flag) {
        fprintf(stderr,
                "lstmsrc: %s: interrupted after %ld input line%s%s; every line read has "
                "its output line\n",
                cmd, r->lineno, r->lineno == 1 ? "" : "s",
                r->cut ? " (an unfinished last line dropped)" : "");
        return 130;
    }
    if (r->holes)
        fprintf(stderr,
                "lstmsrc: %s: %ld missing row%s (a missing cell or an invalid reading): "
                "each ended a segment, its line is empty\n",
                cmd, r->holes, r->holes == 1 ? "" : "s");
    if (r->holes_t)
        fprintf(stderr,
                "lstmsrc: %s: %ld time gap%s (a step longer than %g s): each started a "
                "segment\n",
                cmd, r->holes_t, r->holes_t == 1 ? "" : "s", r->S.max_gap);
    if (ferror(stdin)) {
        fprintf(stderr, "lstmsrc: %s: cannot read stdin: %s\n", cmd, strerror(errno));
        return 1;
    }
    return r->bad ? 1 : 0;
}

int cmd_stream(int argc, char **argv)
{
    struct stream_run r;
    memset(&r, 0, sizeof r);
    int rc = stream_parse(argc, argv, &r.o, &r.a);
    if (rc == CLI_HELP) {
        rc = 0;
    } else if (rc == 0 && (rc = stream_open(&r)) == 0) {
        set_signals();
        rc = stream_read(&r);
        if (rc == 0) rc = stream_report(&r);
    }
    stream_free(&r);
    return rc;
}
