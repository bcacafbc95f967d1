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
    "  --from ROW          first row of the timeline, 1 = first data row (default 1)\n"
    "                      (here --from is a row, not a time; --until TIME does bound\n"
    "                      the rows read)\n"
    "  --rows N            rows in the timeline (default: to the end of the file)\n"
    "  --figure F          timeline, pr or both (default both)\n"
    "  --width PX          picture width in pixels, 600 to 4000 (default 1000)\n"
    "  -h, --help          this text\n"
    "\n"
    "example:\n"
    "  lstmsrc plot model.lsm test.csv --from 2000 --rows 1440 -o timeline.svg\n";

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

int cmd_plot(int argc, char **argv)
{
    const char *model_path = NULL, *data_path = NULL, *out_path = NULL, *v;
    size_t from = 1, nrows = 0;
    int width = 1000, want_tl = 1, want_pr = 1, bad = 0;
    struct lstmsrc_columns user = {0}; /* reading flags over the model's own */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(usage_text, stdout);
            fputs("\n" CLI_INGEST_HELP, stdout);
            return 0;
        } else if (cli_flag(argv, argc, &i, "-o", &v) || cli_flag(argv, argc, &i, "--output", &v)) {
            if (!v) return cli_usage(cmd, "%s needs a value", a);
            out_path = v;
        } else if (cli_flag(argv, argc, &i, "--from", &v)) {
            if (!cli_size(cmd, a, v, 1, (size_t)-1 / 2, &from)) return EXIT_USAGE;
        } else if (cli_flag(argv, argc, &i, "--rows", &v)) {
            if (!cli_size(cmd, a, v, 1, (size_t)-1 / 2, &nrows)) return EXIT_USAGE;
        } else if (cli_flag(argv, argc, &i, "--width", &v)) {
            if (!cli_int(cmd, a, v, 600, 4000, &width)) return EXIT_USAGE;
        } else if (cli_flag(argv, argc, &i, "--figure", &v)) {
            if (!v) return cli_usage(cmd, "%s needs a value", a);
            want_tl = !strcmp(v, "timeline") || !strcmp(v, "both");
            want_pr = !strcmp(v, "pr") || !strcmp(v, "both");
            if (!want_tl && !want_pr)
                return cli_usage(cmd, "--figure expects timeline, pr or both, found \"%s\"", v);
        } else if (cli_ingest_flag(cmd, argv, argc, &i, &user, &bad)) {
            if (bad) return EXIT_USAGE;
        } else if (a[0] == '-' && a[1] != '\0') {
            return cli_usage(cmd, "unknown option '%s'", a);
        } else if (!model_path) {
            model_path = a;
        } else if (!data_path) {
            data_path = a;
        } else {
            return cli_usage(cmd, "unexpected argument '%s'", a);
        }
    }
    if (!data_path) return cli_usage(cmd, "needs MODEL and DATA.csv");
    if (!out_path) return cli_usage(cmd, "no output file given (-o FILE.svg)");
    /* the picture's file is tried before the model and the data are read */
    int prc = cli_probe(cmd, "-o", out_path);
    if (prc) return prc;

    int rc = 1;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_dataset *ds = NULL;
    float *probs = NULL, *reading = NULL;
    uint8_t *on = NULL, *truth = NULL, *pred = NULL, *wtruth = NULL;
    struct lstmsrc_model_info info;
    struct segs sg = {0};
    struct lstmsrc_columns cols;

    if (lstmsrc_model_load(model_path, &m, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    lstmsrc_model_get_info(m, &info);
    lstmsrc_model_columns(m, 1, &cols);
    cli_ingest_apply(&user, &cols);
    if (lstmsrc_dataset_load(data_path, &cols, &ds, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    size_t n = lstmsrc_dataset_rows(ds), K = (size_t)info.outputs, T = (size_t)info.seq_len;
    int labelled = lstmsrc_dataset_has_labels(ds);
    if (n < T) {
        fprintf(stderr, "lstmsrc: %s: %s: %zu rows, fewer than the model's window of %zu rows\n",
                cmd, data_path, n, T);
        goto done;
    }
    if (from > n) {
        rc = cli_usage(cmd, "--from %zu is past the last row (%zu)", from, n);
        goto done;
    }
    if (nrows == 0 || nrows > n - from + 1) nrows = n - from + 1;
    size_t windows = lstmsrc_dataset_windows(ds, (int)T);
    if (!segs_init(&sg, ds, &info)) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        goto done;
    }
    if (windows == 0) {
        fprintf(stderr, "lstmsrc: %s: %s: %zu segments, none as long as the model's window of "
                        "%zu rows\n", cmd, data_path, sg.n, T);
        goto done;
    }

    /* sizes: every product below is at most windows * K or nrows * K, checked once here */
    size_t wk, rk;
    if (K == 0 || (size_t)-1 / K < windows || (size_t)-1 / K < nrows) {
        fprintf(stderr, "lstmsrc: %s: %zu rows x %zu outputs is too large\n", cmd, n, K);
        goto done;
    }
    wk = windows * K;
    rk = nrows * K;
    probs = malloc(wk * sizeof *probs);
    on = malloc(wk);
    reading = malloc(nrows * sizeof *reading);
    pred = malloc(rk);
    truth = labelled ? malloc(rk) : NULL;
    if (!probs || !on || !reading || !pred || (labelled && !truth)) {
        fprintf(stderr, "lstmsrc: %s: out of memory for %zu windows\n", cmd, windows);
        goto done;
    }
    if (lstmsrc_predict(m, ds, probs, windows, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    lstmsrc_decide(m, probs, windows, on);
    for (size_t s = 0; s < sg.n; s++) /* the on-periods predict gives, segment by segment */
        lstmsrc_filter_rows(m, on + sg.cum[s] * K, sg.cum[s + 1] - sg.cum[s]);

    /* rows of the timeline: row r (0-based) has a prediction from window r - (T - 1 - offset),
     * when that window exists */
    const float *x = lstmsrc_dataset_inputs_data(ds);
    size_t f = (size_t)lstmsrc_dataset_inputs(ds);
    for (size_t i = 0; i < nrows; i++) {
        size_t r = from - 1 + i, w = row_window(&sg, r);
        reading[i] = x[r * f];
        for (size_t j = 0; j < K; j++) {
            pred[i * K + j] = w == (size_t)-1 ? PLOT_NO_PREDICTION : on[w * K + j];
            if (truth) truth[i * K + j] = (uint8_t)truth_at(ds, r, (int)j, (int)K);
        }
    }

    char title[320], sub[640], pr_title[320], pr_sub[640];
    snprintf(title, sizeof title, "%s on %s", base_name(model_path), base_name(data_path));
    snprintf(sub, sizeof sub,
             "rows %zu-%zu of %zu; window %zu rows, a window's prediction drawn at its %s",
             from, from + nrows - 1, n, T,
             info.label_offset ? "labelled row (its centre)" : "last row");
    snprintf(pr_title, sizeof pr_title, "Precision and recall against the decision threshold");
    snprintf(pr_sub, sizeof pr_sub, "every window of %s (%zu windows): on if probability > t",
             base_name(data_path), windows);

    const double *times = lstmsrc_dataset_times(ds);
    struct timeline tl = {title, sub, info.input_names[0], reading, nrows, from, (int)K,
                          info.output_names, truth, pred, times ? times + (from - 1) : NULL};
    /* the threshold figure needs labels: the windows' truth at their label rows */
    struct pr_input pr = {pr_title, pr_sub, (int)K, info.output_names, probs, NULL, windows,
                          info.task == LSTMSRC_TASK_MULTILABEL ? info.thresholds : NULL};
    if (labelled && want_pr) {
        if (!(wtruth = malloc(wk))) {
            fprintf(stderr, "lstmsrc: %s: out of memory for %zu windows\n", cmd, windows);
            goto done;
        }
        for (size_t w = 0; w < windows; w++)
            for (size_t j = 0; j < K; j++)
                wtruth[w * K + j] = (uint8_t)truth_at(ds, label_row(&sg, w), (int)j, (int)K);
        pr.truth = wtruth;
    } else if (want_pr && !want_tl) {
        rc = cli_usage(cmd, "%s has no label columns: the threshold figure needs them",
                       data_path);
        goto done;
    }
    int draw_pr_fig = want_pr && labelled;

    double height = (want_tl ? timeline_height((int)K) : 0) + (draw_pr_fig ? pr_height((int)K) : 0);
    struct svg s;
    if (!svg_open(&s, out_path, width, height, title, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    double y = 0;
    if (want_tl) {
        draw_timeline(&s, y, width, &tl);
        y += timeline_height((int)K);
    }
    if (draw_pr_fig) draw_pr(&s, y, width, &pr);
    if (!svg_close(&s, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    fprintf(stderr, "%s: rows %zu-%zu%s\n", out_path, from, from + nrows - 1,
            draw_pr_fig ? ", with precision/recall against threshold"
                        : want_pr ? " (no labels: no threshold figure)" : "");
    rc = 0;
done:
    segs_free(&sg);
    free(probs);
    free(on);
    free(reading);
    free(pred);
    free(truth);
    free(wtruth);
    lstmsrc_dataset_free(ds);
    lstmsrc_model_free(m);
    return rc;
}
