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
int cmd_doctor(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_stream(int argc, char **argv);
int cmd_export_c(int argc, char **argv);

/* ============================== mpi_comm.c ============================== */

/* `mpirun -np N lstmsrc ...` with a `make MPI=1` build: MPI started when a launcher started
 * this process (else, and without MPI, one process). Returns 0, or -1 after saying why. */
int cli_mpi_init(int *argc, char ***argv);
void cli_mpi_finalize(void);
int cli_mpi_rank(void); /* 0 alone */
int cli_mpi_size(void); /* 1 alone */
/* The processes for lstmsrc_train_config.comm; NULL alone. */
const struct lstmsrc_comm *cli_mpi_comm(void);
/* Collective: the lowest rank that failed, -1 when none did. */
int cli_mpi_first(int failed);
/* Ends every rank with code (nothing alone). */
void cli_mpi_abort(int code);
/* The MPI library built in ("Open MPI v4.1.4"), NULL without MPI. */
const char *cli_mpi_version(void);

/* Prediction output shared by predict and stream (pred_out.c), so both print the same bytes:
 * header "src1,src2,src3" (multi-label decisions) or "class,prob" (multi-class), then with
 * --proba one "NAME_prob" column per output; rows "0,1,0" / "src2,0.912345" (+ probabilities
 * with 6 decimals); the empty row (every field empty) where there is no prediction.
 *
 * Multi-label decisions go through the model's minimum on/off durations (lstmsrc_filter), so a
 * row's line is ready only once its decision is settled, up to the model's decision delay later.
 * The queue keeps input order: feed every input row with pred_out_push (a window's
 * probabilities) or pred_out_empty (no prediction), take the lines that are ready with
 * pred_out_next after each, and at the end call pred_out_finish and take the rest. */
struct pred_out {
    const struct lstmsrc_model *m;
    int k, multiclass, proba;
    char **qnames;        /* (k) output names, CSV-quoted where needed */
    char *header, *empty; /* full lines, '\n' included, not NUL-terminated */
    size_t header_len, empty_len;
    size_t row_max; /* bytes pred_out_row may write at most */
    uint8_t *on;    /* (k) scratch decisions */
    /* the queue of rows whose decision is not settled yet */
    struct lstmsrc_filter *filter;
    size_t cap;         /* decision delay + 1 */
    size_t head, n;     /* oldest pending row in the rings; pending rows */
    float *pend_probs;  /* (cap, k) probabilities of the pending rows */
    size_t *pend_empty; /* (cap) empty lines that follow each pending row */
    size_t owed;        /* empty lines due before the next row */
};
/* Returns 1, or 0 when out of memory. */
int pred_out_init(struct pred_out *o, const struct lstmsrc_model *m, int proba);
void pred_out_free(struct pred_out *o);
/* Writes the line for one window's probabilities (k) to dst (row_max bytes), its own decision
 * without the durations filter; returns bytes. */
size_t pred_out_row(struct pred_out *o, const float *probs, char *dst);
/* Queues the next input row: a window's probabilities (k), or a row without a prediction. */
void pred_out_push(struct pred_out *o, const float *probs);
void pred_out_empty(struct pred_out *o);
/* Ends the sequence: every queued row becomes ready. */
void pred_out_finish(struct pred_out *o);
/* Writes the next ready line to dst (row_max bytes) and returns its bytes; 0 when none. */
size_t pred_out_next(struct pred_out *o, char *dst);

/* The time field that leads a prediction line when the input has a time column, and the
 * header's: predict and stream write the same bytes. pred_out_time writes t ("YYYY-MM-DD
 * HH:MM:SS" for kind 1, ISO 8601 input; "%.15g" seconds for kind 2, Unix seconds; nothing for
 * a NaN t) and a comma at dst (PRED_OUT_TIME bytes at most); pred_out_name writes a column name
 * as a CSV field, quoted where it holds a separator, quote or line break, and a comma (2 *
 * strlen(name) + 4 bytes at most). Each returns its bytes. */
#define PRED_OUT_TIME 40
size_t pred_out_time(int kind, double t, char *dst);
size_t pred_out_name(const char *name, char *dst);

/* What train says from the data doctor (train_says.c), on stderr. Before training: the
 * report's findings that bear on a run with `cfg`, one line each, "lstmsrc: CMD: PROBLEM CODE:
 * MESSAGE -> ADVICE" in the doctor's words (every problem; the validation warnings when the run
 * keeps the doctor's validation part). After training: a warning per source never on in the
 * validation windows of `m` on `ds`, its training data. Each returns the lines it printed. */
int train_say_findings(const char *cmd, const struct lstmsrc_report *r,
                       const struct lstmsrc_train_config *cfg);
int train_say_validation(const char *cmd, const struct lstmsrc_model *m,
                         const struct lstmsrc_dataset *ds, const struct lstmsrc_train_config *cfg);

/* Prints "lstmsrc: CMD: MESSAGE" and returns the exit code for err->code (2 for ERR_ARG, else 1).
 */
int cli_fail(const char *cmd, const struct lstmsrc_error *err);
/* Checks, before any long work, that the output file path (given with flag; NULL: none, "-":
 * stdout) can be created and written (outfile_probe: nothing is left behind). Returns 0, or
 * prints why not ("lstmsrc: CMD: PATH: cannot create ...", "FLAG needs a file name" for "")
 * and returns the exit code (1, or 2 for an empty name). */
int cli_probe(const char *cmd, const char *flag, const char *path);
/* --precision's choices, in enum lstmsrc_precision order */
#define CLI_PRECISION_CHOICES "fp32|bf16|auto"
/* 0 when this CPU can run precision p; else says why in one line and returns 2 (usage). */
int cli_precision_refused(const char *cmd, int p);
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

/* One option table per command (opts.c). Each entry names a flag (and an alias), the kind of
 * value it takes, where that value goes in the command's own options struct (offsetof), and
 * a bit that cli_parse sets in *given when the flag appears, so a command can tell a default
 * from a choice. A later flag overrides an earlier one, as on any command line.
 *   CLI_SWITCH   no value: the int at off becomes ival
 *   CLI_STRING   the value as given (const char *, "" refused unless min is 1)
 *   CLI_INT      int from min to max        CLI_SIZE   size_t from min to max
 *   CLI_U64      uint64_t                   CLI_FLOAT  float from min to max
 *   CLI_CHOICE   one of choices ("loss|f1"): the int at off gets values[index] (NULL: index)
 *   CLI_CUSTOM   parse(cmd, flag, value, opts) prints its own usage error and returns 0 on a
 *                bad value (value NULL for a switch: takes_value 0)
 * The table ends with an entry whose name is NULL. */
enum cli_kind {
    CLI_SWITCH,
    CLI_STRING,
    CLI_INT,
    CLI_SIZE,
    CLI_U64,
    CLI_FLOAT,
    CLI_CHOICE,
    CLI_CUSTOM
};
struct cli_opt {
    const char *name, *alias;
    enum cli_kind kind;
    size_t off;
    double min, max;
    int ival;
    const char *choices;
    const int *values;
    int (*parse)(const char *cmd, const char *flag, const char *val, void *opts);
    int takes_value; /* CLI_CUSTOM: 1 when the flag has a value */
    unsigned given;
};
/* What cli_parse found besides the flags. */
struct cli_args {
    const char **pos; /* (argc) the arguments that are not flags, in order ("-" is one) */
    int n_pos;
    unsigned given; /* the given bits of every flag that appeared */
};
#define CLI_HELP (-1)
/* Parses argv[1..argc) against table into opts. Reading flags (cli_opts_ingest) go to *ingest
 * when it is not NULL. Returns 0; CLI_HELP for -h/--help (the caller prints its help and
 * exits 0); or, on a usage error it printed (unknown option, missing or bad value), its exit
 * code (2), or 1 when out of memory. a->pos is malloc'd: cli_args_free. */
int cli_parse(const char *cmd, const struct cli_opt *table, int argc, char **argv, void *opts,
              struct lstmsrc_columns *ingest, struct cli_args *a);
void cli_args_free(struct cli_args *a);
/* Each command's table, named cli_opts_CMD (tests/test_cli_options.c checks each flag is in
 * the command's --help). */
extern const struct cli_opt cli_opts_train[], cli_opts_eval[], cli_opts_predict[],
    cli_opts_stream[], cli_opts_plot[], cli_opts_doctor[], cli_opts_inspect[], cli_opts_gen[],
    cli_opts_export_c[];

/* Typed values; on a bad value print a usage error naming the flag and return 0. cli_need_value
 * returns 1 when val is there, else prints "FLAG needs a value" and returns 0. */
int cli_need_value(const char *cmd, const char *flag, const char *val);
int cli_int(const char *cmd, const char *flag, const char *val, long min, long max, int *out);
int cli_size(const char *cmd, const char *flag, const char *val, size_t min, size_t max,
             size_t *out);
int cli_u64(const char *cmd, const char *flag, const char *val, uint64_t *out);
int cli_float(const char *cmd, const char *flag, const char *val, double min, double max,
              float *out);

/* Reading real recordings, the same flags in every command that reads data:
 *   --time COL, --no-time, --period D, --max-gap D, --from T, --until T
 *   --missing LIST     spellings of "no value" (default: empty, NA, NaN, null)
 *   --invalid-below X  a reading below X marks its row missing (an outage logged as 0 W)
 *   --fill MODE, --fill-max N  bridge holes of at most N missing rows (hold or linear)
 *   --decimal ,        numbers with a decimal comma
 *   --on-above SPEC    label columns holding power: "W" or "NAME=W,NAME=W"
 * Their option table (args.c), which cli_parse reads into struct lstmsrc_columns after the
 * command's own table. */
extern const struct cli_opt cli_opts_ingest[];
#define CLI_INGEST_HELP                                                                            \
    "real recordings (several files: windows never cross from one into the next):\n"               \
    "  --time COL            the time column (default: found by itself: a header like Time\n"      \
    "                        or timestamp, or ISO 8601 date-time cells; --no-time: none)\n"        \
    "  --period D            seconds between rows (default: the most common step; 60, 1m)\n"       \
    "  --max-gap D           a longer step starts a new segment (default 1.5 periods)\n"           \
    "  --from T, --until T   keep the rows from/until these times (inclusive)\n"                   \
    "  --decimal ,           numbers with a decimal comma also in a comma-separated file\n"        \
    "                        (read by themselves where fields are split by ';' or tabs)\n"         \
    "  --missing LIST        cells that mean \"no value\" (default: empty, NA, NaN, null); a\n"    \
    "                        row with one is left out and splits the data into segments\n"         \
    "  --invalid-below X     a reading below X marks its row missing (outages logged as 0)\n"      \
    "  --fill hold|linear    bridge holes of missing rows (not time gaps) instead of splitting:\n" \
    "                        the row before's readings, or the line between the rows on\n"         \
    "                        either side; labels the row before's (stream cannot: it has not\n"    \
    "                        read the row after)\n"                                                \
    "  --fill-max N          the longest hole bridged, in rows (default 5)\n"                      \
    "  --on-above SPEC       label columns holding power are ON above a threshold: W for\n"        \
    "                        all, NAME=W,NAME=W, or auto: where each one's distribution\n"         \
    "                        splits in two (kept in the model)\n"
/* How a command names its data: the file, or "A.csv and 2 more files" (in buf) for several. */
const char *cli_data_name(const char *const *files, int n, char *buf, size_t cap);
/* Copies the reading flags the user gave (cli_parse into `user`) over cols, which
 * lstmsrc_model_columns filled with the model's own. */
void cli_ingest_apply(const struct lstmsrc_columns *user, struct lstmsrc_columns *cols);
/* One line on stderr, "lstmsrc: CMD: FILE: 12 rows missing (...), 3 segments", when the data had
 * missing rows or gaps; nothing for a clean file. */
void cli_report_ingest(const char *cmd, const struct lstmsrc_dataset *ds);
/* What cli_report_ingest says, as numbers that add over the files of several processes (eval
 * under mpirun): the counts, and the first file's name and time column. */
enum {
    CLI_IN_CELLS,
    CLI_IN_MISSING,
    CLI_IN_INVALID,
    CLI_IN_SEGMENTS,
    CLI_IN_ROWS,
    CLI_IN_FILES,
    CLI_IN_SKIPPED,
    CLI_IN_FILLED,
    CLI_IN_IRREGULAR,
    CLI_IN_GAPS,
    CLI_IN_DROPPED,
    CLI_IN_N
};
struct cli_ingest {
    size_t n[CLI_IN_N];
    const char *source, *time_name; /* borrowed from the data set */
    double period;
};
/* ds NULL: every count 0. */
void cli_ingest_counts(const struct lstmsrc_dataset *ds, struct cli_ingest *in);
/* The lines after the power thresholds' (which stay cli_report_ingest's). */
void cli_report_ingest_counts(const char *cmd, const struct cli_ingest *in);

/* Minimal JSON output helpers: a string with escapes, and a number (non-finite -> null). */
void json_str(FILE *fp, const char *s);
void json_num(FILE *fp, double x);

#endif
