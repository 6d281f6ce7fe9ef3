#include "cli/mpi.h"

#include <cstdlib>
#include <string>

#include "arith/error.h"

#ifdef LPSIM_HAVE_MPI
#include <mpi.h>
#endif

namespace lpsim::cli {
namespace {
int g_rank = 0, g_size = 1;
bool g_child = false;  // a --jobs child process
#ifdef LPSIM_HAVE_MPI
bool g_active = false;
#endif
}  // namespace

int MpiSession::launched_ranks() {
  if (g_child) return 1;
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "SLURM_NTASKS_PER_JOB_STEP"})
    if (const char* s = std::getenv(v)) return std::atoi(s);
  return 1;
}

bool MpiSession::built_in() {
#ifdef LPSIM_HAVE_MPI
  return true;
#else
  return false;
#endif
}

MpiSession::MpiSession(int& argc, char**& argv) {
  // A --jobs child (--point / --config) inherits its parent's launcher environment but is
  // not a rank: it never joins MPI.
  for (int i = 1; i < argc; ++i)
    if (std::string(argv[i]) == "--point" || std::string(argv[i]) == "--config") g_child = true;
#ifdef LPSIM_HAVE_MPI
  if (!g_child && (std::getenv("OMPI_COMM_WORLD_SIZE") || std::getenv("PMI_SIZE") || std::getenv("PMIX_RANK"))) {
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_active = true;
  }
#endif
}

MpiSession::~MpiSession() {
#ifdef LPSIM_HAVE_MPI
  if (g_active) MPI_Finalize();
#endif
}

int MpiSession::rank() { return g_rank; }
int MpiSession::size() { return g_size; }

void mpi_run_items(const std::vector<size_t>& items, const std::function<std::string(size_t)>& run,
                   const std::function<void(size_t, const std::string&)>& done) {
#ifdef LPSIM_HAVE_MPI
  constexpr int kTagResult = 11;
  std::vector<size_t> mine;
  for (size_t k = 0; k < items.size(); ++k)
    if (int(k % size_t(g_size)) == g_rank) mine.push_back(items[k]);
  if (g_rank != 0) {
    for (const size_t i : mine) {
      // The item's index first (8 bytes), then its result text.
      std::string msg = std::to_string(i) + "\n" + run(i);
      MPI_Send(msg.data(), int(msg.size()), MPI_CHAR, 0, kTagResult, MPI_COMM_WORLD);
    }
    return;
  }
  size_t expected = items.size() - mine.size(), received = 0;
  auto receive = [&](bool block) {
    while (received < expected) {
      MPI_Status st;
      int flag = 1;
      if (block) MPI_Probe(MPI_ANY_SOURCE, kTagResult, MPI_COMM_WORLD, &st);
      else MPI_Iprobe(MPI_ANY_SOURCE, kTagResult, MPI_COMM_WORLD, &flag, &st);
      if (!flag) return;
      int n = 0;
      MPI_Get_count(&st, MPI_CHAR, &n);
      std::string msg(size_t(n), '\0');
      MPI_Recv(msg.data(), n, MPI_CHAR, st.MPI_SOURCE, kTagResult, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      const size_t nl = msg.find('\n');
      done(std::stoul(msg.substr(0, nl)), msg.substr(nl + 1));
      ++received;
    }
  };
  for (const size_t i : mine) {
    done(i, run(i));
    receive(false);
  }
  receive(true);
#else
  (void)items, (void)run, (void)done;
  throw InputError("this lpsim was built without MPI");
#endif
}

}  // namespace lpsim::cli
