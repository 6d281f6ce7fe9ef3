#include "cli/mpi.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <thread>
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
bool g_serialized = false;  // the MPI library allows calls from a second thread, one at a time
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
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_SERIALIZED, &provided);
    g_serialized = provided >= MPI_THREAD_SERIALIZED;
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
  // Dynamic dealing (points differ in cost: a saturating accumulator runs sequentially):
  // rank 0 runs items and, in a second thread, answers the other ranks' requests for the
  // next item from the same counter. Each request carries the rank's previous result.
  // Only that thread calls MPI while items run (MPI_THREAD_SERIALIZED), and it polls
  // with a short sleep instead of a blocking receive, which would spin a core.
  constexpr int kTagRequest = 11, kTagItem = 12;
  constexpr long long kNone = -1;
  if (g_rank != 0) {
    std::string msg = "-1\n";  // no result yet
    while (true) {
      MPI_Send(msg.data(), int(msg.size()), MPI_CHAR, 0, kTagRequest, MPI_COMM_WORLD);
      long long k = kNone;
      MPI_Recv(&k, 1, MPI_LONG_LONG, 0, kTagItem, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      if (k == kNone) return;
      const size_t i = items[size_t(k)];
      msg = std::to_string(i) + "\n" + run(i);
    }
  }
  std::atomic<size_t> next{0};
  auto deal = [&] {
    int active = g_size - 1;
    while (active > 0) {
      int flag = 0;
      MPI_Status st;
      MPI_Iprobe(MPI_ANY_SOURCE, kTagRequest, MPI_COMM_WORLD, &flag, &st);
      if (!flag) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        continue;
      }
      int n = 0;
      MPI_Get_count(&st, MPI_CHAR, &n);
      std::string msg(size_t(n), '\0');
      MPI_Recv(msg.data(), n, MPI_CHAR, st.MPI_SOURCE, kTagRequest, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
      const size_t nl = msg.find('\n');
      const long long i = std::stoll(msg.substr(0, nl));
      if (i >= 0) done(size_t(i), msg.substr(nl + 1));
      const size_t k = next++;
      const long long reply = k < items.size() ? static_cast<long long>(k) : kNone;
      MPI_Send(&reply, 1, MPI_LONG_LONG, st.MPI_SOURCE, kTagItem, MPI_COMM_WORLD);
      if (reply == kNone) --active;
    }
  };
  if (!g_serialized) {  // an MPI library without threads: rank 0 only deals
    std::cerr << "lpsim: warning: the MPI library does not allow a second thread (MPI_THREAD_SERIALIZED): rank 0 "
                 "only hands out points\n";
    deal();
    return;
  }
  std::thread dealer(deal);
  for (size_t k; (k = next++) < items.size();) done(items[k], run(items[k]));
  dealer.join();
#else
  (void)items, (void)run, (void)done;
  throw InputError("this lpsim was built without MPI");
#endif
}

}  // namespace lpsim::cli
