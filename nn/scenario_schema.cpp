#include "nn/scenario_schema.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

namespace lpsim::nn {

const std::vector<SchemaKey>& scenario_schema() {
  // clang-format off
  static const std::vector<SchemaKey> table = {
    // top level
    {"", "name", "string", "the file's stem", "", "The scenario's name (report titles; a sweep's results/<name>).", "demo"},
    {"", "seed", "integer", "1", ">= 0", "Seed of every random process (training order, calibration images, energy samples, stochastic rounding).", "7"},
    {"", "threads", "integer", "2", "1..256", "Intra-op threads of this process (each sweep job and MPI rank runs with this many).", "1"},
    {"", "extends", "path", "", "a scenario file", "Start from another scenario (relative to this file) and override its keys here: mappings merge key by key, lists and scalars replace.", ""},
    {"", "sweep", "mapping", "", "dotted key path -> list of values", "A sweep: the cartesian product of the lists; each combination is a point with its own results under outputs.dir/points/<id>/.", ""},
    {"", "zip", "mapping", "", "dotted key path -> list (all of one length)", "Lists walked together (no product), crossed with sweep.", ""},
    {"", "on_invalid", "string", "error", "error | skip", "A sweep point or configuration whose combination is invalid (e.g. acc_bits narrower than the product): error stops before anything runs; skip records it as skipped with the reason.", "skip"},
    {"", "dataset", "mapping", "", "", "Where the images come from.", ""},
    {"", "model", "mapping", "", "", "One network (or give models).", ""},
    {"", "models", "list", "", "list of model mappings", "The same study on several networks, each into outputs.dir/<model name>.", ""},
    {"", "power_budget", "mapping | list", "", "", "Power budget(s) per inference: {like: ...} | {mac: ...} | {nj_per_inference: X} | {pj_per_mac: X}; a list names each.", ""},
    {"", "quantization", "mapping", "", "", "Calibration and the configurations evaluated.", ""},
    {"", "hardware", "mapping", "", "", "The accelerator the configurations are priced on.", ""},
    {"", "accelerator", "mapping", "", "", "The systolic array `lpsim sim` streams the network through (SystemC, every PE-cycle priced at the gates).", ""},
    {"", "outputs", "mapping", "", "", "Where results go.", ""},
    // dataset
    {"dataset", "name", "string", "fashion-mnist", "fashion-mnist | idx", "fashion-mnist (Debian's dataset-fashion-mnist) or idx: your own IDX files.", "fashion-mnist"},
    {"dataset", "path", "path", "/usr/share/datasets/fashion-mnist", "a folder", "Folder of the IDX files (required for idx unless all four files are named).", "/usr/share/datasets/fashion-mnist"},
    {"dataset", "train_images", "path", "train-images-idx3-ubyte(.gz)", "", "Training images (relative: under path).", "train-images-idx3-ubyte.gz"},
    {"dataset", "train_labels", "path", "train-labels-idx1-ubyte(.gz)", "", "Training labels.", "train-labels-idx1-ubyte.gz"},
    {"dataset", "test_images", "path", "t10k-images-idx3-ubyte(.gz)", "", "Test images.", "t10k-images-idx3-ubyte.gz"},
    {"dataset", "test_labels", "path", "t10k-labels-idx1-ubyte(.gz)", "", "Test labels.", "t10k-labels-idx1-ubyte.gz"},
    {"dataset", "layout", "string", "nchw", "nchw | nhwc", "Axis order of 4-D image files.", "nhwc"},
    {"dataset", "normalize", "none | mapping", "Fashion-MNIST constants (idx: training-set statistics)", "none | {mean: [...], std: [...]}", "Input preprocessing after pixel/255: none, or (x - mean[c]) / std[c] (one entry applies to every channel).", "none"},
    {"dataset", "train_limit", "integer", "0 (all)", "0..1e9", "Use the first N training images.", "1000"},
    {"dataset", "test_limit", "integer", "0 (all)", "0..1e9", "Evaluate on the first N test images.", "500"},
    {"dataset.normalize", "mean", "number | list", "", "finite", "Per-channel mean (one entry: all channels).", "[0.5]"},
    {"dataset.normalize", "std", "number | list", "", "> 0", "Per-channel standard deviation.", "[0.25]"},
    // model (and each entry of models)
    {"model", "name", "string", "arch (or the TorchScript file's stem)", "", "The network's name (models: its output folder).", "net"},
    {"model", "arch", "string", "lenet5", "mlp | lenet5 | resnet8 | resnet20", "A built-in network, trained once per setting and cached.", "mlp"},
    {"model", "torchscript", "path", "", "a TorchScript file", "Evaluate your own trained module instead of a built-in arch (needs dataset.normalize).", ""},
    {"model", "cache", "path", "results/cache/models", "", "Model cache folder (shared safely by parallel jobs and MPI ranks).", "results/cache/models"},
    {"model", "train", "mapping", "", "", "FP32 training of a built-in arch.", ""},
    {"model", "normalize", "none | mapping", "dataset.normalize", "", "This model's own preprocessing (overrides dataset.normalize).", "none"},
    {"model.train", "epochs", "integer", "8", "1..1000", "Training epochs.", "2"},
    {"model.train", "batch_size", "integer", "64", "1..65536", "Minibatch size.", "32"},
    {"model.train", "lr", "number", "0.05", "1e-9..10", "SGD learning rate.", "0.1"},
    {"model.train", "momentum", "number", "0.9", "0..0.999999", "SGD momentum.", "0.8"},
    {"model.train", "weight_decay", "number", "0.0005", "0..1", "L2 weight decay.", "0.001"},
    {"model.train", "schedule", "string", "cosine", "cosine | step | constant", "Learning-rate schedule.", "step"},
    // power budgets
    {"power_budget", "name", "string", "budget", "unique", "The budget's name (required in a list).", "b1"},
    {"power_budget", "like", "mapping", "", "", "The energy of this network uniformly quantised that way, measured by lpsim.", ""},
    {"power_budget", "mac", "mapping", "", "", "That MAC's gate-level energy on uniform random operands x the network's MACs.", ""},
    {"power_budget", "nj_per_inference", "number", "", "1e-12..1e15", "A fixed budget in nJ per inference.", "50"},
    {"power_budget", "pj_per_mac", "number", "", "1e-12..1e15", "A fixed budget in pJ per MAC x the network's MACs.", "0.5"},
    {"power_budget.like", "weights", "format", "", "intN", "Weight format of the reference network.", "int2"},
    {"power_budget.like", "activations", "format", "", "intN", "Activation format of the reference network.", "int2"},
    {"power_budget.like", "signed", "bool", "true", "true | false", "false: uintN operands.", "false"},
    {"power_budget.like", "acc_bits", "integer", "32", "2..62", "Accumulator width of the reference MAC.", "16"},
    // quantization
    {"quantization", "calibration_images", "integer", "512", "1..60000", "Training images that set activation ranges.", "256"},
    {"quantization", "calibration", "mapping", "{source: data}", "", "Where calibration images come from (each configuration may override).", ""},
    {"quantization", "validation_images", "integer", "0", "0..1e6", "The last N training images held out (budget searches choose on them).", "1000"},
    {"quantization", "configs", "list", "[{name: fp32}]", "non-empty", "The configurations evaluated.", ""},
    {"quantization.calibration", "source", "string", "data", "data | noise | bn_statistics", "Real images, N(0,1) noise, or noise optimised to match BatchNorm statistics (data-free).", "noise"},
    {"quantization.calibration", "images", "integer", "quantization.calibration_images", "1..60000", "How many.", "128"},
    {"quantization.calibration", "steps", "integer", "200", "1..100000", "bn_statistics: Adam steps per batch.", "50"},
    {"quantization.calibration", "lr", "number", "0.1", "(0, 100]", "bn_statistics: Adam learning rate.", "0.05"},
    {"quantization.calibration", "batch", "integer", "64", "2..4096", "bn_statistics: images optimised together.", "32"},
    // configurations
    {"quantization.configs[]", "name", "string", "", "unique, no spaces or slashes; {var} under sweep", "The configuration's name (required).", "w4a4"},
    {"quantization.configs[]", "sweep", "mapping", "", "variable -> list of values", "Expand this configuration into one per combination, {var} substituted in its string values (name, weights, ...).", ""},
    {"quantization.configs[]", "method", "string", "uniform", "uniform | pann", "Uniform quantisation or PANN (papers.md §1).", "uniform"},
    {"quantization.configs[]", "pann", "mapping", "", "", "PANN settings (method: pann).", ""},
    {"quantization.configs[]", "weights", "format", "(none: FP32)", "intN | uintN | fp8_e4m3 | fp8_e5m2 | eXmY | lnsN_bB | ...", "Weight format.", "int4"},
    {"quantization.configs[]", "activations", "format", "(none: FP32)", "as weights", "Activation format.", "int4"},
    {"quantization.configs[]", "accumulator", "string", "int", "int | fp32 | linear | log | mitchell", "Integer accumulator of acc_bits, FP32, or for LNS operands (lnsN_bB) unit A (linear: log-multiply, exact linear sum), B (log: log-domain sum with tables) or C (mitchell).", "int"},
    {"quantization.configs[]", "lns_alpha", "integer", "b + 4", "b + 1..16", "LNS unit A: fraction bits of its 2^(r/2^b) table.", "8"},
    {"quantization.configs[]", "lns_acc_frac", "integer", "min(b + 4, 7)", "b..7 (log), b..20 (mitchell)", "LNS units B and C: fraction bits of the log-domain sum.", "7"},
    {"quantization.configs[]", "acc_bits", "integer", "hardware.acc_bits", "2..62, >= the product's width", "Integer accumulator width.", "24"},
    {"quantization.configs[]", "overflow", "string", "hardware.overflow", "wrap | saturate", "Accumulator overflow behaviour.", "saturate"},
    {"quantization.configs[]", "per_channel", "bool", "true", "true | false", "Per-output-channel weight scales.", "false"},
    {"quantization.configs[]", "unsigned_mac", "bool", "false", "true | false", "Run signed intN x intN on an unsigned MAC (offset codes, corrections priced).", "true"},
    {"quantization.configs[]", "clip", "string", "max", "none | max | aciq | mse", "Clipping of activations (papers.md §4).", "aciq"},
    {"quantization.configs[]", "prior", "string", "laplace", "laplace | gauss | auto", "ACIQ's prior.", "gauss"},
    {"quantization.configs[]", "per_channel_activations", "bool", "false", "true | false", "Per-channel activation clipping.", "true"},
    {"quantization.configs[]", "bias_correction", "bool", "false", "true | false", "Correct the weight-quantisation bias per channel.", "true"},
    {"quantization.configs[]", "activation_bias_correction", "bool", "false", "true | false", "Correct the activation-quantisation bias per channel.", "true"},
    {"quantization.configs[]", "bit_allocation", "mapping", "", "", "Per-channel bit allocation (papers.md §4 eq. 11).", ""},
    {"quantization.configs[]", "calibration", "mapping", "quantization.calibration", "", "This configuration's calibration images.", ""},
    {"quantization.configs[]", "training", "mapping", "", "", "Low-precision training before deployment (papers.md §2, §3).", ""},
    {"quantization.configs[]", "layers", "mapping", "", "layer name -> settings", "Per-layer overrides.", ""},
    {"quantization.configs[].pann", "R", "number | list", "1", "0.01..1000", "Additions per input (mean |w̃|); a list is a grid.", "[1, 2]"},
    {"quantization.configs[].pann", "activation_bits", "integer | list", "8", "2..16", "Unsigned activation width; a list is a grid.", "[4, 8]"},
    {"quantization.configs[].pann", "budget", "string", "", "a power_budget name", "Choose the grid point of best validation accuracy within this budget.", "b1"},
    {"quantization.configs[].pann", "train", "mapping", "", "", "PANN-aware fine-tuning {epochs, lr}.", ""},
    {"quantization.configs[].pann.train", "epochs", "integer", "0", "0..1000", "Fine-tuning epochs (0: post-training conversion).", "1"},
    {"quantization.configs[].pann.train", "lr", "number", "0.005", "1e-9..10", "Fine-tuning learning rate.", "0.01"},
    {"quantization.configs[].bit_allocation", "mean_bits", "number", "4", "0..8", "Target mean width.", "3"},
    {"quantization.configs[].bit_allocation", "rounding", "string", "round", "round | ceil", "Rounding of eq. 11.", "ceil"},
    {"quantization.configs[].bit_allocation", "operands", "string", "auto", "auto | weights | activations | both", "Which operands get allocated widths.", "weights"},
    {"quantization.configs[].training", "method", "string", "", "fp32 | luq | fp8 | prune", "The training GEMMs (required).", "fp8"},
    {"quantization.configs[].training", "smp", "integer", "1", "1..16", "LUQ: samples averaged (SMP).", "2"},
    {"quantization.configs[].training", "levels", "integer", "7", "7 | 8", "LUQ: FP4 levels.", "8"},
    {"quantization.configs[].training", "fnt_epochs", "integer", "0", "0..1000", "LUQ: high-precision fine-tuning epochs at the end.", "1"},
    {"quantization.configs[].training", "gradients", "string", "fp8_e5m2", "auto | fp8_e4m3 | fp8_e5m2 | eXmY", "FP8: gradient format, or auto (lognormal chooser at bits).", "auto"},
    {"quantization.configs[].training", "bits", "integer", "8", "4..16", "FP8 auto: total width of the chosen format.", "6"},
    {"quantization.configs[].training", "rounding", "string", "nearest", "nearest | stochastic", "FP8: rounding of gradients.", "stochastic"},
    {"quantization.configs[].training", "sparsity", "number", "0.85", "[0, 1)", "prune: target gradient sparsity.", "0.5"},
    {"quantization.configs[].training", "from", "string", "scratch", "scratch | fp32", "Train from scratch or fine-tune the cached FP32 model.", "fp32"},
    {"quantization.configs[].training", "epochs", "integer", "model.train.epochs", "1..1000", "Training epochs.", "1"},
    {"quantization.configs[].training", "lr", "number", "model.train.lr", "(0, 10]", "Learning rate.", "0.02"},
    {"quantization.configs[].layers.*", "quantised", "bool", "the configuration's", "true | false", "false: this layer runs in FP32.", "false"},
    {"quantization.configs[].layers.*", "weights", "format", "the configuration's", "", "This layer's weight format.", "int8"},
    {"quantization.configs[].layers.*", "activations", "format", "the configuration's", "", "This layer's activation format.", "int8"},
    {"quantization.configs[].layers.*", "accumulator", "string", "the configuration's", "int | fp32 | linear | log | mitchell", "This layer's accumulator.", "int"},
    {"quantization.configs[].layers.*", "acc_bits", "integer", "the configuration's", "2..62", "This layer's accumulator width.", "32"},
    {"quantization.configs[].layers.*", "overflow", "string", "the configuration's", "wrap | saturate", "This layer's overflow behaviour.", "wrap"},
    {"quantization.configs[].layers.*", "per_channel", "bool", "the configuration's", "true | false", "Per-channel weight scales.", "true"},
    {"quantization.configs[].layers.*", "clip", "string", "the configuration's", "none | max | aciq | mse", "This layer's activation clipping.", "max"},
    // accelerator (lpsim sim)
    {"accelerator", "rows", "integer", "16", "1..1024", "Rows of the PE array (weight-stationary: the K dimension; output-stationary: output positions).", "8"},
    {"accelerator", "cols", "integer", "16", "1..1024", "Columns of the PE array (output channels).", "8"},
    {"accelerator", "dataflow", "string", "weight_stationary", "weight_stationary | output_stationary", "What stays in the PE: the weight, or the output's partial sum.", "output_stationary"},
    {"accelerator", "clock_mhz", "number", "500", "0.001..100000", "Clock frequency: power = energy per cycle x frequency; leakage per cycle = power x period.", "1000"},
    {"accelerator", "ifmap_sram_kb", "number", "64", "0.125..1048576", "Input-activation buffer size (prices its accesses).", "32"},
    {"accelerator", "filter_sram_kb", "number", "64", "0.125..1048576", "Weight buffer size.", "32"},
    {"accelerator", "ofmap_sram_kb", "number", "64", "0.125..1048576", "Output / partial-sum buffer size.", "32"},
    {"accelerator", "sram_port_bits", "integer", "64", "8..4096", "Width of one SRAM access.", "128"},
    {"accelerator", "sram_energy", "string", "cacti7-itrs-lstp", "a source in power_models/data/memory_45nm.csv", "Which SRAM energy rows price the buffers.", "horowitz-isscc2014"},
    {"accelerator", "window_cycles", "integer", "64", ">= 1", "Power-trace window: energy per window -> power.", "256"},
    {"accelerator", "images", "integer", "1", "1..10000", "Test images streamed through the array (the same seeded choice as the energy images).", "2"},
    {"accelerator", "configs", "list", "every integer configuration", "configuration names", "Which quantisation configurations to simulate.", "[int8]"},
    {"accelerator", "pe", "mapping", "", "", "The processing element.", ""},
    {"accelerator", "peak_power_budget_mw", "number", "0 (none)", ">= 0", "Peak-power budget: whether each configuration meets it, the highest clock that does.", "50"},
    {"accelerator", "budget_sizes", "list", "", "square array sizes", "Also simulate these R x R arrays and report the largest that meets the peak-power budget.", "[8, 16, 32]"},
    {"accelerator", "verify_gates", "bool", "false", "true | false", "Check the PE netlist against the golden PE on every simulated cycle (slower).", "true"},
    {"accelerator", "vcd", "path", "", "a .vcd file", "Write the ports and output register of the first vcd_pes PEs (row by row from PE(0,0)), cycle by cycle, for the first configuration's first layer.", "results/pe.vcd"},
    {"accelerator", "vcd_pes", "integer", "4", "1..64", "PEs in the VCD.", "2"},
    {"accelerator.pe", "unit", "string", "mac", "mac", "Integer MAC (widths, signedness and accumulator from the configuration).", "mac"},
    {"accelerator.pe", "arch", "string", "hardware.mac", "array | booth", "Multiplier architecture.", "booth"},
    // hardware
    {"hardware", "mac", "string | mapping", "array", "array | booth | {rtl: ..., top: ...}", "Multiplier architecture of the integer MACs, or your own MAC's RTL (verified against the golden mac first, then the integer configurations of its widths are priced on it).", "booth"},
    // hardware.mac as a mapping: your MAC (rtl/user_unit_spec.h, `lpsim verify-rtl --rtl`)
    {"hardware.mac", "rtl", "path | list", "", "Verilog/SystemVerilog files", "Your MAC's source files (relative to the current directory).", "[u.sv]"},
    {"hardware.mac", "top", "string", "", "a module name", "Its top module.", "my_mac"},
    {"hardware.mac", "a_bits", "integer", "8", "2..32", "Width of its activation input a.", "8"},
    {"hardware.mac", "b_bits", "integer", "a_bits", "2..32", "Width of its weight input b.", "8"},
    {"hardware.mac", "acc_bits", "integer", "hardware.acc_bits", "a_bits + b_bits..64", "Width of its accumulator output.", "32"},
    {"hardware.mac", "signed", "bool", "true", "true | false", "Two's complement operands (false: unsigned).", "true"},
    {"hardware.mac", "overflow", "string", "hardware.overflow", "wrap | saturate", "What its accumulator does on overflow.", "wrap"},
    {"hardware.mac", "latency", "integer", "1", "1..64", "Clock edges from operands to the sum that includes them (a pipelined MAC: more than 1).", "2"},
    {"hardware.mac", "reset", "string", "async", "async | sync", "How its reset port acts.", "async"},
    {"hardware.mac", "params", "mapping", "", "NAME: value", "Verilog parameters of the top module.", "{W: 8}"},
    {"hardware.mac", "ports", "mapping", "", "role: port", "Its ports where the names differ from the usual ones (roles a, b, y, clk, rst_n or rst, en, clear, overflow; unused: an output left open).", "{en: ce}"},
    {"hardware", "dataflow", "string", "output_stationary", "output_stationary | weight_stationary", "Operand order through the PE (sets its switching).", "weight_stationary"},
    {"hardware", "ws_run", "integer", "64", "1..4096", "Weight-stationary: outputs streamed per weight load.", "32"},
    {"hardware", "acc_bits", "integer", "32", "2..62", "Default integer accumulator width of the configurations.", "16"},
    {"hardware", "overflow", "string", "wrap", "wrap | saturate", "Default accumulator overflow of the configurations.", "saturate"},
    {"hardware", "energy_model", "string", "gate", "gate | analytic | none", "Gate-level switching (95 % interval), PANN's analytic bit-toggle model, or no pricing.", "none"},
    {"hardware", "energy_vectors", "integer", "16384", "128..1e9", "Sampled MAC operations per layer.", "4096"},
    {"hardware", "energy_images", "integer", "64", "1..10000", "Test images whose operands are sampled.", "16"},
    {"hardware", "netlist_cache", "path", "results/netlists", "", "Cache of synthesised netlists and their energies.", "results/netlists"},
    // outputs
    {"outputs", "dir", "path", "results/scenario", "", "Results folder (a sweep: its summary, points/<id>/ per point).", "results/demo"},
    {"outputs", "plot", "bool", "true", "true | false", "Write gnuplot PNGs.", "false"},
    {"outputs", "resume", "bool", "true", "true | false", "Reuse configurations (and sweep points) finished earlier under dir.", "false"},
  };
  // clang-format on
  return table;
}

std::vector<std::string> schema_keys(const std::string& section) {
  std::vector<std::string> out;
  for (const SchemaKey& k : scenario_schema())
    if (k.section == section) out.push_back(k.key);
  return out;
}

namespace {
// "configs[3]" → "configs[]"; a list index is part of the section name.
std::string strip_index(const std::string& s) {
  const auto b = s.find('[');
  return b == std::string::npos ? s : s.substr(0, b) + "[]";
}
}  // namespace

std::string schema_section_of(const std::vector<std::string>& segments) {
  // Sections reached under another name: list entries, a budget's mac (like's keys), a
  // layer's name, a configuration's calibration (the scenario-wide one's keys).
  static const std::map<std::string, std::string> alias = {
      {"models[]", "model"},
      {"power_budget[]", "power_budget"},
      {"power_budget.mac", "power_budget.like"},
      {"quantization.configs[].calibration", "quantization.calibration"}};
  std::string section;
  for (const std::string& s : segments) {
    section = section == "quantization.configs[].layers" ? section + ".*"
              : section.empty()                          ? strip_index(s)
                                                         : section + "." + strip_index(s);
    if (auto it = alias.find(section); it != alias.end()) section = it->second;
  }
  return section;
}

const SchemaKey* schema_entry(const std::string& dotted) {
  std::vector<std::string> seg;
  size_t start = 0;
  for (size_t i = 0; i <= dotted.size(); ++i)
    if (i == dotted.size() || dotted[i] == '.') seg.push_back(dotted.substr(start, i - start)), start = i + 1;
  const std::string key = strip_index(seg.back());
  seg.pop_back();
  const std::string section = schema_section_of(seg);
  for (const SchemaKey& k : scenario_schema())
    if (k.section == section && (k.key == key || k.key + "[]" == key)) return &k;
  return nullptr;
}

std::string did_you_mean(const std::string& got, const std::vector<std::string>& allowed) {
  auto distance = [](const std::string& a, const std::string& b) {
    std::vector<size_t> d(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) d[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
      size_t prev = d[0];
      d[0] = i;
      for (size_t j = 1; j <= b.size(); ++j) {
        const size_t cur = d[j];
        d[j] = std::min({d[j] + 1, d[j - 1] + 1, prev + (a[i - 1] == b[j - 1] ? 0 : 1)});
        prev = cur;
      }
    }
    return d[b.size()];
  };
  std::string best;
  size_t best_d = 3;
  for (const std::string& a : allowed) {
    const size_t dd = distance(got, a);
    const bool prefix = got.size() >= 3 && a.rfind(got, 0) == 0;
    if (dd < best_d || (prefix && best.empty())) best = a, best_d = prefix ? std::min<size_t>(dd, 2) : dd;
  }
  return best.empty() ? "" : "did you mean '" + best + "'?";
}

std::string schema_markdown() {
  std::string md =
      "# Scenario schema\n\n"
      "<!-- generated by `lpsim schema` from nn/scenario_schema.cpp, the table the parser checks keys against; "
      "tests/nn/scenario_schema_test.cpp fails when this file differs -->\n\n"
      "Every key of a scenario file (`lpsim run FILE.yaml`). Unknown keys are errors with the file:line:col and "
      "a \"did you mean\". Paths are relative to the current directory, except `extends`, relative to the file. "
      "Sweeps (`sweep`, `zip`, a configuration's `sweep`) address keys by dotted path: `hardware.acc_bits`, "
      "`model.arch`, `quantization.configs[0].weights`.\n\n"
      "Example (scenarios/sweep-bits.yaml, shortened):\n\n"
      "```yaml\n"
      "name: sweep-bits\n"
      "model: {arch: lenet5}\n"
      "sweep:\n"
      "  hardware.acc_bits: [12, 16, 20, 32]\n"
      "  hardware.overflow: [wrap, saturate]\n"
      "on_invalid: skip\n"
      "quantization:\n"
      "  configs:\n"
      "    - name: \"w{w}a{a}\"\n"
      "      weights: \"int{w}\"\n"
      "      activations: \"int{a}\"\n"
      "      sweep: {w: [2, 3, 4, 5, 6, 8], a: [2, 3, 4, 5, 6, 8]}\n"
      "outputs: {dir: results/sweep-bits}\n"
      "```\n";
  std::string current = "\x01";
  for (const SchemaKey& k : scenario_schema()) {
    if (k.section != current) {
      current = k.section;
      md += "\n## " + (current.empty() ? std::string("top level") : "`" + current + "`") + "\n\n";
      md += "| key | type | default | allowed | meaning |\n|---|---|---|---|---|\n";
    }
    auto cell = [](std::string s) {
      for (size_t p = 0; (p = s.find('|', p)) != std::string::npos; p += 2) s.replace(p, 1, "\\|");
      return s;
    };
    md += fmt::format("| `{}` | {} | {} | {} | {} |\n", k.key, cell(k.type), cell(k.def.empty() ? "—" : k.def),
                      cell(k.allowed.empty() ? "—" : k.allowed), cell(k.doc));
  }
  return md;
}

}  // namespace lpsim::nn
