/*
 * cmd_plot.c — `lstmsrc plot MODEL DATA.csv -o FILE.svg`: one SVG picture of what a model makes
 * of a data set. On top, a timeline of the reading with each output's true and predicted
 * on-periods as bands (right, false alarm, missed); below, precision, recall and F1 of each
 * output against the decision threshold over every window of the file.
 *
 * This file lines the model's windows up with rows and hands arrays to plot.c; it does not
 * draw. Without label columns the truth bands and the threshold figure are left out.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plot.h"

static const char cmd[] = "plot";

static const char usage_text[] =
    "usage: lstmsrc plot MODEL DATA.csv -o FILE.svg [options]\n"
    "\n"
    "Draws what MODEL makes of DATA.csv as one SVG picture (no plotting software needed):\n"
    "  1. timeline: the reading over the rows, and under it for each source two bands, when it\n"
    "     was truly on, and what the model said (after its minimum on/off durations, as\n"
    "     predict gives it): blue where right, red for a false alarm,\n"
    "     orange where it missed. Long ranges are drawn one pixel column at a time, so a\n"
    "     one-row event stays visible. With a time column the x axis is clock time (UTC):\n"
    "     each tick the time of its row.\n"
    "  2. precision, recall and F1 of each source against the decision threshold, over every\n"
    "     window of the file, with the model's tuned threshold marked.\n"
    "DATA.csv needs the model's input columns; without its label columns only the predictions\n"
    "are drawn.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE   the SVG to write (required)\n"
    "  --from ROW|TIME     first row of the timeline: a whole number is a row, 1 = first\n"
    "                      data row (default 1); a date-time (ISO 8601) is a time, as in\n"
    "                      every command, and the timeline starts at the first row at or\n"
    "                      after it (with --until TIME to end it)\n"
    "  --rows N            rows in the timeline (default: to the end of the file)\n"
    "  --figure F          timeline, pr or both (default both)\n"
    "  --width PX          picture width in pixels, 600 to 4000 (default 1000)\n"
    "  -h, --help          this text\n"
    "\n"
    "example:\n"
    "  lstmsrc plot model.lsm test.csv --from 2000 --rows 1440 -o timeline.svg\n"
    "  lstmsrc plot model.lsm house.csv --from 2014-09-20 --until 2014-09-21 -o day.svg\n";

/* Row (0-based) whose label window w predicts: the window's last row, or label_offset before. */
/* The data set's segments and their windows: segment s holds rows first[s] .. first[s] +
 * len[s] - 1 and windows cum[s] .. cum[s + 1] - 1 (lstmsrc_predict's order). */
struct segs {
    size_t n, *first, *len, *cum;
    size_t lead, T;
};

static int segs_init(struct segs *g, const struct lstmsrc_dataset *ds,
                     const struct lstmsrc_model_info *info)
{
    g->n = lstmsrc_dataset_segments(ds);
    g->T = (size_t)info->seq_len;
    g->lead = g->T - 1 - (size_t)info->label_offset;
    g->first = malloc((g->n + 1) * sizeof *g->first);
    g->len = malloc((g->n + 1) * sizeof *g->len);
    g->cum = malloc((g->n + 1) * sizeof *g->cum);
    if (!g->first || !g->len || !g->cum) return 0;
    g->cum[0] = 0;
    for (size_t s = 0; s < g->n; s++) {
        lstmsrc_dataset_segment(ds, s, &g->first[s], &g->len[s]);
        g->cum[s + 1] = g->cum[s] + (g->len[s] >= g->T ? g->len[s] - g->T + 1 : 0);
    }
    return 1;
}

static void segs_free(struct segs *g)
{
    free(g->first);
    free(g->len);
    free(g->cum);
}

/* The labelled row of window w. */
static size_t label_row(const struct segs *g, size_t w)
{
    size_t lo = 0, hi = g->n; /* the segment s with cum[s] <= w < cum[s + 1] */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->cum[mid] <= w)
            lo = mid;
        else
            hi = mid;
    }
    return g->first[lo] + (w - g->cum[lo]) + g->lead;
}

/* The window whose labelled row is r, or (size_t)-1 when r has none. */
static size_t row_window(const struct segs *g, size_t r)
{
    size_t lo = 0, hi = g->n; /* the last segment starting at or before r */
    if (g->n == 0 || r < g->first[0]) return (size_t)-1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (g->first[mid] <= r)
            lo = mid;
        else
            hi = mid;
    }
    size_t in = r - g->first[lo], nw = g->cum[lo + 1] - g->cum[lo];
    return in >= g->lead && in - g->lead < nw ? g->cum[lo] + in - g->lead : (size_t)-1;
}

/* Truth of output j at row r, or -1 when the data has no labels. */
static int truth_at(const struct lstmsrc_dataset *ds, size_t r, int j, int k)
{
    const uint8_t *y = lstmsrc_dataset_labels_data(ds);
    const int32_t *c = lstmsrc_dataset_classes_data(ds);
    if (y) return y[r * (size_t)k + (size_t)j] != 0;
    if (c) return c[r] == j;
    return -1;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ============================== parse ============================== */

enum { FIG_TIMELINE = 1, FIG_PR = 2 };

/* What the command line says. */
struct plot_opts {
    const char *model, *data, *out;
    size_t from, rows;           /* --from ROW (1-based), --rows N (0: to the end of the file) */
    int width, figure;           /* figure: FIG_TIMELINE, FIG_PR or both */
    struct lstmsrc_columns user; /* reading flags over the model's own */
};

/* --from ROW|TIME: a whole number is the timeline's first row (as large as a size_t's half);
 * anything else is a time, kept for the reader as every command's --from TIME (the reader then
 * checks it and the timeline starts at the first row it keeps). */
static int opt_from(const char *c, const char *flag, const char *v, void *p)
{
    struct plot_opts *o = p;
    if (!cli_need_value(c, flag, v)) return 0;
    if (v[strspn(v, "0123456789")] != '\0' || !*v) {
        o->user.from = v;
        return 1;
    }
    return cli_size(c, flag, v, 1, (size_t)-1 / 2, &o->from);
}

/* --rows N: a row count, as large as a size_t's half */

static int opt_rows(const char *c, const char *flag, const char *v, void *p)
{
    return cli_size(c, flag, v, 1, (size_t)-1 / 2, &((struct plot_opts *)p)->rows);
}

static const int figure_values[] = {FIG_TIMELINE, FIG_PR, FIG_TIMELINE | FIG_PR};

#define OFF(f) offsetof(struct plot_opts, f)
#define CUSTOM(name, fn)                                                                           \
    {                                                                                              \
        name, NULL, CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, fn, 1, 0                                   \
    }
const struct cli_opt cli_opts_plot[] = {
    {"-o", "--output", CLI_STRING, OFF(out), 0, 0, 0, NULL, NULL, NULL, 0, 0},
    CUSTOM("--from", opt_from), /* before the reading flags' --from TIME */
    CUSTOM("--rows", opt_rows),
    {"--width", NULL, CLI_INT, OFF(width), 600, 4000, 0, NULL, NULL, NULL, 0, 0},
    {"--figure", NULL, CLI_CHOICE, OFF(figure), 0, 0, 0, "timeline|pr|both", figure_values, NULL, 0,
     0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o, MODEL and DATA.csv from a. Returns 0 or the exit code (CLI_HELP: the help
 * was printed). */
static int plot_parse(int argc, char **argv, struct plot_opts *o, struct cli_args *a)
{
    memset(o, 0, sizeof *o);
    o->from = 1;
    o->width = 1000;
    o->figure = FIG_TIMELINE | FIG_PR;
    int rc = cli_parse(cmd, cli_opts_plot, argc, argv, o, &o->user, a);
    if (rc == CLI_HELP) {
        fputs(usage_text, stdout);
        fputs("\n" CLI_INGEST_HELP, stdout);
        return CLI_HELP;
    }
    if (rc) return rc;
    if (a->n_pos < 2) return cli_usage(cmd, "needs MODEL and DATA.csv");
    if (a->n_pos > 2) return cli_usage(cmd, "unexpected argument '%s'", a->pos[2]);
    o->model = a->pos[0];
    o->data = a->pos[1];
    if (!o->out) return cli_usage(cmd, "no output file given (-o FILE.svg)");
    return 0;
}

/* ============================== run ============================== */

/* Everything a plot holds, freed by plot_free. */
struct plot_run {
    struct plot_opts o;
    struct cli_args a;
    struct lstmsrc_error err;
    struct lstmsrc_model *m;
    struct lstmsrc_model_info info;
    struct lstmsrc_dataset *ds;
    struct segs sg;
    size_t n, K, T, windows, nrows; /* rows, outputs, window, windows, timeline rows */
    int labelled;
    float *probs, *reading;              /* (windows, K), (nrows) */
    uint8_t *on, *truth, *pred, *wtruth; /* (windows, K), (nrows, K) x 2, (windows, K) */
    uint8_t *seg;                        /* (nrows) PLOT_ROW_*, NULL for one segment */
};

static void plot_free(struct plot_run *r)
{
    segs_free(&r->sg);
    free(r->probs);
    free(r->on);
    free(r->reading);
    free(r->pred);
    free(r->truth);
    free(r->wtruth);
    free(r->seg);
    lstmsrc_dataset_free(r->ds);
    lstmsrc_model_free(r->m);
    cli_args_free(&r->a);
}

/* The model, the data read with its columns, the timeline's range and the segments. Returns 0
 * or the exit code. */
static int plot_load(struct plot_run *r)
{
    const char *data = r->o.data;
    struct lstmsrc_columns cols;
    if (lstmsrc_model_load(r->o.model, &r->m, &r->err)) return cli_fail(cmd, &r->err);
    lstmsrc_model_get_info(r->m, &r->info);
    lstmsrc_model_columns(r->m, 1, &cols);
    cli_ingest_apply(&r->o.user, &cols);
    if (lstmsrc_dataset_load(data, &cols, &r->ds, &r->err)) return cli_fail(cmd, &r->err);
    r->n = lstmsrc_dataset_rows(r->ds);
    r->K = (size_t)r->info.outputs;
    r->T = (size_t)r->info.seq_len;
    r->labelled = lstmsrc_dataset_has_labels(r->ds);
    if (r->n < r->T) {
        fprintf(stderr, "lstmsrc: %s: %s: %zu rows, fewer than the model's window of %zu rows\n",
                cmd, data, r->n, r->T);
        return 1;
    }
    if (r->o.from > r->n)
        return cli_usage(cmd, "--from %zu is past the last row (%zu)", r->o.from, r->n);
    r->nrows = r->o.rows;
    if (r->nrows == 0 || r->nrows > r->n - r->o.from + 1) r->nrows = r->n - r->o.from + 1;
    r->windows = lstmsrc_dataset_windows(r->ds, (int)r->T);
    if (!segs_init(&r->sg, r->ds, &r->info)) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        return 1;
    }
    if (r->windows == 0) {
        fprintf(stderr,
                "lstmsrc: %s: %s: %zu segments, none as long as the model's window of %zu "
                "rows\n",
                cmd, data, r->sg.n, r->T);
        return 1;
    }
    return 0;
}

/* The timeline's rows: row r (0-based) has a prediction from window r - (T - 1 - offset), when
 * that window exists. */
static void plot_rows(struct plot_run *r)
{
    const size_t K = r->K;
    const float *x = lstmsrc_dataset_inputs_data(r->ds);
    size_t f = (size_t)lstmsrc_dataset_inputs(r->ds);
    for (size_t i = 0; i < r->nrows; i++) {
        size_t row = r->o.from - 1 + i, w = row_window(&r->sg, row);
        r->reading[i] = x[row * f];
        for (size_t j = 0; j < K; j++) {
            r->pred[i * K + j] = w == (size_t)-1 ? PLOT_NO_PREDICTION : r->on[w * K + j];
            if (r->truth) r->truth[i * K + j] = (uint8_t)truth_at(r->ds, row, (int)j, (int)K);
        }
    }
}

/* Each timeline row's place in the segments (PLOT_ROW_*); left NULL when the data is one
 * segment of every row. Returns 0 when out of memory. */
static int plot_segs(struct plot_run *r)
{
    if (r->sg.n == 1 && r->sg.first[0] == 0 && r->sg.len[0] == r->n) return 1;
    if (!(r->seg = malloc(r->nrows))) return 0;
    memset(r->seg, PLOT_ROW_MISSING, r->nrows);
    size_t lo = r->o.from - 1, hi = lo + r->nrows; /* timeline rows lo .. hi - 1 */
    for (size_t s = 0; s < r->sg.n; s++) {
        size_t a = r->sg.first[s], b = a + r->sg.len[s];
        if (b <= lo || a >= hi) continue;
        for (size_t row = a > lo ? a : lo; row < (b < hi ? b : hi); row++)
            r->seg[row - lo] = PLOT_ROW_IN;
        /* a segment right after the one before, with no missing row between: a gap */
        if (s > 0 && a >= lo && r->sg.first[s - 1] + r->sg.len[s - 1] == a)
            r->seg[a - lo] = PLOT_ROW_GAP;
    }
    return 1;
}

/* Every window's probabilities and decisions (the on-periods predict gives), and the
 * timeline's rows. Returns 0 or the exit code. */
static int plot_predict(struct plot_run *r)
{
    const size_t K = r->K, windows = r->windows, nrows = r->nrows;
    /* sizes: every product below is at most windows * K or nrows * K, checked once here */
    if (K == 0 || (size_t)-1 / K < windows || (size_t)-1 / K < nrows) {
        fprintf(stderr, "lstmsrc: %s: %zu rows x %zu outputs is too large\n", cmd, r->n, K);
        return 1;
    }
    size_t wk = windows * K, rk = nrows * K;
    r->probs = malloc(wk * sizeof *r->probs);
    r->on = malloc(wk);
    r->reading = malloc(nrows * sizeof *r->reading);
    r->pred = malloc(rk);
    r->truth = r->labelled ? malloc(rk) : NULL;
    if (!r->probs || !r->on || !r->reading || !r->pred || (r->labelled && !r->truth) ||
        !plot_segs(r)) {
        fprintf(stderr, "lstmsrc: %s: out of memory for %zu windows\n", cmd, windows);
        return 1;
    }
    if (lstmsrc_predict(r->m, r->ds, r->probs, windows, &r->err)) return cli_fail(cmd, &r->err);
    lstmsrc_decide(r->m, r->probs, windows, r->on);
    for (size_t s = 0; s < r->sg.n; s++) /* the on-periods predict gives, segment by segment */
        lstmsrc_filter_rows(r->m, r->on + r->sg.cum[s] * K, r->sg.cum[s + 1] - r->sg.cum[s]);
    plot_rows(r);
    return 0;
}

/* The windows' truth at their label rows, for the threshold figure; 0 when out of memory
 * (said). */
static int plot_window_truth(struct plot_run *r)
{
    const size_t K = r->K;
    if (!(r->wtruth = malloc(r->windows * K))) {
        fprintf(stderr, "lstmsrc: %s: out of memory for %zu windows\n", cmd, r->windows);
        return 0;
    }
    for (size_t w = 0; w < r->windows; w++)
        for (size_t j = 0; j < K; j++)
            r->wtruth[w * K + j] = (uint8_t)truth_at(r->ds, label_row(&r->sg, w), (int)j, (int)K);
    return 1;
}

/* The picture: the timeline, then the threshold figure where the data has labels. Returns 0
 * or the exit code. */
static int plot_draw(struct plot_run *r)
{
    const struct plot_opts *o = &r->o;
    const struct lstmsrc_model_info *info = &r->info;
    const int want_tl = o->figure & FIG_TIMELINE, want_pr = o->figure & FIG_PR, K = (int)r->K;
    char title[320], sub[640], pr_title[320], pr_sub[640];
    snprintf(title, sizeof title, "%s on %s", base_name(o->model), base_name(o->data));
    snprintf(sub, sizeof sub,
             "rows %zu-%zu of %zu; window %zu rows, a window's prediction drawn at its %s", o->from,
             o->from + r->nrows - 1, r->n, r->T,
             info->label_offset ? "labelled row (its centre)" : "last row");
    snprintf(pr_title, sizeof pr_title, "Precision and recall against the decision threshold");
    snprintf(pr_sub, sizeof pr_sub, "every window of %s (%zu windows): on if probability > t",
             base_name(o->data), r->windows);

    const double *times = lstmsrc_dataset_times(r->ds);
    struct timeline tl = {.title = title,
                          .subtitle = sub,
                          .reading_name = info->input_names[0],
                          .reading = r->reading,
                          .rows = r->nrows,
                          .first_row = o->from,
                          .k = K,
                          .names = info->output_names,
                          .truth = r->truth,
                          .pred = r->pred,
                          .times = times ? times + (o->from - 1) : NULL,
                          .seg = r->seg};
    /* the threshold figure needs labels: the windows' truth at their label rows */
    struct pr_input pr = {.title = pr_title,
                          .subtitle = pr_sub,
                          .k = K,
                          .names = info->output_names,
                          .probs = r->probs,
                          .windows = r->windows,
                          .thresholds =
                              info->task == LSTMSRC_TASK_MULTILABEL ? info->thresholds : NULL};
    if (r->labelled && want_pr) {
        if (!plot_window_truth(r)) return 1;
        pr.truth = r->wtruth;
    } else if (want_pr && !want_tl) {
        return cli_usage(cmd, "%s has no label columns: the threshold figure needs them", o->data);
    }
    int draw_pr_fig = want_pr && r->labelled;
    double height = (want_tl ? timeline_height(K) : 0) + (draw_pr_fig ? pr_height(K) : 0);
    struct svg s;
    if (!svg_open(&s, o->out, o->width, height, title, &r->err)) return cli_fail(cmd, &r->err);
    double y = 0;
    if (want_tl) {
        draw_timeline(&s, y, o->width, &tl);
        y += timeline_height(K);
    }
    if (draw_pr_fig) draw_pr(&s, y, o->width, &pr);
    if (!svg_close(&s, &r->err)) return cli_fail(cmd, &r->err);
    return 0;
}

/* ============================== report ============================== */

/* What was drawn, on stderr. */
static void plot_report(const struct plot_run *r)
{
    const int want_pr = r->o.figure & FIG_PR, draw_pr_fig = want_pr && r->labelled;
    fprintf(stderr, "%s: rows %zu-%zu%s\n", r->o.out, r->o.from, r->o.from + r->nrows - 1,
            draw_pr_fig ? ", with precision/recall against threshold"
            : want_pr   ? " (no labels: no threshold figure)"
                        : "");
}

int cmd_plot(int argc, char **argv)
{
    struct plot_run r;
    memset(&r, 0, sizeof r);
    int rc = plot_parse(argc, argv, &r.o, &r.a);
    if (rc == CLI_HELP) {
        rc = 0;
    } else if (rc == 0) {
        /* the picture's file is tried before the model and the data are read */
        rc = cli_probe(cmd, "-o", r.o.out);
        if (!rc) rc = plot_load(&r);
        if (!rc) rc = plot_predict(&r);
        if (!rc) rc = plot_draw(&r);
        if (!rc) plot_report(&r);
    }
    plot_free(&r);
    return rc;
}
