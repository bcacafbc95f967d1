/*
 * mpi_comm.c — the processes of one `mpirun -np N lstmsrc ...` run: MPI behind the library's
 * struct lstmsrc_comm (the library links no MPI), and the few collectives the commands need
 * around it. Built with MPI only by `make MPI=1` (LSTMSRC_HAVE_MPI, mpicc); otherwise, and
 * when the program was not started by mpirun, this is one process and every call is trivial.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifdef LSTMSRC_HAVE_MPI
#include <mpi.h>

static int mpi_on, mpi_rank, mpi_size;
static struct lstmsrc_comm mpi_comm;
static int *counts_i, *displs_i; /* (size) MPI's int counts for an allgather */
/* LSTMSRC_MPI_STATS=1: what the exchanges cost, said by each rank at the end (bench/MPI.md) */
static long stat_calls;
static double stat_bytes, stat_secs;

/* The library's allgather, in place: block r of buf (counts[r] bytes, in rank order) from
 * rank r. Blocks over INT_MAX bytes go as floats' worth of bytes would not: refuse them. */
static int mpi_allgather(void *user, void *buf, const size_t *counts)
{
    (void)user;
    size_t off = 0;
    for (int r = 0; r < mpi_size; r++) {
        if (counts[r] > (size_t)2147483647 || off > (size_t)2147483647) return -1;
        counts_i[r] = (int)counts[r];
        displs_i[r] = (int)off;
        off += counts[r];
    }
    const double t0 = MPI_Wtime();
    int rc = MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, counts_i, displs_i, MPI_BYTE,
                            MPI_COMM_WORLD);
    stat_secs += MPI_Wtime() - t0;
    stat_calls++;
    stat_bytes += (double)(off - counts[mpi_rank]); /* what this rank received */
    return rc != MPI_SUCCESS;
}

/* Started by a launcher: Open MPI's mpirun, or a PMI-speaking one (srun, hydra). */
static int under_launcher(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

int cli_mpi_init(int *argc, char ***argv)
{
    if (!under_launcher()) return 0;
    if (MPI_Init(argc, argv) != MPI_SUCCESS) {
        fprintf(stderr, "lstmsrc: MPI_Init failed\n");
        return -1;
    }
    mpi_on = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &mpi_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &mpi_size);
    counts_i = malloc((size_t)mpi_size * sizeof *counts_i);
    displs_i = malloc((size_t)mpi_size * sizeof *displs_i);
    if (!counts_i || !displs_i) {
        fprintf(stderr, "lstmsrc: out of memory for %d MPI ranks\n", mpi_size);
        MPI_Abort(MPI_COMM_WORLD, 1);
    }
    mpi_comm = (struct lstmsrc_comm){
        .rank = mpi_rank, .size = mpi_size, .allgather = mpi_allgather, .user = NULL};
    return 0;
}

void cli_mpi_finalize(void)
{
    if (!mpi_on) return;
    const char *st = getenv("LSTMSRC_MPI_STATS");
    if (st && !strcmp(st, "1"))
        fprintf(stderr,
                "lstmsrc: rank %d of %d: %ld exchanges, %.0f bytes received, %.3f s in them\n",
                mpi_rank, mpi_size, stat_calls, stat_bytes, stat_secs);
    MPI_Finalize();
    free(counts_i);
    free(displs_i);
    mpi_on = 0;
}

int cli_mpi_rank(void)
{
    return mpi_on ? mpi_rank : 0;
}
int cli_mpi_size(void)
{
    return mpi_on ? mpi_size : 1;
}
const struct lstmsrc_comm *cli_mpi_comm(void)
{
    return mpi_on && mpi_size > 1 ? &mpi_comm : NULL;
}

int cli_mpi_first(int failed)
{
    if (!mpi_on || mpi_size == 1) return failed ? 0 : -1;
    int mine = failed ? mpi_rank : mpi_size, first = mpi_size;
    MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    return first < mpi_size ? first : -1;
}

void cli_mpi_abort(int code)
{
    if (mpi_on && mpi_size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

const char *cli_mpi_version(void)
{
    static char v[MPI_MAX_LIBRARY_VERSION_STRING];
    int n = 0;
    MPI_Get_library_version(v, &n);
    v[strcspn(v, ",\n")] = '\0'; /* its first clause: "Open MPI v4.1.4" */
    return v;
}

#else /* one process */

int cli_mpi_init(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    return 0;
}
void cli_mpi_finalize(void) {}
int cli_mpi_rank(void)
{
    return 0;
}
int cli_mpi_size(void)
{
    return 1;
}
const struct lstmsrc_comm *cli_mpi_comm(void)
{
    return NULL;
}
int cli_mpi_first(int failed)
{
    return failed ? 0 : -1;
}
void cli_mpi_abort(int code)
{
    (void)code;
}
const char *cli_mpi_version(void)
{
    return NULL;
}

#endif
