/*
 * cmd_doctor.c — `lstmsrc doctor DATA.csv [--json]`: what lstmsrc_doctor found in a data set,
 * for people (tables, then each finding with what to do, wrapped to the terminal's usual width)
 * or as one JSON object for scripts. Findings are advice: the exit status is 0 whatever they
 * say, and 1 or 2 only when the file cannot be read or the flags are wrong.
 */
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "svg.h"

static const char cmd[] = "doctor";

static const char usage_text[] =
    "usage: lstmsrc doctor DATA.csv [options]\n"
    "\n"
    "Reads a data set and says what will go wrong in training and what to do about it: label\n"
    "framing, class balance (and what \"all off\" would score), input scale, constant or\n"
    "duplicate columns, sources whose on-levels overlap, typical on/off durations and the\n"
    "window that covers them, flickering labels, suspicious readings (negative, outage-like\n"
    "zeros, clipping, jumps no label explains), sources with too few positives. Ends with the\n"
    "training settings the data suggests. Exits 0 whatever it finds.\n"
    "\n"
    "options:\n"
    "  --input COLS          input channels, names or 1-based indexes (default: 1)\n"
    "  --labels COLS         0/1 label columns (default: all other columns)\n"
    "  --class-column COL    one integer class column (multi-class)\n"
    "  --task T              multilabel (default) or multiclass (N 0/1 columns -> 2^N classes)\n"
    "  --json                one JSON object instead of text\n"
    "  -h, --help            this text\n"
    "\n"
    "example:\n"
    "  lstmsrc doctor data/refit_house2_1min_train.csv\n";

#define WIDTH 100

/* ============================== text ============================== */

/* Prints `text` word-wrapped to WIDTH columns: the first line continues where the cursor is
 * (column `col`), later lines are indented by `indent` spaces. */
static void wrap(const char *text, int col, int indent)
{
    const char *p = text;
    int start = col; /* no space before the first word of a line */
    while (*p) {
        while (*p == ' ')
            p++;
        /* a word runs to the next space, except one before '%': "12.5 %" stays whole */
        const char *e = p;
        while (*e && (*e != ' ' || e[1] == '%'))
            e++;
        int len = (int)(e - p);
        if (col > start && col + 1 + len > WIDTH) {
            printf("\n%*s", indent, "");
            col = indent;
            start = indent;
        } else if (col > start) {
            putchar(' ');
            col++;
        }
        printf("%.*s", len, p);
        col += len;
        p = e;
    }
    putchar('\n');
}

static const char *or_q(const char *s)
{
    return s ? s : "?";
}

/* A number in a fixed-width column: no exponent, precision matched to the size. */
static void cell(double v, int w)
{
    if (!isfinite(v))
        printf(" %*s", w, "-");
    else if (fabs(v) >= 100.0 || v == floor(v))
        printf(" %*.0f", w, v);
    else
        printf(" %*.1f", w, v);
}

/* The first line (rows, inputs, labels) and per input its statistics. */
static void text_inputs(const struct lstmsrc_report *r, const char *path)
{
    int ml = r->task == LSTMSRC_TASK_MULTILABEL;
    printf("%s: %zu rows, %d input%s", path, r->rows, r->inputs, r->inputs == 1 ? "" : "s");
    if (r->has_labels)
        printf(", %d %s (%s)", r->outputs, ml ? "sources" : "classes",
               ml ? "multi-label" : "multi-class");
    else
        printf(", no labels");
    printf("\n\n%-20s %9s %9s %9s %9s %9s %8s %7s %7s %6s\n", "input", "min", "max", "mean", "std",
           "median", "negative", "~0 runs", "at max", "jumps");
    for (int i = 0; i < r->inputs; i++) {
        const struct lstmsrc_input_stats *s = &r->input[i];
        printf("%-20.20s", or_q(s->name));
        cell(s->min, 9);
        cell(s->max, 9);
        cell(s->mean, 9);
        cell(s->std, 9);
        cell(s->median, 9);
        printf(" %8zu %7zu %7zu %6zu\n", s->negative, s->outage_runs, s->at_max, s->jumps);
    }
}

/* One source's (or class's) row of the label table. */
static void text_output(const struct lstmsrc_output_stats *o)
{
    char level[32] = "-", base[16] = "-";
    if (isfinite(o->level_median))
        snprintf(level, sizeof level, "%.0f-%.0f", o->level_p10, o->level_p90);
    if (isfinite(o->base_like)) snprintf(base, sizeof base, "%.1f %%", 100 * o->base_like);
    printf("%-16.16s %8zu %5.1f %% %5zu %6zu", or_q(o->name), o->on_rows, 100.0 * o->on_share,
           o->on_runs, o->cycles);
    cell(o->cycle_median, 5);
    cell(o->cycle_p90, 5);
    cell(o->off_run_median, 6);
    printf(" %7.2f %6zu %13s %7s\n", o->flicker, o->val_on_rows, level, base);
}

/* With labels: the label table, what its columns mean, and the rows with nothing on. */
static void text_outputs(const struct lstmsrc_report *r)
{
    int ml = r->task == LSTMSRC_TASK_MULTILABEL;
    if (!r->has_labels) return;
    printf("\n%-16s %8s %7s %5s %6s %5s %5s %6s %7s %6s %13s %7s\n", ml ? "source" : "class",
           "on rows", "share", "runs", "cycles", "cycle", "p90", "gap", "flicker", "val on",
           "level p10-p90", "as base");
    for (int j = 0; j < r->outputs; j++)
        text_output(&r->output[j]);
    printf("(runs, cycles, gaps in rows: medians; cycles join on-runs across gaps of up to 5 "
           "rows;\n val on: on-rows in the last %zu rows, the default validation part; level: "
           "input 1\n while only this one is on; as base: share of those rows reading like "
           "nothing on)\n",
           r->val_rows);
    if (ml && isfinite(r->base_median))
        printf("nothing on: %zu rows (%.1f %%), reading p10-p90 %.0f-%.0f, median %.0f\n",
               r->rows_none_on, 100.0 * (double)r->rows_none_on / (double)r->rows, r->base_p10,
               r->base_p90, r->base_median);
}

/* How many problems, warnings and notes, then each with what to do. */
static void text_findings(const struct lstmsrc_report *r)
{
    int count[3] = {0, 0, 0};
    for (int i = 0; i < r->n_findings; i++)
        count[r->findings[i].severity]++;
    printf("\n%d problem%s, %d warning%s, %d note%s\n", count[2], count[2] == 1 ? "" : "s",
           count[1], count[1] == 1 ? "" : "s", count[0], count[0] == 1 ? "" : "s");
    static const char *const sev[] = {"note", "WARN", "PROBLEM"};
    const int indent = 23;
    for (int i = 0; i < r->n_findings; i++) {
        const struct lstmsrc_finding *f = &r->findings[i];
        printf("\n%-8s %-13s ", sev[f->severity], lstmsrc_finding_code_str(f->code));
        wrap(f->message, indent, indent);
        if (f->advice && f->advice[0]) {
            printf("%*s-> ", indent, "");
            wrap(f->advice, indent + 3, indent + 3);
        }
    }
}

/* "--seq N" as train takes it (twice the cycle with its default centred label) and why. */
static void text_suggested_seq(const struct lstmsrc_report *r)
{
    char line[64];
    struct lstmsrc_train_config cfg;
    lstmsrc_train_config_default(&cfg);
    lstmsrc_doctor_suggest(r, LSTMSRC_SUGGEST_SEQ_LEN, &cfg);
    int w = snprintf(line, sizeof line, "  --seq %d   ", cfg.seq_len);
    fputs(line, stdout);
    char why[512];
    snprintf(why, sizeof why, "%s%s", or_q(r->seq_len_reason),
             cfg.seq_len != r->suggested_seq_len
                 ? "; twice that, a cycle on each side of the centred label (once with "
                   "--label-at last)"
                 : "");
    wrap(why, w, w);
}

/* The training settings the data suggests, each with why. */
static void text_suggested(const struct lstmsrc_report *r)
{
    struct lstmsrc_train_config def;
    lstmsrc_train_config_default(&def);
    const float default_val = def.val_fraction;
    if (!(r->suggested_seq_len > 0 || r->val_fraction_reason || r->suggested_features)) return;
    printf("\nsuggested training settings:\n");
    char line[64];
    if (r->suggested_seq_len > 0) text_suggested_seq(r);
    if (r->val_fraction_reason) {
        int w = snprintf(line, sizeof line, "  --val %g%s   ", (double)r->suggested_val_fraction,
                         r->suggested_val_fraction == default_val ? " stays" : "");
        fputs(line, stdout);
        wrap(r->val_fraction_reason, w, w);
    }
    if (r->suggested_features) {
        int w = snprintf(line, sizeof line, "  --features diff   ");
        fputs(line, stdout);
        wrap("every input is a cumulative counter: its first difference is the signal", w, w);
    }
}

static void text_report(const struct lstmsrc_report *r, const char *path)
{
    text_inputs(r, path);
    text_outputs(r);
    text_findings(r);
    text_suggested(r);
}

/* ============================== JSON ============================== */

static void key(FILE *o, const char *k, int first)
{
    if (!first) fputc(',', o);
    json_str(o, k);
    fputc(':', o);
}

static void knum(FILE *o, const char *k, double v)
{
    key(o, k, 0);
    json_num(o, v);
}

static void ksize(FILE *o, const char *k, size_t v)
{
    key(o, k, 0);
    fprintf(o, "%zu", v);
}

/* a string, or null */
static void kstr_or_null(FILE *o, const char *k, const char *s)
{
    key(o, k, 0);
    if (s)
        json_str(o, s);
    else
        fputs("null", o);
}

/* "inputs": per input its statistics */
static void json_inputs(FILE *o, const struct lstmsrc_report *r)
{
    key(o, "inputs", 0);
    fputc('[', o);
    for (int i = 0; i < r->inputs; i++) {
        const struct lstmsrc_input_stats *s = &r->input[i];
        fputs(i ? ",{" : "{", o);
        key(o, "name", 1);
        json_str(o, or_q(s->name));
        knum(o, "min", s->min);
        knum(o, "max", s->max);
        knum(o, "mean", s->mean);
        knum(o, "std", s->std);
        knum(o, "median", s->median);
        ksize(o, "negative", s->negative);
        ksize(o, "outage_runs", s->outage_runs);
        ksize(o, "outage_rows", s->outage_rows);
        ksize(o, "at_max", s->at_max);
        ksize(o, "near_max", s->near_max);
        knum(o, "max_step", s->max_step);
        knum(o, "jump_threshold", s->jump_threshold);
        ksize(o, "jumps", s->jumps);
        fputc('}', o);
    }
    fputc(']', o);
}

/* "overlap" of output j: its share with every other output where there is one */
static void json_overlap(FILE *o, const struct lstmsrc_report *r, int j)
{
    key(o, "overlap", 0);
    fputc('{', o);
    for (int k = 0, first = 1; k < r->outputs; k++) {
        double v = r->overlap[(size_t)j * (size_t)r->outputs + (size_t)k];
        if (!isfinite(v)) continue;
        key(o, or_q(r->output[k].name), first);
        json_num(o, v);
        first = 0;
    }
    fputc('}', o);
}

/* output j's object: its runs, cycles, levels and overlaps */
static void json_output(FILE *o, const struct lstmsrc_report *r, int j)
{
    const struct lstmsrc_output_stats *s = &r->output[j];
    fputs(j ? ",{" : "{", o);
    key(o, "name", 1);
    json_str(o, or_q(s->name));
    ksize(o, "on_rows", s->on_rows);
    knum(o, "on_share", s->on_share);
    ksize(o, "on_runs", s->on_runs);
    ksize(o, "cycles", s->cycles);
    knum(o, "on_run_median", s->on_run_median);
    knum(o, "on_run_p90", s->on_run_p90);
    knum(o, "off_run_median", s->off_run_median);
    knum(o, "off_run_p90", s->off_run_p90);
    knum(o, "cycle_median", s->cycle_median);
    knum(o, "cycle_p90", s->cycle_p90);
    knum(o, "flicker", s->flicker);
    ksize(o, "val_on_rows", s->val_on_rows);
    ksize(o, "last_on_row", s->last_on_row);
    ksize(o, "alone_rows", s->alone_rows);
    knum(o, "level_p10", s->level_p10);
    knum(o, "level_median", s->level_median);
    knum(o, "level_p90", s->level_p90);
    knum(o, "base_like", s->base_like);
    knum(o, "pos_weight", s->pos_weight);
    json_overlap(o, r, j);
    fputc('}', o);
}

/* with labels: "outputs" and what the rows with nothing on read */
static void json_outputs(FILE *o, const struct lstmsrc_report *r)
{
    if (!r->has_labels) return;
    key(o, "outputs", 0);
    fputc('[', o);
    for (int j = 0; j < r->outputs; j++)
        json_output(o, r, j);
    fputc(']', o);
    ksize(o, "rows_none_on", r->rows_none_on);
    ksize(o, "rows_multi_on", r->rows_multi_on);
    knum(o, "all_off_accuracy", r->all_off_accuracy);
    knum(o, "base_p10", r->base_p10);
    knum(o, "base_median", r->base_median);
    knum(o, "base_p90", r->base_p90);
    ksize(o, "val_rows", r->val_rows);
}

/* finding i's object: what, about which column, and what to do */
static void json_finding(FILE *o, const struct lstmsrc_report *r, int i)
{
    const struct lstmsrc_finding *f = &r->findings[i];
    fputs(i ? ",{" : "{", o);
    key(o, "severity", 1);
    json_str(o, lstmsrc_severity_str(f->severity));
    key(o, "code", 0);
    json_str(o, lstmsrc_finding_code_str(f->code));
    if (f->output >= 0) {
        key(o, "output", 0);
        json_str(o, or_q(r->output[f->output].name));
    }
    if (f->other >= 0) {
        key(o, "other", 0);
        json_str(o, or_q(f->output >= 0 ? r->output[f->other].name : r->input[f->other].name));
    }
    if (f->input >= 0) {
        key(o, "input", 0);
        json_str(o, or_q(r->input[f->input].name));
    }
    knum(o, "value", f->value);
    key(o, "message", 0);
    json_str(o, f->message);
    key(o, "advice", 0);
    json_str(o, f->advice);
    fputc('}', o);
}

/* "suggested": the training settings and why */
static void json_suggested(FILE *o, const struct lstmsrc_report *r)
{
    key(o, "suggested", 0);
    fputc('{', o);
    key(o, "seq_len", 1);
    if (r->suggested_seq_len > 0)
        fprintf(o, "%d", r->suggested_seq_len);
    else
        fputs("null", o);
    knum(o, "val_fraction", r->suggested_val_fraction);
    key(o, "features", 0);
    fputs(r->suggested_features ? "\"diff\"" : "null", o);
    kstr_or_null(o, "seq_len_reason", r->seq_len_reason);
    kstr_or_null(o, "val_fraction_reason", r->val_fraction_reason);
    fputc('}', o);
}

static void json_report(const struct lstmsrc_report *r, const char *path)
{
    FILE *o = stdout;
    fputc('{', o);
    key(o, "data", 1);
    json_str(o, path);
    ksize(o, "rows", r->rows);
    key(o, "task", 0);
    json_str(o, r->task == LSTMSRC_TASK_MULTILABEL ? "multilabel" : "multiclass");
    key(o, "has_labels", 0);
    fputs(r->has_labels ? "true" : "false", o);
    json_inputs(o, r);
    json_outputs(o, r);
    key(o, "findings", 0);
    fputc('[', o);
    for (int i = 0; i < r->n_findings; i++)
        json_finding(o, r, i);
    fputc(']', o);
    json_suggested(o, r);
    fputs("}\n", o);
}

/* ============================== parse ============================== */

/* What the command line says: the columns (reading flags included) and the output form. */
struct doctor_opts {
    struct lstmsrc_columns cols;
    int json;
};

static int opt_class_column(const char *cmd_, const char *flag, const char *v, void *p)
{
    struct doctor_opts *o = p;
    if (!cli_need_value(cmd_, flag, v)) return 0;
    o->cols.class_column = v;
    o->cols.mode = LSTMSRC_LABELS_CLASS;
    return 1;
}

/* --task multiclass combines the 0/1 columns unless a class column is named; multilabel
 * leaves the columns as they are */
static int opt_task(const char *cmd_, const char *flag, const char *v, void *p)
{
    struct doctor_opts *o = p;
    if (!cli_need_value(cmd_, flag, v)) return 0;
    if (!strcmp(v, "multiclass")) {
        if (o->cols.mode != LSTMSRC_LABELS_CLASS) o->cols.mode = LSTMSRC_LABELS_COMBINED;
    } else if (strcmp(v, "multilabel")) {
        cli_usage(cmd_, "--task expects multilabel or multiclass, found \"%s\"", v);
        return 0;
    }
    return 1;
}

#define OFF(f) offsetof(struct doctor_opts, f)
#define STRING(name, f)                                                                            \
    {                                                                                              \
        name, NULL, CLI_STRING, OFF(f), 0, 0, 0, NULL, NULL, NULL, 0, 0                            \
    }
#define CUSTOM(name, fn)                                                                           \
    {                                                                                              \
        name, NULL, CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, fn, 1, 0                                   \
    }
const struct cli_opt cli_opts_doctor[] = {
    {"--json", NULL, CLI_SWITCH, OFF(json), 0, 0, 1, NULL, NULL, NULL, 0, 0},
    STRING("--input", cols.input),
    STRING("--labels", cols.labels),
    CUSTOM("--class-column", opt_class_column),
    CUSTOM("--task", opt_task),
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o, the data files into a. Returns 0 or the exit code (CLI_HELP: the help was
 * printed). */
static int doctor_parse(int argc, char **argv, struct doctor_opts *o, struct cli_args *a)
{
    memset(o, 0, sizeof *o);
    o->cols.labels_optional = 1; /* a file of readings alone still gets its inputs examined */
    int rc = cli_parse(cmd, cli_opts_doctor, argc, argv, o, &o->cols, a);
    if (rc == CLI_HELP) {
        fputs(usage_text, stdout);
        fputs("\n" CLI_INGEST_HELP, stdout);
    }
    if (rc) return rc;
    if (a->n_pos == 0) return cli_usage(cmd, "no data file given");
    return 0;
}

/* ============================== run ============================== */

/* Everything a run holds, freed by doctor_free. */
struct doctor_run {
    struct doctor_opts o;
    struct cli_args a;
    const char *data; /* the data as the report names it */
    char shown[300];
    struct lstmsrc_dataset *ds;
    struct lstmsrc_report *rep;
};

static void doctor_free(struct doctor_run *r)
{
    lstmsrc_report_free(r->rep);
    lstmsrc_dataset_free(r->ds);
    cli_args_free(&r->a);
}

/* Loads the data and examines it. Returns 0 or the exit code. */
static int doctor_run(struct doctor_run *r)
{
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    /* a file of appliance watts is examined as it is: each power column is split where its
     * distribution splits, and the doctor says where (train takes --on-above auto for that) */
    if (!r->o.cols.on_above) r->o.cols.on_above_auto = 1;
    r->data = cli_data_name(r->a.pos, r->a.n_pos, r->shown, sizeof r->shown);
    if (!lstmsrc_dataset_load_files(r->a.pos, r->a.n_pos, &r->o.cols, &r->ds, &err))
        cli_report_ingest(cmd, r->ds);
    if (!r->ds || lstmsrc_doctor(r->ds, &r->rep, &err)) return cli_fail(cmd, &err);
    return 0;
}

/* ============================== report ============================== */

/* Prints the report on stdout. Returns the exit code. */
static int doctor_report(const struct doctor_run *r)
{
    if (r->o.json)
        json_report(r->rep, r->data);
    else
        text_report(r->rep, r->data);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "lstmsrc: %s: cannot write to stdout\n", cmd);
        return 1;
    }
    return 0;
}

int cmd_doctor(int argc, char **argv)
{
    struct doctor_run r;
    memset(&r, 0, sizeof r);
    int rc = doctor_parse(argc, argv, &r.o, &r.a);
    if (rc == CLI_HELP)
        rc = 0;
    else if (rc == 0 && (rc = doctor_run(&r)) == 0)
        rc = doctor_report(&r);
    doctor_free(&r);
    return rc;
}
