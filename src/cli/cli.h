/*
 * cli.h — what the subcommands of the `lstmsrc` tool share: the dispatch signature, typed flag
 * parsing with clear errors, and the one place that turns a library status into a message on
 * stderr and an exit code (0 ok, 1 runtime or data error, 2 usage). Only the CLI prints or exits.
 */
#ifndef LSTMSRC_CLI_H
#define LSTMSRC_CLI_H

#include <stdint.h>
#include <stdio.h>

#include "lstmsrc.h"

#define EXIT_USAGE 2

int cmd_gen(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_inspect(int argc, char **argv);

/* Prints "lstmsrc: CMD: MESSAGE" and returns the exit code for err->code (2 for ERR_ARG, else 1). */
int cli_fail(const char *cmd, const struct lstmsrc_error *err);
/* Prints "lstmsrc: CMD: MESSAGE" plus "Try 'lstmsrc CMD --help'." and returns 2. */
int cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Flag scanning. Call in a loop over argv[i]:
 *   if (cli_flag(argv, argc, &i, "--rows", &val)) { ...parse val... }
 * Accepts "--rows 5" and "--rows=5". Returns 1 and sets *val when argv[*i] is this flag (and
 * advances *i past a separate value), 0 when it is another argument. A flag with its value
 * missing sets *val to NULL (report with cli_usage). */
int cli_flag(char **argv, int argc, int *i, const char *name, const char **val);

/* Typed values; on a bad value print a usage error naming the flag and return 0. */
int cli_int(const char *cmd, const char *flag, const char *val, long min, long max, int *out);
int cli_size(const char *cmd, const char *flag, const char *val, size_t min, size_t max,
             size_t *out);
int cli_u64(const char *cmd, const char *flag, const char *val, uint64_t *out);
int cli_float(const char *cmd, const char *flag, const char *val, double min, double max,
              float *out);

/* Minimal JSON output helpers: a string with escapes, and a number (non-finite -> null). */
void json_str(FILE *fp, const char *s);
void json_num(FILE *fp, double x);

#endif
