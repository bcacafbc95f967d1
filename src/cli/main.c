/*
 * main.c — the `lstmsrc` command: a dispatch table of subcommands (git's commands[]).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "data/csv.h"
#include "nn/kernels.h"

static const struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
    int mpi; /* shares its work over mpirun's ranks */
} commands[] = {
    {"gen", cmd_gen, "write seed-like synthetic meter data", 0},
    {"train", cmd_train, "train a model on a CSV", 1},
    {"eval", cmd_eval, "evaluate a model on a CSV, next to trivial baselines", 1},
    {"inspect", cmd_inspect, "print everything a model file holds", 0},
    {"doctor", cmd_doctor, "say what will go wrong with a data set, and what to do", 0},
    {"plot", cmd_plot, "draw what a model makes of a data set (SVG)", 0},
    {"predict", cmd_predict, "predict every row of a CSV, in constant memory", 1},
    {"stream", cmd_stream, "predict line by line from stdin, as readings arrive", 0},
    {"export-c", cmd_export_c, "write a model as one self-contained C99 header", 0},
};

static void usage(FILE *fp)
{
    fprintf(fp, "usage: lstmsrc COMMAND [ARGS]\n\n"
                "Learn which sources are active from one accumulated meter reading.\n\n"
                "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(fp, "\nexample:\n"
                "  lstmsrc gen --rows 200000 --sources 3 -o train.csv\n"
                "  lstmsrc train train.csv -o model.lsm\n"
                "  lstmsrc eval model.lsm test.csv\n"
                "  lstmsrc predict model.lsm new.csv -o predictions.csv\n"
                "  meter-reader | lstmsrc stream model.lsm\n"
                "  lstmsrc export-c model.lsm -o model.h\n"
                "\n'lstmsrc COMMAND --help' describes each command.\n");
}

/* Every command ends here: what it printed must have reached stdout (`> /dev/full`, a closed
 * pipe), else a command that had succeeded fails with exit 1. A command that failed has said
 * why already; its status stands. */
static int check_stdout(const char *cmd, int rc)
{
    errno = 0;
    if (fflush(stdout) == 0 && !ferror(stdout)) return rc;
    if (rc != 0) return rc;
    if (errno)
        fprintf(stderr, "lstmsrc: %s: cannot write to stdout: %s\n", cmd, strerror(errno));
    else
        fprintf(stderr, "lstmsrc: %s: cannot write to stdout\n", cmd);
    return 1;
}

/* Under mpirun (a `make MPI=1` build) every rank runs the command: train, predict and eval
 * share the work; the others run in one process and are refused there. Every rank that gets
 * here reaches the last collective (cli_mpi_first) before MPI is finalised. */
static int run_command(size_t i, int argc, char **argv)
{
    if (cli_mpi_init(&argc, &argv)) return 1;
    int rc;
    if (cli_mpi_size() > 1 && !commands[i].mpi) {
        if (cli_mpi_rank() == 0)
            fprintf(stderr,
                    "lstmsrc: %s runs in one process; of the commands only train, predict and "
                    "eval share their work over mpirun's %d ranks\n",
                    commands[i].name, cli_mpi_size());
        rc = EXIT_USAGE;
    } else {
        rc = check_stdout(commands[i].name, commands[i].fn(argc - 1, argv + 1));
    }
    cli_mpi_first(rc != 0);
    cli_mpi_finalize();
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return check_stdout("help", 0);
    }
    /* LSTMSRC_ISA forces the kernels (tests, benchmarks): one this CPU cannot run, or a name
     * that is none, is refused here rather than silently replaced */
    char why[160];
    if (kernels_isa_env_problem(why, sizeof why)) {
        fprintf(stderr, "lstmsrc: %s\n", why);
        return EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--version")) {
        const char *zv = csv_zlib_version();
        const char *mv = cli_mpi_version();
        printf("lstmsrc %s (kernels: %s; this CPU's best: %s; gzip input: %s%s; MPI: %s)\n",
               LSTMSRC_VERSION, kernels_isa_name(kernels_isa()),
               kernels_isa_name(kernels_isa_best()), zv ? "zlib " : "no, built without zlib",
               zv ? zv : "", mv ? mv : "no, built without MPI");
        return check_stdout("version", 0);
    }
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (!strcmp(argv[1], commands[i].name)) return run_command(i, argc, argv);
    fprintf(stderr, "lstmsrc: '%s' is not a command. See 'lstmsrc --help'.\n", argv[1]);
    return EXIT_USAGE;
}
