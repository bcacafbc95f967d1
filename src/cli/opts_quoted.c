/*
 * opts_quoted.c — cli_parse with the messages of the commands that name an unknown option in
 * double quotes (opts_quoted.h). It walks the command line as cli_parse does; where an argument
 * is neither a flag of the table nor a file, cli_parse first reads everything before it, so an
 * earlier bad value is still what is said, then a reading flag is read in its place, and
 * anything else is refused with this command's words. The flags are read again by the last
 * cli_parse, which sets the same values (each flag only stores its value).
 */
#include <string.h>

#include "opts_quoted.h"

/* 1 when argv[*i] is a flag of table, matched as cli_parse matches (*i then past its value) */
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

/* cli_parse over argv[1..end): 0 when it had nothing to say, else its exit code */
static int parse_before(const char *cmd, const struct cli_opt *table, int end, char **argv,
                        void *opts, struct lstmsrc_columns *ingest, struct cli_args *a)
{
    int rc = cli_parse(cmd, table, end, argv, opts, ingest, a);
    cli_args_free(a);
    return rc;
}

int cli_parse_quoted(const char *cmd, const struct cli_opt *table, int argc, char **argv,
                     void *opts, struct lstmsrc_columns *ingest, int max_pos, struct cli_args *a)
{
    for (int i = 1, n_pos = 0; i < argc; i++) {
        const char *arg = argv[i];
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) break;
        if (table_flag(table, argc, argv, &i)) continue;
        int option = arg[0] == '-' && arg[1] != '\0';
        if (!option && (max_pos < 0 || ++n_pos <= max_pos)) continue;
        int rc = parse_before(cmd, table, i, argv, opts, ingest, a), bad = 0;
        if (rc) return rc;
        if (!option) return cli_usage(cmd, "unexpected argument \"%s\"", arg);
        if (!ingest || !cli_ingest_flag(cmd, argv, argc, &i, ingest, &bad))
            return cli_usage(cmd, "unknown option \"%s\"", arg);
        if (bad) return EXIT_USAGE;
    }
    return cli_parse(cmd, table, argc, argv, opts, ingest, a);
}
