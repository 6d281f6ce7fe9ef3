// `lpsim quantize`, `lpsim clip`, `lpsim formats`: inspecting formats and quantizers.
#include <cmath>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "arith/aciq.h"
#include "arith/error.h"
#include "arith/format.h"
#include "arith/quantize.h"
#include "arith/number_lines.h"
#include "arith/philox.h"
#include "cli/commands.h"

namespace lpsim::cli {

using namespace lpsim::arith;

namespace {

std::string hex_code(uint32_t code, int bits) { return fmt::format("0x{:0{}x}", code, (bits + 3) / 4); }

}  // namespace

Command add_quantize(CLI::App& app, const bool& json) {
  struct Opts {
    std::string format, rounding = "rne", overflow = "saturate";
    uint64_t seed = 0;
    double scale = 1.0;
    bool codes = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("quantize", "Quantize numbers read from stdin (one per line) into a format");
  sub->add_option("--format,-f", o->format, "int<b>, uint<b>, fp8_e4m3, fp8_e5m2, fp4_e2m1, fp16, bf16, eXmY, luq4, luq5")
      ->required();
  sub->add_option("--rounding,-r", o->rounding, "rne | rtz | stochastic")->capture_default_str();
  sub->add_option("--overflow", o->overflow, "saturate | inf (inf/NaN where the format has them) | wrap (integers)")
      ->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of stochastic rounding (line i uses element index i-1)")->capture_default_str();
  sub->add_option("--scale", o->scale, "value of one unit of the format (α for luq4)")->capture_default_str();
  sub->add_flag("--codes", o->codes, "print the bit code (hex) instead of the value");
  return {sub, [o, &json] {
            const NumberFormat fmt = parse_format(o->format);
            const RoundMode mode = parse_round_mode(o->rounding);
            const Overflow overflow = parse_overflow(o->overflow);
            if (!(o->scale > 0) || !std::isfinite(o->scale))
              throw InputError("must be a positive finite number", {}, "--scale");
            if (overflow == Overflow::wrap && !std::holds_alternative<IntFormat>(fmt))
              throw InputError("wrap applies to integer formats only", {}, "--overflow");
            const std::vector<double> xs = read_number_lines(std::cin);
            const RandomStream rng(o->seed);
            nlohmann::json out = nlohmann::json::array();
            std::string text;
            for (size_t i = 0; i < xs.size(); ++i) {
              const double y = xs[i] / o->scale;
              const uint32_t r = mode == RoundMode::stochastic ? rng.bits(i) : 0u;
              const std::string where = "stdin:" + std::to_string(i + 1);  // line i + 1: no line is skipped
              uint32_t code;
              if (const auto* f = std::get_if<IntFormat>(&fmt)) {
                // NaN has no integer code: an error, not a silent 0. Wrap needs an exact integer.
                if (std::isnan(y)) throw InputError("NaN has no code in " + o->format + " (integers have no NaN)", where);
                if (overflow == Overflow::wrap && !(std::fabs(y) < 0x1p62))
                  throw InputError(fmt::format("{} cannot wrap into {}: only values below 2^62 in magnitude have an "
                                               "exact integer to wrap (use --overflow saturate)",
                                               xs[i], o->format),
                                   where);
                code = f->to_code(int_encode(*f, y, mode, overflow, r).value);
              } else if (const auto* l = std::get_if<LnsFormat>(&fmt)) {
                if (std::isnan(y)) throw InputError("NaN has no code in " + o->format + " (the format has no NaN)", where);
                code = lns_encode(*l, y, mode, r);
              } else {
                const FloatFormat& ff = std::get<FloatFormat>(fmt);
                if (std::isnan(y) && !ff.has_nan())
                  throw InputError("NaN has no code in " + o->format + " (the format has no NaN)", where);
                code = encode(ff, y, mode, overflow, r).code;
              }
              const double value = code_value(fmt, code) * o->scale;
              if (json)
                out.push_back({{"input", xs[i]}, {"value", value}, {"code", hex_code(code, format_bits(fmt))}});
              else
                text += o->codes ? hex_code(code, format_bits(fmt)) + "\n" : fmt::format("{:.17g}\n", value);
            }
            std::cout << (json ? out.dump(2) + "\n" : text);
            return 0;
          }};
}

Command add_clip(CLI::App& app, const bool& json) {
  struct Opts {
    std::string prior = "laplace";
    int bits = 4;
    bool one_sided = false;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("clip", "ACIQ optimal clipping value α* (in units of b or σ) and the MSE there");
  sub->add_option("--prior", o->prior, "laplace | gauss")->capture_default_str();
  sub->add_option("--bits,-M", o->bits, "quantizer bits M (1..8)")->required();
  sub->add_flag("--one-sided", o->one_sided, "post-ReLU tensor: clip [0, α] with 2^M bins");
  return {sub, [o, &json] {
            ClipPrior prior;
            if (o->prior == "laplace")
              prior = ClipPrior::laplace;
            else if (o->prior == "gauss" || o->prior == "gaussian")
              prior = ClipPrior::gauss;
            else
              throw InputError("unknown prior '" + o->prior + "' (known: laplace, gauss)", {}, "--prior");
            const double alpha = aciq_optimal_alpha(prior, o->bits, o->one_sided);
            const double mse = aciq_mse(prior, o->bits, alpha, o->one_sided);
            const char* unit = prior == ClipPrior::laplace ? "b" : "sigma";
            if (json) {
              nlohmann::json j = {{"prior", o->prior}, {"bits", o->bits}, {"one_sided", o->one_sided},
                                  {"alpha", alpha},    {"unit", unit},    {"mse", mse}};
              std::cout << j.dump(2) << "\n";
            } else {
              std::cout << fmt::format("prior={} bits={}{} alpha*={:.6f} {} mse={:.7g} (unit scale)\n", o->prior, o->bits,
                                       o->one_sided ? " one-sided" : "", alpha, unit, mse);
            }
            return 0;
          }};
}

Command add_formats(CLI::App& app, const bool& json) {
  CLI::App* sub = app.add_subcommand("formats", "List the named number formats with their ranges");
  return {sub, [&json] {
            nlohmann::json out = nlohmann::json::array();
            std::string text = fmt::format("{:<10} {:>4} {:>4} {:>4} {:>5} {:>8} {:>14} {:>14} {:>14}\n", "format", "bits",
                                           "exp", "man", "bias", "specials", "max", "min_normal", "min_subnormal");
            for (const FloatFormat& f : named_float_formats()) {
              const char* sp = f.specials == Specials::ieee ? "inf+nan" : f.specials == Specials::fn ? "nan" : "none";
              out.push_back({{"name", f.name}, {"bits", f.total_bits()}, {"exp_bits", f.exp_bits}, {"man_bits", f.man_bits},
                             {"bias", f.bias}, {"specials", sp}, {"subnormals", f.subnormals}, {"max", f.max_value()},
                             {"min_normal", f.min_normal()}, {"min_subnormal", f.min_subnormal()}});
              text += fmt::format("{:<10} {:>4} {:>4} {:>4} {:>5} {:>8} {:>14.8g} {:>14.8g} {:>14.8g}\n", f.name,
                                  f.total_bits(), f.exp_bits, f.man_bits, f.bias, sp, f.max_value(), f.min_normal(),
                                  f.min_subnormal());
            }
            for (const IntFormat& f : {IntFormat{4, true}, IntFormat{4, false}, IntFormat{8, true}, IntFormat{8, false}}) {
              out.push_back({{"name", f.name()}, {"bits", f.bits}, {"min", f.min_value()}, {"max", f.max_value()}});
              text += fmt::format("{:<10} {:>4} {:>4} {:>4} {:>5} {:>8} {:>14} {:>14} {:>14}\n", f.name(), f.bits, "-",
                                  "-", "-", "-", f.max_value(), 1, 1);
            }
            text += "any int<1..32>, uint<1..32> and eXmY (E 1..8, M 0..10, IEEE-style, bias 2^(E-1)-1) also parse\n";
            std::cout << (json ? out.dump(2) + "\n" : text);
            return 0;
          }};
}

}  // namespace lpsim::cli
