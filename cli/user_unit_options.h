// The options that name a user's unit, shared by `lpsim verify-rtl --rtl` and
// `lpsim energy --rtl`: the files, the top module, the kind, parameters, port roles,
// latency, reset, or all of them in a YAML spec (--spec). The widths and format come
// from each command's own options (Given): a value given on the command line overrides
// the spec file's.
#pragma once

#include <CLI/CLI.hpp>
#include <optional>
#include <string>
#include <vector>

#include "rtl/user_unit_spec.h"

namespace lpsim::cli {

struct UserUnitOptions {
  std::vector<std::string> rtl, params;
  std::string spec_file, top, kind, ports, reset = "async", overflow = "wrap";
  int latency = -1;

  // Adds --rtl, --spec, --top, --kind, --param, --ports, --latency, --reset, --overflow
  // to `group`.
  void add_to(CLI::App* group);
  bool used() const { return !rtl.empty() || !spec_file.empty(); }
  // InputError when an option of a user's unit is given without --rtl or --spec (it would
  // otherwise be ignored).
  void check_not_orphaned() const;

  struct Given {
    std::optional<int> a_bits, b_bits, acc_bits;
    std::optional<bool> is_signed;
    std::optional<std::string> format;
  };
  // The spec: the --spec file's, with every option given on the command line over it.
  rtl::UserUnitSpec spec(const Given& given) const;

 private:
  CLI::Option *top_ = nullptr, *kind_ = nullptr, *latency_ = nullptr, *reset_ = nullptr, *overflow_ = nullptr;
};

// "mymul as mul: ports a=x, b=y_in, y=prod" — the roles as mapped.
std::string describe_ports(const rtl::UserUnitSpec& spec, const std::map<std::string, std::string>& mapping);

}  // namespace lpsim::cli
