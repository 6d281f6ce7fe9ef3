// A unit's dot-product error on a layer's real operands, as the dot product grows (issue 17:
// "the dot-product error vs FP64 as K grows from 64 to 4096 on real tensors").
//
// A dot product of length K is built from one layer's recorded operands: one output channel
// n, and K terms a[m_j][k_j]·w[k_j][n] with the row m_j and the position k_j drawn at random
// (seeded) — real activation and weight pairs of that layer, in the layer's scales, for any
// K (a layer's own K is at most a few hundred). Each is computed three ways:
//   unit     the layer's accumulator on the codes: exact integer sum (int), sequential FP32
//            (fp32), the golden LNS units A / B / C (linear / log / mitchell), k order;
//   decoded  FP64 sum of the same codes' values (what an exact accumulator would give);
//   real     FP64 sum of the unquantised operands.
// Reported: the relative RMS error of unit against decoded (the accumulation's own error:
// zero for integer MACs, whose sum is taken exact: the accumulator width is not applied)
// and against real (accumulation and quantisation together), each
// RMS(error) / RMS(reference) over the samples.
#pragma once

#include <cstdint>
#include <vector>

#include "nn/executor.h"

namespace lpsim::nn {

struct DotErrorPoint {
  int64_t K = 0;
  int samples = 0;
  double rel_rms_accumulation = 0, rel_rms_total = 0;
};

// Empty where the layer's arithmetic has no single scale per operand (per-channel
// activations, bit allocation, PANN, bias correction) or no recorded operands.
std::vector<DotErrorPoint> dot_product_error(const LayerQuant& q, const LayerOperands& ops, double act_scale,
                                             const std::vector<int64_t>& Ks, int samples, uint64_t seed);

}  // namespace lpsim::nn
