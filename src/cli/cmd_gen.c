/*
 * cmd_gen.c — `lstmsrc gen`: write seed-like synthetic meter data as CSV, to a file or stdout.
 * Parsing and messages only; the data itself comes from lstmsrc_gen_write.
 */
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"

/* A sanity bound that reads well in the error message; 10^12 rows is ~12 TB of CSV. */
#define MAX_ROWS ((size_t)(SIZE_MAX < 1000000000000ull ? SIZE_MAX : 1000000000000ull))

static void gen_usage(FILE *fp, const struct lstmsrc_gen_config *d)
{
    fprintf(fp,
            "usage: lstmsrc gen [--rows N] [--sources K] [--seed S] [--classes] [-o FILE]\n"
            "\n"
            "Writes synthetic meter data: a drifting base reading plus one level per source while\n"
            "it is on; header \"reading,src1,...,srcK\", one row per time step, most rows with\n"
            "nothing on. Same seed, same bytes.\n"
            "\n"
            "options:\n"
            "  --rows N       rows to write (default %zu)\n"
            "  --sources K    sources, 1..%d (default %d)\n"
            "  --seed S       random seed (default %" PRIu64 ")\n"
            "  --classes      one column \"class\" = combined on/off pattern, src1 the most\n"
            "                 significant bit (2^K classes; K <= %d)\n"
            "  -o FILE        output file (also --output FILE), written to a temporary name\n"
            "                 and renamed\n"
            "                 (default \"-\" = stdout)\n"
            "  -h, --help     this text\n"
            "\n"
            "example:\n"
            "  lstmsrc gen --rows 200000 --sources 3 --seed 7 -o train.csv\n",
            d->rows, LSTMSRC_MAX_SOURCES, d->sources, d->seed, LSTMSRC_MAX_COMBINED);
}

/* ============================== parse ============================== */

static const char cmd[] = "gen";

/* What the command line says. */
struct gen_opts {
    struct lstmsrc_gen_config cfg;
    const char *out;
};

/* -o FILE: "" passes here (the probe refuses it); a missing value is said in these words */
static int opt_out(const char *c, const char *flag, const char *v, void *p)
{
    (void)flag;
    if (!v) {
        cli_usage(c, "-o needs a file name");
        return 0;
    }
    ((struct gen_opts *)p)->out = v;
    return 1;
}

#define OFF(f) offsetof(struct gen_opts, f)
const struct cli_opt cli_opts_gen[] = {
    {"--classes", NULL, CLI_SWITCH, OFF(cfg.classes), 0, 0, 1, NULL, NULL, NULL, 0, 0},
    {"--rows", NULL, CLI_SIZE, OFF(cfg.rows), 1, (double)MAX_ROWS, 0, NULL, NULL, NULL, 0, 0},
    {"--sources", NULL, CLI_INT, OFF(cfg.sources), 1, LSTMSRC_MAX_SOURCES, 0, NULL, NULL, NULL, 0,
     0},
    {"--seed", NULL, CLI_U64, OFF(cfg.seed), 0, 0, 0, NULL, NULL, NULL, 0, 0},
    {"-o", "--output", CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, opt_out, 1, 0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o (gen takes no other argument: one is refused once the flags are read); then
 * whether --classes can hold the sources. Returns 0 or the exit code (CLI_HELP: the help was
 * printed). */
static int gen_parse(int argc, char **argv, struct gen_opts *o)
{
    struct cli_args a;
    memset(o, 0, sizeof *o);
    lstmsrc_gen_config_default(&o->cfg);
    o->out = "-";
    int rc = cli_parse(cmd, cli_opts_gen, argc, argv, o, NULL, &a);
    if (!rc && a.n_pos > 0) rc = cli_usage(cmd, "unexpected argument '%s'", a.pos[0]);
    cli_args_free(&a);
    if (rc == CLI_HELP) {
        struct lstmsrc_gen_config defaults;
        lstmsrc_gen_config_default(&defaults);
        gen_usage(stdout, &defaults);
        return CLI_HELP;
    }
    if (rc) return rc;
    if (o->cfg.classes && o->cfg.sources > LSTMSRC_MAX_COMBINED)
        return cli_usage(cmd, "--classes allows at most %d sources (2^%d classes), not %d",
                         LSTMSRC_MAX_COMBINED, LSTMSRC_MAX_COMBINED, o->cfg.sources);
    return 0;
}

/* ============================== run ============================== */

/* The rows written (nothing to report but a failure). Returns 0 or the exit code. */
static int gen_run(const struct gen_opts *o)
{
    int prc = cli_probe(cmd, "-o", o->out); /* before any row is made */
    if (prc) return prc;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    if (lstmsrc_gen_write(&o->cfg, o->out, &err)) return cli_fail(cmd, &err);
    return 0;
}

int cmd_gen(int argc, char **argv)
{
    struct gen_opts o;
    int rc = gen_parse(argc, argv, &o);
    if (rc == CLI_HELP) return 0;
    return rc ? rc : gen_run(&o);
}
