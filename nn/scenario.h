// The scenario file of `lpsim run`: dataset, model, quantisation configurations (global
// with per-layer overrides), hardware and outputs. Parsing is strict: an unknown key, a
// wrong type or an out-of-range value is an InputError with file:line:col and the key
// path. Torch-free, so the CLI compiles fast.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nn/gradient_spec.h"
#include "rtl/user_unit_spec.h"

namespace lpsim::nn {

struct LayerOverride {
  std::optional<bool> quantised;
  std::optional<std::string> weights, activations, accumulator, overflow;
  std::optional<int> acc_bits;
  std::optional<bool> per_channel;
  std::optional<std::string> clip;  // none | max | aciq | mse (the configuration's by default)
  std::string where;  // file:line:col of the override, for errors found later (unknown layer)
};

// PANN settings of a configuration (method: pann; papers.md §1). One value of R and of
// activation_bits is one converted network; lists are a grid: without a budget every point
// becomes its own configuration (the deployment-time dial, NAME_R<R>_b<bits>); with a
// budget the point of best validation accuracy whose energy fits the budget is chosen.
struct PannSpec {
  std::vector<double> R = {1.0};         // additions per input, mean|w̃|
  std::vector<int> activation_bits = {8};  // unsigned activation width b̃_x
  std::string budget;                    // name of a power budget to choose under ("" none)
  std::string dial;                      // set on the configurations a dial expands into: its name
  // PANN-aware training: fine-tune the FP32 model with the PANN quantiser in the loop
  // (straight-through estimator) for this many epochs (0: post-training conversion).
  int train_epochs = 0;
  double train_lr = 0.005;
};

// A power budget (power_budget), per inference: `like` — the same network uniformly
// quantised that way, measured by lpsim (same images, same flow: data-dependent, so a
// network whose activations collapse to zero is cheap); `mac` — that MAC's gate-level
// energy on uniform random operands × the network's MACs (PANN's data-independent
// reading of "the power of a b-bit network"); or a number.
struct PowerBudget {
  std::string name;   // unique; "budget" for a single unnamed one
  std::string kind;   // like | mac | nj_per_inference | pj_per_mac
  double value = 0;   // nJ per inference or pJ per MAC
  std::string like_weights, like_activations;  // formats (uintN when like.signed is false)
  int like_acc_bits = 32;
  std::string where;
};

// Where calibration images come from (papers.md §5): `data` — training images (the first
// of a seeded permutation); `noise` — N(0, 1) images in the network's input space;
// `bn_statistics` — noise optimised so that every BatchNorm layer's batch statistics match
// its running statistics (data-free).
struct CalibrationSpec {
  std::string source = "data";  // data | noise | bn_statistics
  int images = 0;               // 0: quantization.calibration_images
  int steps = 200;              // bn_statistics: Adam steps per batch
  double lr = 0.1;              // bn_statistics: Adam learning rate
  int batch = 64;               // bn_statistics: images optimised together
};

// Per-channel bit allocation (papers.md §4): the target mean width, the rounding of eq. 11
// and the operands it applies to (auto: those whose format is no wider than mean_bits —
// the paper allocates only at 4 bits and below).
struct BitAllocationSpec {
  double mean_bits = 0;  // 0: off
  std::string rounding = "round";   // round | ceil
  std::string operands = "auto";    // auto | weights | activations | both
};

// Whether the allocation applies to an operand of format `format` (weights or activations):
// named by `operands`, or under auto no wider than mean_bits. Not a check of the format.
bool bit_allocation_applies(const BitAllocationSpec& b, const std::string& format, bool weights);

struct QuantConfigSpec {
  std::string name;
  std::string method = "uniform";  // uniform | pann
  PannSpec pann;
  bool fp32 = false;  // no weights/activations given: the FP32 reference
  std::string weights, activations;
  std::string accumulator = "int";  // int | fp32 | linear | log | mitchell (LNS operands; LayerQuant)
  int acc_bits = 32;                // default: hardware.acc_bits
  int lns_alpha = 0, lns_acc_frac = 0;  // LNS units' table / sum fraction bits (0: the defaults)
  std::string overflow = "wrap";    // default: hardware.overflow
  bool per_channel = true;
  // intN weights and activations run on an unsigned MAC: the same codes offset by 2^(N−1)
  // (LayerQuant::offset_bits), bit-identical outputs, the offsets' corrections priced.
  bool unsigned_mac = false;
  // Clipped post-training quantisation (papers.md §4; LayerQuant explains each).
  std::string clip = "max";        // none | max | aciq | mse
  std::string prior = "laplace";   // laplace | gauss | auto
  bool per_channel_activations = false;
  bool bias_correction = false;
  bool activation_bias_correction = false;
  BitAllocationSpec bit_allocation;
  CalibrationSpec calibration;     // default: quantization.calibration
  // Low-precision training (papers.md §2, §3): the network this configuration deploys is
  // first trained with these GEMMs (nn/lowp_train.h), then executed as configured.
  bool has_training = false;
  GradientSpec training;
  int training_epochs = 0;    // 0: the model's train.epochs
  double training_lr = 0;     // 0: the model's train.lr
  std::map<std::string, LayerOverride> layers;
  std::string where;
  // The values of its configuration-level `sweep` (variable, value), in the sweep's order.
  std::vector<std::pair<std::string, std::string>> sweep_values;
};

// accelerator: the systolic array `lpsim sim` streams the network through (sim/
// accelerator.h). The PE's widths and accumulator come from each configuration.
struct AcceleratorSection {
  bool present = false;
  std::string where;  // file:line:col of the section
  int rows = 16, cols = 16;
  std::string dataflow = "weight_stationary";  // weight_stationary | output_stationary
  double clock_mhz = 500;
  double ifmap_sram_kb = 64, filter_sram_kb = 64, ofmap_sram_kb = 64;
  int sram_port_bits = 64;
  std::string sram_energy = "cacti7-itrs-lstp";  // a source of power_models/data/memory_45nm.csv
  int window_cycles = 64;                        // power-trace window
  int images = 1;                                // test images streamed through (seeded choice)
  std::vector<std::string> configs;              // empty: every integer configuration
  std::string pe_unit = "mac";                   // the PE (integer MAC)
  std::string pe_arch;                           // array | booth ("": hardware.mac)
  double peak_power_budget_mw = 0;               // 0: none
  std::vector<int> budget_sizes;                 // square arrays checked against the budget
  bool verify_gates = false;                     // netlist vs golden PE on every simulated cycle
  std::filesystem::path vcd;                     // "": none
  int vcd_pes = 4;                               // PEs in the VCD (row by row from PE(0,0))
};

struct Scenario {
  std::filesystem::path file;
  std::string name;
  uint64_t seed = 1;
  int threads = 2;
  // dataset
  std::string dataset = "fashion-mnist";  // fashion-mnist | idx (the user's own IDX files)
  std::filesystem::path dataset_path = "/usr/share/datasets/fashion-mnist";
  // Empty: the MNIST names under dataset_path; relative: under dataset_path.
  std::filesystem::path train_images, train_labels, test_images, test_labels;
  std::string layout = "nchw";  // axis order of 4-D image files: nchw | nhwc
  // dataset.normalize: "default" (not given: Fashion constants for fashion-mnist, the
  // training set's per-channel statistics for idx), "none" (pixel/255 only) or "custom"
  // ((pixel/255 - mean[c]) / std[c]; a single entry applies to every channel).
  std::string normalize = "default";
  std::vector<double> norm_mean, norm_std;
  std::string norm_where;  // file:line:col of dataset.normalize, for the channel-count check
  int64_t train_limit = 0, test_limit = 0;  // 0: all
  // model
  std::string model_name;  // models[i].name (default: arch); "" for a single `model:`
  std::string arch = "lenet5";
  std::filesystem::path torchscript;  // instead of arch: evaluate a TorchScript module
  int epochs = 8, batch_size = 64;
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  std::string schedule = "cosine";
  std::filesystem::path model_cache = "results/cache/models";
  // quantisation
  int calibration_images = 512;
  CalibrationSpec calibration;  // quantization.calibration: the configurations' default
  // The last N training images are held out from training and calibration: the slice on
  // which budget searches choose (never the test set).
  int validation_images = 0;
  std::vector<PowerBudget> budgets;
  std::vector<QuantConfigSpec> configs;
  // hardware
  std::string mac_arch = "array";
  // hardware.mac as a mapping: the integer MAC is the user's RTL (kind mac; its widths,
  // signedness and overflow as given there), verified against the golden mac before the
  // configurations of its widths are priced on it. user_mac_where: the mapping's file:line.
  std::optional<rtl::UserUnitSpec> user_mac;
  std::string user_mac_where;
  std::string dataflow = "output_stationary";  // output_stationary | weight_stationary
  int ws_run = 64;  // weight-stationary: output positions streamed per weight load
  int acc_bits = 32;
  std::string overflow = "wrap";
  std::string energy_model = "gate";
  uint64_t energy_vectors = 1 << 14;
  int energy_images = 64;  // images whose layer operands are sampled for energy
  std::filesystem::path netlist_cache = "results/netlists";
  AcceleratorSection accelerator;
  // outputs
  std::filesystem::path output_dir = "results/scenario";
  std::string output_dir_where;  // file:line:col of outputs.dir (for errors found when creating it)
  bool plot = true;
  bool resume = true;  // reuse configurations already finished under output_dir
  // on_invalid: skip — configurations whose settings do not go together are left out and
  // listed here (name, the parser's error) instead of stopping the run.
  bool skip_invalid = false;
  struct SkippedConfig {
    std::string name, reason;
    std::vector<std::pair<std::string, std::string>> sweep_values;
  };
  std::vector<SkippedConfig> skipped_configs;
};

// Paths in the file are relative to the current directory (as on the command line).
// A file with `models:` (a list) is one scenario per model, each writing into
// outputs.dir/<model name>; load_scenario/parse_scenario accept exactly one model.
Scenario load_scenario(const std::filesystem::path& file);
Scenario parse_scenario(const std::string& yaml_text, const std::string& file_label);
std::vector<Scenario> load_scenarios(const std::filesystem::path& file);
std::vector<Scenario> parse_scenarios(const std::string& yaml_text, const std::string& file_label);
// A file is a sweep (top-level sweep: or zip:, possibly through extends:): run it with
// nn/sweep.h; load_scenarios refuses one.
bool is_sweep_file(const std::filesystem::path& file);

}  // namespace lpsim::nn
