/*
 * cmd_gen.c — `lstmsrc gen`: write seed-like synthetic meter data as CSV, to a file or stdout.
 * Parsing and messages only; the data itself comes from lstmsrc_gen_write.
 */
#include <inttypes.h>
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
            "  -o FILE        output file, written to a temporary name and renamed\n"
            "                 (default \"-\" = stdout)\n"
            "  -h, --help     this text\n"
            "\n"
            "example:\n"
            "  lstmsrc gen --rows 200000 --sources 3 --seed 7 -o train.csv\n",
            d->rows, LSTMSRC_MAX_SOURCES, d->sources, d->seed, LSTMSRC_MAX_COMBINED);
}

int cmd_gen(int argc, char **argv)
{
    static const char cmd[] = "gen";
    struct lstmsrc_gen_config cfg, defaults;
    lstmsrc_gen_config_default(&cfg);
    defaults = cfg;
    const char *out = "-";

    for (int i = 1; i < argc; i++) {
        const char *val;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            gen_usage(stdout, &defaults);
            return 0;
        } else if (!strcmp(argv[i], "--classes")) {
            cfg.classes = 1;
        } else if (cli_flag(argv, argc, &i, "--rows", &val)) {
            if (!cli_size(cmd, "--rows", val, 1, MAX_ROWS, &cfg.rows)) return EXIT_USAGE;
        } else if (cli_flag(argv, argc, &i, "--sources", &val)) {
            if (!cli_int(cmd, "--sources", val, 1, LSTMSRC_MAX_SOURCES, &cfg.sources))
                return EXIT_USAGE;
        } else if (cli_flag(argv, argc, &i, "--seed", &val)) {
            if (!cli_u64(cmd, "--seed", val, &cfg.seed)) return EXIT_USAGE;
        } else if (cli_flag(argv, argc, &i, "-o", &val) ||
                   cli_flag(argv, argc, &i, "--output", &val)) {
            if (!val) return cli_usage(cmd, "-o needs a file name");
            out = val;
        } else {
            return cli_usage(cmd, "unexpected argument \"%s\"", argv[i]);
        }
    }
    if (cfg.classes && cfg.sources > LSTMSRC_MAX_COMBINED)
        return cli_usage(cmd, "--classes allows at most %d sources (2^%d classes), not %d",
                         LSTMSRC_MAX_COMBINED, LSTMSRC_MAX_COMBINED, cfg.sources);

    int prc = cli_probe(cmd, "-o", out); /* before any row is made */
    if (prc) return prc;
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    if (lstmsrc_gen_write(&cfg, out, &err)) return cli_fail(cmd, &err);
    return 0;
}
