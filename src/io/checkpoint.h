/*
 * checkpoint.h — the full training state in a file, so an interrupted `train` continues where it
 * stopped and ends with the same model bytes as a run that was never interrupted.
 *
 * A checkpoint holds what lstmsrc_train cannot recompute: the weights, both Adam moments, the
 * Adam step, the RNG state at the start of the epoch to run next (its shuffle is redone from
 * it), how many of that epoch's windows are already trained, and the best-so-far weights,
 * validation loss, F1 and epoch (chosen by the run's `select`, which the resuming run must match).
 * What is a pure function of the data and configuration (scaler, positive weights, baselines, the
 * best epoch's validation outputs) is recomputed instead, and an identity block makes sure the data
 * and settings really are the same.
 *
 * File layout, little-endian, no padding (offsets in bytes):
 *     0  u8[8]  magic "LSRCCKP\0"
 *     8  u32    version (2; version 1 lacked `select`)
 *    12  u32    header_size: offset of the identity block (24)
 *    16  u64    file_size, checksum included
 *   identity (what the resuming run must match)
 *    24  u64    data_hash      rows, names, readings and labels of the data set (ckpt_hash_data)
 *    32  u64    rows
 *    40  u32    inputs, outputs, task, label_mode, seq_len, hidden, layers, batch, threads
 *    76  u64    seed
 *    84  f32    lr, beta1, beta2, eps, clip, val_fraction (bit patterns)
 *   108  u64    pos_weight_hash  the positive weights the loss uses (auto, none or given), mixed
 *                               with the windows: features, label position, stride
 *   116  u64    n_params
 *   progress
 *   124  u32    next_epoch     1-based epoch to run next
 *   128  u32    epochs_run     complete epochs (next_epoch - 1)
 *   132  u32    best_epoch     0 = none yet
 *   136  u64    done           windows of next_epoch already trained (a multiple of batch)
 *   144  u64    step           Adam steps taken
 *   152  u64[4] rng            xoshiro256** state before next_epoch's shuffle
 *   184  f64    loss_sum       summed loss of next_epoch's `done` windows
 *   192  f64    best_val       best validation loss (+inf until there is one)
 *   200  f64    best_f1        its macro F1 (-1 until there is one)
 *   identity, continued
 *   208  u32    select         how the best epoch is chosen (enum lstmsrc_select)
 *   212  f32    params[n_params], adam_m[n_params], adam_v[n_params], best[n_params], and
 *               with weight averaging (train config ema > 0) avg[n_params]: the ema is mixed
 *               into pos_weight_hash then, so files without it are as before
 *        u32    crc32 (zlib's) of every byte before it
 *
 * Deliberately not here: deciding when to write (train.c) and any use of a checkpoint other
 * than resuming the same run. Array values are restored as saved, without finiteness checks:
 * a checkpoint is a faithful copy of a run, NaN included, and the CRC guards its integrity.
 */
#ifndef LSTMSRC_CHECKPOINT_H
#define LSTMSRC_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"
#include "lstmsrc.h"

/* What a checkpoint must match to be resumed (filled by ckpt_id_init). */
struct ckpt_id {
    uint64_t data_hash, rows;
    uint32_t inputs, outputs, task, label_mode;
    uint32_t seq_len, hidden, layers, batch, threads;
    uint64_t seed;
    float lr, beta1, beta2, eps, clip, val_fraction;
    uint64_t pos_weight_hash;
    uint64_t n_params;
    uint32_t select;
    /* not stored: used to check the progress fields, and the arrays' count (4, 5 with avg) */
    uint64_t train_windows;
    uint32_t arrays;
};

/* The state itself. The four or five arrays (n_params floats each) belong to the trainer; save
 * reads them, load fills them. */
struct ckpt_state {
    int next_epoch, epochs_run, best_epoch;
    size_t done;
    long step;
    struct rng rng;
    double loss_sum, best_val, best_f1;
    float *params, *adam_m, *adam_v, *best;
    float *avg; /* the weights' moving average (train config ema > 0), else NULL */
};

/* Fills id for a run: ds, the configuration, the freshly set-up model (shape, pos_weight), the
 * resolved thread count and the training windows. Hashes the whole data set (about 1 s per
 * 1 GB of readings), so call it once per run. */
void ckpt_id_init(struct ckpt_id *id, const struct lstmsrc_dataset *ds,
                  const struct lstmsrc_train_config *cfg, const struct lstmsrc_model *m,
                  int threads, size_t train_windows);

/* Writes the checkpoint atomically (a unique temporary file in the same directory, fsync,
 * rename; an existing target that is not a regular file, such as a device or FIFO, is written
 * in place). On failure the file already at `path` is left as it was: LSTMSRC_ERR_IO naming
 * the path and the system error. */
enum lstmsrc_status ckpt_save(const char *path, const struct ckpt_id *id,
                              const struct ckpt_state *s, struct lstmsrc_error *err);

/* Reads and validates a checkpoint for the run described by id: magic, version (a newer one is
 * LSTMSRC_ERR_VERSION naming both), size and CRC (LSTMSRC_ERR_FORMAT), then the identity (a
 * checkpoint of other data or settings is LSTMSRC_ERR_ARG naming the first difference), then
 * the progress fields. On success fills s (arrays included). On failure the arrays may have
 * been partly overwritten. */
enum lstmsrc_status ckpt_load(const char *path, const struct ckpt_id *id, struct ckpt_state *s,
                              struct lstmsrc_error *err);
/* The same from memory; `name` is used in messages. */
enum lstmsrc_status ckpt_load_mem(const char *name, const unsigned char *buf, size_t len,
                                  const struct ckpt_id *id, struct ckpt_state *s,
                                  struct lstmsrc_error *err);

#endif
