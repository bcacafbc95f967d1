/*
 * checkpoint.c — saving and resuming the full training state (layout in checkpoint.h).
 *
 * Saving streams the state through a small buffer (no copy of the arrays) into outfile.c's
 * temporary file, renamed over the target once complete, so a failed or interrupted save leaves
 * the previous checkpoint intact. Loading reads the whole file, then
 * checks it in the order a reader can trust it: magic, version, sizes, CRC, then whether it
 * belongs to this run, then its progress fields. Deliberately not here: when to save (train.c),
 * and the model file (model_io.c), whose validation this mirrors.
 */
#include "io/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "base/binio.h"
#include "base/common.h"
#include "base/outfile.h"
#include "data/dataset.h"
#include "nn/model.h"

_Static_assert(sizeof(float) == 4 && sizeof(double) == 8, "IEEE-754 binary32 and binary64");

static const unsigned char ckpt_magic[8] = {'L', 'S', 'R', 'C', 'C', 'K', 'P', '\0'};
static const unsigned char model_magic[8] = {'L', 'S', 'R', 'C', 'M', 'D', 'L', '\0'};

#define CKPT_VERSION 2u
#define HEADER_SIZE 24u /* magic, version, header_size, file_size */
#define FIXED_SIZE 212u /* header + identity + progress: where the arrays start */
#define CRC_SIZE 4u
#define N_ARRAYS 5u /* params, adam_m, adam_v, best, and avg with weight averaging */
/* Bytes encoded per write when saving. */
#define CHUNK 16384

/* ============================== bytes, checksum, hash ============================== */

/* A 64-bit hash to tell data sets apart (not cryptographic): eight bytes per multiply, so
 * hashing 50 million rows takes a fraction of a second. Bytes are taken in host order; every
 * supported host is little-endian, as the file is. */
static uint64_t hash_mix(uint64_t h, uint64_t w)
{
    h ^= w;
    h *= 0x9e3779b97f4a7c15ull;
    return h ^ (h >> 29);
}

static uint64_t hash_bytes(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    h = hash_mix(h, (uint64_t)n);
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = hash_mix(h, w);
    }
    uint64_t tail = 0;
    for (size_t i = 0; i < n; i++)
        tail |= (uint64_t)p[i] << (8 * i);
    return hash_mix(h, tail);
}

static uint64_t hash_names(uint64_t h, char *const *names, int n)
{
    for (int i = 0; i < n; i++) {
        const char *s = names && names[i] ? names[i] : "";
        h = hash_bytes(h, s, strlen(s));
    }
    return h;
}

/* ============================== identity ============================== */

void ckpt_id_init(struct ckpt_id *id, const struct lstmsrc_dataset *ds,
                  const struct lstmsrc_train_config *cfg, const struct lstmsrc_model *m,
                  int threads, size_t train_windows)
{
    memset(id, 0, sizeof *id);
    uint64_t h = 0x6c7374;
    h = hash_mix(h, (uint64_t)ds->n);
    h = hash_mix(h, (uint64_t)ds->f << 32 | (uint64_t)(uint32_t)ds->k);
    h = hash_mix(h, (uint64_t)ds->task << 32 | (uint64_t)ds->mode);
    h = hash_names(h, ds->input_names, ds->f);
    h = hash_names(h, ds->label_names, ds->n_labels);
    /* sizes were checked when the data set was built: n * f floats, n * k labels, n classes */
    h = hash_bytes(h, ds->x, ds->n * (size_t)ds->f * sizeof *ds->x);
    if (ds->y) h = hash_bytes(h, ds->y, ds->n * (size_t)ds->k);
    if (ds->cls) h = hash_bytes(h, ds->cls, ds->n * sizeof *ds->cls);
    id->data_hash = h;
    id->rows = ds->n;
    id->inputs = (uint32_t)m->f;
    id->outputs = (uint32_t)m->k;
    id->task = (uint32_t)m->task;
    id->label_mode = (uint32_t)m->label_mode;
    id->seq_len = (uint32_t)cfg->seq_len;
    id->hidden = (uint32_t)cfg->hidden;
    id->layers = (uint32_t)cfg->layers;
    id->batch = (uint32_t)cfg->batch;
    id->threads = (uint32_t)threads;
    id->seed = cfg->seed;
    id->lr = cfg->lr;
    id->beta1 = cfg->beta1;
    id->beta2 = cfg->beta2;
    id->eps = cfg->eps;
    id->clip = cfg->clip;
    id->val_fraction = cfg->val_fraction;
    id->pos_weight_hash = hash_bytes(0x7077, m->pos_weight, (size_t)m->k * sizeof(float));
    /* what the windows hold and which row they answer for change the run as the weights do */
    id->pos_weight_hash = hash_mix(
        id->pos_weight_hash, (uint64_t)(m->dirs - 1) << 48 | (uint64_t)m->features << 40 |
                                 (uint64_t)m->label_at << 32 | (uint64_t)(uint32_t)cfg->stride);
    /* weight averaging keeps one more array; without it the hash is what it always was */
    if (cfg->ema > 0.0f)
        id->pos_weight_hash = hash_mix(id->pos_weight_hash, 0x656d61ull << 32 | f32_bits(cfg->ema));
    id->arrays = cfg->ema > 0.0f ? 5u : 4u;
    /* bf16 products train another model: so mixed in, and again nothing without them */
    if (m->bf16) id->pos_weight_hash = hash_mix(id->pos_weight_hash, 0x62663136ull);
    id->n_params = m->n_params;
    id->select = (uint32_t)cfg->select;
    id->train_windows = train_windows;
}

/* The fixed part: header, identity, progress (FIXED_SIZE bytes). */
static void encode_fixed(unsigned char *b, const struct ckpt_id *id, const struct ckpt_state *s,
                         uint64_t file_size)
{
    memcpy(b, ckpt_magic, 8);
    put_u32(b + 8, CKPT_VERSION);
    put_u32(b + 12, HEADER_SIZE);
    put_u64(b + 16, file_size);
    put_u64(b + 24, id->data_hash);
    put_u64(b + 32, id->rows);
    const uint32_t u[9] = {id->inputs, id->outputs, id->task,  id->label_mode, id->seq_len,
                           id->hidden, id->layers,  id->batch, id->threads};
    for (int i = 0; i < 9; i++)
        put_u32(b + 40 + 4 * i, u[i]);
    put_u64(b + 76, id->seed);
    const float f[6] = {id->lr, id->beta1, id->beta2, id->eps, id->clip, id->val_fraction};
    for (int i = 0; i < 6; i++)
        put_u32(b + 84 + 4 * i, f32_bits(f[i]));
    put_u64(b + 108, id->pos_weight_hash);
    put_u64(b + 116, id->n_params);
    put_u32(b + 124, (uint32_t)s->next_epoch);
    put_u32(b + 128, (uint32_t)s->epochs_run);
    put_u32(b + 132, (uint32_t)s->best_epoch);
    put_u64(b + 136, (uint64_t)s->done);
    put_u64(b + 144, (uint64_t)s->step);
    for (int i = 0; i < 4; i++)
        put_u64(b + 152 + 8 * i, s->rng.s[i]);
    put_u64(b + 184, f64_bits(s->loss_sum));
    put_u64(b + 192, f64_bits(s->best_val));
    put_u64(b + 200, f64_bits(s->best_f1));
    put_u32(b + 208, id->select);
}

/* ============================== save ============================== */

/* Streams the whole checkpoint to fd; returns 0 or an errno value. */
static int write_ckpt(int fd, const struct ckpt_id *id, const struct ckpt_state *s,
                      uint64_t file_size)
{
    unsigned char buf[CHUNK];
    _Static_assert(CHUNK >= FIXED_SIZE && CHUNK % 4 == 0, "chunk holds the fixed part");
    encode_fixed(buf, id, s, file_size);
    uint32_t crc = crc32_update(0, buf, FIXED_SIZE);
    int e = write_all(fd, buf, FIXED_SIZE);
    const float *arrays[N_ARRAYS] = {s->params, s->adam_m, s->adam_v, s->best, s->avg};
    for (unsigned a = 0; a < id->arrays && !e; a++) {
        for (size_t i = 0; i < id->n_params && !e;) {
            size_t n = id->n_params - i < CHUNK / 4 ? id->n_params - i : CHUNK / 4;
            for (size_t j = 0; j < n; j++)
                put_u32(buf + 4 * j, f32_bits(arrays[a][i + j]));
            crc = crc32_update(crc, buf, 4 * n);
            e = write_all(fd, buf, 4 * n);
            i += n;
        }
    }
    if (!e) {
        put_u32(buf, crc);
        e = write_all(fd, buf, CRC_SIZE);
    }
    return e;
}

enum lstmsrc_status ckpt_save(const char *path, const struct ckpt_id *id,
                              const struct ckpt_state *s, struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path && id && s && s->params && s->adam_m && s->adam_v && s->best &&
                   (id->arrays == 4 || s->avg));
    size_t bytes, size;
    if (!mul3_size(id->n_params, id->arrays, 4, &bytes) ||
        !add_size(bytes, FIXED_SIZE + CRC_SIZE, &size))
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: training state too large for a file", path);
    struct outfile o;
    enum lstmsrc_status st = outfile_open(&o, path, err);
    if (st) return st;
    return outfile_commit(&o, write_ckpt(outfile_fd(&o), id, s, size), err);
}

/* ============================== load ============================== */

/* Compares the identity block at b with the run's; 0 with a message naming the first
 * difference, or 1. */
static int same_run(const unsigned char *b, const struct ckpt_id *id, char *why, size_t cap)
{
    static const char hint[] = "; resume with the data and options it was made with";
    uint64_t rows = get_u64(b + 32);
    if (rows != id->rows) {
        snprintf(why, cap,
                 "made from other data (%" PRIu64 " rows, this data set has %" PRIu64 ")%s", rows,
                 id->rows, hint);
        return 0;
    }
    const struct {
        const char *what;
        uint32_t saved, now;
    } u[] = {
        {"inputs", get_u32(b + 40), id->inputs},
        {"outputs", get_u32(b + 44), id->outputs},
        {"task", get_u32(b + 48), id->task},
        {"label mode", get_u32(b + 52), id->label_mode},
    };
    for (size_t i = 0; i < sizeof u / sizeof u[0]; i++)
        if (u[i].saved != u[i].now) {
            snprintf(why, cap,
                     "made from other columns (%s %" PRIu32 ", this data set has %" PRIu32 ")%s",
                     u[i].what, u[i].saved, u[i].now, hint);
            return 0;
        }
    if (get_u64(b + 24) != id->data_hash) {
        snprintf(why, cap, "made from other data (same %" PRIu64 " rows, other values)%s", rows,
                 hint);
        return 0;
    }
    const struct {
        const char *flag;
        uint64_t saved, now;
    } o[] = {
        {"--seq", get_u32(b + 56), id->seq_len},   {"--hidden", get_u32(b + 60), id->hidden},
        {"--layers", get_u32(b + 64), id->layers}, {"--batch", get_u32(b + 68), id->batch},
        {"--seed", get_u64(b + 76), id->seed},
    };
    for (size_t i = 0; i < sizeof o / sizeof o[0]; i++)
        if (o[i].saved != o[i].now) {
            snprintf(why, cap, "made with %s %" PRIu64 ", this run has %s %" PRIu64 "%s", o[i].flag,
                     o[i].saved, o[i].flag, o[i].now, hint);
            return 0;
        }
    const struct {
        const char *flag;
        uint32_t saved;
        float now;
    } f[] = {
        {"--lr", get_u32(b + 84), id->lr},          {"Adam beta1", get_u32(b + 88), id->beta1},
        {"Adam beta2", get_u32(b + 92), id->beta2}, {"Adam eps", get_u32(b + 96), id->eps},
        {"--clip", get_u32(b + 100), id->clip},     {"--val", get_u32(b + 104), id->val_fraction},
    };
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (f[i].saved != f32_bits(f[i].now)) {
            snprintf(why, cap, "made with %s %g, this run has %s %g%s", f[i].flag,
                     (double)bits_f32(f[i].saved), f[i].flag, (double)f[i].now, hint);
            return 0;
        }
    if (get_u32(b + 208) != id->select) {
        snprintf(why, cap, "made with --select %s, this run has --select %s%s",
                 get_u32(b + 208) == LSTMSRC_SELECT_F1 ? "f1" : "loss",
                 id->select == LSTMSRC_SELECT_F1 ? "f1" : "loss", hint);
        return 0;
    }
    if (get_u64(b + 108) != id->pos_weight_hash) {
        snprintf(why, cap,
                 "made with other positive weights, windows, directions, weight averaging or "
                 "precision (--pos-weight, --features, --label-at, --stride, --directions, "
                 "--ema, --precision)%s",
                 hint);
        return 0;
    }
    return 1;
}

/* Checks the progress fields against each other and the run; 0 with a reason, or 1. */
static int sane_progress(const struct ckpt_state *s, const struct ckpt_id *id, char *why,
                         size_t cap)
{
    uint64_t per_epoch = (id->train_windows + id->batch - 1) / id->batch;
    if (s->next_epoch < 1 || s->epochs_run != s->next_epoch - 1 || s->best_epoch < 0 ||
        s->best_epoch > s->epochs_run) {
        snprintf(why, cap, "epochs do not add up (next %d, run %d, best %d)", s->next_epoch,
                 s->epochs_run, s->best_epoch);
        return 0;
    }
    if (s->done >= id->train_windows || s->done % id->batch != 0 ||
        (uint64_t)s->step != (uint64_t)s->epochs_run * per_epoch + s->done / id->batch) {
        snprintf(why, cap,
                 "position (%zu windows into epoch %d, step %ld) does not fit %" PRIu64
                 " training windows in batches of %" PRIu32,
                 s->done, s->next_epoch, s->step, id->train_windows, id->batch);
        return 0;
    }
    if ((s->rng.s[0] | s->rng.s[1] | s->rng.s[2] | s->rng.s[3]) == 0) {
        snprintf(why, cap, "random generator state is all zero");
        return 0;
    }
    if (isnan(s->best_val) || (s->best_epoch == 0 && !(isinf(s->best_val) && s->best_val > 0))) {
        snprintf(why, cap, "best validation loss %g does not fit best epoch %d", s->best_val,
                 s->best_epoch);
        return 0;
    }
    return 1;
}

enum lstmsrc_status ckpt_load_mem(const char *name, const unsigned char *b, size_t len,
                                  const struct ckpt_id *id, struct ckpt_state *s,
                                  struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(name && id && s && (b || len == 0));
    char why[LSTMSRC_ERROR_SIZE];
    if (len == 0)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: empty file, not an lstmsrc checkpoint",
                         name);
    size_t m = len < 8 ? len : 8;
    if (memcmp(b, ckpt_magic, m) != 0) {
        if (len >= 8 && memcmp(b, model_magic, 8) == 0)
            return set_error(err, LSTMSRC_ERR_FORMAT,
                             "%s: a model file, not a checkpoint (train --checkpoint FILE "
                             "writes one)",
                             name);
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: not an lstmsrc checkpoint (bad magic)",
                         name);
    }
    if (len < 12)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: truncated: file has %zu bytes, the header alone needs %u", name, len,
                         FIXED_SIZE + CRC_SIZE);
    uint32_t version = get_u32(b + 8);
    if (version > CKPT_VERSION)
        return set_error(err, LSTMSRC_ERR_VERSION,
                         "%s: checkpoint version %" PRIu32 ", this build reads up to %u", name,
                         version, CKPT_VERSION);
    if (version == 0)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: checkpoint version 0 is not valid", name);
    if (version < CKPT_VERSION)
        return set_error(err, LSTMSRC_ERR_VERSION,
                         "%s: checkpoint version %" PRIu32 " from an older lstmsrc, this build "
                         "reads version %u; start the run afresh",
                         name, version, CKPT_VERSION);
    if (len < FIXED_SIZE + CRC_SIZE)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: truncated: file has %zu bytes, the header alone needs %u", name, len,
                         FIXED_SIZE + CRC_SIZE);
    if (get_u32(b + 12) != HEADER_SIZE)
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: header size %" PRIu32 ", version %u has %u",
                         name, get_u32(b + 12), CKPT_VERSION, HEADER_SIZE);
    if (check_file_size(name, len, get_u64(b + 16), why, sizeof why))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s", why);
    if (crc32_update(0, b, len - CRC_SIZE) != get_u32(b + len - CRC_SIZE))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: checksum mismatch (file corrupted)", name);

    /* this run's (the identity says how many arrays follow), then the arrays must fill the file
     * exactly: checked by division, so no count overflows */
    if (!same_run(b, id, why, sizeof why))
        return set_error(err, LSTMSRC_ERR_ARG, "%s: checkpoint %s", name, why);
    uint64_t n_params = get_u64(b + 116);
    size_t body = len - FIXED_SIZE - CRC_SIZE;
    if (body % (id->arrays * 4) != 0 || n_params != body / (id->arrays * 4))
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: %" PRIu64 " parameters do not fit %zu bytes of arrays", name,
                         n_params, body);
    if (n_params != id->n_params)
        return set_error(err, LSTMSRC_ERR_ARG,
                         "%s: checkpoint holds %" PRIu64 " parameters, this model has %" PRIu64,
                         name, n_params, id->n_params);

    struct ckpt_state t = *s; /* the arrays stay the caller's */
    t.next_epoch = (int)(get_u32(b + 124) & 0x7fffffffu);
    t.epochs_run = (int)(get_u32(b + 128) & 0x7fffffffu);
    t.best_epoch = (int)(get_u32(b + 132) & 0x7fffffffu);
    uint64_t done = get_u64(b + 136), step = get_u64(b + 144);
    if (done > id->train_windows || step > (uint64_t)LONG_MAX)
        return set_error(err, LSTMSRC_ERR_FORMAT,
                         "%s: position %" PRIu64 ", step %" PRIu64 " out of range", name, done,
                         step);
    t.done = (size_t)done;
    t.step = (long)step;
    for (int i = 0; i < 4; i++)
        t.rng.s[i] = get_u64(b + 152 + 8 * i);
    t.loss_sum = bits_f64(get_u64(b + 184));
    t.best_val = bits_f64(get_u64(b + 192));
    t.best_f1 = bits_f64(get_u64(b + 200));
    if (!sane_progress(&t, id, why, sizeof why))
        return set_error(err, LSTMSRC_ERR_FORMAT, "%s: %s", name, why);

    float *arrays[N_ARRAYS] = {t.params, t.adam_m, t.adam_v, t.best, t.avg};
    LSTMSRC_ASSERT(id->arrays == 4 || t.avg);
    const unsigned char *p = b + FIXED_SIZE;
    for (unsigned a = 0; a < id->arrays; a++)
        for (size_t i = 0; i < id->n_params; i++, p += 4)
            arrays[a][i] = bits_f32(get_u32(p));
    *s = t;
    return LSTMSRC_OK;
}

enum lstmsrc_status ckpt_load(const char *path, const struct ckpt_id *id, struct ckpt_state *s,
                              struct lstmsrc_error *err)
{
    LSTMSRC_ASSERT(path && id && s);
    char eb[128], why[224];
    /* This run's checkpoint has exactly `want` bytes. Up to SLACK more are read so that one of
     * a somewhat different run is still checksummed before it is told apart; a file longer
     * than that cannot be this run's and is judged by its header alone. */
    const size_t SLACK = (size_t)64 << 20;
    size_t want, cap;
    if (!mul3_size(id->n_params, id->arrays, 4, &want) ||
        !add_size(want, FIXED_SIZE + CRC_SIZE, &want) || !add_size(want, SLACK + 1, &cap))
        return set_error(err, LSTMSRC_ERR_LIMIT, "%s: training state too large", path);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        return set_error(err, LSTMSRC_ERR_IO, "%s: cannot open: %s", path,
                         errno_str(e, eb, sizeof eb));
    }
    /* grows as data arrives, so a short file costs little */
    size_t len = 0, have = 0;
    unsigned char *buf = NULL;
    int e = 0;
    for (;;) {
        if (len == have) {
            size_t n = have ? (have > cap / 2 ? cap : 2 * have) : (want < 65536 ? want + 1 : 65536);
            unsigned char *nb = len < cap ? realloc(buf, n) : NULL;
            if (!nb) {
                e = len < cap ? ENOMEM : 0;
                break;
            }
            buf = nb;
            have = n;
        }
        ssize_t r = read(fd, buf + len, have - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) e = errno;
        if (r <= 0) break;
        len += (size_t)r;
    }
    close(fd);
    enum lstmsrc_status status;
    if (e == ENOMEM) {
        status = set_error(err, LSTMSRC_ERR_NOMEM, "%s: out of memory", path);
    } else if (e) {
        status = set_error(err, LSTMSRC_ERR_IO, "%s: cannot read: %s", path,
                           errno_str(e, eb, sizeof eb));
    } else if (len == cap) {
        if (len >= FIXED_SIZE && memcmp(buf, ckpt_magic, 8) == 0 &&
            get_u32(buf + 8) == CKPT_VERSION && !same_run(buf, id, why, sizeof why))
            status = set_error(err, LSTMSRC_ERR_ARG, "%s: checkpoint %s", path, why);
        else
            status =
                set_error(err, LSTMSRC_ERR_FORMAT,
                          "%s: more than %zu bytes, not a checkpoint of this run", path, cap - 1);
    } else {
        status = ckpt_load_mem(path, buf, len, id, s, err);
    }
    free(buf);
    return status;
}
