// `lpsim verify-rtl --array RxC`: the SystemC array's PEs run as the Verilated RTL. A
// random GEMM (folds over K, a part-filled column tile) streams through an R×C array
// (sim/accelerator.h) with every PE's ports recorded cycle by cycle; each PE's recording
// is then replayed on its own instance of the Verilated PE (rtl/mac_ws for weight-
// stationary, rtl/mac for output-stationary, int8 × int8 into 32 bits) and its output
// register compared after every clock with the array's, and the register's bit toggles
// counted on both sides.
#include "cli/verify_array.h"

#include <bit>
#include <chrono>

#include "Vmac_s8x8_acc32_array.h"
#include "Vmac_ws_s8x8_acc32_array.h"
#include "arith/error.h"
#include "arith/philox.h"
#include "power_models/cell_library.h"
#include "power_models/resources.h"
#include "rtl/harness.h"

namespace lpsim::cli {

namespace {

template <typename V>
void replay(const sim::GemmResult& r, size_t pe, uint64_t inject, ArrayRtlCheck& out) {
  rtl::Clocked<V> tb("");
  uint64_t last_rtl = 0, last_sim = 0;
  for (size_t t = 0; t < r.trace.size(); ++t) {
    const sim::PeTrace& x = r.trace[t][pe];
    tb.m->a_i = x.a;
    tb.m->b_i = x.b;
    tb.m->en_i = x.en;
    if constexpr (requires { tb.m->w_load_i; }) {
      tb.m->w_load_i = x.load;
      tb.m->psum_i = x.psum_in;
    } else {
      tb.m->clear_i = x.clear;
    }
    tb.clock();
    uint64_t got = 0;
    if constexpr (requires { tb.m->psum_o; })
      got = uint64_t(tb.m->psum_o);
    else
      got = uint64_t(tb.m->acc_o);
    if (out.pe_cycles++ == inject) got ^= 1;  // self-test of the comparison
    if (got != x.out && out.mismatches++ == 0)
      out.first_failure = "PE " + std::to_string(pe) + " cycle " + std::to_string(t) + ": RTL " + std::to_string(got) +
                          ", array " + std::to_string(x.out);
    out.rtl_toggles += uint64_t(std::popcount(got ^ last_rtl));
    out.sim_toggles += uint64_t(std::popcount(x.out ^ last_sim));
    last_rtl = got, last_sim = x.out;
  }
}

}  // namespace

ArrayRtlCheck check_array_on_rtl(sim::Dataflow dataflow, int rows, int cols, uint64_t seed, uint64_t inject) {
  const auto t0 = std::chrono::steady_clock::now();
  sim::AcceleratorSpec spec;
  spec.rows = rows, spec.cols = cols, spec.dataflow = dataflow;
  spec.gate_level = false;  // outputs and ports only: the RTL is the model here
  spec.trace_pes = rows * cols;
  spec.pe = {8, 8, 32, true, false, "array", ""};
  const power::CellLibrary lib = power::load_cell_library(power::default_cell_library_path());
  sim::Accelerator acc(spec, lib, power::rtl_dir(), {});
  sim::Gemm g;
  g.name = "random";
  g.M = 2 * rows + 5, g.K = 2 * rows + 3, g.N = cols + 3;  // folds over K and a part-filled tile
  const arith::RandomStream rng(seed, 0x415252u /* "ARR" */);
  uint64_t i = 0;
  for (int64_t j = 0; j < g.M * g.K; ++j) g.a.push_back(rng.bits(i++) & 0xff);
  for (int64_t j = 0; j < g.K * g.N; ++j) g.w.push_back(rng.bits(i++) & 0xff);
  const sim::GemmResult r = acc.run(g);
  ArrayRtlCheck out;
  out.cycles = r.cycles;
  out.outputs_exact = r.out == sim::reference_gemm(g, spec.pe);
  for (size_t pe = 0; pe < size_t(rows * cols); ++pe) {
    if (dataflow == sim::Dataflow::weight_stationary)
      replay<Vmac_ws_s8x8_acc32_array>(r, pe, inject, out);
    else
      replay<Vmac_s8x8_acc32_array>(r, pe, inject, out);
  }
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace lpsim::cli
