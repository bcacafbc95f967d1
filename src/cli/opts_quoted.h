/*
 * opts_quoted.h — cli_parse for the commands that have always named an unknown option in double
 * quotes (predict, eval, inspect) and that may take a limited number of arguments (inspect), so
 * their messages stay what scripts and users have seen.
 */
#ifndef LSTMSRC_CLI_OPTS_QUOTED_H
#define LSTMSRC_CLI_OPTS_QUOTED_H

#include "cli.h"

/* The same as cli_parse, but an unknown option says `unknown option "X"` and, when max_pos is
 * not negative, an argument past the max_pos-th says `unexpected argument "X"`: each at its
 * place on the command line, after what the flags before it say and before --help or anything
 * after it. */
int cli_parse_quoted(const char *cmd, const struct cli_opt *table, int argc, char **argv,
                     void *opts, struct lstmsrc_columns *ingest, int max_pos, struct cli_args *a);

#endif
