/*
 * cmd_export.c — `lstmsrc export-c MODEL -o model.h [--prefix NAME]`: the model as one
 * self-contained C99 header (lstmsrc_export_c), and its flash and RAM sizes.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char cmd[] = "export-c";

static void export_usage(FILE *fp)
{
    fprintf(fp,
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
            "  -o FILE         output header, written to a temporary name and renamed\n"
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

int cmd_export_c(int argc, char **argv)
{
    const char *model_path = NULL, *out = "-", *prefix = "model";
    int quiet = 0;
    for (int i = 1; i < argc; i++) {
        const char *val;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            export_usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
            quiet = 1;
        } else if (cli_flag(argv, argc, &i, "-o", &val) ||
                   cli_flag(argv, argc, &i, "--output", &val)) {
            if (!val) return cli_usage(cmd, "-o needs a file name");
            out = val;
        } else if (cli_flag(argv, argc, &i, "--prefix", &val)) {
            if (!val) return cli_usage(cmd, "--prefix needs a name");
            prefix = val;
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            return cli_usage(cmd, "unknown option \"%s\"", argv[i]);
        } else if (!model_path) {
            model_path = argv[i];
        } else {
            return cli_usage(cmd, "unexpected argument \"%s\"", argv[i]);
        }
    }
    if (!model_path) return cli_usage(cmd, "needs MODEL");
    int prc = cli_probe(cmd, "-o", out); /* before the model is read */
    if (prc) return prc;

    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_model *m = NULL;
    enum lstmsrc_status st = lstmsrc_model_load(model_path, &m, &err);
    if (!st) st = lstmsrc_export_c(m, prefix, out, &err);
    if (st) {
        int rc = cli_fail(cmd, &err);
        lstmsrc_model_free(m);
        return rc;
    }
    if (!quiet) {
        struct lstmsrc_export_size sz;
        lstmsrc_export_c_size(m, &sz);
        /* on stdout, unless the header itself goes there */
        fprintf(strcmp(out, "-") ? stdout : stderr,
                "%s: flash %zu bytes (weights %zu + scaler, thresholds, names), RAM %zu bytes "
                "(%s_state)\n",
                strcmp(out, "-") ? out : "<stdout>", sz.flash_bytes, sz.weight_bytes, sz.ram_bytes,
                prefix);
    }
    lstmsrc_model_free(m);
    return 0;
}
