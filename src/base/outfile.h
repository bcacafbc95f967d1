/*
 * outfile.h — writing an output file without ever losing the one already there. Every command
 * that writes (model, checkpoint, generated data, predictions, exported C, pictures) goes
 * through here: the bytes go to a unique temporary name next to the target (O_EXCL, so
 * concurrent writers and a crashed run's leftovers never collide), are flushed and fsynced,
 * then renamed over the target (atomic within one file system) and the directory is synced.
 * On any failure the temporary is removed and the target is untouched. An existing device or
 * FIFO is written in place (renaming over it would replace the node), and "-" is stdout.
 */
#ifndef LSTMSRC_OUTFILE_H
#define LSTMSRC_OUTFILE_H

#include <stdio.h>

#include "lstmsrc.h"

struct outfile {
    FILE *fp;         /* write here (buffered), or to outfile_fd's descriptor, never both */
    char *tmp;        /* temporary name renamed over path at commit; NULL in place or stdout */
    const char *path; /* the target as given; borrowed, must outlive the outfile */
    int is_stdout;
};

/* Opens path ("-": stdout). LSTMSRC_ERR_NOMEM or LSTMSRC_ERR_IO ("PATH: cannot create TMP:
 * why", "PATH: cannot open: why") with nothing left behind. */
enum lstmsrc_status outfile_open(struct outfile *o, const char *path, struct lstmsrc_error *err);

/* Checks, before any long work, that path can be written the way outfile_open and
 * outfile_commit will: "-" and an existing device or FIFO pass as they are (nothing is opened:
 * a FIFO would wait for a reader); otherwise a temporary is created next to path, one byte is
 * written to it and it is removed, so a missing directory, a parent that is a file, a read-only
 * or full file system and a directory in path's place are caught. LSTMSRC_ERR_ARG for an empty
 * name ("empty file name"), LSTMSRC_ERR_IO ("PATH: cannot create TMP: why", "PATH: cannot write
 * in its directory: why", "PATH: is a directory") otherwise; nothing is left behind. */
enum lstmsrc_status outfile_probe(const char *path, struct lstmsrc_error *err);

/* The descriptor under o->fp, for unbuffered writers (write_all). */
int outfile_fd(const struct outfile *o);

/* Finishes and releases o. werr is a write error the caller already saw (an errno value, -1 if
 * unknown, 0 if none). Flushes, fsyncs and closes, then renames into place; on any failure
 * returns LSTMSRC_ERR_IO ("PATH: cannot write: why" or "PATH: cannot replace: why"), removes
 * the temporary and leaves the target as it was. stdout is flushed, not closed. */
enum lstmsrc_status outfile_commit(struct outfile *o, int werr, struct lstmsrc_error *err);

/* Abandons o: closes it and removes the temporary; the target is untouched. Safe on an outfile
 * that outfile_open failed on or that was already committed. */
void outfile_abort(struct outfile *o);

#endif
