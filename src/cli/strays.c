/*
 * strays.c — cli_parse for a command that words a stray argument itself: the command line is
 * parsed by cli_parse in runs that end before each option not in the table (a reading flag,
 * read here by cli_ingest_flag, or the unknown option), so every flag is read as cli_parse
 * reads it and every message comes in the order of the command line.
 */
#include <stdlib.h>
#include <string.h>

#include "strays.h"

/* 1 when argv[*i] is a flag of table, *i then past its value (as cli_parse takes it). */
static int table_flag(const struct cli_opt *table, int argc, char **argv, int *i)
{
    const char *arg = argv[*i], *v;
    for (const struct cli_opt *o = table; o->name; o++) {
        int has = o->kind != CLI_SWITCH && (o->kind != CLI_CUSTOM || o->takes_value);
        if (has ? cli_flag(argv, argc, i, o->name, &v) ||
                      (o->alias && cli_flag(argv, argc, i, o->alias, &v))
                : !strcmp(arg, o->name) || (o->alias && !strcmp(arg, o->alias)))
            return 1;
    }
    return 0;
}

/* The first argument from argv[from] on that cli_parse would not take as a flag of table: an
 * option, or the positional argument after `room` more; argc when there is none before the end
 * or a -h/--help. */
static int run_end(const struct cli_opt *table, int argc, char **argv, int from, int room)
{
    for (int i = from; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return argc;
        if (table_flag(table, argc, argv, &i)) continue;
        if ((arg[0] == '-' && arg[1] != '\0') || room-- == 0) return i;
    }
    return argc;
}

int cli_parse_strays(const char *cmd, const struct cli_opt *table, int argc, char **argv,
                     void *opts, struct lstmsrc_columns *ingest, struct cli_args *a, int max_pos,
                     const char *unknown, const char *extra)
{
    memset(a, 0, sizeof *a);
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    if (!a->pos) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        return 1;
    }
    for (int done = 0;;) { /* argv[1..done] are read */
        int end = run_end(table, argc, argv, done + 1, max_pos - a->n_pos);
        struct cli_args run; /* argv[done + 1..end) as a command line of its own */
        int rc = cli_parse(cmd, table, end - done, argv + done, opts, ingest, &run);
        for (int k = 0; k < run.n_pos; k++)
            a->pos[a->n_pos++] = run.pos[k];
        a->given |= run.given;
        cli_args_free(&run);
        if (rc || end == argc) return rc;
        const char *arg = argv[end];
        int bad = 0;
        if (arg[0] != '-' || arg[1] == '\0') return cli_usage(cmd, extra, arg);
        if (!ingest || !cli_ingest_flag(cmd, argv, argc, &end, ingest, &bad))
            return cli_usage(cmd, unknown, arg);
        if (bad) return EXIT_USAGE;
        done = end;
    }
}
