// A gate-level netlist as Yosys writes it (write_json after `synth; abc -g ...`):
// two-input generic gates, NOT/BUF, MUX and positive-edge D flip-flops over numbered
// nets, levelised so that one pass in order evaluates every combinational gate.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace lpsim::power {

enum class GateType : uint8_t { kBuf, kNot, kAnd, kNand, kOr, kNor, kXor, kXnor, kAndNot, kOrNot, kMux, kDff };

struct Gate {
  GateType type;
  std::string cell;       // Yosys cell type, e.g. "$_NAND_" (the cell library key)
  uint32_t in[3] = {0, 0, 0};  // A, B, S (MUX: Y = S ? B : A); DFF: in[0] = D
  uint32_t out = 0;       // Y, or Q for a DFF
};

struct Netlist {
  std::string top;
  uint32_t num_nets = 2;  // net 0 is constant 0, net 1 constant 1
  std::map<std::string, std::vector<uint32_t>> inputs;   // port → nets, LSB first
  std::map<std::string, std::vector<uint32_t>> outputs;  // port → nets, LSB first
  std::vector<Gate> gates;  // combinational gates in topological order, then DFFs
  size_t num_comb = 0;      // gates[0, num_comb) are combinational
  std::vector<std::vector<uint32_t>> fanout;  // net → indices of gates reading it

  std::map<std::string, size_t> cell_counts() const;
};

// Reads a Yosys JSON netlist (one module, flattened). InputError on an unknown cell
// type, a combinational loop, or a malformed file, naming the file.
Netlist load_yosys_json(const std::filesystem::path& path);

}  // namespace lpsim::power
