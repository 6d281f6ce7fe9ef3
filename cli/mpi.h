// MPI for sweeps (OpenMPI, Debian's libopenmpi-dev): built in when CMake finds it
// (LPSIM_HAVE_MPI). `mpirun -np K lpsim run SWEEP.yaml` scatters the sweep's points over
// the K ranks (round robin); each rank runs its points with the scenario's thread count
// and sends each result to rank 0 as it finishes; rank 0 shows the whole sweep's progress
// and writes the one report. MPI is initialised only when lpsim was launched by an MPI
// launcher, so a plain `lpsim run` never touches it.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace lpsim::cli {

// RAII: MPI_Init when launched under mpirun (and built with MPI), MPI_Finalize at exit.
class MpiSession {
 public:
  MpiSession(int& argc, char**& argv);
  ~MpiSession();
  static int rank();  // 0 without MPI
  static int size();  // 1 without MPI
  // Launched by mpirun/srun with more than one rank (whether or not this build has MPI).
  static int launched_ranks();
  static bool built_in();
};

// Runs the work items `mine` of this rank (run(i) returns item i's result text) and, on
// rank 0, gathers every rank's results into results[i] (done(i) called on rank 0 as each
// arrives, its own or another rank's). `total`: items over all ranks.
void mpi_run_items(const std::vector<size_t>& all_items, const std::function<std::string(size_t)>& run,
                   const std::function<void(size_t, const std::string&)>& done);

}  // namespace lpsim::cli
