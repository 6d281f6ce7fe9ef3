#!/bin/bash
# A sweep across nodes with Slurm and OpenMPI: one rank per task, one thread per rank
# (set `threads: 1` in the scenario, or as many as --cpus-per-task). The repository, the
# model cache and results/ must be on a file system every node sees (the usual $HOME or
# project space): ranks share trained models through model.cache (a lock per model: one
# rank trains, the others wait and load it), each point writes its own folder, and rank 0
# receives every result over MPI and writes the one report.
#   sbatch scripts/slurm-sweep.sh scenarios/sweep-bits.yaml
#SBATCH --job-name=lpsim-sweep
#SBATCH --nodes=4
#SBATCH --ntasks-per-node=16
#SBATCH --cpus-per-task=1
#SBATCH --time=02:00:00
#SBATCH --output=lpsim-sweep-%j.log
set -euo pipefail
SCENARIO=${1:?usage: sbatch scripts/slurm-sweep.sh SCENARIO.yaml [lpsim run options]}
shift
export OMP_NUM_THREADS=${SLURM_CPUS_PER_TASK:-1}
# Train the model(s) once before the ranks start (optional: ranks would wait for it).
# srun -n 1 build/cli/lpsim run "$SCENARIO" --point <id of one point> -q
mpirun -np "${SLURM_NTASKS}" build/cli/lpsim run "$SCENARIO" "$@"
# Exit status: the number of failed points (0: all done). A rerun reuses finished points.
