#include "nn/evaluate.h"

#include "nn/dot_error.h"

#include <chrono>
#include <cmath>

#include <fmt/format.h>

#include "arith/format.h"
#include "nn/progress.h"

namespace lpsim::nn {

using json = nlohmann::json;

double top1(QuantizedExecutor& ex, const TensorDataset& data, const std::string& label, bool progress,
            double* seconds) {
  const int64_t batch = 500;
  int64_t correct = 0;
  ProgressBar bar(progress, label);
  const auto t = std::chrono::steady_clock::now();
  for (int64_t b = 0; b < data.size(); b += batch) {
    const int64_t e = std::min(data.size(), b + batch);
    correct += ex.forward(data.images.slice(0, b, e)).argmax(1).eq(data.labels.slice(0, b, e)).sum().item<int64_t>();
    bar.update(e, data.size(), fmt::format("acc {:.2f} %", 100.0 * double(correct) / double(e)));
  }
  bar.finish();
  if (seconds) *seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  return data.size() ? double(correct) / double(data.size()) : 0.0;
}

json price_inference(QuantizedExecutor& ex, const PricingContext& ctx, const std::string& label, bool progress) {
  ex.record_next_forward();
  ex.forward(ctx.energy_images);
  const auto costs = ex.costs();
  json jl = json::array();
  double energy = 0, var = 0, area = 0, nand2 = 0, horowitz = 0;
  int64_t overflowed = 0, outputs = 0, pann_additions = 0;
  int bits_needed = 0;
  double wbits_sum = 0, abits_sum = 0, macs_sum = 0;  // MAC-weighted mean widths
  double area_mac_sum = 0, priced_macs = 0;           // MAC-weighted mean PE area
  std::string units;
  bool all_priced = true;
  ProgressBar bar(progress && ctx.price, label);
  for (size_t li = 0; li < costs.size(); ++li) {
    const LayerCost& lc = costs[li];
    const LayerQuant& q = ex.layer(lc.node);
    LayerPrice p;
    if (!ctx.price) {
      p.note = "energy_model: none";
      p.horowitz_pj_per_mac = horowitz_mac_pj(q);
    } else {
      const AccRange range = q.quantised ? ex.acc_range(lc.node) : AccRange{};
      p = price_layer(q, range, ex.recorded()[lc.node], lc.M, ctx.hw, *ctx.gate, ctx.analytic);
    }
    bar.update(int64_t(li + 1), int64_t(costs.size()), lc.name);
    const double e = p.priced ? p.pj_per_mac * double(lc.macs) + p.correction_pj_per_image : NAN;
    all_priced &= p.priced;
    horowitz += p.horowitz_pj_per_mac * double(lc.macs);
    pann_additions += lc.pann_additions;
    if (p.priced) {
      area_mac_sum += (p.area_mixed_um2 > 0 ? p.area_mixed_um2 : p.area_um2) * double(lc.macs), priced_macs += double(lc.macs);
      energy += e;
      var += std::pow(p.ci95_pj * double(lc.macs), 2) + std::pow(p.correction_ci95_pj, 2);
      if (p.area_um2 > area) area = p.area_um2, nand2 = p.nand2;
      if (units.find(p.unit) == std::string::npos) units += (units.empty() ? "" : "; ") + p.unit;
    }
    const int64_t outs = ex.outputs_seen()[lc.node];
    const bool int_acc = q.quantised && q.accumulator == "int";
    if (int_acc) {
      overflowed += ex.out_of_range()[lc.node], outputs += outs;
      bits_needed = std::max(bits_needed, ex.acc_bits_needed(lc.node));
    }
    jl.push_back({{"layer", lc.name},
                  {"M", lc.M}, {"K", lc.K}, {"N", lc.N},
                  {"macs", lc.macs}, {"additions", lc.additions},
                  {"weight_bits", lc.weight_bits}, {"input_bits", lc.input_bits}, {"output_bits", lc.output_bits},
                  {"weights", q.quantised ? (q.pann ? std::string("pann") : arith::format_name(q.weights)) : "fp32"},
                  {"activations", q.quantised ? arith::format_name(q.activations) : "fp32"},
                  {"accumulator", q.quantised ? (q.accumulator == "int" ? fmt::format("int{}", q.acc_bits) : q.accumulator) : "fp32"},
                  {"acc_out_of_range_fraction", outs ? double(ex.out_of_range()[lc.node]) / double(outs) : 0.0},
                  {"acc_bits_needed", int_acc ? ex.acc_bits_needed(lc.node) : 0},
                  {"act_zero_point", q.quantised ? ex.input_zero(lc.node) : 0.0},
                  {"unit", p.unit}, {"note", p.note},
                  {"pj_per_mac", p.priced ? p.pj_per_mac : NAN}, {"ci95_pj_per_mac", p.ci95_pj},
                  {"energy_batches", p.batches}, {"sampled_macs", p.sampled_macs},
                  {"correction_pj", p.correction_pj_per_image}, {"correction_unit", p.correction_unit},
                  {"energy_pj", e}, {"unit_area_um2", p.area_um2},
                  {"horowitz_pj_per_mac", p.horowitz_pj_per_mac},
                  {"pann_R", lc.pann_R}, {"pann_additions", lc.pann_additions}});
    // Clipping, widths and bias correction as calibration left them (papers.md §4).
    json& L = jl.back();
    const double wb = double(lc.weight_bits) / double(lc.K * lc.N);
    L["weight_bits_mean"] = wb;
    if (q.quantised && !q.pann) {
      const ActivationClip& ac = ex.input_clip(lc.node);
      L["clip"] = ac.clip;
      L["clip_prior"] = ac.clip != "aciq" ? std::string() : ac.gauss == 0 ? std::string("laplace") : ac.laplace == 0 ? std::string("gauss")
                                                                                    : fmt::format("laplace {}/gauss {}", ac.laplace, ac.gauss);
      L["clip_alpha_mean"] = ac.alpha_mean, L["clip_range_mean"] = ac.range_mean;
      L["activations_one_sided"] = ac.one_sided, L["activations_per_channel"] = ac.per_channel;
      L["activation_bits_mean"] = ac.bits_mean > 0 ? ac.bits_mean : double(arith::format_bits(q.activations));
      if (!ac.note.empty()) L["clip_note"] = ac.note;
      if (!q.weight_channel_bits.empty()) L["weight_channel_bits"] = q.weight_channel_bits;
      if (!q.activation_channel_bits.empty()) L["activation_channel_bits"] = q.activation_channel_bits;
      L["bias_corrected"] = ex.bias_correction_offsets(lc.node).defined();
      if (!p.mix.empty()) L["bit_mix"] = p.mix;
    }
    if (q.quantised) {  // the unit's dot-product error on this layer's real operands (nn/dot_error.h)
      json de = json::array();
      for (const DotErrorPoint& d : dot_product_error(q, ex.recorded()[lc.node], ex.input_scale(lc.node), {64, 256, 1024, 4096},
                                                      64, ctx.hw.seed))
        de.push_back({{"K", d.K}, {"samples", d.samples}, {"rel_rms_accumulation", d.rel_rms_accumulation},
                      {"rel_rms_total", d.rel_rms_total}});
      if (!de.empty()) L["dot_error"] = de;
    }
    wbits_sum += wb * double(lc.macs);
    abits_sum += (L.contains("activation_bits_mean") ? L["activation_bits_mean"].get<double>() : 32.0) * double(lc.macs);
    macs_sum += double(lc.macs);
  }
  bar.finish();
  return {{"energy_pj", all_priced ? energy : NAN}, {"energy_ci95_pj", std::sqrt(var)},
          {"energy_horowitz_pj", horowitz}, {"unit", units}, {"unit_area_um2", area}, {"unit_nand2", nand2},
          {"acc_overflow_fraction", outputs ? double(overflowed) / double(outputs) : 0.0},
          {"acc_bits_needed", bits_needed}, {"pann_additions", pann_additions},
          {"weight_bits_mean", macs_sum > 0 ? wbits_sum / macs_sum : 0.0},
          {"unit_area_mac_weighted_um2", priced_macs > 0 ? area_mac_sum / priced_macs : 0.0},
          {"activation_bits_mean", macs_sum > 0 ? abits_sum / macs_sum : 0.0}, {"layers", jl}};
}

}  // namespace lpsim::nn
