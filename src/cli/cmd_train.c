/*
 * cmd_train.c — `lstmsrc train DATA.csv -o MODEL`: flags to a training config, Keras-style
 * progress on stderr, the model saved atomically, a validation summary on stdout.
 * SIGINT/SIGTERM stop training between chunks of the current step (handlers installed with
 * sigaction stay until every file is written: a second signal only says the save is under
 * way); the best model so far is still saved, the full training state too (to --checkpoint
 * FILE, else MODEL.ckpt), and the message says how to resume with --resume. A final save that
 * fails writes the model to a fallback (save_fallback) and names it.
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "plot.h"

static const char usage_text[] =
    "usage: lstmsrc train DATA.csv [MORE.csv ...] -o MODEL [options]\n"
    "\n"
    "Trains an LSTM that tells which sources are on from the reading. By default column 1 is the\n"
    "reading and every other column is a 0/1 label per source (multi-label).\n"
    "\n"
    "columns:\n"
    "  --input COLS          input channels, names or 1-based indexes (default: 1)\n"
    "  --labels COLS         0/1 label columns (default: all other columns)\n"
    "  --class-column COL    one integer class column (multi-class)\n"
    "  --task T              multilabel (default) or multiclass (N 0/1 columns -> 2^N classes)\n";
/* the rest of the help (one literal may hold 4095 bytes) */
static const char usage_text2[] =
    "model:\n"
    "  --seq N               window length in rows (default 5, or what the data doctor\n"
    "                        suggests: a window covering the longest typical cycle,\n"
    "                        twice that with a centred label)\n"
    "  --hidden H            LSTM units (default 64)\n"
    "  --layers L            stacked LSTM layers (default 1)\n"
    "  --features LIST       channels per input column: raw, diff (first difference,\n"
    "                        x[t] - x[t-1], 0 on the first row) or raw,diff (default\n"
    "                        raw,diff; diff when the data doctor finds every input a\n"
    "                        cumulative counter)\n"
    "  --label-at POS        center (default: the window also sees seq/2 rows after the\n"
    "                        labelled row; stream then answers seq/2 rows late) or last\n"
    "                        (the window's last row: online, a decision per row as it\n"
    "                        arrives)\n"
    "  --directions N        2: the top layer also reads the window backwards, from its\n"
    "                        last row to the labelled row, and the head sees both\n"
    "                        directions there (default: 2 with --label-at center, else 1)\n"
    "  --bidirectional       the same as --directions 2\n"
    "training:\n"
    "  --epochs E            (default 20)\n"
    "  --batch B             (default 512)\n"
    "  --stride N            a training window every N rows (default 1; validation and eval\n"
    "                        use every window)\n"
    "  --lr X                Adam learning rate (default 0.001)\n"
    "  --clip X              clip the global gradient norm to X (default off)\n"
    "  --ema D               validate, keep and save a moving average of the weights, decay D\n"
    "                        in (0, 1) (0.99: about the last 100 steps); less dependence on\n"
    "                        the seed (default 0: off)\n"
    "  --val F               last fraction of rows held out for validation (default 0.1, or\n"
    "                        the doctor's choice when the tail misses a source)\n"
    "  --select S            the epoch whose weights are kept: loss (lowest validation loss,\n"
    "                        default) or f1 (highest validation macro F1, thresholds tuned)\n"
    "  --patience P          stop after P epochs without a better validation score (--select;\n"
    "                        default off)\n"
    "  --pos-weight W        auto (negatives/positives, capped at 50), none, or w1,w2,...\n"
    "  --threshold T         tune (per-source best F1 on validation, default) or a number\n"
    "  --durations D         minimum on/off durations applied to the decisions (multi-label):\n"
    "                        tune (per source, best F1 on validation) or off (default)\n"
    "  --min-on N            every source: drop on-runs shorter than N rows (no tuning)\n"
    "  --min-off N           every source: fill off-gaps shorter than N rows (no tuning)\n"
    "  --seed S              (default 1)\n"
    "  --threads T           (default: all cores; the same seed gives the same model bytes on\n"
    "                        any thread count)\n"
    "  --precision P         fp32 (default), bf16 (the LSTM products in bf16 with fp32 sums;\n"
    "                        needs AVX-512 BF16; the model file is fp32) or auto (bf16 where\n"
    "                        the quality gate held; today fp32)\n"
    "  -o, --output MODEL    the model file, written to a temporary name and renamed\n"
    "  -q, --quiet           no progress\n"
    "  --plot FILE.svg       draw loss and validation F1 per epoch into FILE.svg\n"
    "  --checkpoint FILE     save the full training state to FILE after every epoch\n"
    "  --resume FILE         continue from a checkpoint, with the same data and options (the\n"
    "                        model equals an uninterrupted run's, byte for byte)\n"
    "  --init MODEL          fine-tune: start from MODEL's weights; its window, hidden units,\n"
    "                        layers, directions, features and label position are the\n"
    "                        defaults, and the data must have its inputs and outputs (not\n"
    "                        with --resume or --checkpoint)\n"
    "  --init-scaler S       with --init: keep (default, MODEL's scaler) or refit (fitted on\n"
    "                        this data's training part)\n";
static const char usage_text3[] =
    "  --scaler S            global (default: one mean and std per channel over every file)\n"
    "                        or per-file (each file by its own, here and in every later\n"
    "                        file: a house's base load and level do not reach the model)\n"
    "\n"
    "Ctrl-C (SIGINT) or SIGTERM stops between chunks of the current step (within about a\n"
    "second) and saves the best model so far and the training state (to --checkpoint FILE,\n"
    "else MODEL.ckpt); the message says how to resume. A second one does not cut the save.\n"
    "If the model cannot be saved at MODEL at the end, it goes to MODEL.saved-PID, else to\n"
    "$TMPDIR/NAME.saved-PID, and the message says where (exit status 1).\n"
    "\n"
    "Before training, the data doctor's problems (see `lstmsrc doctor`) are printed on stderr,\n"
    "even with --quiet; training ends with a warning for each source never on in the\n"
    "validation part (its threshold was then tuned on the training windows).\n"
    "\n"
    "example:\n"
    "  lstmsrc train train.csv -o model.lsm --epochs 10 --seq 5\n";

/* "raw", "diff", "raw,diff" (any order, no repeats) -> LSTMSRC_FEATURE_* bits; 0 if not */
static int parse_features(const char *v, unsigned *out)
{
    unsigned bits = 0;
    const char *p = v;
    for (;;) {
        size_t n = strcspn(p, ",");
        unsigned b = n == 3 && !strncmp(p, "raw", 3)    ? LSTMSRC_FEATURE_RAW
                     : n == 4 && !strncmp(p, "diff", 4) ? LSTMSRC_FEATURE_DIFF
                                                        : 0;
        if (!b || (bits & b)) return 0;
        bits |= b;
        if (!p[n]) break;
        p += n + 1;
    }
    *out = bits;
    return 1;
}

/* the one flag a signal handler may set; training polls it between chunks and steps */
static volatile sig_atomic_t stop_flag;
/* What a second signal says, kept up to date by the main thread from what it measured, in
 * tenths of a second (-1: nothing measured yet): the work a stop still waits for (the rest of a
 * chunk, or a validation pass, which is never cut), and the save of the model and training
 * state (the last checkpoint's write). */
static volatile sig_atomic_t est_work = -1, est_save = -1;

/* Appends s to b (cap bytes) at *n; async-signal-safe. */
static void put_str(char *b, size_t cap, size_t *n, const char *s)
{
    while (*s && *n < cap)
        b[(*n)++] = *s++;
}

/* Appends the tenths t as whole seconds rounded up (at least 1); async-signal-safe. */
static void put_secs(char *b, size_t cap, size_t *n, long t)
{
    char d[24];
    int k = 0;
    long s = (t + 9) / 10;
    if (s < 1) s = 1;
    do {
        d[k++] = (char)('0' + s % 10);
        s /= 10;
    } while (s && k < (int)sizeof d);
    while (k > 0 && *n < cap)
        b[(*n)++] = d[--k];
}

/* The first SIGINT/SIGTERM asks for a stop; later ones only say that the save is under way and
 * about how long it takes by what was measured so far (the handler stays installed until every
 * file is written, so nothing cuts the save). */
static void on_signal(int sig)
{
    (void)sig;
    if (stop_flag) {
        int e = errno;
        char b[320];
        size_t n = 0;
        long work = est_work, save = est_save;
        put_str(b, sizeof b, &n, "lstmsrc: train: already stopping: ");
        if (work < 0 && save < 0) {
            put_str(b, sizeof b, &n,
                    "saving the model and training state (nothing measured yet: "
                    "a few seconds is usual)");
        } else if (save < 0) {
            put_str(b, sizeof b, &n, "the work under way ends in about ");
            put_secs(b, sizeof b, &n, work);
            put_str(b, sizeof b, &n,
                    " s by the last step's time, then the model and training "
                    "state are saved (a few seconds is usual)");
        } else {
            put_str(b, sizeof b, &n, "saving the model and training state, done in about ");
            put_secs(b, sizeof b, &n, (work > 0 ? work : 0) + save);
            put_str(b, sizeof b, &n,
                    work > 0 ? " s by the last step and checkpoint measured"
                             : " s by the last checkpoint measured");
        }
        put_str(b, sizeof b, &n, "; the save is not cut\n");
        ssize_t r = write(2, b, n);
        (void)r;
        errno = e;
    }
    stop_flag = 1;
}

/* handler for SIGINT and SIGTERM, kept after it runs (sigaction, not one-shot signal()) */
static void set_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The model could not be saved at path (the disk filled or the directory went away during
 * training): it is written next to it as PATH.saved-PID, or when that fails too (or path is
 * "-", a device or a FIFO) in $TMPDIR (default /tmp) as BASENAME.saved-PID. Returns the
 * malloc'd name it went to, or NULL with why the last try failed in *err. */
static char *save_fallback(const struct lstmsrc_model *m, const char *path,
                           struct lstmsrc_error *err)
{
    struct stat st;
    char suffix[32];
    snprintf(suffix, sizeof suffix, ".saved-%ld", (long)getpid());
    const int beside =
        strcmp(path, "-") && (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
    const char *tmpdir = getenv("TMPDIR");
    if (!tmpdir || !tmpdir[0]) tmpdir = "/tmp";
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    if (!base[0] || !strcmp(base, "-")) base = "model.lsm";
    for (int k = beside ? 0 : 1; k < 2; k++) {
        size_t len = (k ? strlen(tmpdir) + 1 + strlen(base) : strlen(path)) + strlen(suffix) + 1;
        char *alt = malloc(len);
        if (!alt) {
            err->code = LSTMSRC_ERR_NOMEM;
            snprintf(err->msg, sizeof err->msg, "out of memory");
            return NULL;
        }
        if (k)
            snprintf(alt, len, "%s/%s%s", tmpdir, base, suffix);
        else
            snprintf(alt, len, "%s%s", path, suffix);
        if (lstmsrc_model_save(m, alt, err) == LSTMSRC_OK) return alt;
        free(alt);
    }
    return NULL;
}

/* wall-clock seconds (monotonic) */
static double now_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct ckpt_watch {
    int failed;              /* the last checkpoint write failed */
    const double *epoch_end; /* when the last epoch's report came (0: none yet) */
};

/* A checkpoint that cannot be written is a warning: training goes on (user: int, 1 while the
 * last write failed). */
static void on_checkpoint(const struct lstmsrc_error *e, void *user)
{
    struct ckpt_watch *cw = user;
    cw->failed = e->code != LSTMSRC_OK;
    if (cw->failed) fprintf(stderr, "lstmsrc: train: warning: %s; training goes on\n", e->msg);
    /* an epoch's checkpoint follows its end-of-epoch report: the time between is its write,
     * and the model's save takes about as long again at most (it is smaller) */
    if (!cw->failed && *cw->epoch_end > 0.0) {
        double s = now_wall() - *cw->epoch_end;
        est_save = (sig_atomic_t)(s * 10.0 * 1.5 + 1.0);
    }
}

struct progress_state {
    int tty;
    double last;
    double prev_seconds;       /* the last step's p->seconds, for the validation time */
    double val_seconds;        /* the last validation pass (-1: none measured) */
    double epoch_end;          /* now_wall() at the last end-of-epoch report (0: none yet) */
    double val_per_step;       /* validation windows per training window (estimate) */
    int quiet;                 /* print nothing (the callback may still record for --plot) */
    int record;                /* --plot: keep each epoch's numbers */
    struct curve_epoch *curve; /* (n_curve) */
    int n_curve, cap_curve, oom;
};

/* Keeps one epoch's numbers for --plot; out of memory only loses the picture. */
static void record_epoch(struct progress_state *ps, const struct lstmsrc_progress *p)
{
    if (ps->oom) return;
    if (ps->n_curve == ps->cap_curve) {
        int cap = ps->cap_curve ? 2 * ps->cap_curve : 64;
        struct curve_epoch *c = realloc(ps->curve, (size_t)cap * sizeof *c);
        if (!c) {
            ps->oom = 1;
            return;
        }
        ps->curve = c;
        ps->cap_curve = cap;
    }
    struct curve_epoch e = {p->epoch, p->loss, p->val_loss, p->val_f1};
    ps->curve[ps->n_curve++] = e;
}

static void bar(char *out, size_t done, size_t total)
{
    const int width = 30;
    int n = total ? (int)((double)done / (double)total * width) : width;
    for (int i = 0; i < width; i++)
        out[i] = i < n ? '=' : (i == n ? '>' : '.');
    if (n >= width) out[width - 1] = '=';
    out[width] = '\0';
}

/* Keeps est_work up to date: after a step, what a stop waits for is the rest of one chunk;
 * after an epoch's last step it is the validation pass, which runs whole (its last time, or
 * before one was measured a guess from the step's time). */
static void estimate_stop(struct progress_state *ps, const struct lstmsrc_progress *p)
{
    double w = p->chunk_seconds;
    if (p->end_of_epoch) {
        if (p->val_loss >= 0) ps->val_seconds = p->seconds - ps->prev_seconds;
        ps->epoch_end = now_wall();
        ps->prev_seconds = 0.0;
    } else {
        ps->prev_seconds = p->seconds;
        if (p->done == p->total && ps->val_per_step > 0.0)
            w = ps->val_seconds >= 0.0 ? ps->val_seconds
                                       : p->seconds / (double)p->done * ps->val_per_step *
                                             (double)p->total / 3.0; /* forward only */
    }
    est_work = (sig_atomic_t)(w * 10.0 + 1.0);
}

static void on_progress(const struct lstmsrc_progress *p, void *user)
{
    struct progress_state *ps = user;
    estimate_stop(ps, p);
    if (p->end_of_epoch && ps->record) record_epoch(ps, p);
    if (ps->quiet) return;
    if (!p->end_of_epoch && (!ps->tty || p->seconds - ps->last < 0.1)) return;
    ps->last = p->end_of_epoch ? 0.0 : p->seconds;
    char b[32];
    bar(b, p->done, p->total);
    double us = p->done ? p->seconds * 1e6 / (double)p->done : 0.0;
    fprintf(stderr, "%sEpoch %d/%d %zu/%zu [%s] %.1fs %.0fus/step - loss %.4f", ps->tty ? "\r" : "",
            p->epoch, p->epochs, p->done, p->total, b, p->seconds, us, p->loss);
    if (p->end_of_epoch && p->val_loss >= 0)
        fprintf(stderr, " - val_loss %.4f - val_f1 %.3f%s", p->val_loss, p->val_f1,
                p->improved ? " *" : "");
    if (p->end_of_epoch)
        fputc('\n', stderr);
    else if (ps->tty)
        fputs("\033[K", stderr);
    fflush(stderr);
}

/* Prints one shell word, quoted unless it is plainly safe. */
static void print_word(FILE *fp, const char *w)
{
    if (*w && strspn(w, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
                        "_-+=/.,:@%") == strlen(w)) {
        fputs(w, fp);
        return;
    }
    fputc('\'', fp);
    for (; *w; w++) {
        if (*w == '\'')
            fputs("'\\''", fp);
        else
            fputc(*w, fp);
    }
    fputc('\'', fp);
}

/* The command line of this run with "--resume CKPT" in place of any earlier --resume (the
 * thread count may differ: the same seed gives the same bits on any number of threads). */
static void print_resume_command(int argc, char **argv, const char *ckpt)
{
    fputs(" lstmsrc", stderr);
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--resume")) {
            i++;
            continue;
        }
        if (!strncmp(argv[i], "--resume=", 9)) continue;
        fputc(' ', stderr);
        print_word(stderr, argv[i]);
    }
    fputs(" --resume ", stderr);
    print_word(stderr, ckpt);
    fputc('\n', stderr);
}

/* Parses "w1,w2,..." into a malloc'd array. */
static int parse_weights(const char *s, float **out, int *n)
{
    int cap = 1;
    for (const char *p = s; *p; p++)
        cap += *p == ',';
    float *w = calloc((size_t)cap, sizeof *w);
    if (!w) return 0;
    int k = 0;
    const char *p = s;
    while (k < cap) {
        char *end;
        double v = strtod(p, &end);
        if (end == p || !(v > 0) || v > 1e6 || (*end != ',' && *end != '\0')) {
            free(w);
            return 0;
        }
        w[k++] = (float)v;
        if (*end == '\0') break;
        p = end + 1;
    }
    *out = w;
    *n = k;
    return 1;
}

/* ============================== parse ============================== */

/* What the command line says: the library's config and columns, and what only the CLI uses. */
struct train_opts {
    struct lstmsrc_columns cols;
    struct lstmsrc_train_config cfg;
    const char *out, *plot, *ckpt, *init;
    int quiet, task; /* task: 0 multilabel, 1 multiclass */
    float *weights;  /* --pos-weight w1,w2,...: owned, cfg.pos_weights points here */
};

/* cli_args.given bits: what the user chose, so neither the doctor nor --init's model does */
enum {
    GIVEN_SEQ = 1u << 0,
    GIVEN_VAL = 1u << 1,
    GIVEN_FEATURES = 1u << 2,
    GIVEN_HIDDEN = 1u << 3,
    GIVEN_LAYERS = 1u << 4,
    GIVEN_LABEL_AT = 1u << 5,
    GIVEN_DIRS = 1u << 6,
};

static int opt_class_column(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    o->cols.class_column = v;
    o->cols.mode = LSTMSRC_LABELS_CLASS;
    return 1;
}

static int opt_features(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    if (parse_features(v, &o->cfg.features)) return 1;
    cli_usage(cmd, "--features expects raw, diff or raw,diff, found \"%s\"", v);
    return 0;
}

static int opt_label_at(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    if (!strcmp(v, "last")) {
        o->cfg.label_at = LSTMSRC_LABEL_LAST;
    } else if (!strcmp(v, "center") || !strcmp(v, "centre")) {
        o->cfg.label_at = LSTMSRC_LABEL_CENTER;
    } else {
        cli_usage(cmd, "--label-at expects last or center, found \"%s\"", v);
        return 0;
    }
    return 1;
}

static int opt_directions(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    int d;
    if (!cli_int(cmd, flag, v, 1, 2, &d)) return 0;
    o->cfg.bidirectional = d == 2;
    return 1;
}

static int opt_select(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    if (!strcmp(v, "loss")) {
        o->cfg.select = LSTMSRC_SELECT_LOSS;
    } else if (!strcmp(v, "f1")) {
        o->cfg.select = LSTMSRC_SELECT_F1;
    } else {
        cli_usage(cmd, "--select expects loss or f1, found \"%s\"", v);
        return 0;
    }
    return 1;
}

static int opt_pos_weight(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    if (!strcmp(v, "auto")) {
        o->cfg.pos_weight = LSTMSRC_POS_WEIGHT_AUTO;
    } else if (!strcmp(v, "none")) {
        o->cfg.pos_weight = LSTMSRC_POS_WEIGHT_NONE;
    } else {
        free(o->weights);
        o->weights = NULL;
        if (!parse_weights(v, &o->weights, &o->cfg.n_pos_weights)) {
            cli_usage(cmd,
                      "--pos-weight expects auto, none or positive numbers w1,w2,..., found "
                      "\"%s\"",
                      v);
            return 0;
        }
        o->cfg.pos_weight = LSTMSRC_POS_WEIGHT_MANUAL;
        o->cfg.pos_weights = o->weights;
    }
    return 1;
}

static int opt_threshold(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    if (!strcmp(v, "tune")) {
        o->cfg.tune_thresholds = 1;
        return 1;
    }
    if (!cli_float(cmd, flag, v, 0.0, 1.0, &o->cfg.threshold)) return 0;
    o->cfg.tune_thresholds = 0;
    return 1;
}

static int opt_durations(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_need_value(cmd, flag, v)) return 0;
    if (!strcmp(v, "tune")) {
        o->cfg.tune_durations = 1;
    } else if (!strcmp(v, "off")) {
        o->cfg.tune_durations = 0;
        o->cfg.min_on = o->cfg.min_off = 1;
    } else {
        cli_usage(cmd, "--durations expects tune or off, found \"%s\"", v);
        return 0;
    }
    return 1;
}

/* --min-on N / --min-off N: a fixed duration for every source, no tuning */
static int opt_min_on(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_int(cmd, flag, v, 1, LSTMSRC_MAX_DURATION, &o->cfg.min_on)) return 0;
    o->cfg.tune_durations = 0;
    return 1;
}

static int opt_min_off(const char *cmd, const char *flag, const char *v, void *p)
{
    struct train_opts *o = p;
    if (!cli_int(cmd, flag, v, 1, LSTMSRC_MAX_DURATION, &o->cfg.min_off)) return 0;
    o->cfg.tune_durations = 0;
    return 1;
}

#define OFF(f) offsetof(struct train_opts, f)
#define CUSTOM(name, fn, bits)                                                                     \
    {                                                                                              \
        name, NULL, CLI_CUSTOM, 0, 0, 0, 0, NULL, NULL, fn, 1, bits                                \
    }
#define STRING(name, alias, f)                                                                     \
    {                                                                                              \
        name, alias, CLI_STRING, OFF(f), 0, 0, 0, NULL, NULL, NULL, 0, 0                           \
    }
#define INT(name, f, lo, hi, bits)                                                                 \
    {                                                                                              \
        name, NULL, CLI_INT, OFF(f), lo, hi, 0, NULL, NULL, NULL, 0, bits                          \
    }
#define FLOAT(name, f, lo, hi, bits)                                                               \
    {                                                                                              \
        name, NULL, CLI_FLOAT, OFF(f), lo, hi, 0, NULL, NULL, NULL, 0, bits                        \
    }
const struct cli_opt cli_opts_train[] = {
    /* files */
    STRING("-o", "--output", out),
    STRING("--plot", NULL, plot),
    STRING("--checkpoint", NULL, ckpt),
    STRING("--resume", NULL, cfg.resume),
    STRING("--init", NULL, init),
    {"--init-scaler", NULL, CLI_CHOICE, OFF(cfg.init_refit_scaler), 0, 0, 0, "keep|refit", NULL,
     NULL, 0, 0},
    {"--scaler", NULL, CLI_CHOICE, OFF(cfg.scaler), 0, 0, 0, "global|per-file", NULL, NULL, 0, 0},
    {"--quiet", "-q", CLI_SWITCH, OFF(quiet), 0, 0, 1, NULL, NULL, NULL, 0, 0},
    /* columns */
    STRING("--input", NULL, cols.input),
    STRING("--labels", NULL, cols.labels),
    CUSTOM("--class-column", opt_class_column, 0),
    {"--task", NULL, CLI_CHOICE, OFF(task), 0, 0, 0, "multilabel|multiclass", NULL, NULL, 0, 0},
    /* model */
    INT("--seq", cfg.seq_len, 1, LSTMSRC_MAX_SEQ, GIVEN_SEQ),
    INT("--hidden", cfg.hidden, 1, LSTMSRC_MAX_HIDDEN, GIVEN_HIDDEN),
    INT("--layers", cfg.layers, 1, LSTMSRC_MAX_LAYERS, GIVEN_LAYERS),
    CUSTOM("--features", opt_features, GIVEN_FEATURES),
    CUSTOM("--label-at", opt_label_at, GIVEN_LABEL_AT),
    CUSTOM("--directions", opt_directions, GIVEN_DIRS),
    {"--bidirectional", NULL, CLI_SWITCH, OFF(cfg.bidirectional), 0, 0, 1, NULL, NULL, NULL, 0,
     GIVEN_DIRS},
    /* training */
    INT("--epochs", cfg.epochs, 1, 1000000, 0),
    INT("--batch", cfg.batch, 1, 1 << 20, 0),
    INT("--stride", cfg.stride, 1, LSTMSRC_MAX_SEQ, 0),
    FLOAT("--lr", cfg.lr, 1e-9, 10.0, 0),
    FLOAT("--clip", cfg.clip, 0.0, 1e9, 0),
    FLOAT("--ema", cfg.ema, 0.0, 0.9999, 0),
    FLOAT("--val", cfg.val_fraction, 0.0, 0.5, GIVEN_VAL),
    CUSTOM("--select", opt_select, 0),
    INT("--patience", cfg.patience, 0, 1000000, 0),
    CUSTOM("--pos-weight", opt_pos_weight, 0),
    CUSTOM("--threshold", opt_threshold, 0),
    CUSTOM("--durations", opt_durations, 0),
    CUSTOM("--min-on", opt_min_on, 0),
    CUSTOM("--min-off", opt_min_off, 0),
    {"--seed", NULL, CLI_U64, OFF(cfg.seed), 0, 0, 0, NULL, NULL, NULL, 0, 0},
    INT("--threads", cfg.threads, 0, 256, 0),
    {"--precision", NULL, CLI_CHOICE, OFF(cfg.precision), 0, 0, 0, CLI_PRECISION_CHOICES, NULL,
     NULL, 0, 0},
    {NULL, NULL, CLI_SWITCH, 0, 0, 0, 0, NULL, NULL, NULL, 0, 0},
};

/* The flags into o, the data files into a; then what the flags cannot say alone: an output,
 * options that need a validation part or exclude each other. Returns 0 or the exit code
 * (CLI_HELP: the help was printed). */
static int train_parse(int argc, char **argv, struct train_opts *o, struct cli_args *a)
{
    const char *cmd = "train";
    memset(o, 0, sizeof *o);
    lstmsrc_train_config_default(&o->cfg);
    int rc = cli_parse(cmd, cli_opts_train, argc, argv, o, &o->cols, a);
    if (rc == CLI_HELP) {
        fputs(usage_text, stdout);
        fputs(usage_text2, stdout);
        fputs(usage_text3, stdout);
        fputs("\n" CLI_INGEST_HELP, stdout);
        return CLI_HELP;
    }
    if (rc) return rc;
    if (o->task == 1 && o->cols.mode != LSTMSRC_LABELS_CLASS)
        o->cols.mode = LSTMSRC_LABELS_COMBINED;
    if (a->n_pos == 0) return cli_usage(cmd, "no data file given");
    if (!o->out) return cli_usage(cmd, "no model file given (-o MODEL)");
    if ((rc = cli_precision_refused(cmd, o->cfg.precision))) return rc;
    /* what only a validation part can choose is refused without one, not silently dropped */
    if ((a->given & GIVEN_VAL) && o->cfg.val_fraction == 0.0f) {
        const char *need[3];
        int n = 0;
        if (o->cfg.tune_durations) need[n++] = "--durations tune";
        if (o->cfg.select == LSTMSRC_SELECT_F1) need[n++] = "--select f1";
        if (o->cfg.patience > 0) need[n++] = "--patience";
        if (n)
            return cli_usage(
                cmd, "--val 0 leaves no validation part, which %s%s%s%s%s need%s", need[0],
                n > 2   ? ", "
                : n > 1 ? " and "
                        : "",
                n > 1 ? need[1] : "", n > 2 ? " and " : "", n > 2 ? need[2] : "", n > 1 ? "" : "s");
    }
    if (o->init && (o->cfg.resume || o->ckpt))
        return cli_usage(cmd,
                         "--init and %s exclude each other (a fine-tuning run is not "
                         "resumed; run it again)",
                         o->cfg.resume ? "--resume" : "--checkpoint");
    if (!o->init && o->cfg.init_refit_scaler)
        return cli_usage(cmd, "--init-scaler needs --init MODEL");
    return 0;
}

/* ============================== run ============================== */

/* Everything a run holds, freed by train_free. */
struct train_run {
    struct train_opts o;
    struct cli_args a;
    unsigned unset;  /* LSTMSRC_SUGGEST_* bits the doctor may still choose */
    char shown[300]; /* the data as the summary names it */
    const char *data;
    char *stop_ckpt;              /* MODEL.ckpt, the state saved when a signal stops training */
    struct lstmsrc_model *init_m; /* --init's model */
    struct lstmsrc_dataset *ds;
    struct lstmsrc_model *m;
    struct progress_state ps;
    struct ckpt_watch cw;
    struct lstmsrc_error err;
    enum lstmsrc_status st; /* what lstmsrc_train returned */
    int saved_elsewhere;    /* the model went to a fallback file */
};

static void train_free(struct train_run *r)
{
    free(r->ps.curve);
    lstmsrc_model_free(r->m);
    lstmsrc_dataset_free(r->ds);
    lstmsrc_model_free(r->init_m);
    free(r->o.weights);
    free(r->stop_ckpt);
    cli_args_free(&r->a);
}

/* --init MODEL: what the command line leaves open comes from its model. Returns 0 or the exit
 * code. */
static int train_take_init(struct train_run *r)
{
    struct lstmsrc_train_config *cfg = &r->o.cfg;
    const unsigned given = r->a.given;
    struct lstmsrc_error ierr = {LSTMSRC_OK, ""};
    if (lstmsrc_model_load(r->o.init, &r->init_m, &ierr)) return cli_fail("train", &ierr);
    struct lstmsrc_model_info ii;
    lstmsrc_model_get_info(r->init_m, &ii);
    if (r->unset & LSTMSRC_SUGGEST_SEQ_LEN) cfg->seq_len = ii.seq_len;
    if (!(given & GIVEN_HIDDEN)) cfg->hidden = ii.hidden;
    if (!(given & GIVEN_LAYERS)) cfg->layers = ii.layers;
    if (!(given & GIVEN_FEATURES)) cfg->features = ii.features;
    if (!(given & GIVEN_LABEL_AT)) cfg->label_at = ii.label_at;
    if (!(given & GIVEN_DIRS)) cfg->bidirectional = ii.directions == 2;
    /* the init model's window and channels, not the doctor's */
    r->unset &= ~(LSTMSRC_SUGGEST_SEQ_LEN | LSTMSRC_SUGGEST_FEATURES);
    cfg->init = r->init_m;
    const char *slash = strrchr(r->o.init, '/');
    cfg->init_name = slash ? slash + 1 : r->o.init;
    return 0;
}

/* Every file this run writes must be creatable before the long work starts; without
 * --checkpoint the state is still saved, next to the model, when a signal stops training (not
 * next to a device or FIFO: /dev/null.ckpt is nobody's file). Returns 0 or the exit code. */
static int train_outputs(struct train_run *r)
{
    struct train_opts *o = &r->o;
    if (o->ckpt && !strcmp(o->ckpt, o->out))
        return cli_usage("train", "--checkpoint and -o name the same file '%s'", o->out);
    const char *const outs[3][2] = {{"-o", o->out}, {"--checkpoint", o->ckpt}, {"--plot", o->plot}};
    for (int k = 0; k < 3; k++) {
        int rc = cli_probe("train", outs[k][0], outs[k][1]);
        if (rc) return rc;
    }
    struct stat st;
    if (o->ckpt) {
        o->cfg.checkpoint = o->ckpt;
    } else if (!o->init && (stat(o->out, &st) != 0 || S_ISREG(st.st_mode)) &&
               (r->stop_ckpt = malloc(strlen(o->out) + sizeof ".ckpt")) != NULL) {
        strcpy(r->stop_ckpt, o->out);
        strcat(r->stop_ckpt, ".ckpt");
        o->cfg.checkpoint = r->stop_ckpt;
        o->cfg.checkpoint_on_stop_only = 1;
    }
    return 0;
}

/* Settings the user left open come from the same analysis as `lstmsrc doctor` (a window that
 * covers the longest cycle of sources the reading alone cannot separate, a validation part
 * that holds every source), and train says so; it also prints what the doctor finds wrong
 * (train_says.c). */
static void train_ask_doctor(struct train_run *r)
{
    struct lstmsrc_train_config *cfg = &r->o.cfg;
    const int quiet = r->o.quiet;
    struct lstmsrc_report *rep = NULL;
    if (!lstmsrc_dataset_has_labels(r->ds) || lstmsrc_doctor(r->ds, &rep, NULL) != LSTMSRC_OK)
        return;
    unsigned changed = lstmsrc_doctor_suggest(rep, r->unset, cfg);
    if (!quiet && (changed & LSTMSRC_SUGGEST_SEQ_LEN))
        fprintf(stderr,
                "lstmsrc: train: --seq %d chosen by the data doctor: %s%s (pass --seq to "
                "choose yourself)\n",
                cfg->seq_len, rep->seq_len_reason,
                cfg->label_at == LSTMSRC_LABEL_CENTER
                    ? "; twice that, as the label sits at the window's centre"
                    : "");
    if (!quiet && (changed & LSTMSRC_SUGGEST_VAL_FRACTION))
        fprintf(stderr,
                "lstmsrc: train: --val %g chosen by the data doctor: %s (pass --val to "
                "choose yourself)\n",
                (double)cfg->val_fraction, rep->val_fraction_reason);
    if ((changed & LSTMSRC_SUGGEST_FEATURES) && cli_mpi_rank() == 0) /* even with --quiet */
        fprintf(stderr, "lstmsrc: train: --features diff chosen by the data doctor: every input "
                        "is a cumulative counter, its first difference is the signal (pass "
                        "--features to choose yourself)\n");
    if (cli_mpi_rank() == 0) /* warnings, not progress: even with --quiet */
        train_say_findings("train", rep, cfg);
    lstmsrc_report_free(rep);
}

/* Progress, the signals' estimates and the checkpoint warnings hook into the config. */
static void train_hooks(struct train_run *r)
{
    struct lstmsrc_train_config *cfg = &r->o.cfg;
    struct progress_state ps = {isatty(2),         0.0,  0.0, -1.0, 0.0, 0.0, r->o.quiet,
                                r->o.plot != NULL, NULL, 0,   0,    0};
    r->ps = ps;
    /* validation windows per training window, for the first validation pass's guess */
    if (cfg->val_fraction > 0.0f && cfg->val_fraction < 1.0f)
        r->ps.val_per_step = (double)cfg->val_fraction / (1.0 - (double)cfg->val_fraction) *
                             (double)(cfg->stride > 0 ? cfg->stride : 1);
    cfg->progress = on_progress; /* always: it also keeps what a second signal says */
    cfg->progress_user = &r->ps;
    r->cw.failed = 0;
    r->cw.epoch_end = &r->ps.epoch_end;
    cfg->on_checkpoint = on_checkpoint;
    cfg->checkpoint_user = &r->cw;
    cfg->stop = &stop_flag;
}

/* Loads the data, trains, and saves the model (to a fallback when MODEL cannot be written).
 * Returns 0 when a model was trained (r->st says whether a signal stopped it) or the exit
 * code. */
static int train_run(struct train_run *r)
{
    struct lstmsrc_train_config *cfg = &r->o.cfg;
    int rc;
    r->unset = LSTMSRC_SUGGEST_FEATURES; /* what the doctor may choose */
    if (!(r->a.given & GIVEN_SEQ)) r->unset |= LSTMSRC_SUGGEST_SEQ_LEN;
    if (!(r->a.given & GIVEN_VAL)) r->unset |= LSTMSRC_SUGGEST_VAL_FRACTION;
    if (r->a.given & GIVEN_FEATURES) r->unset &= ~LSTMSRC_SUGGEST_FEATURES;
    /* under mpirun only rank 0 writes (the model, checkpoints, the plot) and speaks */
    const int rank = cli_mpi_rank(), lead = rank == 0;
    if (!lead) {
        r->o.quiet = 1;
        r->o.plot = NULL;
    }
    rc = r->o.init ? train_take_init(r) : 0;
    if (!rc && lead) rc = train_outputs(r);
    r->data = cli_data_name(r->a.pos, r->a.n_pos, r->shown, sizeof r->shown);
    int load_failed = 0;
    if (!rc && lstmsrc_dataset_load_files(r->a.pos, r->a.n_pos, &r->o.cols, &r->ds, &r->err))
        load_failed = 1;
    /* every rank goes on, or none: the first that failed has said why (or says it now) */
    const int first = cli_mpi_first(rc || load_failed);
    if (first >= 0) {
        if (load_failed && first == rank) return cli_fail("train", &r->err);
        if (load_failed) return r->err.code == LSTMSRC_ERR_ARG ? EXIT_USAGE : 1;
        return rc ? rc : 1; /* another rank failed */
    }
    if (!r->o.quiet) cli_report_ingest("train", r->ds);
    train_ask_doctor(r);
    train_hooks(r);
    cfg->comm = cli_mpi_comm();
    if (!r->o.quiet) {
        const struct lstmsrc_dataset *ds = r->ds;
        fprintf(stderr, "%s: %zu rows, %d input%s, %d %s; window %d, LSTM %dx%d%s\n", r->data,
                lstmsrc_dataset_rows(ds), lstmsrc_dataset_inputs(ds),
                lstmsrc_dataset_inputs(ds) == 1 ? "" : "s", lstmsrc_dataset_outputs(ds),
                lstmsrc_dataset_task(ds) == LSTMSRC_TASK_MULTILABEL ? "sources" : "classes",
                cfg->seq_len, cfg->layers, cfg->hidden,
                cfg->bidirectional > 0 ||
                        (cfg->bidirectional < 0 && cfg->label_at == LSTMSRC_LABEL_CENTER)
                    ? ", bidirectional top"
                    : "");
    }
    set_signals(on_signal);
    r->st = lstmsrc_train(r->ds, cfg, &r->m, &r->err);
    if (r->st && r->st != LSTMSRC_ERR_INTERRUPTED) {
        set_signals(SIG_DFL);
        return lead ? cli_fail("train", &r->err) : 1; /* the same error on every rank */
    }
    est_work = 0; /* from here on only the save is left */
    if (!lead) return 0;
    struct lstmsrc_error serr = {LSTMSRC_OK, ""};
    if (lstmsrc_model_save(r->m, r->o.out, &serr)) {
        /* hours of training are not thrown away for a full disk: the model goes elsewhere */
        struct lstmsrc_error ferr = {LSTMSRC_OK, ""};
        char *alt = save_fallback(r->m, r->o.out, &ferr);
        if (alt)
            fprintf(stderr, "lstmsrc: train: %s; the model was saved to %s instead\n", serr.msg,
                    alt);
        else
            fprintf(stderr, "lstmsrc: train: %s; no fallback could be written either (%s)\n",
                    serr.msg, ferr.msg);
        r->saved_elsewhere = alt != NULL;
        free(alt);
        return 1;
    }
    return 0;
}

/* ============================== report ============================== */

/* The summary on stdout: the model, its validation, and per source its decision rule. */
static void train_summary(const struct train_run *r)
{
    struct lstmsrc_model_info info;
    lstmsrc_model_get_info(r->m, &info);
    printf("saved %s: %d epochs (best %d), %zu parameters\n", r->o.out, info.epochs_run,
           info.best_epoch, info.n_params);
    if (info.val_loss >= 0)
        printf("validation (%llu windows): loss %.4f, macro F1 %.3f\n",
               (unsigned long long)info.windows_val, info.val_loss, info.val_macro_f1);
    if (info.task != LSTMSRC_TASK_MULTILABEL) return;
    printf("%-20s %9s %10s %12s %7s %8s\n", "source", "threshold", "pos_weight", "rule: >",
           "min on", "min off");
    for (int j = 0; j < info.outputs; j++)
        printf("%-20s %9.3f %10.2f %12.1f %7d %8d\n", info.output_names[j], info.thresholds[j],
               info.pos_weights[j], info.baseline_thresholds[j], info.min_on[j], info.min_off[j]);
    if (info.decision_delay > 0)
        printf("(min on/off: minimum durations in rows applied to the decisions; decisions "
               "settle %d row%s late in a stream)\n",
               info.decision_delay, info.decision_delay == 1 ? "" : "s");
    else if (info.val_loss >= 0) /* tuning needs the validation part */
        printf("(min on/off 1/1: no minimum durations; --durations tune chooses them)\n");
    else
        printf("(min on/off 1/1: no minimum durations)\n");
}

/* --plot FILE.svg: the loss and validation F1 per epoch. Returns 1, or 0 after saying why not. */
static int train_plot(const struct train_run *r)
{
    struct lstmsrc_model_info pinfo;
    char title[512];
    lstmsrc_model_get_info(r->m, &pinfo);
    snprintf(title, sizeof title, "training on %s: window %d, LSTM %dx%d, %d epochs (best %d)",
             r->data, pinfo.seq_len, pinfo.layers, pinfo.hidden, pinfo.epochs_run,
             pinfo.best_epoch);
    struct lstmsrc_error perr = {LSTMSRC_OK, ""};
    if (r->ps.oom)
        snprintf(perr.msg, sizeof perr.msg, "%s: out of memory for the curves", r->o.plot);
    if (!r->ps.oom &&
        plot_curves(r->o.plot, title, r->ps.curve, r->ps.n_curve, pinfo.best_epoch, &perr))
        return 1;
    fprintf(stderr, "lstmsrc: train: %s\n", perr.msg);
    return 0;
}

/* What a finished, stopped or fallback-saved run says; rc is train_run's. Returns the exit
 * code. */
static int train_report(const struct train_run *r, int rc, int argc, char **argv)
{
    const struct lstmsrc_train_config *cfg = &r->o.cfg;
    const int stopped = r->st == LSTMSRC_ERR_INTERRUPTED;
    if (rc == 0 && stopped) {
        fprintf(stderr, "lstmsrc: train: %s; best model so far saved to %s\n", r->err.msg,
                r->o.out);
        rc = 130;
    } else if (rc == 0) {
        train_summary(r);
        fflush(stdout); /* the summary, then what it cannot show */
        train_say_validation("train", r->m, r->ds, cfg);
    }
    /* the library wrote the state before returning (a failed write is an error instead) */
    if (stopped && cfg->checkpoint && r->cw.failed) {
        fprintf(stderr, "lstmsrc: train: training state not saved (see above)\n");
    } else if (stopped && cfg->checkpoint) {
        fprintf(stderr, "lstmsrc: train: training state saved to %s; to continue:\n",
                cfg->checkpoint);
        print_resume_command(argc, argv, cfg->checkpoint);
    }
    if (r->o.plot && (rc == 0 || rc == 130 || r->saved_elsewhere) && !train_plot(r) && rc == 0)
        rc = 1;
    return rc;
}

int cmd_train(int argc, char **argv)
{
    struct train_run r;
    memset(&r, 0, sizeof r);
    int rc = train_parse(argc, argv, &r.o, &r.a);
    if (rc == CLI_HELP) {
        rc = 0;
    } else if (rc == 0) {
        rc = train_run(&r);
        if (r.m && cli_mpi_rank() == 0)
            rc = train_report(&r, rc, argc, argv);
        else if (r.m && r.st == LSTMSRC_ERR_INTERRUPTED)
            rc = 130;
        set_signals(SIG_DFL); /* every file is written */
    }
    train_free(&r);
    return rc;
}
