/*
 * cmd_eval.c — `lstmsrc eval MODEL DATA.csv [--json]`: a model's scores on labelled data, each
 * printed beside the trivial baselines (all off / majority class, and "on if reading > t"),
 * because on data where nothing is on most of the time a high accuracy means nothing by itself.
 * Text for people, or exactly one JSON object for scripts; results on stdout only. Under
 * mpirun the files are shared over the ranks and the counts reduced (eval_ranks).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char cmd[] = "eval";

static void eval_usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: lstmsrc eval MODEL DATA.csv [--json] [--raw] [--precision P]\n"
        "\n"
        "Evaluates MODEL on every full window of DATA.csv, which must have the model's input\n"
        "and label columns (matched by name). A window's label is the state at its last row, or\n"
        "at its centre for a model trained with --label-at center.\n"
        "Multi-label: per-source precision, recall, F1 and support, macro F1, exact-match\n"
        "accuracy and Hamming loss, beside the all-off and \"on if reading > t\" baselines.\n"
        "Multi-class: accuracy, per-class table, macro F1, confusion matrix, beside the\n"
        "majority-class baseline.\n"
        "Multi-label decisions are scored after the model's minimum on/off durations (tuned\n"
        "in training, see `lstmsrc inspect`), as predict and stream give them; --raw scores\n"
        "the thresholded decisions without them.\n"
        "A model that does not make at least 1 %% fewer errors than \"all off\" on exact-match\n"
        "accuracy or Hamming loss (multi-class: than the majority class on accuracy) gets a\n"
        "warning line after the tables; --json says it in beats_all_off (beats_majority).\n"
        "Under mpirun (a `make MPI=1` build) the files are dealt out over the ranks and their\n"
        "counts added up: rank 0 prints what one process prints for the same files.\n"
        "\n"
        "options:\n"
        "  --json       print one JSON object instead of tables (default: text)\n"
        "  --raw        no minimum on/off durations: every window's own decision\n"
        "  --precision P\n"
        "               fp32 (default), bf16 (products in bf16, sums in fp32; needs AVX-512\n"
        "               BF16) or auto (bf16 where the quality gate held; today fp32)\n"
        "  -h, --help   this text\n"
        "\n"
        "example:\n"
        "  lstmsrc eval model.lsm test.csv --json\n");
    fputs("\n" CLI_INGEST_HELP, fp);
}

static const char *name_or(const char *s)
{
    return s ? s : "?";
}

/* Width of the name column: the longest name, within reason. */
static int name_width(const struct lstmsrc_eval *ev, int min)
{
    int w = min;
    for (int j = 0; j < ev->outputs; j++) {
        size_t n = strlen(name_or(ev->per[j].name));
        if (n > (size_t)w) w = n > 40 ? 40 : (int)n;
    }
    return w;
}

/* ============================== text ============================== */

static void text_multilabel(const struct lstmsrc_eval *ev)
{
    int nw = name_width(ev, 6);
    printf("%-*s  precision  recall      F1  support  threshold  min on/off |  rule F1  "
           "rule: reading >\n",
           nw, "source");
    for (int j = 0; j < ev->outputs; j++) {
        const struct lstmsrc_output_metrics *o = &ev->per[j];
        char mins[32];
        snprintf(mins, sizeof mins, "%d/%d", o->min_on, o->min_off);
        printf("%-*.*s  %9.3f  %6.3f  %6.3f  %7zu  %9.3f  %10s |  %7.3f  %15.1f\n", nw, nw,
               name_or(o->name), o->precision, o->recall, o->f1, o->support, o->threshold, mins,
               o->baseline_f1, o->baseline_threshold);
    }
    printf("\n%-22s %7s  %7s  %14s\n", "", "model", "all off", "threshold rule");
    printf("%-22s %7.3f  %7.3f  %14.3f\n", "macro F1", ev->macro_f1, ev->all_off_macro_f1,
           ev->threshold_macro_f1);
    printf("%-22s %7.3f  %7.3f  %14.3f\n", "exact-match accuracy", ev->subset_accuracy,
           ev->all_off_subset_accuracy, ev->threshold_subset_accuracy);
    printf("%-22s %7.3f  %7.3f  %14.3f\n", "Hamming loss", ev->hamming_loss,
           ev->all_off_hamming_loss, ev->threshold_hamming_loss);
}

static int digits(size_t v)
{
    int d = 1;
    while (v >= 10) {
        v /= 10;
        d++;
    }
    return d;
}

static void text_multiclass(const struct lstmsrc_eval *ev)
{
    int k = ev->outputs, nw = name_width(ev, 5);
    printf("%-*s  precision  recall      F1  support\n", nw, "class");
    for (int j = 0; j < k; j++) {
        const struct lstmsrc_output_metrics *o = &ev->per[j];
        printf("%-*.*s  %9.3f  %6.3f  %6.3f  %7zu\n", nw, nw, name_or(o->name), o->precision,
               o->recall, o->f1, o->support);
    }
    printf("\n%-10s %7s  majority (always \"%s\")\n", "", "model",
           name_or(ev->per[ev->majority_class].name));
    printf("%-10s %7.3f  %7.3f\n", "accuracy", ev->accuracy, ev->majority_accuracy);
    printf("%-10s %7.3f  %7.3f\n", "macro F1", ev->macro_f1, ev->majority_macro_f1);

    /* columns are class indexes: names can be long ("src1+src2+src3") */
    size_t maxc = (size_t)k - 1;
    for (size_t i = 0; i < (size_t)k * (size_t)k; i++)
        if (ev->confusion[i] > maxc) maxc = ev->confusion[i];
    int cw = digits(maxc) + 1, iw = digits((size_t)k - 1);
    printf("\nconfusion matrix (rows: true class, columns: predicted class)\n");
    printf("%*s  %-*s ", iw, "", nw, "");
    for (int c = 0; c < k; c++)
        printf("%*d", cw, c);
    printf("\n");
    for (int r = 0; r < k; r++) {
        printf("%*d  %-*.*s ", iw, r, nw, nw, name_or(ev->per[r].name));
        for (int c = 0; c < k; c++)
            printf("%*zu", cw, ev->confusion[(size_t)r * (size_t)k + c]);
        printf("\n");
    }
}

/* ============================== JSON ============================== */

static void json_key_num(const char *key, double x)
{
    json_str(stdout, key);
    fputc(':', stdout);
    json_num(stdout, x);
}

static void json_multilabel(const struct lstmsrc_eval *ev)
{
    FILE *o = stdout;
    fprintf(o, "\"task\":\"multilabel\",\"windows\":%zu,", ev->windows);
    json_key_num("subset_accuracy", ev->subset_accuracy);
    fputc(',', o);
    json_key_num("hamming_loss", ev->hamming_loss);
    fputc(',', o);
    json_key_num("macro_f1", ev->macro_f1);
    fputs(",\"sources\":[", o);
    for (int j = 0; j < ev->outputs; j++) {
        const struct lstmsrc_output_metrics *m = &ev->per[j];
        fputs(j ? ",{\"name\":" : "{\"name\":", o);
        json_str(o, name_or(m->name));
        fputc(',', o);
        json_key_num("precision", m->precision);
        fputc(',', o);
        json_key_num("recall", m->recall);
        fputc(',', o);
        json_key_num("f1", m->f1);
        fprintf(o, ",\"support\":%zu,", m->support);
        json_key_num("threshold", m->threshold);
        fprintf(o, ",\"min_on\":%d,\"min_off\":%d}", m->min_on, m->min_off);
    }
    fputs("],\"baselines\":{\"all_off\":{", o);
    json_key_num("subset_accuracy", ev->all_off_subset_accuracy);
    fputc(',', o);
    json_key_num("macro_f1", ev->all_off_macro_f1);
    fputc(',', o);
    json_key_num("hamming_loss", ev->all_off_hamming_loss);
    fputs("},\"threshold\":{", o);
    json_key_num("macro_f1", ev->threshold_macro_f1);
    fputc(',', o);
    json_key_num("subset_accuracy", ev->threshold_subset_accuracy);
    fputc(',', o);
    json_key_num("hamming_loss", ev->threshold_hamming_loss);
    fputs(",\"sources\":[", o);
    for (int j = 0; j < ev->outputs; j++) {
        const struct lstmsrc_output_metrics *m = &ev->per[j];
        fputs(j ? ",{\"name\":" : "{\"name\":", o);
        json_str(o, name_or(m->name));
        fputc(',', o);
        json_key_num("f1", m->baseline_f1);
        fputc(',', o);
        json_key_num("threshold", m->baseline_threshold);
        fputc('}', o);
    }
    fputs("]}}", o);
}

static void json_multiclass(const struct lstmsrc_eval *ev)
{
    FILE *o = stdout;
    size_t k = (size_t)ev->outputs;
    fprintf(o, "\"task\":\"multiclass\",\"windows\":%zu,", ev->windows);
    json_key_num("accuracy", ev->accuracy);
    fputc(',', o);
    json_key_num("macro_f1", ev->macro_f1);
    fputs(",\"classes\":[", o);
    for (size_t j = 0; j < k; j++) {
        const struct lstmsrc_output_metrics *m = &ev->per[j];
        fputs(j ? ",{\"name\":" : "{\"name\":", o);
        json_str(o, name_or(m->name));
        fputc(',', o);
        json_key_num("precision", m->precision);
        fputc(',', o);
        json_key_num("recall", m->recall);
        fputc(',', o);
        json_key_num("f1", m->f1);
        fprintf(o, ",\"support\":%zu}", m->support);
    }
    fputs("],\"confusion\":[", o);
    for (size_t r = 0; r < k; r++) {
        fputs(r ? ",[" : "[", o);
        for (size_t c = 0; c < k; c++)
            fprintf(o, c ? ",%zu" : "%zu", ev->confusion[r * k + c]);
        fputc(']', o);
    }
    fputs("],\"baselines\":{\"majority\":{\"class\":", o);
    json_str(o, name_or(ev->per[ev->majority_class].name));
    fputc(',', o);
    json_key_num("accuracy", ev->majority_accuracy);
    fputc(',', o);
    json_key_num("macro_f1", ev->majority_macro_f1);
    fputs("}}", o);
}

/* ============================== against the trivial answer ============================== */

/* A model beats the trivial answer ("all off"; multi-class: always the majority class) on a
 * score when it makes at least 1 % fewer errors there: on REFIT's test file a model right in 6
 * more of 11219 windows (exact-match 0.8693 against 0.8688) prints as the same 0.869 and is no
 * win. Errors: 1 - accuracy, or the Hamming loss itself. */
#define MIN_FEWER_ERRORS 0.01

/* share of the trivial answer's errors the model avoids (negative: it makes more) */
static double fewer_errors(double model_err, double trivial_err)
{
    if (trivial_err <= 0.0) return model_err <= 0.0 ? 0.0 : -1.0;
    return (trivial_err - model_err) / trivial_err;
}

struct beats {
    double subset, hamming; /* multi-label: fewer_errors of exact-match and Hamming loss */
    double accuracy;        /* multi-class: fewer_errors of the accuracy */
};

static struct beats beats_trivial(const struct lstmsrc_eval *ev)
{
    struct beats b = {1.0, 1.0, 1.0};
    if (ev->task == LSTMSRC_TASK_MULTILABEL) {
        b.subset = fewer_errors(1.0 - ev->subset_accuracy, 1.0 - ev->all_off_subset_accuracy);
        b.hamming = fewer_errors(ev->hamming_loss, ev->all_off_hamming_loss);
    } else {
        b.accuracy = fewer_errors(1.0 - ev->accuracy, 1.0 - ev->majority_accuracy);
    }
    return b;
}

static int wins(double fewer)
{
    return fewer >= MIN_FEWER_ERRORS;
}

/* "exact-match accuracy (model 0.8693, all off 0.8688: 0.4 % fewer errors)": 3 decimals, more
 * (up to 6) where 3 would show two different numbers as one */
static void versus(const char *what, double model, const char *base, double trivial, double fewer)
{
    int d = 3;
    char a[32], b[32];
    for (;;) {
        snprintf(a, sizeof a, "%.*f", d, model);
        snprintf(b, sizeof b, "%.*f", d, trivial);
        if (model == trivial || strcmp(a, b) || d == 6) break;
        d++;
    }
    printf("%s (model %s, %s %s", what, a, base, b);
    if (fewer > 0.0) printf(": %.1f %% fewer errors", 100.0 * fewer);
    putchar(')');
}

/* One line after the tables when the model does not beat the trivial answer. */
static void text_warning(const struct lstmsrc_eval *ev, struct beats b)
{
    if (ev->task == LSTMSRC_TASK_MULTILABEL) {
        int s = wins(b.subset), h = wins(b.hamming);
        if (s && h) return;
        printf("\nwarning: the model does not beat \"all off\" (never anything on) on ");
        if (!s)
            versus("exact-match accuracy", ev->subset_accuracy, "all off",
                   ev->all_off_subset_accuracy, b.subset);
        if (!s && !h) printf(" or on ");
        if (!h)
            versus("Hamming loss", ev->hamming_loss, "all off", ev->all_off_hamming_loss,
                   b.hamming);
        printf("; a win takes at least 1 %% fewer errors\n");
    } else {
        if (wins(b.accuracy)) return;
        printf("\nwarning: the model does not beat always answering \"%s\" on ",
               name_or(ev->per[ev->majority_class].name));
        versus("accuracy", ev->accuracy, "majority", ev->majority_accuracy, b.accuracy);
        printf("; a win takes at least 1 %% fewer errors\n");
    }
}

/* ============================== parse ============================== */

/* What the command line says. */
struct eval_opts {
    struct lstmsrc_columns user; /* reading flags over the model's own */
    int json, raw, precision;
};

#define OFF(f) offsetof(struct eval_opts, f)
#define SWITCH(name, f)                                                                            \
    {                                                                                              \
        name, NULL, CLI_SWITCH, OFF(f), 0, 0, 1, NULL, NULL, NULL, 0, 0                            \
    }
const struct cli_opt cli_opts_eval[] = {
    SWITCH("--json", json),
    SWITCH("--raw", raw),
    {"--precision", NULL, CLI_CHOICE, OFF(precision), 0, 0, 0, CLI_PRECISION_CHOICES, NULL, NULL, 0,
     0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o; a->pos: MODEL, then the data files. Returns 0 or the exit code (CLI_HELP:
 * the help was printed). */
static int eval_parse(int argc, char **argv, struct eval_opts *o, struct cli_args *a)
{
    memset(o, 0, sizeof *o);
    int rc = cli_parse(cmd, cli_opts_eval, argc, argv, o, &o->user, a);
    if (rc == CLI_HELP) eval_usage(stdout);
    if (rc) return rc;
    if (a->n_pos < 2) return cli_usage(cmd, "needs MODEL and DATA.csv");
    return cli_precision_refused(cmd, o->precision);
}

/* ============================== run ============================== */

/* Everything a run holds, freed by eval_free. */
struct eval_run {
    struct eval_opts o;
    struct cli_args a;
    const char *model, *data; /* the model's path, the data as the output names it */
    char shown[300];
    struct lstmsrc_model *m;
    struct lstmsrc_dataset *ds;
    struct lstmsrc_eval *ev;
    struct lstmsrc_model_info info;
};

static void eval_free(struct eval_run *r)
{
    lstmsrc_eval_free(r->ev);
    lstmsrc_dataset_free(r->ds);
    lstmsrc_model_free(r->m);
    cli_args_free(&r->a);
}

/* Loads the model (without its durations for --raw) and sets it up. Returns its status. */
static enum lstmsrc_status eval_model(struct eval_run *r, struct lstmsrc_error *err)
{
    enum lstmsrc_status st = lstmsrc_model_load(r->model, &r->m, err);
    if (!st && r->o.raw) st = lstmsrc_model_set_durations(r->m, NULL, NULL, err);
    if (!st) st = lstmsrc_model_set_precision(r->m, (enum lstmsrc_precision)r->o.precision, err);
    if (!st) lstmsrc_model_get_info(r->m, &r->info);
    return st;
}

/* One process: loads the data over the model's columns and scores it. Returns 0 or the exit
 * code. */
static int eval_alone(struct eval_run *r, const char *const *files, int n_files)
{
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_columns cols;
    enum lstmsrc_status st = eval_model(r, &err);
    if (!st) {
        lstmsrc_model_columns(r->m, 0, &cols);
        cli_ingest_apply(&r->o.user, &cols);
        st = lstmsrc_dataset_load_files(files, n_files, &cols, &r->ds, &err);
        if (!st) cli_report_ingest(cmd, r->ds);
    }
    if (!st) st = lstmsrc_evaluate(r->m, r->ds, &r->ev, &err);
    return st ? cli_fail(cmd, &err) : 0;
}

/* What a rank tells the others of its files for the ingest report: the counts, and of its
 * first file read its index and time column (the one process's report names the first file
 * read). */
struct eval_share {
    uint64_t n[CLI_IN_N];
    double period;
    int32_t first; /* n_files: no file read */
    int32_t has_time;
    char time_name[LSTMSRC_MAX_NAME];
};

/* A file wholly outside --from/--until: left out, as the one process leaves it out. */
static int outside_range(const struct lstmsrc_error *e)
{
    return e->code == LSTMSRC_ERR_PARSE &&
           strstr(e->msg, ": no data rows between --from and --until (") != NULL;
}

/* Every rank's share added up into *in (names from files, the first file read, and its time
 * column); returns 0, or -1 when the exchange failed. */
static int eval_gather(const struct eval_run *r, const char *const *files, int n_files, int n_mine,
                       struct cli_ingest *in, char *time_name)
{
    const struct lstmsrc_comm *comm = cli_mpi_comm();
    const size_t size = (size_t)comm->size;
    struct eval_share *all = calloc(size, sizeof *all);
    size_t *bytes = calloc(size, sizeof *bytes);
    int rc = -1;
    if (!all || !bytes) goto done;
    struct eval_share *me = &all[comm->rank];
    cli_ingest_counts(r->ds, in);
    if (!r->ds) in->n[CLI_IN_SKIPPED] = (size_t)n_mine; /* every one of them outside */
    for (int i = 0; i < CLI_IN_N; i++)
        me->n[i] = in->n[i];
    me->first = n_files;
    if (r->ds) { /* its first file read: the first of this rank's files of that name */
        const char *name = lstmsrc_dataset_file(r->ds, 0, NULL);
        for (int i = comm->rank; i < n_files && me->first == n_files; i += comm->size)
            if (!strcmp(files[i], name)) me->first = i;
        me->period = in->period;
        me->has_time = in->time_name != NULL;
        if (in->time_name) snprintf(me->time_name, sizeof me->time_name, "%s", in->time_name);
    }
    for (size_t k = 0; k < size; k++)
        bytes[k] = sizeof *all;
    if (comm->allgather(comm->user, all, bytes)) goto done;
    memset(in, 0, sizeof *in);
    const struct eval_share *lead = NULL;
    for (size_t k = 0; k < size; k++) {
        for (int i = 0; i < CLI_IN_N; i++)
            in->n[i] += (size_t)all[k].n[i];
        if (all[k].first < n_files && (!lead || all[k].first < lead->first)) lead = &all[k];
    }
    if (lead) {
        in->source = files[lead->first];
        in->period = lead->period;
        if (lead->has_time) {
            memcpy(time_name, lead->time_name, sizeof lead->time_name);
            in->time_name = time_name;
        }
    }
    rc = 0;
done:
    free(all);
    free(bytes);
    return rc;
}

/* Under mpirun (N ranks): file i is rank i mod N's, as predict deals them out; each rank
 * scores its files (none: an empty part) and the counts are added over the ranks, so rank 0
 * has the numbers of one process on every file, and says them. A rank that fails says why
 * (the lowest one that did), and every rank ends with an exit code. Returns 0 or the exit
 * code. */
static int eval_ranks(struct eval_run *r, const char *const *files, int n_files)
{
    struct lstmsrc_error err = {LSTMSRC_OK, ""}, outside = {LSTMSRC_OK, ""};
    struct lstmsrc_columns cols;
    const int rank = cli_mpi_rank(), size = cli_mpi_size();
    /* a threshold chosen from the data is one process's first file's: refused, not guessed */
    if (r->o.user.on_above_auto) {
        if (rank == 0)
            return cli_usage(cmd, "--on-above auto picks the thresholds from the first file; "
                                  "under mpirun give them (--on-above NAME=W)");
        return EXIT_USAGE;
    }
    const char **mine = calloc((size_t)n_files, sizeof *mine);
    int n_mine = 0;
    enum lstmsrc_status st = LSTMSRC_OK;
    if (!mine) {
        st = err.code = LSTMSRC_ERR_NOMEM;
        snprintf(err.msg, sizeof err.msg, "out of memory for %d file names", n_files);
    }
    for (int i = rank; mine && i < n_files; i += size)
        mine[n_mine++] = files[i];
    if (!st) st = eval_model(r, &err);
    if (!st && n_mine) {
        lstmsrc_model_columns(r->m, 0, &cols);
        cli_ingest_apply(&r->o.user, &cols);
        st = lstmsrc_dataset_load_files(mine, n_mine, &cols, &r->ds, &err);
        if (st && outside_range(&err)) { /* all of this rank's files: not an error yet */
            outside = err;
            st = LSTMSRC_OK;
        }
    }
    free(mine);
    if (!st) st = lstmsrc_evaluate_part(r->m, r->ds, &r->ev, &err);
    /* every rank goes on, or none: the first that failed says why */
    const int first = cli_mpi_first(st != LSTMSRC_OK);
    if (first >= 0) {
        if (st && first == rank) return cli_fail(cmd, &err);
        return st == LSTMSRC_ERR_ARG ? EXIT_USAGE : 1;
    }
    struct cli_ingest in;
    char time_name[LSTMSRC_MAX_NAME];
    if (eval_gather(r, files, n_files, n_mine, &in, time_name) ||
        (st = lstmsrc_eval_reduce(r->ev, cli_mpi_comm(), &err)) != LSTMSRC_OK) {
        if (!st) snprintf(err.msg, sizeof err.msg, "the exchange of counts failed");
        err.code = LSTMSRC_ERR_IO;
        return rank == 0 ? cli_fail(cmd, &err) : 1;
    }
    /* every file outside --from/--until: the one process's error is its last file's */
    if (in.n[CLI_IN_FILES] == 0) return rank == (n_files - 1) % size ? cli_fail(cmd, &outside) : 1;
    if (rank != 0) return 0;
    cli_report_ingest_counts(cmd, &in);
    if (r->ev->windows == 0) { /* as lstmsrc_evaluate says it of the files as one data set */
        if (in.n[CLI_IN_SEGMENTS] > 1)
            snprintf(err.msg, sizeof err.msg,
                     "%s: %zu segments, none as long as the model's window of %d rows", in.source,
                     in.n[CLI_IN_SEGMENTS], r->info.seq_len);
        else
            snprintf(err.msg, sizeof err.msg,
                     "%s: %zu rows, fewer than the model's window of %d rows", in.source,
                     in.n[CLI_IN_ROWS], r->info.seq_len);
        err.code = LSTMSRC_ERR_PARSE;
        return cli_fail(cmd, &err);
    }
    return 0;
}

/* Scores the model on the data files, in this process or over mpirun's ranks. Returns 0 or
 * the exit code. */
static int eval_run(struct eval_run *r)
{
    const char *const *files = r->a.pos + 1;
    const int n_files = r->a.n_pos - 1;
    r->model = r->a.pos[0];
    r->data = cli_data_name(files, n_files, r->shown, sizeof r->shown);
    return cli_mpi_size() > 1 ? eval_ranks(r, files, n_files) : eval_alone(r, files, n_files);
}

/* ============================== report ============================== */

/* The one JSON object: the scores, what was scored, and whether the model beats the trivial
 * answer. */
static void json_report(const struct eval_run *r)
{
    const struct lstmsrc_eval *ev = r->ev;
    fputc('{', stdout);
    if (ev->task == LSTMSRC_TASK_MULTILABEL)
        json_multilabel(ev);
    else
        json_multiclass(ev);
    fputs(",\"model\":", stdout);
    json_str(stdout, r->model);
    fputs(",\"data\":", stdout);
    json_str(stdout, r->data);
    struct beats b = beats_trivial(ev);
    if (ev->task == LSTMSRC_TASK_MULTILABEL)
        printf(",\"beats_all_off\":{\"subset_accuracy\":%s,\"hamming_loss\":%s}",
               wins(b.subset) ? "true" : "false", wins(b.hamming) ? "true" : "false");
    else
        printf(",\"beats_majority\":{\"accuracy\":%s}", wins(b.accuracy) ? "true" : "false");
    printf(",\"seq_len\":%d,\"label_offset\":%d,\"durations\":\"%s\"}\n", r->info.seq_len,
           r->info.label_offset, r->o.raw ? "raw" : "model");
}

/* The tables for people: what was scored and how, the scores, then the warning. */
static void text_report(const struct eval_run *r)
{
    const struct lstmsrc_eval *ev = r->ev;
    const struct lstmsrc_model_info *info = &r->info;
    int ml = ev->task == LSTMSRC_TASK_MULTILABEL;
    printf("%s on %s: %zu windows of %d rows, %s, %d %s\n", r->model, r->data, ev->windows,
           info->seq_len, ml ? "multi-label" : "multi-class", ev->outputs,
           ml ? "sources" : "classes");
    if (info->label_offset)
        printf("(a window's label is the state at its centre, %d rows before its last)\n",
               info->label_offset);
    else
        printf("(a window's label is the state at its last row)\n");
    if (ml && (r->o.raw || info->decision_delay > 0))
        printf("%s\n", r->o.raw ? "(decisions without minimum on/off durations: --raw)"
                                : "(decisions after the model's minimum on/off durations; --raw: "
                                  "without)");
    printf("\n");
    if (ml)
        text_multilabel(ev);
    else
        text_multiclass(ev);
    text_warning(ev, beats_trivial(ev));
}

/* Prints the results on stdout. Returns the exit code. */
static int eval_report(const struct eval_run *r)
{
    if (r->o.json)
        json_report(r);
    else
        text_report(r);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "lstmsrc: %s: cannot write to stdout\n", cmd);
        return 1;
    }
    return 0;
}

int cmd_eval(int argc, char **argv)
{
    struct eval_run r;
    memset(&r, 0, sizeof r);
    int rc = eval_parse(argc, argv, &r.o, &r.a);
    if (rc == CLI_HELP)
        rc = 0;
    else if (rc == 0 && (rc = eval_run(&r)) == 0 && cli_mpi_rank() == 0)
        rc = eval_report(&r); /* under mpirun rank 0 has the totals */
    eval_free(&r);
    return rc;
}
