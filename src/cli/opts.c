/*
 * opts.c — the option-table parser every command runs first: flags from the command's table
 * into its options struct, the reading flags into its columns, the rest as positional
 * arguments, each bad flag or value one usage line (cli_usage) and exit status 2.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "a|b|c" -> the index of val among the choices, or -1 */
static int choice_index(const char *choices, const char *val)
{
    size_t n = strlen(val);
    int k = 0;
    for (const char *p = choices;; k++) {
        size_t len = strcspn(p, "|");
        if (len == n && !strncmp(p, val, n)) return k;
        if (!p[len]) return -1;
        p += len + 1;
    }
}

/* "FLAG expects a, b or c, found "v"" */
static void choice_usage(const char *cmd, int flen, const char *flag, const char *choices,
                         const char *val)
{
    char list[256];
    size_t n = 0, cnt = 1;
    for (const char *p = choices; *p; p++)
        cnt += *p == '|';
    size_t k = 0;
    for (const char *p = choices; n + 8 < sizeof list; k++) {
        size_t len = strcspn(p, "|");
        const char *sep = k == 0 ? "" : k + 1 == cnt ? " or " : ", ";
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%.*s", sep, (int)len, p);
        if (!p[len] || n >= sizeof list) break;
        p += len + 1;
    }
    cli_usage(cmd, "%.*s expects %s, found \"%s\"", flen, flag, list, val);
}

/* Parses one flag's value into opts; 1 when good, 0 after a usage message. */
static int take(const char *cmd, const struct cli_opt *o, const char *flag, const char *val,
                void *opts)
{
    const int flen = (int)strcspn(flag, "="); /* "--seq=x" is still the flag --seq */
    char *at = (char *)opts + o->off;
    if (o->kind == CLI_SWITCH) {
        *(int *)(void *)at = o->ival;
        return 1;
    }
    if (o->kind == CLI_CUSTOM) return o->parse(cmd, flag, val, opts);
    if (!val) {
        cli_usage(cmd, "%.*s needs a value", flen, flag);
        return 0;
    }
    switch (o->kind) {
    case CLI_STRING:
        if (!val[0] && o->min > 0) {
            cli_usage(cmd, "%.*s needs a value", flen, flag);
            return 0;
        }
        *(const char **)(void *)at = val;
        return 1;
    case CLI_INT:
        return cli_int(cmd, flag, val, (long)o->min, (long)o->max, (int *)(void *)at);
    case CLI_SIZE:
        return cli_size(cmd, flag, val, (size_t)o->min, (size_t)o->max, (size_t *)(void *)at);
    case CLI_U64:
        return cli_u64(cmd, flag, val, (uint64_t *)(void *)at);
    case CLI_FLOAT:
        return cli_float(cmd, flag, val, o->min, o->max, (float *)(void *)at);
    case CLI_CHOICE: {
        int k = choice_index(o->choices, val);
        if (k < 0) {
            choice_usage(cmd, flen, flag, o->choices, val);
            return 0;
        }
        *(int *)(void *)at = o->values ? o->values[k] : k;
        return 1;
    }
    default:
        return 0;
    }
}

/* The entry of table that argv[*i] is (advancing *i past a separate value into *v), or NULL. */
static const struct cli_opt *match(const struct cli_opt *table, char **argv, int argc, int *i,
                                   const char **v)
{
    const char *arg = argv[*i];
    for (const struct cli_opt *o = table; o->name; o++) {
        int has = o->kind != CLI_SWITCH && (o->kind != CLI_CUSTOM || o->takes_value);
        if (has ? cli_flag(argv, argc, i, o->name, v) ||
                      (o->alias && cli_flag(argv, argc, i, o->alias, v))
                : !strcmp(arg, o->name) || (o->alias && !strcmp(arg, o->alias)))
            return o;
    }
    return NULL;
}

int cli_parse(const char *cmd, const struct cli_opt *table, int argc, char **argv, void *opts,
              struct lstmsrc_columns *ingest, struct cli_args *a)
{
    memset(a, 0, sizeof *a);
    a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
    if (!a->pos) {
        fprintf(stderr, "lstmsrc: %s: out of memory\n", cmd);
        return 1;
    }
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *v = NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) return CLI_HELP;
        const struct cli_opt *o = match(table, argv, argc, &i, &v);
        if (o) {
            if (!take(cmd, o, arg, v, opts)) return EXIT_USAGE;
            a->given |= o->given;
            continue;
        }
        if (ingest && (o = match(cli_opts_ingest, argv, argc, &i, &v)) != NULL) {
            if (!take(cmd, o, arg, v, ingest)) return EXIT_USAGE;
            continue;
        }
        if (arg[0] == '-' && arg[1] != '\0') return cli_usage(cmd, "unknown option '%s'", arg);
        a->pos[a->n_pos++] = arg;
    }
    return 0;
}

void cli_args_free(struct cli_args *a)
{
    free(a->pos);
    a->pos = NULL;
    a->n_pos = 0;
}
