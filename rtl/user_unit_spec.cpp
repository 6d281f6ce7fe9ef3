#include "rtl/user_unit_spec.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <boost/property_tree/ptree.hpp>
#include <boost/property_tree/xml_parser.hpp>
#include <unistd.h>

#include <cctype>
#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/format.h"
#include "arith/hash.h"
#include "arith/process.h"
#include "power_models/synth.h"

namespace lpsim::rtl {

namespace fs = std::filesystem;

namespace {

std::string lower(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

bool stateful(const std::string& kind) { return kind == "acc" || kind == "mac" || kind == "fp8_mac"; }
bool floating(const std::string& kind) { return kind == "fp_add" || kind == "fp_mul_rne" || kind == "fp8_mac"; }

std::string where_or(const UserUnitSpec& s) { return s.where; }

// The usual names of each role's port, tried in order (case-insensitive) for the roles
// that --ports leaves out.
const std::map<std::string, std::vector<std::string>>& usual_names() {
  static const std::map<std::string, std::vector<std::string>> names = {
      {"a", {"a", "a_i", "i_a", "in_a", "a_in", "op_a", "opa", "x", "x_i", "in", "in_i", "d", "d_i", "data_i"}},
      {"b", {"b", "b_i", "i_b", "in_b", "b_in", "op_b", "opb", "w", "w_i", "r", "r_i"}},
      {"y",
       {"y", "y_o", "o_y", "p", "p_o", "prod", "product", "z", "z_o", "s", "s_o", "sum", "sum_o", "acc", "acc_o", "result",
        "result_o", "res", "out", "out_o", "o", "q", "q_o"}},
      {"clk", {"clk", "clk_i", "clock", "i_clk", "ck"}},
      {"rst_n", {"rst_n", "rst_ni", "rstn", "resetn", "reset_n", "arst_n", "nrst", "rst_n_i"}},
      {"rst", {"rst", "rst_i", "reset", "reset_i", "arst", "i_rst"}},
      {"en", {"en", "en_i", "enable", "ce", "i_en", "enable_i"}},
      {"clear", {"clear", "clear_i", "clr", "clr_i", "sclr", "acc_clear"}},
      {"cin", {"cin", "cin_i", "ci", "carry_in", "c_in"}},
      {"cout", {"cout", "cout_o", "co", "carry_out", "c_out"}},
      {"overflow", {"overflow", "overflow_o", "ovf", "ovf_o", "of", "ov"}},
      {"start", {"start", "start_i", "go", "load", "load_i"}},
      {"done", {"done", "done_o", "ready", "rdy", "ready_o"}},
  };
  return names;
}

// The role names --ports accepts as aliases.
std::string canonical_role(const std::string& r) {
  if (r == "x" || r == "in") return "a";
  if (r == "r" || r == "w") return "b";
  if (r == "p" || r == "s" || r == "sum" || r == "acc" || r == "result" || r == "out") return "y";
  if (r == "rstn" || r == "rst_ni") return "rst_n";
  if (r == "ovf") return "overflow";
  if (r == "clr") return "clear";
  return r;
}

}  // namespace

const std::vector<std::pair<std::string, std::string>>& user_unit_kinds() {
  static const std::vector<std::pair<std::string, std::string>> kinds = {
      {"mul", "integer multiplier: a (--a-bits), b (--b-bits) -> y (a+b bits), --signed/--unsigned"},
      {"add", "integer adder: a, b (--a-bits) [, cin] -> y (--a-bits) [, cout]"},
      {"acc", "accumulator: a (--a-bits) each enabled cycle into y (--acc-bits) [, overflow], --overflow wrap|saturate"},
      {"mac", "multiply-accumulate: a, b -> y (--acc-bits) [, overflow], clk, [en, clear, reset]"},
      {"fp_add", "floating-point adder, round to nearest even: a, b -> y (--format)"},
      {"fp_mul_rne", "floating-point multiplier, round to nearest even: a, b -> y (--format)"},
      {"fp8_mac", "FP8 (or --format) MAC into an FP32 sum: a, b -> y (32 bits), clk, [en, clear, reset]"},
      {"luq_mul", "LUQ shift unit: INT4 a (--a-bits) x radix-2 FP4 code b -> y (a+7 bits)"},
      {"pann_add", "PANN unit: start with x = a (--a-bits) and R = b (--b-bits), R additions, result y, done"},
  };
  return kinds;
}

UserUnitSpec resolved(UserUnitSpec s) {
  const auto& kinds = user_unit_kinds();
  if (std::none_of(kinds.begin(), kinds.end(), [&](const auto& k) { return k.first == s.kind; })) {
    std::string names;
    for (const auto& k : kinds) names += (names.empty() ? "" : ", ") + k.first;
    throw InputError("unknown kind '" + s.kind + "' (kinds: " + names + ")", where_or(s), "--kind");
  }
  if (s.top.empty()) throw InputError("the module to check is not named", where_or(s), "--top");
  if (s.rtl.empty()) throw InputError("no RTL file given", where_or(s), "--rtl");
  for (const fs::path& f : s.rtl) {
    if (fs::is_directory(f)) throw InputError("is a directory, not a Verilog file", f.string(), "--rtl");
    if (!fs::exists(f)) throw InputError("no such file", f.string(), "--rtl");
  }
  const bool fp = floating(s.kind);
  if (s.kind == "luq_mul") {
    if (s.a_bits < 0) s.a_bits = 4;
    if (s.b_bits >= 0 && s.b_bits != 4) throw InputError("luq_mul's b is a 4-bit FP4 code", where_or(s), "--b-bits");
    s.b_bits = 4;
    if (s.a_bits < 2 || s.a_bits > 16) throw InputError("luq_mul takes a 2..16-bit a", where_or(s), "--a-bits");
  } else if (s.kind == "pann_add") {
    if (s.a_bits < 0) s.a_bits = 8;
    if (s.b_bits < 0) s.b_bits = 4;
    if (s.a_bits < 1 || s.a_bits > 32 || s.b_bits < 1 || s.b_bits > 16 || s.a_bits + s.b_bits > 64)
      throw InputError("pann_add takes x of 1..32 bits and R of 1..16 bits", where_or(s), "--a-bits/--b-bits");
  } else if (!fp) {
    if (s.a_bits < 0) s.a_bits = 8;
    if (s.b_bits < 0) s.b_bits = s.a_bits;
    const int max_a = s.kind == "add" ? 64 : 32;
    if (s.a_bits < 2 || s.a_bits > max_a)
      throw InputError(s.kind + " takes a of 2.." + std::to_string(max_a) + " bits, got " + std::to_string(s.a_bits),
                       where_or(s), "--a-bits");
    if (s.b_bits < 2 || s.b_bits > 32)
      throw InputError(s.kind + " takes b of 2..32 bits, got " + std::to_string(s.b_bits), where_or(s), "--b-bits");
    if (s.kind == "mul" && s.a_bits + s.b_bits > 64)
      throw InputError("the product of a " + std::to_string(s.a_bits) + "-bit and a " + std::to_string(s.b_bits) +
                           "-bit operand is wider than 64 bits",
                       where_or(s), "--a-bits");
    if (s.kind == "acc" || s.kind == "mac") {
      const int in = s.kind == "mac" ? s.a_bits + s.b_bits : s.a_bits;
      if (s.acc_bits < in || s.acc_bits > 64)
        throw InputError(s.kind + "'s accumulator must be " + std::to_string(in) + "..64 bits (at least its input), got " +
                             std::to_string(s.acc_bits),
                         where_or(s), "--acc-bits");
    }
  }
  if (fp) {
    const arith::FloatFormat f = user_unit_float_format(s);
    if (s.kind == "fp8_mac" && f.total_bits() > 16)
      throw InputError("fp8_mac takes operands of at most 16 bits (FP8, FP16), not " + s.format, where_or(s), "--format");
    s.a_bits = s.b_bits = f.total_bits();
  }
  if (s.overflow != "wrap" && s.overflow != "saturate")
    throw InputError("expected wrap or saturate, got '" + s.overflow + "'", where_or(s), "--overflow");
  if (s.reset != "async" && s.reset != "sync")
    throw InputError("expected async or sync, got '" + s.reset + "'", where_or(s), "--reset");
  if (s.latency < 0) s.latency = stateful(s.kind) ? 1 : 0;
  if (stateful(s.kind) && s.latency < 1)
    throw InputError(s.kind + " accumulates in a register: its latency is at least 1 cycle", where_or(s), "--latency");
  if (s.kind == "pann_add" && s.latency != 0)
    throw InputError("pann_add signals its result with done; a latency does not apply", where_or(s), "--latency");
  if (s.latency > 64) throw InputError("latency above 64 cycles", where_or(s), "--latency");
  for (const auto& [k, v] : s.params) {
    if (k.empty() || !(std::isalpha(static_cast<unsigned char>(k[0])) || k[0] == '_') ||
        !std::all_of(k.begin(), k.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }))
      throw InputError("not a parameter name: '" + k + "'", where_or(s), "--param");
    if (v.empty() || v.find_first_of(";()\n\"`") != std::string::npos)
      throw InputError("parameter " + k + ": expected a number or a constant expression, got '" + v + "'", where_or(s),
                       "--param");
  }
  return s;
}

arith::FloatFormat user_unit_float_format(const UserUnitSpec& s) {
  std::string name = s.format;
  if (s.kind == "fp8_mac" && (name == "e4m3" || name == "e5m2")) name = "fp8_" + name;
  arith::NumberFormat f;
  try {
    f = arith::parse_format(name);
  } catch (const InputError& e) {
    throw InputError(e.message(), where_or(s), "--format");
  }
  const auto* ff = std::get_if<arith::FloatFormat>(&f);
  if (!ff) throw InputError(s.kind + " takes a floating-point format, not '" + s.format + "'", where_or(s), "--format");
  return *ff;
}

std::vector<KindPort> kind_ports(const UserUnitSpec& s) {
  std::vector<KindPort> p;
  const bool seq = stateful(s.kind) || s.kind == "pann_add";
  // Every wrapper has a clock and a reset (unused by a combinational unit), so that a
  // pipelined one is driven the same way.
  p.push_back({"clk", "clk_i", true, 1, seq || s.latency > 0});
  p.push_back({"rst_n", "rst_ni", true, 1, false});
  const std::string& k = s.kind;
  if (k == "mul" || k == "fp_mul_rne") {
    p.push_back({"a", "a_i", true, s.a_bits});
    p.push_back({"b", "b_i", true, s.b_bits});
    p.push_back({"y", "p_o", false, k == "mul" ? s.a_bits + s.b_bits : s.a_bits});
  } else if (k == "add") {
    p.push_back({"a", "a_i", true, s.a_bits});
    p.push_back({"b", "b_i", true, s.a_bits});
    p.push_back({"cin", "cin_i", true, 1, false});
    p.push_back({"y", "sum_o", false, s.a_bits});
    p.push_back({"cout", "cout_o", false, 1, false});
  } else if (k == "fp_add") {
    p.push_back({"a", "a_i", true, s.a_bits});
    p.push_back({"b", "b_i", true, s.a_bits});
    p.push_back({"y", "s_o", false, s.a_bits});
  } else if (k == "acc" || k == "mac" || k == "fp8_mac") {
    p.push_back({"clear", "clear_i", true, 1, false});
    p.push_back({"en", "en_i", true, 1, false});
    if (k == "acc") {
      p.push_back({"a", "in_i", true, s.a_bits});
    } else {
      p.push_back({"a", "a_i", true, s.a_bits});
      p.push_back({"b", "b_i", true, s.b_bits});
    }
    p.push_back({"y", "acc_o", false, k == "fp8_mac" ? 32 : s.acc_bits});
    if (k != "fp8_mac") p.push_back({"overflow", "overflow_o", false, 1, false});
  } else if (k == "luq_mul") {
    p.push_back({"a", "a_i", true, s.a_bits});
    p.push_back({"b", "w_i", true, 4});
    p.push_back({"y", "p_o", false, s.a_bits + 7});
  } else if (k == "pann_add") {
    p.push_back({"start", "start_i", true, 1});
    p.push_back({"a", "x_i", true, s.a_bits});
    p.push_back({"b", "r_i", true, s.b_bits});
    p.push_back({"y", "result_o", false, s.a_bits + s.b_bits});
    p.push_back({"done", "done_o", false, 1});
  }
  return p;
}

namespace {

}  // namespace

std::string verilator_errors(const std::string& log, size_t max_errors) {
  std::istringstream in(log);
  std::string line, out;
  size_t n = 0, more = 0;
  while (std::getline(in, line)) {
    std::string msg;
    if (line.rfind("%Error", 0) == 0) {
      msg = line.substr(line.find(':') == std::string::npos ? 0 : line.find(':') + 1);
    } else if (line.find(": error: ") != std::string::npos || line.find(": fatal error: ") != std::string::npos) {
      msg = line;  // the C++ compiler's, on the generated model
    } else {
      continue;
    }
    while (!msg.empty() && msg.front() == ' ') msg.erase(0, 1);
    if (msg.rfind("Exiting due to", 0) == 0 || msg == "Cannot continue" || msg.rfind("Command Failed", 0) == 0 ||
        msg.rfind("make -C", 0) == 0)
      continue;
    if (n++ < max_errors)
      out += (out.empty() ? " " : "; ") + msg;
    else
      ++more;
  }
  if (more) out += " (and " + std::to_string(more) + " more)";
  return out.empty() ? " (no message; see the log)" : out;
}

namespace {

std::string param_args(const UserUnitSpec& s) {
  std::string a;
  for (const auto& [k, v] : s.params) a += " -G" + k + "=" + v;
  return a;
}

}  // namespace

VerilatorSources verilator_sources(const std::vector<fs::path>& rtl, const fs::path& dir) {
  VerilatorSources v;
  for (size_t i = 0; i < rtl.size(); ++i) {
    const fs::path f = fs::absolute(rtl[i]);
    if (f.string().find_first_of(" \t") == std::string::npos) {
      v.args.push_back(f.string());
      if (f != rtl[i]) v.copies.emplace_back(f.string(), rtl[i].string());  // messages name it as the user did
      continue;
    }
    const std::string copy = "src/" + std::to_string(i) + "_" + f.filename().string();
    if (copy.find_first_of(" \t") != std::string::npos)
      throw InputError("Verilator cannot read a file whose name holds a space", f.string(), "--rtl");
    fs::create_directories(dir / "src");
    fs::copy_file(f, dir / copy, fs::copy_options::overwrite_existing);
    v.args.push_back(copy);
    v.copies.emplace_back(copy, f.string());
  }
  return v;
}

std::string VerilatorSources::named_back(std::string text) const {
  for (const auto& [copy, original] : copies)
    for (size_t at = text.find(copy); at != std::string::npos; at = text.find(copy, at + original.size()))
      text.replace(at, copy.size(), original);
  return text;
}

UserDesign read_user_design(const UserUnitSpec& s, const fs::path& scratch) {
  if (!find_program("verilator"))
    throw InputError("verilator not found on PATH (install the Debian package 'verilator')", {}, "verilator");
  fs::create_directories(scratch);
  const fs::path log = scratch / "ports.log", xml = scratch / "ports.xml";
  // Run in scratch with relative paths (a path holding a space is cut by Verilator).
  std::vector<std::string> argv = {"verilator", "--xml-only", "--xml-output", "ports.xml", "--Mdir", "xml",
                                   "-Wno-fatal", "-Wno-lint", "-Wno-style", "--top-module", s.top};
  for (const auto& [k, v] : s.params) argv.push_back("-G" + k + "=" + v);
  std::set<std::string> dirs;
  for (const fs::path& f : s.rtl) {
    const std::string dir = fs::absolute(f).parent_path().string();
    if (dirs.insert(dir).second) argv.insert(argv.end(), {"-y", dir, "+libext+.sv+.v"});  // (a space is fine here)
  }
  const VerilatorSources sources = verilator_sources(s.rtl, scratch);
  argv.insert(argv.end(), sources.args.begin(), sources.args.end());
  std::error_code ec;
  fs::remove(xml, ec);
  ProcessOptions po;
  po.stdout_to = log;
  po.stderr_to = log;
  po.cwd = scratch;
  const ProcessResult run = run_process(argv, po);
  if (run.status == ProcessResult::Status::not_found)
    throw InputError("verilator not found on PATH (install the Debian package 'verilator')", {}, "verilator");
  if (!run.ok() || !fs::exists(xml))
    throw InputError("Verilator cannot elaborate " + s.top + param_args(s) + ":" +
                         verilator_errors(sources.named_back(read_whole_file(log))),
                     s.rtl.front().string(), "--rtl");
  namespace pt = boost::property_tree;
  pt::ptree tree;
  try {
    pt::read_xml(xml.string(), tree);
  } catch (const pt::xml_parser_error& e) {
    throw InputError(std::string("cannot read Verilator's XML of the design: ") + e.what(), xml.string());
  }
  // Widths by dtype id; the top module's <var dir=...> are its ports.
  std::map<std::string, int> widths;
  const pt::ptree& netlist = tree.get_child("verilator_xml.netlist");
  if (const auto types = netlist.get_child_optional("typetable"))
    for (const auto& [tag, node] : *types) {
      if (tag == "<xmlattr>") continue;
      const auto id = node.get_optional<std::string>("<xmlattr>.id");
      if (!id) continue;
      const auto left = node.get_optional<int>("<xmlattr>.left"), right = node.get_optional<int>("<xmlattr>.right");
      widths[*id] = tag == "basicdtype" ? (left && right ? std::abs(*left - *right) + 1 : 1) : -1;  // -1: not a vector
    }
  UserDesign design;
  std::vector<UserPort>& ports = design.ports;
  design.files = s.rtl;
  // The files of the hierarchy beyond the given ones: module M in M.sv or M.v of a given
  // file's folder, as Verilator's -y found them — by name in the text, so that the
  // modules of generate branches the parameters leave out, which Yosys still reads, come
  // too (not Verilator's own list of module files: it cuts a path at a space). A module a
  // given file declares is not taken from its folder.
  std::string given_text;
  for (const fs::path& f : s.rtl) given_text += read_whole_file(f) + "\n";
  auto declared = [&](const std::string& m) {
    for (size_t p = given_text.find("module"); p != std::string::npos; p = given_text.find("module", p + 6)) {
      size_t q = p + 6;
      if (q >= given_text.size() || !std::isspace(static_cast<unsigned char>(given_text[q]))) continue;
      while (q < given_text.size() && std::isspace(static_cast<unsigned char>(given_text[q]))) ++q;
      if (given_text.compare(q, m.size(), m) == 0 &&
          (q + m.size() == given_text.size() ||
           !(std::isalnum(static_cast<unsigned char>(given_text[q + m.size()])) || given_text[q + m.size()] == '_')))
        return true;
    }
    return false;
  };
  const std::vector<fs::path> dir_list(dirs.begin(), dirs.end());
  for (const fs::path& f : power::referenced_module_files(s.rtl, dir_list))
    if (!declared(f.stem().string())) design.files.push_back(f);
  bool found = false;
  for (const auto& [tag, mod] : netlist) {
    if (tag != "module" || mod.get<std::string>("<xmlattr>.origName", mod.get<std::string>("<xmlattr>.name", "")) != s.top)
      continue;
    found = true;
    for (const auto& [vt, var] : mod) {
      if (vt != "var") continue;
      const auto dir = var.get_optional<std::string>("<xmlattr>.dir");
      if (!dir) continue;
      const std::string name = var.get<std::string>("<xmlattr>.origName", var.get<std::string>("<xmlattr>.name", ""));
      if (*dir != "input" && *dir != "output")
        throw InputError("port " + name + " of " + s.top + " is " + *dir + ": lpsim drives inputs and reads outputs only",
                         s.rtl.front().string(), "--rtl");
      const int w = widths.count(var.get<std::string>("<xmlattr>.dtype_id", "")) ? widths[var.get<std::string>("<xmlattr>.dtype_id")] : -1;
      if (w < 1)
        throw InputError("port " + name + " of " + s.top + " is not a plain bit vector (packed arrays, structs: wrap it)",
                         s.rtl.front().string(), "--rtl");
      ports.push_back({name, *dir == "input", w});
    }
  }
  if (!found) throw InputError("no module " + s.top + " in the design Verilator read", s.rtl.front().string(), "--top");
  return design;
}

std::map<std::string, std::string> map_ports(const UserUnitSpec& s, const std::vector<UserPort>& ports) {
  const std::vector<KindPort> roles = kind_ports(s);
  std::map<std::string, const UserPort*> by_name;
  for (const UserPort& p : ports) by_name[p.name] = &p;
  std::map<std::string, std::string> mapping;  // role -> port
  std::set<std::string> taken;                 // ports given a role (or unused)
  auto role_of = [&](const std::string& r) -> const KindPort* {
    for (const KindPort& k : roles)
      if (k.role == r) return &k;
    if (r == "rst") return &roles[1];  // an active-high reset: the same wrapper port, inverted
    return nullptr;
  };
  std::string role_names;
  for (const KindPort& k : roles) role_names += (role_names.empty() ? "" : ", ") + k.role;
  role_names += ", rst, unused";
  for (const auto& [r0, port] : s.ports) {
    const std::string r = canonical_role(r0);
    if (!by_name.count(port))
      throw InputError("no port '" + port + "' in module " + s.top + " (its ports: " +
                           [&] {
                             std::string n;
                             for (const UserPort& p : ports) n += (n.empty() ? "" : ", ") + p.name;
                             return n;
                           }() + ")",
                       where_or(s), "--ports " + r0);
    if (taken.count(port)) throw InputError("port '" + port + "' is given two roles", where_or(s), "--ports " + r0);
    taken.insert(port);
    if (r == "unused") {
      if (by_name[port]->input)
        throw InputError("input '" + port + "' cannot be left unused: lpsim must drive it (tie it in a wrapper)",
                         where_or(s), "--ports unused");
      continue;
    }
    if (!role_of(r)) throw InputError("no role '" + r0 + "' in kind " + s.kind + " (roles: " + role_names + ")", where_or(s), "--ports");
    const std::string key = r == "rst" || r == "rst_n" ? "reset" : r;
    if (mapping.count(key)) throw InputError("role '" + r0 + "' given twice", where_or(s), "--ports");
    mapping[key] = port;
    if (key == "reset") mapping["reset_active_high"] = r == "rst" ? "1" : "0";
  }
  // The roles --ports left out, by their usual names.
  for (const KindPort& k : roles) {
    const std::string key = k.role == "rst_n" ? "reset" : k.role;
    if (mapping.count(key)) continue;
    std::vector<std::string> tries = usual_names().at(k.role);
    if (k.role == "rst_n")
      for (const std::string& n : usual_names().at("rst")) tries.push_back("+" + n);  // active high
    for (const std::string& t0 : tries) {
      const bool high = t0[0] == '+';
      const std::string t = high ? t0.substr(1) : t0;
      const auto it = std::find_if(ports.begin(), ports.end(), [&](const UserPort& p) {
        return lower(p.name) == t && !taken.count(p.name) && p.input == k.input;
      });
      if (it == ports.end()) continue;
      // "a", "in", "d" name a MAC's operand only where the kind has no other a; x, r name
      // PANN's; a kind never takes a port it has no role for.
      mapping[key] = it->name;
      taken.insert(it->name);
      if (key == "reset") mapping["reset_active_high"] = high ? "1" : "0";
      break;
    }
  }
  // Every port of the user's unit has a role; every required role a port of its width.
  for (const UserPort& p : ports) {
    if (taken.count(p.name)) continue;
    throw InputError(std::string(p.input ? "input" : "output") + " port '" + p.name + "' of " + s.top +
                         " has no role in kind " + s.kind + " (roles: " + role_names + "); name it with --ports ROLE=" +
                         p.name + (p.input ? "" : " (or unused=" + p.name + " to leave the output open)"),
                     where_or(s), "--ports");
  }
  for (const KindPort& k : roles) {
    const std::string key = k.role == "rst_n" ? "reset" : k.role;
    const auto m = mapping.find(key);
    if (m == mapping.end()) {
      if (k.required)
        throw InputError("module " + s.top + " has no port for role '" + k.role + "' of kind " + s.kind + " (" +
                             (k.input ? "input" : "output") + ", " + std::to_string(k.width) +
                             " bits); name it with --ports " + k.role + "=PORT",
                         where_or(s), "--ports");
      continue;
    }
    const UserPort& p = *by_name.at(m->second);
    if (p.input != k.input)
      throw InputError("port '" + p.name + "' is an " + (p.input ? "input" : "output") + " but role '" + k.role + "' of " +
                           s.kind + " is an " + (k.input ? "input" : "output"),
                       where_or(s), "--ports");
    if (p.width != k.width)
      throw InputError("port '" + p.name + "' (role " + k.role + ") is " + std::to_string(p.width) + " bits wide; " +
                           s.kind + " with these options needs " + std::to_string(k.width) +
                           " (check --a-bits/--b-bits/--acc-bits/--format and the parameters)",
                       where_or(s), "--ports");
  }
  if (s.latency == 0 && mapping.count("clk") && s.kind != "pann_add")
    throw InputError("module " + s.top + " has a clock (" + mapping["clk"] + ") but " + s.kind +
                         " is combinational: give its pipeline latency with --latency N (cycles from inputs to result)",
                     where_or(s), "--latency");
  return mapping;
}

std::string wrapper_verilog(const UserUnitSpec& s, const std::map<std::string, std::string>& mapping) {
  const std::vector<KindPort> roles = kind_ports(s);
  std::ostringstream v;
  v << "// Generated by lpsim: " << s.top << " as lpsim's kind " << s.kind << " (ports named as lpsim's own units).\n"
    << "/* verilator lint_off UNUSEDSIGNAL */\n/* verilator lint_off DECLFILENAME */\n"
    << "module " << kWrapperModule << " (\n";
  for (size_t i = 0; i < roles.size(); ++i) {
    const KindPort& k = roles[i];
    v << "  " << (k.input ? "input  logic " : "output logic ");
    if (k.width > 1) v << "[" << k.width - 1 << ":0] ";
    v << k.port << (i + 1 < roles.size() ? ",\n" : "\n");
  }
  v << ");\n";
  std::vector<std::string> conns;
  for (const KindPort& k : roles) {
    const std::string key = k.role == "rst_n" ? "reset" : k.role;
    const auto m = mapping.find(key);
    if (m == mapping.end()) {
      if (!k.input) v << "  assign " << k.port << " = '0;\n";
      continue;
    }
    std::string expr = k.port;
    if (key == "reset" && mapping.at("reset_active_high") == "1") expr = "~rst_ni";
    conns.push_back("." + m->second + "(" + expr + ")");
  }
  v << "  " << s.top;
  if (!s.params.empty()) {
    v << " #(";
    bool first = true;
    for (const auto& [k, val] : s.params) {
      v << (first ? "" : ", ") << "." << k << "(" << val << ")";
      first = false;
    }
    v << ")";
  }
  v << " u_dut (";
  for (size_t i = 0; i < conns.size(); ++i) v << (i ? ", " : "") << conns[i];
  v << ");\nendmodule\n";
  return v.str();
}

std::string user_unit_key(const UserUnitSpec& s, const std::string& wrapper, const std::string& salt) {
  // Not the latency or the reset kind: they change how the unit is driven, not what is built.
  uint64_t h = fnv1a(wrapper + "\n" + salt + "\n" + s.kind + " " + s.top);
  for (const fs::path& f : s.rtl) h = fnv1a(f.filename().string() + "\n" + read_whole_file(f), h);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  return hex;
}

UserUnitWrapper write_user_unit_wrapper(const UserUnitSpec& s, const fs::path& cache_dir) {
  UserUnitWrapper w;
  {
    const fs::path scratch = cache_dir / ("ports." + std::to_string(::getpid()) + ".tmp");
    struct Cleanup {
      fs::path dir;
      ~Cleanup() {
        std::error_code ec;
        fs::remove_all(dir, ec);
      }
    } cleanup{scratch};
    const UserDesign design = read_user_design(s, scratch);
    w.mapping = map_ports(s, design.ports);
    w.files = design.files;
  }
  const std::string text = wrapper_verilog(s, w.mapping);
  w.wrapper_file = cache_dir / "user" / (s.top + "-" + s.kind + "-" + user_unit_key(s, text, "") + ".sv");
  if (!fs::exists(w.wrapper_file)) atomic_write_file(w.wrapper_file, text);
  w.sources = {w.wrapper_file};
  for (const fs::path& f : w.files) w.sources.push_back(fs::absolute(f));
  return w;
}

std::vector<std::pair<std::string, std::string>> parse_port_list(const std::string& text) {
  std::vector<std::pair<std::string, std::string>> out;
  std::istringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == item.size())
      throw InputError("expected ROLE=PORT, got '" + item + "'", {}, "--ports");
    out.emplace_back(item.substr(0, eq), item.substr(eq + 1));
  }
  return out;
}

UserUnitSpec load_user_unit_spec(const fs::path& file) {
  if (fs::is_directory(file)) throw InputError("is a directory, not a unit spec", file.string(), "--spec");
  YAML::Node root;
  try {
    root = YAML::LoadFile(file.string());
  } catch (const YAML::BadFile&) {
    throw InputError("cannot open the unit spec", file.string(), "--spec");
  } catch (const YAML::Exception& e) {
    throw InputError(e.msg, file.string() + ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1));
  }
  if (!root.IsMap()) throw InputError("expected a mapping (rtl:, top:, kind:, ...)", file.string());
  auto at = [&](const YAML::Node& n) {
    const YAML::Mark m = n.Mark();
    return file.string() + ":" + std::to_string(m.line + 1) + ":" + std::to_string(m.column + 1);
  };
  UserUnitSpec s;
  s.where = file.string();
  const fs::path dir = file.parent_path();
  auto scalar = [&](const YAML::Node& v, const std::string& key) {
    if (!v.IsScalar()) throw InputError("expected a single value", at(v), key);
    return v.as<std::string>();
  };
  auto integer = [&](const YAML::Node& v, const std::string& key) {
    const std::string t = scalar(v, key);
    try {
      size_t used = 0;
      const int x = std::stoi(t, &used);
      if (used == t.size()) return x;
    } catch (const std::exception&) {
    }
    throw InputError("expected an integer, got '" + t + "'", at(v), key);
  };
  try {
  for (const auto& kv : root) {
    if (!kv.first.IsScalar()) throw InputError("a key must be a plain name", at(kv.first));
    const std::string key = kv.first.as<std::string>();
    const YAML::Node& v = kv.second;
    if (key == "rtl") {
      if (v.IsScalar()) {
        s.rtl.push_back(dir / v.as<std::string>());
      } else if (v.IsSequence()) {
        for (const auto& e : v) s.rtl.push_back(dir / scalar(e, "rtl"));
      } else {
        throw InputError("expected a file or a list of files", at(v), key);
      }
    } else if (key == "top") {
      s.top = scalar(v, key);
    } else if (key == "kind") {
      s.kind = scalar(v, key);
    } else if (key == "a_bits") {
      s.a_bits = integer(v, key);
    } else if (key == "b_bits") {
      s.b_bits = integer(v, key);
    } else if (key == "acc_bits") {
      s.acc_bits = integer(v, key);
    } else if (key == "latency") {
      s.latency = integer(v, key);
    } else if (key == "signed") {
      const std::string t = scalar(v, key);
      if (t != "true" && t != "false") throw InputError("expected true or false, got '" + t + "'", at(v), key);
      s.is_signed = t == "true";
    } else if (key == "format") {
      s.format = scalar(v, key);
    } else if (key == "overflow") {
      s.overflow = scalar(v, key);
    } else if (key == "reset") {
      s.reset = scalar(v, key);
    } else if (key == "params" || key == "ports") {
      if (!v.IsMap()) throw InputError("expected a mapping of NAME: VALUE", at(v), key);
      for (const auto& p : v) {
        const std::string name = p.first.as<std::string>(), val = scalar(p.second, key + "." + name);
        if (key == "params")
          s.params[name] = val;
        else
          s.ports.emplace_back(name, val);
      }
    } else {
      throw InputError("unknown key (known: rtl, top, kind, a_bits, b_bits, acc_bits, signed, format, overflow, params, "
                       "ports, latency, reset)",
                       at(kv.first), key);
    }
  }
  } catch (const YAML::Exception& e) {  // a value of the wrong shape (a list as a name, ...)
    throw InputError("unexpected YAML here: " + e.msg,
                     e.mark.is_null() ? file.string()
                                      : file.string() + ":" + std::to_string(e.mark.line + 1) + ":" +
                                            std::to_string(e.mark.column + 1));
  }
  for (const char* need : {"rtl", "top", "kind"})
    if (!root[need]) throw InputError(std::string("missing key ") + need, file.string(), need);
  return s;
}

}  // namespace lpsim::rtl
