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
    "  --task T              multilabel (default) or multiclass (N 0/1 columns -> 2^N classes)\n"
    ;
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
    "  --quiet               no progress\n"
    "  --plot FILE.svg       draw loss and validation F1 per epoch into FILE.svg\n"
    "  --checkpoint FILE     save the full training state to FILE after every epoch\n"
    "  --resume FILE         continue from a checkpoint, with the same data and options (the\n"
    "                        model equals an uninterrupted run's, byte for byte)\n"
    "  --init MODEL          fine-tune: start from MODEL's weights; its window, hidden units,\n"
    "                        layers, directions, features and label position are the\n"
    "                        defaults, and the data must have its inputs and outputs (not\n"
    "                        with --resume or --checkpoint)\n"
    "  --init-scaler S       with --init: keep (default, MODEL's scaler) or refit (fitted on\n"
    "                        this data's training part)\n"
    ;
static const char usage_text3[] =
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
    while (*s && *n < cap) b[(*n)++] = *s++;
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
    while (k > 0 && *n < cap) b[(*n)++] = d[--k];
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
            put_str(b, sizeof b, &n, "saving the model and training state (nothing measured yet: "
                                     "a few seconds is usual)");
        } else if (save < 0) {
            put_str(b, sizeof b, &n, "the work under way ends in about ");
            put_secs(b, sizeof b, &n, work);
            put_str(b, sizeof b, &n, " s by the last step's time, then the model and training "
                                     "state are saved (a few seconds is usual)");
        } else {
            put_str(b, sizeof b, &n, "saving the model and training state, done in about ");
            put_secs(b, sizeof b, &n, (work > 0 ? work : 0) + save);
            put_str(b, sizeof b, &n, work > 0 ? " s by the last step and checkpoint measured"
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
    const int beside = strcmp(path, "-") &&
                       (stat(path, &st) != 0 || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode));
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
    double prev_seconds;        /* the last step's p->seconds, for the validation time */
    double val_seconds;         /* the last validation pass (-1: none measured) */
    double epoch_end;           /* now_wall() at the last end-of-epoch report (0: none yet) */
    double val_per_step;        /* validation windows per training window (estimate) */
    int quiet;                  /* print nothing (the callback may still record for --plot) */
    int record;                 /* --plot: keep each epoch's numbers */
    struct curve_epoch *curve;  /* (n_curve) */
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
    for (int i = 0; i < width; i++) out[i] = i < n ? '=' : (i == n ? '>' : '.');
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
    if (p->end_of_epoch) fputc('\n', stderr);
    else if (ps->tty) fputs("\033[K", stderr);
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
        if (*w == '\'') fputs("'\\''", fp);
        else fputc(*w, fp);
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
    for (const char *p = s; *p; p++) cap += *p == ',';
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

int cmd_train(int argc, char **argv)
{
    const char *cmd = "train", *data = NULL, *out_path = NULL, *plot_path = NULL, *v;
    const char *ckpt_path = NULL, *init_path = NULL;
    char *stop_ckpt = NULL;
    struct lstmsrc_model *init_m = NULL;
    /* architecture options given on the command line (the rest come from --init's model) */
    int set_hidden = 0, set_layers = 0, set_features = 0, set_label_at = 0, set_dirs = 0;
    struct lstmsrc_columns cols;
    struct lstmsrc_train_config cfg;
    float *weights = NULL;
    int quiet = 0, rc = 1, bad = 0;
    unsigned unset = LSTMSRC_SUGGEST_SEQ_LEN | LSTMSRC_SUGGEST_VAL_FRACTION |
                     LSTMSRC_SUGGEST_FEATURES; /* what the doctor may choose */
    memset(&cols, 0, sizeof cols);
    lstmsrc_train_config_default(&cfg);
    const char **files = calloc((size_t)argc + 1, sizeof *files);
    int n_files = 0;
    char shown[300]; /* the data as the summary names it */
    if (!files) {
        fprintf(stderr, "lstmsrc: train: out of memory\n");
        return 1;
    }

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(usage_text, stdout);
            fputs(usage_text2, stdout);
            fputs(usage_text3, stdout);
            fputs("\n" CLI_INGEST_HELP, stdout);
            free(weights);
            free(files);
            return 0;
        } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
            quiet = 1;
        } else if (cli_flag(argv, argc, &i, "--plot", &v)) {
            if (!v) goto usage_missing;
            plot_path = v;
        } else if (cli_flag(argv, argc, &i, "--checkpoint", &v)) {
            if (!v) goto usage_missing;
            ckpt_path = v;
        } else if (cli_flag(argv, argc, &i, "--resume", &v)) {
            if (!v) goto usage_missing;
            cfg.resume = v;
        } else if (cli_flag(argv, argc, &i, "--init", &v)) {
            if (!v) goto usage_missing;
            init_path = v;
        } else if (cli_flag(argv, argc, &i, "--init-scaler", &v)) {
            if (!v) goto usage_missing;
            if (!strcmp(v, "keep") || !strcmp(v, "refit")) {
                cfg.init_refit_scaler = !strcmp(v, "refit");
            } else {
                rc = cli_usage(cmd, "--init-scaler expects keep or refit, found \"%s\"", v);
                goto done;
            }
        } else if (cli_flag(argv, argc, &i, "-o", &v) || cli_flag(argv, argc, &i, "--output", &v)) {
            if (!v) goto usage_missing;
            out_path = v;
        } else if (cli_ingest_flag(cmd, argv, argc, &i, &cols, &bad)) {
            if (bad) goto usage;
        } else if (cli_flag(argv, argc, &i, "--input", &v)) {
            if (!v) goto usage_missing;
            cols.input = v;
        } else if (cli_flag(argv, argc, &i, "--labels", &v)) {
            if (!v) goto usage_missing;
            cols.labels = v;
        } else if (cli_flag(argv, argc, &i, "--class-column", &v)) {
            if (!v) goto usage_missing;
            cols.class_column = v;
            cols.mode = LSTMSRC_LABELS_CLASS;
        } else if (cli_flag(argv, argc, &i, "--task", &v)) {
            if (!v) goto usage_missing;
            if (!strcmp(v, "multiclass")) {
                if (cols.mode != LSTMSRC_LABELS_CLASS) cols.mode = LSTMSRC_LABELS_COMBINED;
            } else if (strcmp(v, "multilabel")) {
                rc = cli_usage(cmd, "--task expects multilabel or multiclass, found \"%s\"", v);
                goto done;
            }
        } else if (cli_flag(argv, argc, &i, "--seq", &v)) {
            if (!cli_int(cmd, a, v, 1, LSTMSRC_MAX_SEQ, &cfg.seq_len)) goto usage;
            unset &= ~LSTMSRC_SUGGEST_SEQ_LEN;
        } else if (cli_flag(argv, argc, &i, "--features", &v)) {
            if (!v) goto usage_missing;
            unset &= ~LSTMSRC_SUGGEST_FEATURES;
            set_features = 1;
            if (!parse_features(v, &cfg.features)) {
                rc = cli_usage(cmd, "--features expects raw, diff or raw,diff, found \"%s\"", v);
                goto done;
            }
        } else if (cli_flag(argv, argc, &i, "--label-at", &v)) {
            if (!v) goto usage_missing;
            set_label_at = 1;
            if (!strcmp(v, "last")) {
                cfg.label_at = LSTMSRC_LABEL_LAST;
            } else if (!strcmp(v, "center") || !strcmp(v, "centre")) {
                cfg.label_at = LSTMSRC_LABEL_CENTER;
            } else {
                rc = cli_usage(cmd, "--label-at expects last or center, found \"%s\"", v);
                goto done;
            }
        } else if (!strcmp(a, "--bidirectional")) {
            cfg.bidirectional = 1;
            set_dirs = 1;
        } else if (cli_flag(argv, argc, &i, "--directions", &v)) {
            int d;
            if (!cli_int(cmd, a, v, 1, 2, &d)) goto usage;
            cfg.bidirectional = d == 2;
            set_dirs = 1;
        } else if (cli_flag(argv, argc, &i, "--stride", &v)) {
            if (!cli_int(cmd, a, v, 1, LSTMSRC_MAX_SEQ, &cfg.stride)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--hidden", &v)) {
            if (!cli_int(cmd, a, v, 1, LSTMSRC_MAX_HIDDEN, &cfg.hidden)) goto usage;
            set_hidden = 1;
        } else if (cli_flag(argv, argc, &i, "--layers", &v)) {
            if (!cli_int(cmd, a, v, 1, LSTMSRC_MAX_LAYERS, &cfg.layers)) goto usage;
            set_layers = 1;
        } else if (cli_flag(argv, argc, &i, "--epochs", &v)) {
            if (!cli_int(cmd, a, v, 1, 1000000, &cfg.epochs)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--batch", &v)) {
            if (!cli_int(cmd, a, v, 1, 1 << 20, &cfg.batch)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--patience", &v)) {
            if (!cli_int(cmd, a, v, 0, 1000000, &cfg.patience)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--select", &v)) {
            if (!v) goto usage_missing;
            if (!strcmp(v, "loss")) {
                cfg.select = LSTMSRC_SELECT_LOSS;
            } else if (!strcmp(v, "f1")) {
                cfg.select = LSTMSRC_SELECT_F1;
            } else {
                rc = cli_usage(cmd, "--select expects loss or f1, found \"%s\"", v);
                goto done;
            }
        } else if (cli_flag(argv, argc, &i, "--threads", &v)) {
            if (!cli_int(cmd, a, v, 0, 256, &cfg.threads)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--lr", &v)) {
            if (!cli_float(cmd, a, v, 1e-9, 10.0, &cfg.lr)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--clip", &v)) {
            if (!cli_float(cmd, a, v, 0.0, 1e9, &cfg.clip)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--val", &v)) {
            if (!cli_float(cmd, a, v, 0.0, 0.5, &cfg.val_fraction)) goto usage;
            unset &= ~LSTMSRC_SUGGEST_VAL_FRACTION;
        } else if (cli_flag(argv, argc, &i, "--seed", &v)) {
            if (!cli_u64(cmd, a, v, &cfg.seed)) goto usage;
        } else if (cli_flag(argv, argc, &i, "--pos-weight", &v)) {
            if (!v) goto usage_missing;
            if (!strcmp(v, "auto")) {
                cfg.pos_weight = LSTMSRC_POS_WEIGHT_AUTO;
            } else if (!strcmp(v, "none")) {
                cfg.pos_weight = LSTMSRC_POS_WEIGHT_NONE;
            } else {
                free(weights);
                weights = NULL;
                if (!parse_weights(v, &weights, &cfg.n_pos_weights)) {
                    rc = cli_usage(cmd, "--pos-weight expects auto, none or positive numbers "
                                        "w1,w2,..., found \"%s\"", v);
                    goto done;
                }
                cfg.pos_weight = LSTMSRC_POS_WEIGHT_MANUAL;
                cfg.pos_weights = weights;
            }
        } else if (cli_flag(argv, argc, &i, "--threshold", &v)) {
            if (!v) goto usage_missing;
            if (!strcmp(v, "tune")) {
                cfg.tune_thresholds = 1;
            } else {
                if (!cli_float(cmd, a, v, 0.0, 1.0, &cfg.threshold)) goto usage;
                cfg.tune_thresholds = 0;
            }
        } else if (cli_flag(argv, argc, &i, "--durations", &v)) {
            if (!v) goto usage_missing;
            if (!strcmp(v, "tune")) {
                cfg.tune_durations = 1;
            } else if (!strcmp(v, "off")) {
                cfg.tune_durations = 0;
                cfg.min_on = cfg.min_off = 1;
            } else {
                rc = cli_usage(cmd, "--durations expects tune or off, found \"%s\"", v);
                goto done;
            }
        } else if (cli_flag(argv, argc, &i, "--min-on", &v) ||
                   cli_flag(argv, argc, &i, "--min-off", &v)) {
            if (!v) goto usage_missing;
            int on_flag = !strncmp(a, "--min-on", 8);
            if (!cli_int(cmd, on_flag ? "--min-on" : "--min-off", v, 1, LSTMSRC_MAX_DURATION,
                         on_flag ? &cfg.min_on : &cfg.min_off))
                goto usage;
            cfg.tune_durations = 0;
        } else if (a[0] == '-' && a[1] != '\0') {
            rc = cli_usage(cmd, "unknown option '%s'", a);
            goto done;
        } else {
            files[n_files++] = a; /* DATA.csv, or several */
            if (!data) data = a;
        }
        continue;
    usage_missing:
        rc = cli_usage(cmd, "%s needs a value", a);
        goto done;
    }
    if (!data) {
        rc = cli_usage(cmd, "no data file given");
        goto done;
    }
    if (!out_path) {
        rc = cli_usage(cmd, "no model file given (-o MODEL)");
        goto done;
    }
    /* what only a validation part can choose is refused without one, not silently dropped */
    if (!(unset & LSTMSRC_SUGGEST_VAL_FRACTION) && cfg.val_fraction == 0.0f) {
        const char *need[3];
        int n_need = 0;
        if (cfg.tune_durations) need[n_need++] = "--durations tune";
        if (cfg.select == LSTMSRC_SELECT_F1) need[n_need++] = "--select f1";
        if (cfg.patience > 0) need[n_need++] = "--patience";
        if (n_need) {
            rc = cli_usage(cmd, "--val 0 leaves no validation part, which %s%s%s%s%s need%s",
                           need[0],
                           n_need > 2   ? ", "
                           : n_need > 1 ? " and "
                                        : "",
                           n_need > 1 ? need[1] : "", n_need > 2 ? " and " : "",
                           n_need > 2 ? need[2] : "", n_need > 1 ? "" : "s");
            goto done;
        }
    }
    if (init_path && (cfg.resume || ckpt_path)) {
        rc = cli_usage(cmd, "--init and %s exclude each other (a fine-tuning run is not resumed; "
                       "run it again)", cfg.resume ? "--resume" : "--checkpoint");
        goto done;
    }
    if (!init_path && cfg.init_refit_scaler) {
        rc = cli_usage(cmd, "--init-scaler needs --init MODEL");
        goto done;
    }
    if (init_path) {
        struct lstmsrc_error ierr = {LSTMSRC_OK, ""};
        if (lstmsrc_model_load(init_path, &init_m, &ierr)) {
            rc = cli_fail(cmd, &ierr);
            goto done;
        }
        struct lstmsrc_model_info ii;
        lstmsrc_model_get_info(init_m, &ii);
        /* what the command line leaves open is the init model's */
        if (unset & LSTMSRC_SUGGEST_SEQ_LEN) cfg.seq_len = ii.seq_len;
        unset &= ~LSTMSRC_SUGGEST_SEQ_LEN;
        if (!set_hidden) cfg.hidden = ii.hidden;
        if (!set_layers) cfg.layers = ii.layers;
        if (!set_features) cfg.features = ii.features;
        unset &= ~LSTMSRC_SUGGEST_FEATURES; /* the init model's channels, not the doctor's */
        if (!set_label_at) cfg.label_at = ii.label_at;
        if (!set_dirs) cfg.bidirectional = ii.directions == 2;
        cfg.init = init_m;
        const char *slash = strrchr(init_path, '/');
        cfg.init_name = slash ? slash + 1 : init_path;
    }
    if (ckpt_path && !strcmp(ckpt_path, out_path)) {
        rc = cli_usage(cmd, "--checkpoint and -o name the same file '%s'", out_path);
        goto done;
    }
    /* every file this run writes must be creatable before the long work starts */
    const char *const outs[3][2] = {{"-o", out_path}, {"--checkpoint", ckpt_path},
                                    {"--plot", plot_path}};
    for (int k = 0; k < 3; k++)
        if ((rc = cli_probe(cmd, outs[k][0], outs[k][1])) != 0) goto done;
    /* without --checkpoint the state is still saved, next to the model, when a signal stops
     * training (not next to a device or FIFO: /dev/null.ckpt is nobody's file) */
    struct stat out_st;
    if (ckpt_path) {
        cfg.checkpoint = ckpt_path;
    } else if (!init_path && (stat(out_path, &out_st) != 0 || S_ISREG(out_st.st_mode)) &&
               (stop_ckpt = malloc(strlen(out_path) + sizeof ".ckpt")) != NULL) {
        strcpy(stop_ckpt, out_path);
        strcat(stop_ckpt, ".ckpt");
        cfg.checkpoint = stop_ckpt;
        cfg.checkpoint_on_stop_only = 1;
    }

    struct lstmsrc_error err = {LSTMSRC_OK, ""};
    struct lstmsrc_dataset *ds = NULL;
    struct lstmsrc_model *m = NULL;
    data = cli_data_name(files, n_files, shown, sizeof shown);
    if (lstmsrc_dataset_load_files(files, n_files, &cols, &ds, &err)) {
        rc = cli_fail(cmd, &err);
        goto done;
    }
    if (!quiet) cli_report_ingest(cmd, ds);
    /* Settings the user left open come from the same analysis as `lstmsrc doctor` (a window
     * that covers the longest cycle of sources the reading alone cannot separate, a validation
     * part that holds every source), and train says so; it also prints what the doctor finds
     * wrong (train_says.c). */
    if (lstmsrc_dataset_has_labels(ds)) {
        struct lstmsrc_report *rep = NULL;
        if (lstmsrc_doctor(ds, &rep, NULL) == LSTMSRC_OK) {
            unsigned changed = lstmsrc_doctor_suggest(rep, unset, &cfg);
            if (!quiet && (changed & LSTMSRC_SUGGEST_SEQ_LEN))
                fprintf(stderr, "lstmsrc: train: --seq %d chosen by the data doctor: %s%s (pass "
                                "--seq to choose yourself)\n", cfg.seq_len, rep->seq_len_reason,
                        cfg.label_at == LSTMSRC_LABEL_CENTER
                            ? "; twice that, as the label sits at the window's centre"
                            : "");
            if (!quiet && (changed & LSTMSRC_SUGGEST_VAL_FRACTION))
                fprintf(stderr, "lstmsrc: train: --val %g chosen by the data doctor: %s (pass --val "
                                "to choose yourself)\n", (double)cfg.val_fraction,
                        rep->val_fraction_reason);
            if (changed & LSTMSRC_SUGGEST_FEATURES) /* a choice, said even with --quiet */
                fprintf(stderr, "lstmsrc: train: --features diff chosen by the data doctor: "
                                "every input is a cumulative counter, its first difference is "
                                "the signal (pass --features to choose yourself)\n");
            train_say_findings(cmd, rep, &cfg); /* warnings, not progress: even with --quiet */
            lstmsrc_report_free(rep);
        }
    }
    struct progress_state ps = {isatty(2), 0.0, 0.0, -1.0, 0.0, 0.0, quiet, plot_path != NULL,
                                NULL, 0, 0, 0};
    /* validation windows per training window, for the first validation pass's guess */
    if (cfg.val_fraction > 0.0f && cfg.val_fraction < 1.0f)
        ps.val_per_step = (double)cfg.val_fraction / (1.0 - (double)cfg.val_fraction) *
                          (double)(cfg.stride > 0 ? cfg.stride : 1);
    cfg.progress = on_progress; /* always: it also keeps what a second signal says */
    cfg.progress_user = &ps;
    if (!quiet) {
        fprintf(stderr, "%s: %zu rows, %d input%s, %d %s; window %d, LSTM %dx%d%s\n", data,
                lstmsrc_dataset_rows(ds), lstmsrc_dataset_inputs(ds),
                lstmsrc_dataset_inputs(ds) == 1 ? "" : "s", lstmsrc_dataset_outputs(ds),
                lstmsrc_dataset_task(ds) == LSTMSRC_TASK_MULTILABEL ? "sources" : "classes",
                cfg.seq_len, cfg.layers, cfg.hidden,
                cfg.bidirectional > 0 || (cfg.bidirectional < 0 && cfg.label_at == LSTMSRC_LABEL_CENTER)
                    ? ", bidirectional top"
                    : "");
    }
    struct ckpt_watch cw = {0, &ps.epoch_end};
    cfg.on_checkpoint = on_checkpoint;
    cfg.checkpoint_user = &cw;
    cfg.stop = &stop_flag;
    set_signals(on_signal);
    enum lstmsrc_status st = lstmsrc_train(ds, &cfg, &m, &err);
    if (st && st != LSTMSRC_ERR_INTERRUPTED) {
        set_signals(SIG_DFL);
        rc = cli_fail(cmd, &err);
        lstmsrc_dataset_free(ds);
        free(ps.curve);
        goto done;
    }
    est_work = 0; /* from here on only the save is left */
    struct lstmsrc_error serr = {LSTMSRC_OK, ""};
    int saved_elsewhere = 0;
    if (lstmsrc_model_save(m, out_path, &serr)) {
        /* hours of training are not thrown away for a full disk: the model goes elsewhere */
        struct lstmsrc_error ferr = {LSTMSRC_OK, ""};
        char *alt = save_fallback(m, out_path, &ferr);
        if (alt)
            fprintf(stderr, "lstmsrc: train: %s; the model was saved to %s instead\n", serr.msg,
                    alt);
        else
            fprintf(stderr, "lstmsrc: train: %s; no fallback could be written either (%s)\n",
                    serr.msg, ferr.msg);
        saved_elsewhere = alt != NULL;
        free(alt);
        rc = 1;
    } else if (st == LSTMSRC_ERR_INTERRUPTED) {
        fprintf(stderr, "lstmsrc: train: %s; best model so far saved to %s\n", err.msg, out_path);
        rc = 130;
    } else {
        struct lstmsrc_model_info info;
        lstmsrc_model_get_info(m, &info);
        printf("saved %s: %d epochs (best %d), %zu parameters\n", out_path, info.epochs_run,
               info.best_epoch, info.n_params);
        if (info.val_loss >= 0)
            printf("validation (%llu windows): loss %.4f, macro F1 %.3f\n",
                   (unsigned long long)info.windows_val, info.val_loss, info.val_macro_f1);
        if (info.task == LSTMSRC_TASK_MULTILABEL) {
            printf("%-20s %9s %10s %12s %7s %8s\n", "source", "threshold", "pos_weight", "rule: >",
                   "min on", "min off");
            for (int j = 0; j < info.outputs; j++)
                printf("%-20s %9.3f %10.2f %12.1f %7d %8d\n", info.output_names[j],
                       info.thresholds[j], info.pos_weights[j], info.baseline_thresholds[j],
                       info.min_on[j], info.min_off[j]);
            if (info.decision_delay > 0)
                printf("(min on/off: minimum durations in rows applied to the decisions; "
                       "decisions settle %d row%s late in a stream)\n",
                       info.decision_delay, info.decision_delay == 1 ? "" : "s");
            else if (info.val_loss >= 0) /* tuning needs the validation part */
                printf("(min on/off 1/1: no minimum durations; --durations tune chooses them)\n");
            else
                printf("(min on/off 1/1: no minimum durations)\n");
        }
        fflush(stdout); /* the summary, then what it cannot show */
        train_say_validation(cmd, m, ds, &cfg);
        rc = 0;
    }
    /* the library wrote the state before returning (a failed write is an error instead) */
    if (st == LSTMSRC_ERR_INTERRUPTED && cfg.checkpoint && cw.failed) {
        fprintf(stderr, "lstmsrc: train: training state not saved (see above)\n");
    } else if (st == LSTMSRC_ERR_INTERRUPTED && cfg.checkpoint) {
        fprintf(stderr, "lstmsrc: train: training state saved to %s; to continue:\n",
                cfg.checkpoint);
        print_resume_command(argc, argv, cfg.checkpoint);
    }
    if (plot_path && (rc == 0 || rc == 130 || saved_elsewhere)) {
        struct lstmsrc_model_info pinfo;
        char title[512];
        lstmsrc_model_get_info(m, &pinfo);
        snprintf(title, sizeof title, "training on %s: window %d, LSTM %dx%d, %d epochs (best %d)",
                 data, pinfo.seq_len, pinfo.layers, pinfo.hidden, pinfo.epochs_run,
                 pinfo.best_epoch);
        struct lstmsrc_error perr = {LSTMSRC_OK, ""};
        if (ps.oom)
            snprintf(perr.msg, sizeof perr.msg, "%s: out of memory for the curves", plot_path);
        if (ps.oom || !plot_curves(plot_path, title, ps.curve, ps.n_curve, pinfo.best_epoch,
                                   &perr)) {
            fprintf(stderr, "lstmsrc: train: %s\n", perr.msg);
            if (rc == 0) rc = 1;
        }
    }
    set_signals(SIG_DFL); /* every file is written */
    free(ps.curve);
    lstmsrc_model_free(m);
    lstmsrc_dataset_free(ds);
    goto done;
usage:
    rc = EXIT_USAGE;
done:
    lstmsrc_model_free(init_m);
    free(weights);
    free(stop_ckpt);
    free(files);
    return rc;
}
