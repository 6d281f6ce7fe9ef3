#include "power_models/analytic_pann.h"

#include <cmath>

#include "arith/error.h"
#include "power_models/unit_energy.h"

namespace lpsim::power {

std::vector<double> least_squares(const std::vector<std::vector<double>>& X, const std::vector<double>& y, double* r2) {
  const size_t n = y.size(), k = X.empty() ? 0 : X[0].size();
  LPSIM_CHECK(n >= k && k > 0);
  // Normal equations (XᵀX)c = Xᵀy, solved by Gaussian elimination with partial pivoting.
  std::vector<std::vector<double>> A(k, std::vector<double>(k + 1, 0.0));
  for (size_t i = 0; i < n; ++i)
    for (size_t r = 0; r < k; ++r) {
      for (size_t c = 0; c < k; ++c) A[r][c] += X[i][r] * X[i][c];
      A[r][k] += X[i][r] * y[i];
    }
  for (size_t col = 0; col < k; ++col) {
    size_t piv = col;
    for (size_t r = col + 1; r < k; ++r)
      if (std::fabs(A[r][col]) > std::fabs(A[piv][col])) piv = r;
    std::swap(A[col], A[piv]);
    LPSIM_CHECK(std::fabs(A[col][col]) > 1e-12);
    for (size_t r = 0; r < k; ++r) {
      if (r == col) continue;
      const double f = A[r][col] / A[col][col];
      for (size_t c = col; c <= k; ++c) A[r][c] -= f * A[col][c];
    }
  }
  std::vector<double> coef(k);
  for (size_t r = 0; r < k; ++r) coef[r] = A[r][k] / A[r][r];
  if (r2) {
    double mean = 0, ss_tot = 0, ss_res = 0;
    for (double v : y) mean += v;
    mean /= double(n);
    for (size_t i = 0; i < n; ++i) {
      double pred = 0;
      for (size_t c = 0; c < k; ++c) pred += coef[c] * X[i][c];
      ss_res += (y[i] - pred) * (y[i] - pred);
      ss_tot += (y[i] - mean) * (y[i] - mean);
    }
    *r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
  }
  return coef;
}

PannModel fit_pann_model(const CellLibrary& lib, const std::filesystem::path& rtl_dir,
                         const std::filesystem::path& cache_dir, uint64_t vectors) {
  PannModel m;
  auto measure = [&](const std::string& unit, int b, int acc, bool s) {
    UnitEnergyRequest q;
    q.unit = unit;
    q.a_bits = q.b_bits = b;
    q.acc_bits = acc;
    q.is_signed = s;
    q.vectors = vectors;
    q.rtl_dir = rtl_dir;
    q.cache_dir = cache_dir;
    return measure_unit_energy(q, lib);
  };
  std::vector<std::vector<double>> Xm, Xs, Xu;
  std::vector<double> ym, ys, yu;
  double energy = 0, toggles = 0;
  for (int b = 2; b <= 8; ++b) {
    for (bool s : {true, false}) {
      const UnitEnergyReport mul = measure("mul", b, 32, s);
      Xm.push_back({double(b * b), double(2 * b), 1.0});
      ym.push_back(mul.toggles_per_op);
      energy += (mul.energy_pj - mul.leakage_pj) * double(mul.operations);
      toggles += mul.toggles_per_op * double(mul.operations);
      for (int acc : {16, 32}) {
        const UnitEnergyReport mac = measure("mac", b, acc, s);
        const double acc_toggles = mac.toggles_per_op - mul.toggles_per_op;
        energy += (mac.energy_pj - mac.leakage_pj) * double(mac.operations);
        toggles += mac.toggles_per_op * double(mac.operations);
        if (s) {
          Xs.push_back({(acc - 2 * b) * PannModel::sign_change_probability(b, b), double(2 * b), 1.0});
          ys.push_back(acc_toggles);
        } else {
          Xu.push_back({double(2 * b), 1.0});
          yu.push_back(acc_toggles);
        }
      }
    }
  }
  const auto cm = least_squares(Xm, ym, &m.r2_mul);
  m.mul_bb = cm[0], m.mul_b = cm[1], m.mul_0 = cm[2];  // features b_x·b_w, b_x + b_w, 1
  const auto cs = least_squares(Xs, ys, &m.r2_acc_signed);
  m.acc_signed_B = cs[0], m.acc_signed_b = cs[1], m.acc_signed_0 = cs[2];
  const auto cu = least_squares(Xu, yu, &m.r2_acc_unsigned);
  m.acc_unsigned_b = cu[0], m.acc_unsigned_0 = cu[1];
  m.pj_per_toggle = energy / toggles;
  return m;
}

}  // namespace lpsim::power
