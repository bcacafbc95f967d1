#!/bin/sh
# Training over MPI ranks (make MPI=1, mpirun): the model is byte for byte the single process's
# for the same data and seed on any ranks x threads split (2x1 = 1x2, 2x2 = 1x4, 3 ranks over
# TCP only as between machines); only rank 0 writes; a run stopped by Ctrl-C at mpirun saves
# the model and the state, and resumed under mpirun ends with the uninterrupted model; predict
# over several files gives one process's outputs, and eval over them prints one process's
# bytes (text, stderr, --json; one rank idle too); a data error on rank 1 only (train, eval)
# is reported with its file:line and every rank exits non-zero; a rank killed
# mid-training ends the job (no hang). Skipped, saying why, when the build has no MPI or
# mpirun is missing.
. tests/lib_cli.sh "$@"

if ! "$L" --version | grep -q 'MPI: Open MPI\|MPI: MPICH'; then
    skip "mpi" "built without MPI (make MPI=1 BUILD=build-mpi; sh tests/cli_mpi.sh build-mpi)"
    echo "cli_mpi: $passed passed, $failed failed, $skipped skipped"
    exit 0
fi
if ! command -v mpirun >/dev/null 2>&1; then
    skip "mpi" "no mpirun on PATH (apt-get install openmpi-bin)"
    echo "cli_mpi: $passed passed, $failed failed, $skipped skipped"
    exit 0
fi
# as root Open MPI wants leave; on a 2-core machine more ranks than cores
M="mpirun --oversubscribe"
[ "$(id -u)" = 0 ] && M="$M --allow-run-as-root"
LA=$(cd "$(dirname "$L")" && pwd)/$(basename "$L")

"$L" gen --rows 12000 --sources 3 --seed 3 -o "$T/d.csv" >/dev/null 2>&1
OPTS="--epochs 2 --hidden 12 --batch 128 --seed 5 --quiet"
"$L" train "$T/d.csv" -o "$T/t2.lsm" $OPTS --threads 2 >/dev/null
"$L" train "$T/d.csv" -o "$T/t4.lsm" $OPTS --threads 4 >/dev/null

same_model() { # RANKS THREADS REF [MPI OPTIONS]
    n=$1 th=$2 ref=$3
    shift 3
    rm -f "$T/m.lsm"
    timeout 120 $M "$@" -np "$n" "$LA" train "$T/d.csv" -o "$T/m.lsm" $OPTS --threads "$th" \
        >"$T/m.out" 2>&1 && cmp "$T/m.lsm" "$ref" &&
        [ "$(grep -c '^saved ' "$T/m.out")" = 1 ] # one rank speaks
}
check "-np 2 --threads 1 gives the model of --threads 2, byte for byte" same_model 2 1 "$T/t2.lsm"
check "-np 2 --threads 2 gives the model of --threads 4" same_model 2 2 "$T/t4.lsm"
check "-np 3 over TCP only (--mca btl tcp,self) gives the same model" \
    same_model 3 1 "$T/t2.lsm" --mca btl tcp,self

# predict over several files: dealt out over the ranks, the outputs of one process
for s in 1 2 3; do "$L" gen --rows 2000 --sources 3 --seed $s -o "$T/p$s.csv" >/dev/null 2>&1; done
mkdir "$T/o1" "$T/o2"
"$L" predict "$T/t2.lsm" "$T/p1.csv" "$T/p2.csv" "$T/p3.csv" -o "$T/o1/" 2>/dev/null
check "predict FILES -o DIR/ over 2 ranks writes the files of one process" \
    sh -c "timeout 60 $M -np 2 '$LA' predict '$T/t2.lsm' '$T/p1.csv' '$T/p2.csv' '$T/p3.csv' \
        -o '$T/o2/' && diff -r '$T/o1' '$T/o2'"

# eval over several files: dealt out the same way, the counts added over the ranks; rank 0
# prints the one process's bytes, text and --json, and its stderr lines (a file with holes:
# the missing rows and segments of all files)
awk -F, 'NR == 50 || NR == 700 { $1 = "NA" } { print }' OFS=, "$T/p2.csv" >"$T/h2.csv"
EF="$T/p1.csv $T/h2.csv $T/p3.csv"
"$L" eval "$T/t2.lsm" $EF >"$T/e1.txt" 2>"$T/e1.err"
"$L" eval "$T/t2.lsm" $EF --json >"$T/e1.json" 2>/dev/null
same_eval() { # RANKS FILES...: text, stderr and --json of one process
    n=$1
    shift
    timeout 60 $M -np "$n" "$LA" eval "$T/t2.lsm" "$@" >"$T/en.txt" 2>"$T/en.err" &&
        timeout 60 $M -np "$n" "$LA" eval "$T/t2.lsm" "$@" --json >"$T/en.json" &&
        cmp "$T/en.txt" "$T/e1.txt" && cmp "$T/en.err" "$T/e1.err" && cmp "$T/en.json" "$T/e1.json"
}
check "the one-process eval has scores and the holes' line" \
    sh -c "grep -q 'exact-match accuracy' '$T/e1.txt' && grep -q '2 of 6000 rows missing' '$T/e1.err'"
check "eval over 3 files on -np 2 prints one process's text, stderr and --json, byte for byte" \
    same_eval 2 $EF
check "eval over 3 files on -np 3 (a file each) prints one process's bytes" same_eval 3 $EF
"$L" eval "$T/t2.lsm" "$T/p1.csv" "$T/p2.csv" >"$T/e1.txt" 2>"$T/e1.err"
"$L" eval "$T/t2.lsm" "$T/p1.csv" "$T/p2.csv" --json >"$T/e1.json" 2>/dev/null
check "eval over 2 files on -np 3 (one rank idle) prints one process's bytes" \
    same_eval 3 "$T/p1.csv" "$T/p2.csv"
"$L" eval "$T/t2.lsm" "$T/p1.csv" >"$T/e1.txt" 2>"$T/e1.err"
"$L" eval "$T/t2.lsm" "$T/p1.csv" --json >"$T/e1.json" 2>/dev/null
check "eval of one file on -np 2 (rank 1 idle) prints one process's bytes" same_eval 2 "$T/p1.csv"

# a data error on rank 1 alone: its file:line, exit 1 from every rank, no model
head -n 200 "$T/d.csv" >"$T/bad.csv"
echo "1,2,x,y" >>"$T/bad.csv"
cat >"$T/rank1bad.sh" <<EOS
#!/bin/sh
f=$T/d.csv
[ "\$OMPI_COMM_WORLD_RANK" = 1 ] && f=$T/bad.csv
exec "$LA" train "\$f" -o "$T/bad.lsm" $OPTS --threads 1
EOS
chmod +x "$T/rank1bad.sh"
data_error_rank1() {
    ! timeout 60 $M -np 2 "$T/rank1bad.sh" >"$T/bad.out" 2>&1 &&
        grep -q "bad.csv:201:" "$T/bad.out" && [ ! -e "$T/bad.lsm" ]
}
check "a data error on rank 1 only: file:line said, every rank exits 1" data_error_rank1
eval_error_rank1() { # bad.csv is file 1 of 3: rank 1's
    ! timeout 60 $M -np 2 "$LA" eval "$T/t2.lsm" "$T/p1.csv" "$T/bad.csv" "$T/p3.csv" \
        >"$T/ebad.out" 2>"$T/ebad.err" &&
        [ "$(grep -c 'lstmsrc: eval: .*bad.csv:201:2: expected 0 or 1' "$T/ebad.err")" = 1 ] &&
        [ ! -s "$T/ebad.out" ]
}
check "eval with a data error in rank 1's file only: its file:line once, non-zero, no scores" \
    eval_error_rank1

# a rank killed mid-training ends the whole job, no hang
cat >"$T/kill1.sh" <<EOS
#!/bin/sh
if [ "\$OMPI_COMM_WORLD_RANK" = 1 ]; then
    exec timeout -s KILL 2 "$LA" train "$T/d.csv" -o "$T/k.lsm" --epochs 500 --quiet --threads 1
fi
exec "$LA" train "$T/d.csv" -o "$T/k.lsm" --epochs 500 --quiet --threads 1
EOS
chmod +x "$T/kill1.sh"
killed_rank() { ! timeout 60 $M -np 2 "$T/kill1.sh" >"$T/k.out" 2>&1 && grep -q 'signal 9' "$T/k.out"; }
check "a rank killed mid-training ends every rank (no hang)" killed_rank

# Ctrl-C at mpirun: rank 0 saves the model and the state; resumed under mpirun, the model of
# the run never stopped
ROPTS="--epochs 150 --hidden 32 --batch 128 --seed 9"
"$L" train "$T/d.csv" -o "$T/full.lsm" $ROPTS --threads 2 --quiet >/dev/null
stop_resume() {
    rm -f "$T/r.lsm" "$T/r.lsm.ckpt"
    $M -np 2 "$LA" train "$T/d.csv" -o "$T/r.lsm" $ROPTS --threads 1 >"$T/r.out" 2>&1 &
    pid=$!
    # stop after the first epoch's line
    i=0
    while [ $i -lt 300 ] && ! grep -q 'Epoch 2/' "$T/r.out" 2>/dev/null; do
        sleep 0.1
        i=$((i + 1))
    done
    kill -INT $pid
    wait $pid
    grep -q 'training state saved to' "$T/r.out" && [ -s "$T/r.lsm.ckpt" ] || return 1
    timeout 300 $M -np 2 "$LA" train "$T/d.csv" -o "$T/r.lsm" $ROPTS --threads 1 --quiet \
        --resume "$T/r.lsm.ckpt" >/dev/null 2>&1 && cmp "$T/r.lsm" "$T/full.lsm"
}
check "Ctrl-C under mpirun saves model and state; --resume under mpirun ends with the same bytes" \
    stop_resume

echo "cli_mpi: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
