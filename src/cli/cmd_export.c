/*
 * cmd_export.c — `lstmsrc export-c MODEL -o model.h [--prefix NAME]`: the model as one
 * self-contained C99 header (lstmsrc_export_c), and its flash and RAM sizes.
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char cmd[] = "export-c";

static void export_usage(FILE *fp)
{
    fprintf(
        fp,
        "usage: lstmsrc export-c MODEL [-o model.h] [--prefix NAME]\n"
        "\n"
        "Writes MODEL as one self-contained C99 header for a device: the weights as\n"
        "`static const float` arrays, the input scaler, the decision thresholds, the column\n"
        "names, and a streaming predictor (push one reading, get the probabilities and\n"
        "decisions) that needs no library, no malloc and nothing from libm but expf.\n"
        "Its probabilities match `lstmsrc predict` to about 1e-6.\n"
        "Prints the model's flash (constant data) and RAM (state) sizes in bytes (on stdout,\n"
        "or on stderr when the header goes to stdout).\n"
        "\n"
        "options:\n"
        "  -o FILE         output header (also --output FILE), written to a temporary name\n"
        "                  and renamed\n"
        "                  (default \"-\" = stdout)\n"
        "  --prefix NAME   prefix of every name in the header, as given: a C identifier of\n"
        "                  1 to 64 characters, not ending in \"_filter\" (default \"model\":\n"
        "                  model_state, model_push, model_INPUTS, ...); give two models\n"
        "                  different prefixes (kettle and Kettle differ) to use both in one\n"
        "                  program\n"
        "  -q, --quiet     do not print the sizes\n"
        "  -h, --help      this text\n"
        "\n"
        "example:\n"
        "  lstmsrc export-c model.lsm -o kettle.h --prefix kettle\n"
        "  cc -std=c99 -O2 main.c -lm        (main.c: #include \"kettle.h\", kettle_push(...))\n");
}

/* ============================== parse ============================== */

/* What the command line says. */
struct export_opts {
    const char *model, *out, *prefix;
    int quiet;
};

/* -o FILE, --prefix NAME: "" passes here (the probe and the exporter refuse it); a missing value
 * is said in these words */
static int opt_out(const char *c, const char *flag, const char *v, void *p)
{
    (void)flag;
    if (!v) {
        cli_usage(c, "-o needs a file name");
        return 0;
    }
    ((struct export_opts *)p)->out = v;
    return 1;
}

static int opt_prefix(const char *c, const char *flag, const char *v, void *p)
{
    (void)flag;
    if (!v) {
        cli_usage(c, "--prefix needs a name");
        return 0;
    }
    ((struct export_opts *)p)->prefix = v;
    return 1;
}

#define OFF(f) offsetof(struct export_opts, f)
#define CUSTOM(name, alias, fn)                                                                    \
    {                                                                                              \
        name, alias, CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, fn, 1, 0                                  \
    }
const struct cli_opt cli_opts_export_c[] = {
    {"-q", "--quiet", CLI_SWITCH, OFF(quiet), 0, 0, 1, NULL, NULL, NULL, 0, 0},
    CUSTOM("-o", "--output", opt_out),
    CUSTOM("--prefix", NULL, opt_prefix),
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o, MODEL from a. Returns 0 or the exit code (CLI_HELP: the help was
 * printed). */
static int export_parse(int argc, char **argv, struct export_opts *o, struct cli_args *a)
{
    memset(o, 0, sizeof *o);
    o->out = "-";
    o->prefix = "model";
    int rc = cli_parse(cmd, cli_opts_export_c, argc, argv, o, NULL, a);
    if (rc == CLI_HELP) {
        export_usage(stdout);
        return CLI_HELP;
    }
    if (rc) return rc;
    if (a->n_pos == 0) return cli_usage(cmd, "needs MODEL");
    if (a->n_pos > 1) return cli_usage(cmd, "unexpected argument '%s'", a->pos[1]);
    o->model = a->pos[0];
    return 0;
}

/* ============================== run ============================== */

/* The header written from the model (into *m). Returns 0 or the exit code. */
static int export_run(const struct export_opts *o, struct lstmsrc_model **m)
{
    int prc = cli_probe(cmd, "-o", o->out); /* before the model is read */
    if (prc) return prc;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    enum lstmsrc_status st = lstmsrc_model_load(o->model, m, &err);
    if (!st) st = lstmsrc_export_c(*m, o->prefix, o->out, &err);
    return st ? cli_fail(cmd, &err) : 0;
}

/* ============================== report ============================== */

/* The model's flash and RAM sizes: on stdout, unless the header itself goes there. */
static void export_report(const struct export_opts *o, const struct lstmsrc_model *m)
{
    if (o->quiet) return;
    struct lstmsrc_export_size sz;
    lstmsrc_export_c_size(m, &sz);
    const int to_file = strcmp(o->out, "-") != 0;
    fprintf(to_file ? stdout : stderr,
            "%s: flash %zu bytes (weights %zu + scaler, thresholds, names), RAM %zu bytes "
            "(%s_state)\n",
            to_file ? o->out : "<stdout>", sz.flash_bytes, sz.weight_bytes, sz.ram_bytes,
            o->prefix);
}

int cmd_export_c(int argc, char **argv)
{
    struct export_opts o;
    struct cli_args a;
    struct lstmsrc_model *m = NULL;
    int rc = export_parse(argc, argv, &o, &a);
    if (rc == CLI_HELP)
        rc = 0;
    else if (rc == 0 && (rc = export_run(&o, &m)) == 0)
        export_report(&o, m);
    lstmsrc_model_free(m);
    cli_args_free(&a);
    return rc;
}
