// Floating-point formats for near-lognormal neural gradients (papers.md §3, Chmiel et al.,
// ICLR 2021): the per-layer scale that centres the lognormal, the expected quantisation
// error of a format under that prior in closed form, and the ExMy of a given width with
// the least error.
//
// Derivation (round to nearest, saturating at the largest finite value). After scaling,
// X = |g|·s with ln X ~ N(m, σ²) (m = 0 when s centres the fit). Rounding to nearest maps
// every X in [(v_(j−1) + v_j)/2, (v_j + v_(j+1))/2) to the format's value v_j (0 below
// half the smallest nonzero value; the largest finite value from its midpoint up to ∞:
// saturation), so the expected error is exactly a sum over the format's values:
//   E[(X − Q(X))²]       = Σ_j E[X²; I_j] − 2v_j·E[X; I_j] + v_j²·P(I_j)
//   E[((X − Q(X))/X)²]   = Σ_j P(I_j) − 2v_j·E[X⁻¹; I_j] + v_j²·E[X⁻²; I_j]
// with the truncated lognormal moments E[X^k; a ≤ X < b] = e^(km + k²σ²/2)·(Φ(z_b) − Φ(z_a)),
// z_t = (ln t − m − kσ²)/σ. (In the bulk this is the familiar Δ²/12 per binade: a step Δ_e
// = 2^(e−M) in binade e; the exact sum also gets the subnormals, the flush to zero and the
// saturated tail right.) The sign of g does not enter (every format is symmetric). Ties
// have probability 0. Numerically the interior intervals are integrated by Gauss–Legendre
// (the moment form cancels on narrow ones); the two unbounded ends use the moments.
// Tested against Monte Carlo through arith::quantize.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "arith/float_format.h"
#include "arith/lognormal_prune.h"

namespace lpsim::arith {

// The per-layer gradient scale of the reference code: 2^(−mean log2|g|) = e^(−μ) with μ
// the mean of ln|g| over the non-zeros (fit_lognormal): the lognormal's median moves to 1,
// exponent 0 of the format.
double lognormal_centring_scale(const LognormalFit& fit);

// Expected squared error of rounding X (ln X ~ N(m, σ²)) onto f, to nearest, saturating.
// σ > 0; InputError otherwise.
double lognormal_quantization_mse(const FloatFormat& f, double sigma, double m = 0);

// The same error relative to the value, E[((X − Q(X))/X)²]: in range each binade
// contributes Δ_e²/12·E[X⁻²; binade], a value flushed to 0 counts 1, a saturated one
// (1 − max/X)². This is what the chooser minimises: the absolute MSE weights X² and, for
// σ ≳ 2, is dominated by values of probability below 1e−8 that no layer ever produces
// (E[X²; X > max] of E5M2 at σ = 2 is 200 while a million draws see none of it); the
// relative error is bounded per value and says how well the typical gradient survives.
double lognormal_relative_mse(const FloatFormat& f, double sigma, double m = 0);

struct FormatChoice {
  FloatFormat format;
  double mse = 0;                             // relative MSE of the chosen format
  std::vector<std::pair<std::string, double>> candidates;  // every candidate's name and MSE
};

// The format of `total_bits` (sign + E + M) with the least lognormal_relative_mse at
// m = 0 (the centred scale): the IEEE-style eXmY with E = 2 … min(8, total_bits − 2)
// (M ≥ 1), and for 8 bits also OCP E4M3 (no inf, max 448). total_bits in 4..16.
FormatChoice choose_lognormal_format(int total_bits, double sigma);

}  // namespace lpsim::arith
