#include "nn/report_files.h"

#include <fmt/format.h>

#include <iostream>

#include "arith/atomic_file.h"
#include "arith/process.h"

namespace lpsim::nn {

std::string csv_escape(const std::string& s) {
  if (s.find_first_of(",\"") == std::string::npos) return s;
  std::string o = "\"";
  for (char c : s) o += c == '"' ? std::string("\"\"") : std::string(1, c);
  return o + "\"";
}

// Runs gnuplot on a script file: an argument vector, no shell (a path is never parsed as
// a command). True when gnuplot ran and exited 0.
bool run_gnuplot(const std::filesystem::path& script) {
  return run_process({"gnuplot", script.string()}, {std::nullopt, "/dev/null", "/dev/null"}).ok();
}

// A string as a gnuplot single-quoted literal (a quote doubled, line breaks made spaces):
// paths and names in a plot script are data, never gnuplot commands.
std::string gpq(const std::string& text) {
  std::string o = "'";
  for (const char c : text) o += c == '\'' ? std::string("''") : c == '\n' || c == '\r' ? std::string(" ") : std::string(1, c);
  return o + "'";
}
std::string gpq(const std::filesystem::path& p) { return gpq(p.string()); }

// dir/stem.png from a gnuplot body (everything after the terminal and output lines),
// written atomically; the script is kept as dir/stem.gp. A PNG is listed only if written.
bool plot_png(const std::filesystem::path& dir, const std::string& stem, const std::string& body, int w, int h) {
  const auto tmp = dir / (stem + ".tmp.png"), gp = dir / (stem + ".gp");
  for (const char* terminal : {"pngcairo", "png"}) {  // pngcairo is missing from some gnuplot builds
    atomic_write_file(gp, fmt::format("set terminal {} size {},{} noenhanced\nset output {}\n", terminal, w, h, gpq(tmp)) +
                              body);
    if (run_gnuplot(gp) && std::filesystem::exists(tmp)) {
      std::filesystem::rename(tmp, dir / (stem + ".png"));
      return true;
    }
  }
  std::error_code ec;
  std::filesystem::remove(tmp, ec);
  std::cerr << "lpsim: warning: gnuplot failed or is missing; the data of " << stem << ".png is beside it\n";
  return false;
}

}  // namespace lpsim::nn
