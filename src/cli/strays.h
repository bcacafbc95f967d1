/*
 * strays.h — cli_parse for the commands that word a stray argument their own way (strays.c).
 * Until cli_parse can say where it met a stray argument, this is how stream, plot, export-c and
 * gen keep the messages they gave before their option tables.
 */
#ifndef LSTMSRC_CLI_STRAYS_H
#define LSTMSRC_CLI_STRAYS_H

#include "cli.h"

/* cli_parse (the same flags, values, -h/--help, errors and exit codes), except for the first
 * stray argument: an unknown option, or a positional argument after the first max_pos. That one
 * is reported where the command line has it, as a usage error (exit 2) with the command's own
 * words: cli_usage(cmd, unknown, ARG) or cli_usage(cmd, extra, ARG), each format holding one
 * "%s". An error or -h/--help before it comes first, one after it never. The reading flags go
 * to *ingest when it is not NULL; without them every option not in table is unknown. a->pos is
 * malloc'd: cli_args_free. */
int cli_parse_strays(const char *cmd, const struct cli_opt *table, int argc, char **argv,
                     void *opts, struct lstmsrc_columns *ingest, struct cli_args *a, int max_pos,
                     const char *unknown, const char *extra);

#endif
