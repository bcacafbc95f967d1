/*
 * args.c — typed flag parsing and error reporting shared by the subcommands.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "outfile.h"
#include "svg.h" /* utf8_len */

int cli_fail(const char *cmd, const struct lstmsrc_error *err)
{
    fprintf(stderr, "lstmsrc: %s: %s\n", cmd, err->msg[0] ? err->msg : lstmsrc_status_str(err->code));
    return err->code == LSTMSRC_ERR_ARG ? EXIT_USAGE : 1;
}

int cli_probe(const char *cmd, const char *flag, const char *path)
{
    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    if (!path || outfile_probe(path, &err) == LSTMSRC_OK) return 0;
    if (err.code == LSTMSRC_ERR_ARG) return cli_usage(cmd, "%s needs a file name", flag);
    return cli_fail(cmd, &err);
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, "lstmsrc: %s: ", cmd);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'lstmsrc %s --help'.\n", cmd);
    return EXIT_USAGE;
}

int cli_flag(char **argv, int argc, int *i, const char *name, const char **val)
{
    const char *a = argv[*i];
    size_t n = strlen(name);
    if (strncmp(a, name, n) != 0) return 0;
    if (a[n] == '=') {
        *val = a + n + 1;
        return 1;
    }
    if (a[n] != '\0') return 0;
    if (*i + 1 >= argc) {
        *val = NULL;
        return 1;
    }
    *val = argv[++*i];
    return 1;
}

/* Callers pass the argument as given; "--seq=x" is still the flag --seq in a message. */
#define FLAG_NAME(flag) (int)strcspn(flag, "="), flag

static int missing(const char *cmd, const char *flag, const char *val)
{
    if (val) return 0;
    cli_usage(cmd, "%.*s needs a value", FLAG_NAME(flag));
    return 1;
}

int cli_int(const char *cmd, const char *flag, const char *val, long min, long max, int *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    long v = strtol(val, &end, 10);
    if (errno || end == val || *end || v < min || v > max) {
        cli_usage(cmd, "%.*s expects an integer from %ld to %ld, found \"%s\"", FLAG_NAME(flag),
                  min, max, val);
        return 0;
    }
    *out = (int)v;
    return 1;
}

int cli_size(const char *cmd, const char *flag, const char *val, size_t min, size_t max,
             size_t *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || end == val || *end || val[0] == '-' || v < min || v > max) {
        cli_usage(cmd, "%.*s expects an integer from %zu to %zu, found \"%s\"", FLAG_NAME(flag),
                  min, max, val);
        return 0;
    }
    *out = (size_t)v;
    return 1;
}

int cli_u64(const char *cmd, const char *flag, const char *val, uint64_t *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || end == val || *end || val[0] == '-') {
        cli_usage(cmd, "%.*s expects a non-negative integer, found \"%s\"", FLAG_NAME(flag), val);
        return 0;
    }
    *out = (uint64_t)v;
    return 1;
}

int cli_float(const char *cmd, const char *flag, const char *val, double min, double max,
              float *out)
{
    if (missing(cmd, flag, val)) return 0;
    char *end;
    errno = 0;
    double v = strtod(val, &end);
    if (errno || end == val || *end || !isfinite(v) || v < min || v > max) {
        cli_usage(cmd, "%.*s expects a number from %g to %g, found \"%s\"", FLAG_NAME(flag), min,
                  max, val);
        return 0;
    }
    *out = (float)v;
    return 1;
}

void json_str(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        int n = utf8_len(p);
        if (n == 0) {
            fputs("\\ufffd", fp); /* not UTF-8 (names may hold any bytes): stay valid JSON */
            n = 1;
        } else if (n > 1) {
            fwrite(p, 1, (size_t)n, fp);
        } else {
            switch (*p) {
            case '"': fputs("\\\"", fp); break;
            case '\\': fputs("\\\\", fp); break;
            case '\n': fputs("\\n", fp); break;
            case '\r': fputs("\\r", fp); break;
            case '\t': fputs("\\t", fp); break;
            default:
                if (*p < 0x20) fprintf(fp, "\\u%04x", *p);
                else fputc(*p, fp);
            }
        }
        p += n;
    }
    fputc('"', fp);
}

void json_num(FILE *fp, double x)
{
    if (!isfinite(x)) fputs("null", fp);
    else fprintf(fp, "%.6g", x);
}
