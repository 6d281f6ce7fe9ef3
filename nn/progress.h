// A progress bar on stderr: redrawn in place on a terminal, a line per 10 % otherwise
// (logs stay readable), silent when disabled.
#pragma once

#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <algorithm>

namespace lpsim::nn {

class ProgressBar {
 public:
  ProgressBar(bool enabled, std::string label) : enabled_(enabled), label_(std::move(label)), tty_(isatty(2)) {}
  ~ProgressBar() { finish(); }

  void update(int64_t done, int64_t total, const std::string& msg = {}) {
    if (!enabled_ || total <= 0) return;
    const double f = std::min(1.0, double(done) / double(total));
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    // ETA from the rate since the first update (a resumed run starts part-way).
    if (first_done_ < 0) first_done_ = done, first_t_ = t;
    std::string eta;
    if (done > first_done_ && done < total)
      eta = " ETA " + std::to_string(int((t - first_t_) / double(done - first_done_) * double(total - done) + 0.5)) + "s";
    const std::string m = msg + eta;
    if (tty_) {
      const int w = 30, fill = int(f * w);
      std::fprintf(stderr, "\r%-22s [%s%s] %3d%% %6.1fs %-40s", label_.c_str(), std::string(fill, '#').c_str(),
                   std::string(w - fill, '.').c_str(), int(f * 100), t, m.c_str());
      std::fflush(stderr);
      drawn_ = true;
    } else if (int(f * 10) > last_decile_) {
      last_decile_ = int(f * 10);
      std::fprintf(stderr, "%s: %3d%% %6.1fs %s\n", label_.c_str(), last_decile_ * 10, t, m.c_str());
    }
  }
  void finish() {
    if (drawn_) std::fprintf(stderr, "\n");
    drawn_ = false;
  }

 private:
  bool enabled_;
  std::string label_;
  bool tty_;
  bool drawn_ = false;
  int last_decile_ = -1;
  int64_t first_done_ = -1;
  double first_t_ = 0;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
};

}  // namespace lpsim::nn
