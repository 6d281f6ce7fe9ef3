#include "cli/user_unit_options.h"

#include "arith/error.h"

namespace lpsim::cli {

void UserUnitOptions::add_to(CLI::App* g) {
  g->add_option("--rtl", rtl, "your Verilog/SystemVerilog file (repeatable)");
  g->add_option("--spec", spec_file, "a YAML file naming the unit (rtl, top, kind, a_bits, params, ports, ...)");
  top_ = g->add_option("--top", top, "your unit's module");
  std::string kinds;
  for (const auto& [k, help] : rtl::user_unit_kinds()) kinds += (kinds.empty() ? "" : "|") + k;
  kind_ = g->add_option("--kind", kind, "what it claims to be: " + kinds);
  g->add_option("--param", params, "a Verilog parameter of the module, NAME=VALUE (repeatable)");
  g->add_option("--ports", ports,
                "ROLE=PORT,... where your port names differ from the usual ones (roles: a, b, y, clk, rst_n or rst, en, "
                "clear, cin, cout, overflow, start, done; unused=OUT leaves an output open)");
  latency_ = g->add_option("--latency", latency,
                           "clock cycles from inputs to result (default: 0, combinational; 1 for acc, mac, fp8_mac)");
  reset_ = g->add_option("--reset", reset, "async|sync: how your reset port acts")->capture_default_str();
  overflow_ = g->add_option("--overflow", overflow, "wrap|saturate: your accumulator's overflow (acc, mac)")
                  ->capture_default_str();
}

void UserUnitOptions::check_not_orphaned() const {
  if (used()) return;
  for (const CLI::Option* o : {top_, kind_, latency_, reset_, overflow_})
    if (o->count()) throw InputError("names your own unit: give its files with --rtl (or --spec)", {}, o->get_name());
  if (!params.empty()) throw InputError("names your own unit: give its files with --rtl (or --spec)", {}, "--param");
  if (!ports.empty()) throw InputError("names your own unit: give its files with --rtl (or --spec)", {}, "--ports");
}

rtl::UserUnitSpec UserUnitOptions::spec(const Given& given) const {
  rtl::UserUnitSpec s = spec_file.empty() ? rtl::UserUnitSpec{} : rtl::load_user_unit_spec(spec_file);
  if (!rtl.empty()) s.rtl.assign(rtl.begin(), rtl.end());
  if (top_->count()) s.top = top;
  if (kind_->count()) s.kind = kind;
  if (latency_->count()) s.latency = latency;
  if (reset_->count()) s.reset = reset;
  if (overflow_->count()) s.overflow = overflow;
  if (given.a_bits) s.a_bits = *given.a_bits;
  if (given.b_bits) s.b_bits = *given.b_bits;
  if (given.acc_bits) s.acc_bits = *given.acc_bits;
  if (given.is_signed) s.is_signed = *given.is_signed;
  if (given.format) s.format = *given.format;
  for (const std::string& p : params) {
    const size_t eq = p.find('=');
    if (eq == std::string::npos || eq == 0) throw InputError("expected NAME=VALUE, got '" + p + "'", {}, "--param");
    s.params[p.substr(0, eq)] = p.substr(eq + 1);
  }
  if (!ports.empty())
    for (auto& pr : rtl::parse_port_list(ports)) s.ports.push_back(pr);
  return s;
}

std::string describe_ports(const rtl::UserUnitSpec& spec, const std::map<std::string, std::string>& mapping) {
  std::string map;
  for (const rtl::KindPort& k : rtl::kind_ports(spec)) {
    const std::string key = k.role == "rst_n" ? "reset" : k.role;
    if (!mapping.count(key)) continue;
    const bool high = key == "reset" && mapping.at("reset_active_high") == "1";
    map += (map.empty() ? "" : ", ") + (key == "reset" ? std::string(high ? "rst" : "rst_n") : k.role) + "=" +
           mapping.at(key);
  }
  return spec.top + " as " + spec.kind + ": ports " + map;
}

}  // namespace lpsim::cli
