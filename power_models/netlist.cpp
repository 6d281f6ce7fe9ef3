#include "power_models/netlist.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "arith/error.h"

namespace lpsim::power {

namespace {

GateType gate_type(const std::string& t, const std::string& where) {
  static const std::map<std::string, GateType> kTypes = {
      {"$_BUF_", GateType::kBuf},   {"$_NOT_", GateType::kNot},       {"$_AND_", GateType::kAnd},
      {"$_NAND_", GateType::kNand}, {"$_OR_", GateType::kOr},         {"$_NOR_", GateType::kNor},
      {"$_XOR_", GateType::kXor},   {"$_XNOR_", GateType::kXnor},     {"$_ANDNOT_", GateType::kAndNot},
      {"$_ORNOT_", GateType::kOrNot}, {"$_MUX_", GateType::kMux},     {"$_DFF_P_", GateType::kDff}};
  const auto it = kTypes.find(t);
  if (it == kTypes.end()) throw InputError("unsupported cell type '" + t + "' (synthesise with abc -g and dfflegalize)", where);
  return it->second;
}

}  // namespace

std::map<std::string, size_t> Netlist::cell_counts() const {
  std::map<std::string, size_t> c;
  for (const Gate& g : gates) ++c[g.cell];
  return c;
}

constexpr uint32_t kMaxNet = 1u << 24;

Netlist netlist_from_json(const nlohmann::json& j, const std::string& where);

Netlist load_yosys_json(const std::filesystem::path& path) {
  const std::string where = path.string();
  std::ifstream in(path);
  if (!in) throw InputError("cannot open netlist", where);
  nlohmann::json j;
  try {
    in >> j;
  } catch (const std::exception& e) {
    throw InputError(std::string("not a JSON netlist: ") + e.what(), where);
  }
  if (!j.is_object() || !j.contains("modules") || !j["modules"].is_object() || j["modules"].size() != 1)
    throw InputError("expected exactly one (flattened) module", where);
  try {
    return netlist_from_json(j, where);
  } catch (const nlohmann::json::exception& e) {  // a port, cell or bit of the wrong shape
    throw InputError(std::string("not a Yosys netlist: ") + e.what(), where);
  }
}

Netlist netlist_from_json(const nlohmann::json& j, const std::string& where) {
  // The module by name (a structured binding into items() would keep a pointer into an
  // iteration proxy that dies with the statement: -Wdangling-pointer).
  const std::string name = j.at("modules").begin().key();
  const nlohmann::json& mod = j.at("modules").at(name);
  Netlist n;
  n.top = name;
  // Yosys numbers nets from 2; "0"/"1" strings are constants.
  uint32_t max_net = 1;
  auto net = [&](const nlohmann::json& bit) -> uint32_t {
    if (bit.is_string()) return bit.get<std::string>() == "1" ? 1u : 0u;  // "x"/"z" read as 0
    const uint32_t b = bit.get<uint32_t>();
    // Nets are numbered densely from 2; a wild number would size the simulator's tables.
    if (b > kMaxNet) throw InputError("net number " + std::to_string(b) + " out of range", where);
    max_net = std::max(max_net, b);
    return b;
  };
  // .at() throughout: operator[] on a const json with a missing key is undefined (the
  // fuzzer found a use-after-free there); .at() throws, and load_yosys_json says so.
  for (const auto& [port, p] : mod.at("ports").items()) {
    std::vector<uint32_t> bits;
    for (const auto& b : p.at("bits")) bits.push_back(net(b));
    (p.at("direction") == "input" ? n.inputs : n.outputs)[port] = bits;
  }
  std::vector<Gate> comb, dffs;
  for (const auto& [cname, c] : mod.at("cells").items()) {
    const std::string type = c.at("type").get<std::string>();
    Gate g{gate_type(type, where), type};
    const auto& con = c.at("connections");
    if (g.type == GateType::kDff) {
      g.in[0] = net(con.at("D").at(0));
      g.out = net(con.at("Q").at(0));
      dffs.push_back(g);
      continue;
    }
    g.in[0] = net(con.at("A").at(0));
    if (con.contains("B")) g.in[1] = net(con.at("B").at(0));
    if (con.contains("S")) g.in[2] = net(con.at("S").at(0));
    g.out = net(con.at("Y").at(0));
    comb.push_back(g);
  }
  n.num_nets = max_net + 1;
  // Levelise (Kahn): a gate is ready when all its inputs come from ports, constants,
  // flip-flop outputs or already placed gates.
  std::vector<int> driver(n.num_nets, -1);
  for (size_t i = 0; i < comb.size(); ++i) driver[comb[i].out] = int(i);
  std::vector<int> pending(comb.size(), 0);
  std::vector<std::vector<uint32_t>> readers(n.num_nets);
  for (size_t i = 0; i < comb.size(); ++i) {
    const int arity = comb[i].type == GateType::kMux ? 3 : (comb[i].type <= GateType::kNot ? 1 : 2);
    for (int k = 0; k < arity; ++k)
      if (driver[comb[i].in[k]] >= 0) {
        ++pending[i];
        readers[comb[i].in[k]].push_back(uint32_t(i));
      }
  }
  std::vector<uint32_t> ready;
  for (size_t i = 0; i < comb.size(); ++i)
    if (pending[i] == 0) ready.push_back(uint32_t(i));
  for (size_t head = 0; head < ready.size(); ++head) {
    const Gate& g = comb[ready[head]];
    n.gates.push_back(g);
    for (uint32_t r : readers[g.out])
      if (--pending[r] == 0) ready.push_back(r);
  }
  if (n.gates.size() != comb.size()) throw InputError("combinational loop in the netlist", where);
  // Regroup by (logic level, type): still topological, and long runs of one gate type
  // let the simulator evaluate without a per-gate dispatch.
  std::vector<int> level(n.num_nets, 0);
  std::vector<std::pair<int, size_t>> key(n.gates.size());
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const Gate& g = n.gates[i];
    int l = 0;
    for (int k = 0; k < 3; ++k) l = std::max(l, level[g.in[k]]);
    level[g.out] = l + 1;
    key[i] = {l + 1, i};
  }
  std::stable_sort(key.begin(), key.end(), [&](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : n.gates[x.second].type < n.gates[y.second].type;
  });
  std::vector<Gate> ordered;
  for (const auto& [l, i] : key) ordered.push_back(n.gates[i]);
  n.gates = std::move(ordered);
  n.num_comb = n.gates.size();
  n.gates.insert(n.gates.end(), dffs.begin(), dffs.end());
  n.fanout.assign(n.num_nets, {});
  for (size_t i = 0; i < n.gates.size(); ++i) {
    const Gate& g = n.gates[i];
    const int arity = g.type == GateType::kMux ? 3 : (g.type <= GateType::kNot || g.type == GateType::kDff ? 1 : 2);
    for (int k = 0; k < arity; ++k) n.fanout[g.in[k]].push_back(uint32_t(i));
  }
  return n;
}

}  // namespace lpsim::power
