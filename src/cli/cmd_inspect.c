/*
 * cmd_inspect.c — `lstmsrc inspect MODEL [--json]`: everything a model file holds, readably:
 * task and label framing, architecture and parameter count, window length, the input scaler, per
 * output thresholds and weights, and how it was trained. Text for people, or exactly one JSON
 * object for scripts; results on stdout only. It reads through the public API
 * (lstmsrc_model_get_info), so it shows what the loader accepted, never raw bytes; it does not
 * print the parameters themselves.
 */
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char cmd[] = "inspect";

static void inspect_usage(FILE *fp)
{
    fprintf(fp,
            "usage: lstmsrc inspect MODEL [--json]\n"
            "\n"
            "Prints everything MODEL holds: task and label columns, architecture, parameter\n"
            "count, window length, per input the scaler mean and std, per output the decision\n"
            "threshold, the \"on if reading > t\" baseline threshold and the positive weight used\n"
            "in training, the minimum on/off durations applied to its decisions and the delay\n"
            "they add to a stream, and the training metadata (seed, rows, windows, epochs, batch, "
            "threads,\n"
            "learning rate, validation loss and macro F1; null in JSON when there was no\n"
            "validation part).\n"
            "\n"
            "options:\n"
            "  --json       print one JSON object instead of text (default: text)\n"
            "  -h, --help   this text\n"
            "\n"
            "example:\n"
            "  lstmsrc inspect model.lsm\n"
            "  lstmsrc inspect model.lsm --json\n");
}

static const char *task_str(enum lstmsrc_task t)
{
    return t == LSTMSRC_TASK_MULTICLASS ? "multiclass" : "multilabel";
}

static const char *mode_str(enum lstmsrc_label_mode m)
{
    switch (m) {
    case LSTMSRC_LABELS_SOURCES:
        return "sources";
    case LSTMSRC_LABELS_CLASS:
        return "class";
    case LSTMSRC_LABELS_COMBINED:
        return "combined";
    }
    return "?";
}

/* ============================== text ============================== */

/* Names come from a file: keep control characters from breaking the layout (or the terminal). */
static void put_name(const char *s, int width)
{
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++, n++)
        putchar(*p < 0x20 || *p == 0x7f ? '?' : *p);
    for (; n < width; n++)
        putchar(' ');
}

static int names_width(const char *const *names, int n, int min)
{
    int w = min;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(names[i]);
        if (len > (size_t)w) w = len > 40 ? 40 : (int)len;
    }
    return w;
}

/* Channel c is column c % inputs; it is a first difference when it lies past the raw block. */
static int channel_is_diff(const struct lstmsrc_model_info *in, int c)
{
    return (in->features & LSTMSRC_FEATURE_DIFF) &&
           (!(in->features & LSTMSRC_FEATURE_RAW) || c >= in->inputs);
}

/* The task and what the model reads: its label columns, power labels, outages, time column. */
static void text_columns(const struct lstmsrc_model_info *in)
{
    int ml = in->task == LSTMSRC_TASK_MULTILABEL;
    printf("  task          %s\n",
           ml ? "multi-label (each source on or off)" : "multi-class (one class per window)");
    switch (in->label_mode) {
    case LSTMSRC_LABELS_SOURCES:
        printf("  labels        one 0/1 column per source (%d)\n", in->n_labels);
        break;
    case LSTMSRC_LABELS_CLASS:
        printf("  labels        one integer class column, classes 0..%d\n", in->outputs - 1);
        break;
    case LSTMSRC_LABELS_COMBINED:
        printf("  labels        %d 0/1 columns combined into %d classes\n", in->n_labels,
               in->outputs);
        break;
    }
    printf("  label columns ");
    for (int i = 0; i < in->n_labels; i++) {
        if (i) printf(", ");
        put_name(in->label_names[i], 0);
    }
    if (in->on_above) {
        printf("\n  power labels  ON above");
        for (int i = 0, n = 0; i < in->n_labels; i++)
            if (in->on_above[i] >= 0.0f) {
                printf("%s ", n++ ? "," : "");
                put_name(in->label_names[i], 0);
                printf(" %g", (double)in->on_above[i]);
            }
    }
    if (in->use_invalid_below)
        printf("\n  outages       a reading below %g leaves its row out",
               (double)in->invalid_below);
    if (in->time_name) {
        printf("\n  time          column ");
        put_name(in->time_name, 0);
        printf(", a row every %g s; a step over %g s starts a new segment", in->period,
               in->max_gap);
    }
}

/* The network: layers, parameters, window, channels and the labelled row. */
static void text_network(const struct lstmsrc_model_info *in)
{
    int ml = in->task == LSTMSRC_TASK_MULTILABEL;
    printf("\n  architecture  %d input%s -> %d x LSTM(%d)%s -> dense %d (%s)\n", in->inputs,
           in->inputs == 1 ? "" : "s", in->layers, in->hidden,
           in->directions == 2 ? ", the top one bidirectional" : "", in->outputs,
           ml ? "sigmoid" : "softmax");
    printf("  parameters    %zu (%zu bytes as float32)\n", in->n_params, in->n_params * 4);
    printf("  window        %d rows\n", in->seq_len);
    printf("  channels      %s%s%s per input column (%d in all)\n",
           in->features & LSTMSRC_FEATURE_RAW ? "raw" : "",
           in->features == LSTMSRC_FEATURES_ALL ? " + " : "",
           in->features & LSTMSRC_FEATURE_DIFF ? "first difference" : "", in->channels);
    if (in->label_at == LSTMSRC_LABEL_CENTER)
        printf("  labelled row  centre: %d rows before the window's last (a stream answers each "
               "row %d rows after it arrives)\n",
               in->label_offset, in->label_offset);
    else
        printf("  labelled row  the window's last (online)\n");
}

/* Per channel the scaler's mean and std. */
static void text_channels(const struct lstmsrc_model_info *in)
{
    int w = names_width(in->input_names, in->inputs, 5) + 3;
    printf("\nchannels (standardised as (x - mean) / std; d() = first difference)\n");
    if (in->scaler == LSTMSRC_SCALER_PER_FILE)
        printf("  scaler: per-file (each file's mean and std, fitted on its own readings)\n");
    printf("  ");
    put_name("name", w);
    printf("  %14s  %14s\n", "mean", "std");
    for (int c = 0; c < in->channels; c++) {
        int diff = channel_is_diff(in, c);
        const char *nm = in->input_names[c % in->inputs];
        printf("  %s", diff ? "d(" : "");
        put_name(nm, 0);
        int used = (int)strlen(nm) + (diff ? 3 : 0);
        printf("%s%*s", diff ? ")" : "", w > used ? w - used : 0, "");
        printf("  %14.6g  %14.6g\n", (double)in->scale_mean[c], (double)in->scale_std[c]);
    }
}

/* Per output its threshold, baseline rule, weight and durations, and what they mean. */
static void text_outputs(const struct lstmsrc_model_info *in)
{
    int ml = in->task == LSTMSRC_TASK_MULTILABEL;
    int w = names_width(in->output_names, in->outputs, 6);
    printf("\noutputs\n  ");
    put_name(ml ? "source" : "class", w);
    printf("  %9s  %14s  %10s  %6s  %7s\n", "threshold", "rule: input >", "pos weight", "min on",
           "min off");
    for (int j = 0; j < in->outputs; j++) {
        printf("  ");
        put_name(in->output_names[j], w);
        printf("  %9.4g  %14.6g  %10.4g  %6d  %7d\n", (double)in->thresholds[j],
               (double)in->baseline_thresholds[j], (double)in->pos_weights[j], in->min_on[j],
               in->min_off[j]);
    }
    printf("  (rule: on if ");
    put_name(in->input_names[0], 0);
    printf(" > t, fitted on the training rows%s)\n",
           ml ? "" : "; thresholds and weights matter for multi-label only");
    if (ml)
        printf("  (min on/off: decisions are post-processed per source, in rows: off-gaps shorter\n"
               "   than min off between two on-runs are filled, then on-runs shorter than min on\n"
               "   dropped; 1 = nothing changed)\n"
               "  decision delay %d row%s: the durations hold a decision back that many rows at "
               "most,\n  on top of the labelled row's %d (a stream settles a row %d rows after it "
               "arrives at most)\n",
               in->decision_delay, in->decision_delay == 1 ? "" : "s",
               in->label_at == LSTMSRC_LABEL_CENTER ? in->label_offset : 0,
               in->decision_delay + (in->label_at == LSTMSRC_LABEL_CENTER ? in->label_offset : 0));
}

/* How it was trained: the model it was fine-tuned from, seed, data, epochs, validation. */
static void text_training(const struct lstmsrc_model_info *in)
{
    printf("\ntraining\n");
    if (in->init_name) { /* train --init: the model it was fine-tuned from */
        printf("  init          ");
        put_name(in->init_name, 0);
        printf(" (crc32 %08" PRIx32 ")\n", in->init_crc);
    }
    printf("  seed          %" PRIu64 "\n", in->seed);
    printf("  rows          %" PRIu64 " train, %" PRIu64 " validation\n", in->rows_train,
           in->rows_val);
    printf("  windows       %" PRIu64 " train, %" PRIu64 " validation\n", in->windows_train,
           in->windows_val);
    if (in->stride > 0)
        printf("  stride        a training window every %d row%s\n", in->stride,
               in->stride == 1 ? "" : "s");
    printf("  epochs        %d run, best %d\n", in->epochs_run, in->best_epoch);
    printf("  batch         %d\n", in->batch);
    if (in->threads > 0) /* older models: the count they were trained on */
        printf("  threads       %d\n", in->threads);
    printf("  learning rate %g\n", (double)in->lr);
    if (in->val_loss < 0)
        printf("  validation    none (no validation part)\n");
    else
        printf("  validation    loss %.6g, macro F1 %.4f (best epoch)\n", (double)in->val_loss,
               (double)in->val_macro_f1);
}

static void print_text(const char *path, const struct lstmsrc_model_info *in)
{
    printf("%s\n", path);
    text_columns(in);
    text_network(in);
    text_channels(in);
    text_outputs(in);
    text_training(in);
}

/* ============================== JSON ============================== */

static void json_key_num(FILE *o, const char *key, double x)
{
    json_str(o, key);
    fputc(':', o);
    json_num(o, x);
}

/* Negative validation numbers mean "no validation part": null, not a fake score. */
static void json_key_opt(FILE *o, const char *key, double x)
{
    json_key_num(o, key, x < 0 ? (double)NAN : x);
}

/* "label_columns", "on_above", "invalid_below" and "time": what the model reads */
static void json_columns(FILE *o, const struct lstmsrc_model_info *in)
{
    fputs(",\"label_columns\":[", o);
    for (int i = 0; i < in->n_labels; i++) {
        if (i) fputc(',', o);
        json_str(o, in->label_names[i]);
    }
    fputs("],\"on_above\":[", o);
    for (int i = 0; i < in->n_labels; i++) {
        if (i) fputc(',', o);
        if (in->on_above && in->on_above[i] >= 0.0f)
            json_num(o, in->on_above[i]);
        else
            fputs("null", o);
    }
    fputs("],\"invalid_below\":", o);
    if (in->use_invalid_below)
        json_num(o, in->invalid_below);
    else
        fputs("null", o);
    fputs(",\"time\":", o);
    if (in->time_name) {
        fputs("{\"column\":", o);
        json_str(o, in->time_name);
        fputs(",\"period\":", o);
        json_num(o, in->period);
        fputs(",\"max_gap\":", o);
        json_num(o, in->max_gap);
        fputc('}', o);
    } else {
        fputs("null", o);
    }
}

/* "inputs": one entry per network channel, the column it comes from and how; "outputs" */
static void json_channels(FILE *o, const struct lstmsrc_model_info *in)
{
    fputs(",\"inputs\":[", o);
    for (int c = 0; c < in->channels; c++) {
        fputs(c ? ",{\"name\":" : "{\"name\":", o);
        json_str(o, in->input_names[c % in->inputs]);
        fprintf(o, ",\"channel\":\"%s\",", channel_is_diff(in, c) ? "diff" : "raw");
        json_key_num(o, "mean", in->scale_mean[c]);
        fputc(',', o);
        json_key_num(o, "std", in->scale_std[c]);
        fputc('}', o);
    }
    fputs("],\"outputs\":[", o);
    for (int j = 0; j < in->outputs; j++) {
        fputs(j ? ",{\"name\":" : "{\"name\":", o);
        json_str(o, in->output_names[j]);
        fputc(',', o);
        json_key_num(o, "threshold", in->thresholds[j]);
        fputc(',', o);
        json_key_num(o, "baseline_threshold", in->baseline_thresholds[j]);
        fputc(',', o);
        json_key_num(o, "pos_weight", in->pos_weights[j]);
        fprintf(o, ",\"min_on\":%d,\"min_off\":%d}", in->min_on[j], in->min_off[j]);
    }
    fputc(']', o);
}

/* "training": how it was trained, and the model it was fine-tuned from */
static void json_training(FILE *o, const struct lstmsrc_model_info *in)
{
    fprintf(o,
            ",\"training\":{\"seed\":%" PRIu64 ",\"rows_train\":%" PRIu64 ",\"rows_val\":%" PRIu64
            ",\"windows_train\":%" PRIu64 ",\"windows_val\":%" PRIu64
            ",\"epochs_run\":%d,\"best_epoch\":%d,\"batch\":%d,\"threads\":%d,\"stride\":%d,",
            in->seed, in->rows_train, in->rows_val, in->windows_train, in->windows_val,
            in->epochs_run, in->best_epoch, in->batch, in->threads, in->stride);
    json_key_num(o, "lr", in->lr);
    fputc(',', o);
    json_key_opt(o, "val_loss", in->val_loss);
    fputc(',', o);
    json_key_opt(o, "val_macro_f1", in->val_macro_f1);
    fputs(",\"init\":", o);
    if (in->init_name) {
        fputs("{\"name\":", o);
        json_str(o, in->init_name);
        fprintf(o, ",\"crc32\":\"%08" PRIx32 "\"}", in->init_crc);
    } else {
        fputs("null", o);
    }
    if (in->scaler == LSTMSRC_SCALER_PER_FILE) fputs(",\"scaler\":\"per-file\"", o);
    fputc('}', o);
}

static void print_json(const char *path, const struct lstmsrc_model_info *in)
{
    FILE *o = stdout;
    fputs("{\"model\":", o);
    json_str(o, path);
    fputs(",\"task\":", o);
    json_str(o, task_str(in->task));
    fputs(",\"label_mode\":", o);
    json_str(o, mode_str(in->label_mode));
    fprintf(o,
            ",\"hidden\":%d,\"layers\":%d,\"directions\":%d,\"seq_len\":%d,\"params\":%zu,"
            "\"param_bytes\":%zu",
            in->hidden, in->layers, in->directions, in->seq_len, in->n_params, in->n_params * 4);
    json_columns(o, in);
    fprintf(o, ",\"label_at\":\"%s\",\"label_offset\":%d,\"features\":[%s%s%s]",
            in->label_at == LSTMSRC_LABEL_CENTER ? "center" : "last", in->label_offset,
            in->features & LSTMSRC_FEATURE_RAW ? "\"raw\"" : "",
            in->features == LSTMSRC_FEATURES_ALL ? "," : "",
            in->features & LSTMSRC_FEATURE_DIFF ? "\"diff\"" : "");
    json_channels(o, in);
    fprintf(o, ",\"decision_delay\":%d", in->decision_delay);
    json_training(o, in);
    fputs("}\n", o);
}

/* ============================== parse ============================== */

/* What the command line says. */
struct inspect_opts {
    int json;
};

const struct cli_opt cli_opts_inspect[] = {
    {"--json", NULL, CLI_SWITCH, offsetof(struct inspect_opts, json), 0, 0, 1, NULL, NULL, NULL, 0,
     0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o; a->pos: MODEL, the one argument taken. Returns 0 or the exit code
 * (CLI_HELP: the help was printed). */
static int inspect_parse(int argc, char **argv, struct inspect_opts *o, struct cli_args *a)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(cmd, cli_opts_inspect, argc, argv, o, NULL, a);
    if (rc == CLI_HELP) inspect_usage(stdout);
    if (rc) return rc;
    if (a->n_pos == 0) return cli_usage(cmd, "needs MODEL");
    if (a->n_pos > 1) return cli_usage(cmd, "unexpected argument '%s'", a->pos[1]);
    return 0;
}

/* ============================== run ============================== */

/* Loads the model into *m and its description into *info. Returns 0 or the exit code. */
static int inspect_run(const char *path, struct lstmsrc_model **m, struct lstmsrc_model_info *info)
{
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    if (lstmsrc_model_load(path, m, &err) != LSTMSRC_OK) return cli_fail(cmd, &err);
    lstmsrc_model_get_info(*m, info);
    return 0;
}

/* ============================== report ============================== */

/* Prints what the model holds on stdout. Returns the exit code. */
static int inspect_report(const struct inspect_opts *o, const char *path,
                          const struct lstmsrc_model_info *info)
{
    if (o->json)
        print_json(path, info);
    else
        print_text(path, info);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "lstmsrc: %s: cannot write to stdout\n", cmd);
        return 1;
    }
    return 0;
}

int cmd_inspect(int argc, char **argv)
{
    struct inspect_opts o;
    struct cli_args a;
    struct lstmsrc_model *m = NULL;
    struct lstmsrc_model_info info;
    int rc = inspect_parse(argc, argv, &o, &a);
    if (rc == CLI_HELP)
        rc = 0;
    else if (rc == 0 && (rc = inspect_run(a.pos[0], &m, &info)) == 0)
        rc = inspect_report(&o, a.pos[0], &info);
    lstmsrc_model_free(m);
    cli_args_free(&a);
    return rc;
}
