/*
 * test_cli_options.c — each command's option table and its --help say the same thing: every
 * flag of the table (and its alias) is named in the help, every option line of the help
 * ("  --flag ...") names a flag the table (or, for commands that read data, the reading flags)
 * parses, and --help exits 0. Links the CLI's objects (the library build's libcli-fuzz.a).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "test.h"

struct command {
    const char *name;
    int (*run)(int, char **);
    const struct cli_opt *table;
    int ingest;          /* takes the reading flags */
    const char *refused; /* reading flags it takes only to refuse them, undocumented */
};

static const struct command commands[] = {
    {"train", cmd_train, cli_opts_train, 1, ""},
    {"eval", cmd_eval, cli_opts_eval, 1, ""},
    {"predict", cmd_predict, cli_opts_predict, 1, ""},
    {"stream", cmd_stream, cli_opts_stream, 1, " --fill --fill-max --decimal --on-above "},
    {"plot", cmd_plot, cli_opts_plot, 1, ""},
    {"doctor", cmd_doctor, cli_opts_doctor, 1, ""},
    {"inspect", cmd_inspect, cli_opts_inspect, 0, ""},
    {"gen", cmd_gen, cli_opts_gen, 0, ""},
    {"export-c", cmd_export_c, cli_opts_export_c, 0, ""},
};

/* The command's --help text (malloc'd), and its exit status in *rc. */
static char *help_of(const struct command *c, int *rc)
{
    char path[] = "/tmp/lstmsrc-help-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0) return NULL;
    fflush(stdout);
    int saved = dup(1);
    dup2(fd, 1);
    char *argv[] = {(char *)c->name, "--help", NULL};
    *rc = c->run(2, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    long n = lseek(fd, 0, SEEK_END);
    char *text = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (text && pread(fd, text, (size_t)n, 0) == n) {
        text[n] = '\0';
    } else {
        free(text);
        text = NULL;
    }
    close(fd);
    unlink(path);
    return text;
}

/* flag named in text as a whole word (not a prefix of a longer flag) */
static int names(const char *text, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = strstr(text, flag); p; p = strstr(p + 1, flag)) {
        char before = p == text ? ' ' : p[-1], after = p[n];
        int word_before = before == '-' || (before >= 'a' && before <= 'z');
        int word_after =
            after == '-' || (after >= 'a' && after <= 'z') || (after >= '0' && after <= '9');
        if (!word_before && !word_after) return 1;
    }
    return 0;
}

static int in_table(const struct command *c, const char *flag)
{
    for (const struct cli_opt *o = c->table; o->name; o++)
        if (!strcmp(o->name, flag) || (o->alias && !strcmp(o->alias, flag))) return 1;
    if (!strcmp(flag, "--help") || !strcmp(flag, "-h")) return 1;
    for (const struct cli_opt *o = cli_opts_ingest; c->ingest && o->name; o++)
        if (!strcmp(o->name, flag)) return 1;
    return 0;
}

static void test_tables_match_help(void)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        const struct command *c = &commands[i];
        int rc = -1;
        char *text = help_of(c, &rc);
        CHECK(text != NULL);
        if (!text) continue;
        if (rc != 0) fprintf(stderr, "  %s --help: exit %d\n", c->name, rc);
        CHECK(rc == 0);
        for (const struct cli_opt *o = c->table; o->name; o++)
            for (int k = 0; k < 2; k++) {
                const char *flag = k ? o->alias : o->name;
                int ok = !flag || names(text, flag);
                if (!ok)
                    fprintf(stderr, "  %s: %s is in the table, not in --help\n", c->name, flag);
                CHECK(ok);
            }
        for (const struct cli_opt *o = cli_opts_ingest; c->ingest && o->name; o++) {
            char word[64];
            snprintf(word, sizeof word, " %s ", o->name);
            if (strstr(c->refused, word)) continue;
            int ok = names(text, o->name);
            if (!ok) fprintf(stderr, "  %s: %s is read, not in --help\n", c->name, o->name);
            CHECK(ok);
        }
        /* option lines: two spaces, then the flags ("-o FILE, --output FILE  text") */
        for (char *line = text; *line;) {
            char *end = strchr(line, '\n');
            size_t len = end ? (size_t)(end - line) : strlen(line);
            if (len > 3 && line[0] == ' ' && line[1] == ' ' && line[2] == '-') {
                char flag[64];
                size_t f = strcspn(line + 2, " ,=\n");
                if (f < sizeof flag) {
                    memcpy(flag, line + 2, f);
                    flag[f] = '\0';
                    int ok = in_table(c, flag);
                    if (!ok)
                        fprintf(stderr, "  %s: --help names %s, no table parses it\n", c->name,
                                flag);
                    CHECK(ok);
                }
            }
            line += len + (end != NULL);
        }
        free(text);
    }
}

static void test_table_names_are_flags(void)
{
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        for (const struct cli_opt *o = commands[i].table; o->name; o++) {
            CHECK(o->name[0] == '-');
            CHECK(o->kind != CLI_CUSTOM || o->parse != NULL);
            CHECK(o->kind != CLI_CHOICE || o->choices != NULL);
        }
}

int main(void)
{
    RUN(test_tables_match_help);
    RUN(test_table_names_are_flags);
    return test_report("test_cli_options");
}
