// `lpsim demo`: the main job until the network executor lands. Quantizes seeded
// Gaussian and Laplace tensors into each format (max scaling, ACIQ clipping, LUQ) and
// reports the quantization error, as a table, CSV/JSON under results/ and a PNG plot.
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <numbers>
#include <vector>

#include "arith/aciq.h"
#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/luq.h"
#include "arith/philox.h"
#include "arith/process.h"
#include "arith/quantize.h"
#include "arith/uniform_quantizer.h"
#include "cli/commands.h"

namespace lpsim::cli {

using namespace lpsim::arith;

namespace {

std::vector<float> draw(const std::string& dist, size_t n, uint64_t seed) {
  const RandomStream rng(seed, dist == "gauss" ? 1 : 2);
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) {
    // Open interval (0, 1): offset by half a step so log() never sees 0.
    const double u = (rng.bits(2 * i) + 0.5) * 0x1p-32, v = (rng.bits(2 * i + 1) + 0.5) * 0x1p-32;
    x[i] = dist == "gauss" ? float(std::sqrt(-2 * std::log(u)) * std::cos(2 * std::numbers::pi * v))
                           : float(u < 0.5 ? std::log(2 * u) : -std::log(2 * (1 - u)));  // Laplace(0, 1)
  }
  return x;
}

struct Row {
  std::string dist, method, format;
  int bits;
  double clip, mse, sqnr_db;
};

}  // namespace

Command add_demo(CLI::App& app, const bool& json) {
  struct Opts {
    std::string out = "results/demo";
    uint64_t seed = 1;
    size_t samples = 1 << 16;
  };
  auto o = std::make_shared<Opts>();
  CLI::App* sub = app.add_subcommand("demo", "Quantization error of every format on Gaussian/Laplace tensors");
  sub->add_option("--out", o->out, "output directory")->capture_default_str();
  sub->add_option("--seed", o->seed, "seed of the sampled tensors and of stochastic rounding")->capture_default_str();
  sub->add_option("--samples", o->samples, "elements per tensor")->capture_default_str()->check(CLI::Range(16, 1 << 26));
  return {sub, [o, &json] {
            const auto t0 = std::chrono::steady_clock::now();
            std::vector<Row> rows;
            for (const std::string dist : {"gauss", "laplace"}) {
              const std::vector<float> x = draw(dist, o->samples, o->seed);
              std::vector<float> q(x.size());
              double power = 0, max_abs = 0;
              for (float v : x) power += double(v) * v, max_abs = std::max(max_abs, double(std::fabs(v)));
              power /= double(x.size());
              auto record = [&](const std::string& method, const std::string& format, int bits, double clip) {
                double err = 0;
                for (size_t i = 0; i < x.size(); ++i) err += (double(x[i]) - q[i]) * (double(x[i]) - q[i]);
                err /= double(x.size());
                rows.push_back({dist, method, format, bits, clip, err, 10 * std::log10(power / err)});
              };
              const ClipPrior prior = dist == "gauss" ? ClipPrior::gauss : ClipPrior::laplace;
              for (int bits : {8, 4, 3, 2}) {
                UniformSpec spec{bits, true, RoundMode::nearest_even, o->seed, 0};
                uniform_quantize(spec, 0, float(max_abs), x, q);
                record("max-scaled", "int" + std::to_string(bits), bits, max_abs);
                const double alpha = aciq_clip(x, prior, bits, false);
                uniform_quantize(spec, 0, float(alpha), x, q);
                record("aciq", "int" + std::to_string(bits), bits, alpha);
              }
              for (const char* name : {"fp8_e4m3", "fp8_e5m2", "fp4_e2m1"}) {
                const NumberFormat f = parse_format(name);
                QuantizeOptions opt;
                opt.scale = float(max_abs / std::get<FloatFormat>(f).max_value());
                quantize(f, x, q, opt);
                record("max-scaled", name, format_bits(f), max_abs);
              }
              const LuqResult luq = luq_quantize(x, q, {7, o->seed, 3, 0, 1});
              record("luq-stochastic", "luq4", 4, luq.max_abs);
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

            nlohmann::json j = {{"seed", o->seed}, {"samples", o->samples}, {"rows", nlohmann::json::array()}};
            std::string csv = "distribution,method,format,bits,clip,mse,sqnr_db\n";
            std::string table = fmt::format("{:<8} {:<15} {:<9} {:>4} {:>9} {:>12} {:>9}\n", "dist", "method", "format",
                                            "bits", "clip", "mse", "sqnr_dB");
            for (const Row& r : rows) {
              j["rows"].push_back({{"distribution", r.dist}, {"method", r.method}, {"format", r.format}, {"bits", r.bits},
                                   {"clip", r.clip}, {"mse", r.mse}, {"sqnr_db", r.sqnr_db}});
              csv += fmt::format("{},{},{},{},{:.9g},{:.9g},{:.6f}\n", r.dist, r.method, r.format, r.bits, r.clip, r.mse,
                                 r.sqnr_db);
              table += fmt::format("{:<8} {:<15} {:<9} {:>4} {:>9.4f} {:>12.5g} {:>9.2f}\n", r.dist, r.method, r.format,
                                   r.bits, r.clip, r.mse, r.sqnr_db);
            }
            const std::filesystem::path dir(o->out);
            atomic_write_file(dir / "formats.csv", csv);
            atomic_write_file(dir / "formats.json", j.dump(2) + "\n");
            // The plot is a convenience: gnuplot missing only skips it. No shell anywhere: gnuplot
            // runs from an argument vector and gets the (absolute) paths as ARG1/ARG2, never
            // inside its script, so an output folder named `out;echo INJECTED` is just a name.
            std::string plot_note;
            const std::filesystem::path png = dir / "formats.png";
            if (find_program("gnuplot")) {
              std::string dat = "# label\tgauss SQNR dB\tlaplace SQNR dB\n";  // one row per (method, format), both distributions
              for (const Row& g : rows) {
                if (g.dist != "gauss") continue;
                for (const Row& l : rows)
                  if (l.dist == "laplace" && l.method == g.method && l.format == g.format)
                    dat += fmt::format("{} {}\t{:.6f}\t{:.6f}\n", g.format, g.method, g.sqnr_db, l.sqnr_db);
              }
              atomic_write_file(dir / "formats_plot.dat", dat);
              const std::string gp = fmt::format(
                  "# gnuplot -c formats.gp [PNG] [DATA]\n"
                  "out = ARGC >= 1 ? ARG1 : 'formats.png'\ndata = ARGC >= 2 ? ARG2 : 'formats_plot.dat'\n"
                  "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {{ set terminal pngcairo size 900,500 noenhanced }} "
                  "else {{ set terminal png size 900,500 noenhanced }}\nset output out\n"
                  "set datafile separator '\\t'\nset style data histograms\nset style fill solid 0.8 border -1\n"
                  "set ylabel 'SQNR (dB)'\nset title 'lpsim demo: quantization SQNR by format (N={0}, seed={1})'\n"
                  "set xtics rotate by -40\nset key top right\nset bmargin 9\nset rmargin 8\n"
                  "plot data using 2:xtic(1) title 'Gaussian', data using 3 title 'Laplace'\n",
                  o->samples, o->seed);
              atomic_write_file(dir / "formats.gp", gp);
              const std::filesystem::path abs = std::filesystem::absolute(dir);  // never '<' or '|' first
              const std::filesystem::path tmp = dir / "formats.png.tmp";
              std::error_code ec;
              std::filesystem::remove(tmp, ec);
              const ProcessResult r =
                  run_process({"gnuplot", "-c", (abs / "formats.gp").string(), (abs / "formats.png.tmp").string(),
                               (abs / "formats_plot.dat").string()},
                              {"/dev/null", "/dev/null", "/dev/null"});
              if (r.ok() && std::filesystem::file_size(tmp, ec) > 0 && !ec) {
                std::filesystem::rename(tmp, png);
                plot_note = ", formats.png";
              } else {
                std::filesystem::remove(tmp, ec);
                std::cerr << "lpsim: warning: gnuplot " << (r.ok() ? "wrote no image" : r.describe())
                          << "; no plot (its script and data: " << (dir / "formats.gp").string() << ", "
                          << (dir / "formats_plot.dat").string() << ")\n";
              }
            }
            std::error_code ec;
            if (plot_note.empty()) std::filesystem::remove(png, ec);  // a plot of an earlier run would mislead
            if (json) {
              std::cout << j.dump(2) << "\n";
            } else {
              std::cout << table;
              std::cout << fmt::format("wrote {}/formats.csv, formats.json{} ({:.2f} s)\n", dir.string(), plot_note, seconds);
            }
            return 0;
          }};
}

}  // namespace lpsim::cli
