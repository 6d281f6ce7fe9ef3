// Small helpers of the report writers (nn/run.cpp, nn/sweep.cpp): CSV fields and gnuplot
// PNGs. Torch-free.
#pragma once

#include <filesystem>
#include <string>

namespace lpsim::nn {

// A CSV field, quoted where it holds a comma or a quote.
std::string csv_escape(const std::string& s);

// Runs gnuplot on a script file: an argument vector, no shell (a path is never parsed as
// a command). True when gnuplot ran and exited 0.
bool run_gnuplot(const std::filesystem::path& script);

// A string as a gnuplot single-quoted literal (a quote doubled, line breaks made spaces):
// paths and names in a plot script are data, never gnuplot commands.
std::string gpq(const std::string& text);
std::string gpq(const std::filesystem::path& p);

// dir/stem.png from a gnuplot body (everything after the terminal and output lines),
// written atomically; the script is kept as dir/stem.gp. False (and a warning) when
// gnuplot failed or is missing.
bool plot_png(const std::filesystem::path& dir, const std::string& stem, const std::string& body, int w = 1000,
              int h = 560);

}  // namespace lpsim::nn
