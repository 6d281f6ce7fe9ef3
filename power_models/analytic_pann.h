// The analytic bit-toggle model of PANN (papers.md §1, first-principles form [D]):
//   multiplier  toggles ≈ c_bb·b_x·b_w + c_b·(b_x + b_w) + c_0
//   accumulator toggles ≈ signed:   a_B·(B − b_x − b_w)·P_sc + a_b·(b_x + b_w) + a_0, the
//                         sign-extended upper bits flipping with the product's sign, where
//                         P_sc = 2p(1−p), p = P(product < 0) = ½ − 2^-b for uniform operands
//                         unsigned: u_b·(b_x + b_w) + u_0 (independent of B)
// with coefficients fitted to lpsim's own gate-level switching (the ground truth), and
// energy = toggles × the mean energy of one toggle in the same netlists.
#pragma once

#include <cmath>
#include <filesystem>
#include <vector>

#include "power_models/cell_library.h"

namespace lpsim::power {

struct PannModel {
  double mul_bb = 0, mul_b = 0, mul_0 = 0;
  double acc_signed_B = 0, acc_signed_b = 0, acc_signed_0 = 0;
  double acc_unsigned_b = 0, acc_unsigned_0 = 0;
  double pj_per_toggle = 0;
  double r2_mul = 0, r2_acc_signed = 0, r2_acc_unsigned = 0;  // goodness of each fit

  double mul_toggles(int bx, int bw) const { return mul_bb * bx * bw + mul_b * (bx + bw) + mul_0; }
  // Probability that the sign of the product of two uniform signed operands changes
  // between consecutive operations (zero counts as non-negative).
  static double sign_change_probability(int bx, int bw) {
    const double pa = 0.5, pb = 0.5, za = std::ldexp(1.0, -bx), zb = std::ldexp(1.0, -bw);
    const double p = pa * (pb - zb) + (pa - za) * pb;  // negative·positive + positive·negative
    return 2 * p * (1 - p);
  }
  double acc_toggles(int bx, int bw, int acc_bits, bool is_signed) const {
    return is_signed ? acc_signed_B * (acc_bits - bx - bw) * sign_change_probability(bx, bw) +
                           acc_signed_b * (bx + bw) + acc_signed_0
                     : acc_unsigned_b * (bx + bw) + acc_unsigned_0;
  }
  // Toggles per operation of a multiplier (mac = false) or a MAC.
  double unit_toggles(bool mac, int bx, int bw, int acc_bits, bool is_signed) const {
    return mul_toggles(bx, bw) + (mac ? acc_toggles(bx, bw, acc_bits, is_signed) : 0);
  }
  double mac_energy_pj(int bx, int bw, int acc_bits, bool is_signed) const {
    return (mul_toggles(bx, bw) + acc_toggles(bx, bw, acc_bits, is_signed)) * pj_per_toggle;
  }
};

// Least squares y ≈ X·c (columns of X are features); returns c and writes R².
std::vector<double> least_squares(const std::vector<std::vector<double>>& X, const std::vector<double>& y, double* r2);

// Fits the model on array multipliers and MACs with b = 2..8 (uniform operands) and
// accumulators of 16 and 32 bits.
PannModel fit_pann_model(const CellLibrary& lib, const std::filesystem::path& rtl_dir,
                         const std::filesystem::path& cache_dir, uint64_t vectors = 1 << 13);

}  // namespace lpsim::power
