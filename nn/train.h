// FP32 training (SGD + momentum, cosine or step LR) with a checkpoint after every epoch
// and a cache of finished models keyed by everything that determines the weights, so
// scenarios never retrain and an interrupted training resumes where it stopped.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "nn/data.h"
#include "nn/net.h"

namespace lpsim::nn {

struct TrainConfig {
  int epochs = 4;
  int batch_size = 64;
  double lr = 0.05;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";  // cosine | step (×0.1 at 50 % and 75 %) | constant
  uint64_t seed = 1;
  int threads = 2;  // fixed, not the core count: thread count changes float reduction order
  // The training data's identity (ScenarioData::key: content hash, preprocessing, limit);
  // empty when the caller has none (tests): then only the training-set size keys it.
  std::string data_key;
};

// One epoch of a training curve: the mean training loss over its batches and the test
// top-1 after it (NaN when no test set was given).
struct EpochPoint {
  std::string phase;  // e.g. "luq", "fnt"
  int epoch = 0;      // 1-based, counted across phases
  double loss = 0;
  double test_accuracy = 0;
};
// JSON {phase, epoch, loss, test_accuracy}: JSON has no NaN, so a NaN (a diverged loss, no
// test set) is written as null and null reads back as NaN.
void to_json(nlohmann::json& j, const EpochPoint& p);
void from_json(const nlohmann::json& j, EpochPoint& p);

struct TrainResult {
  bool from_cache = false;
  int resumed_from_epoch = 0;  // 0: trained from scratch
  double seconds = 0;
  double last_epoch_loss = 0;
  std::filesystem::path model_file;
  std::vector<EpochPoint> curve;  // lowp_train_or_load: every epoch, cached with the model
};

// progress(done, total, message) is called every few batches.
using Progress = std::function<void(int64_t, int64_t, const std::string&)>;

// Key of the cache entry: the graph, the config (with its data key) and the training-set size.
std::string training_key(const Graph& g, const TrainConfig& cfg, int64_t train_size);

TrainResult train_or_load(GraphNet& net, const TensorDataset& train, const TrainConfig& cfg,
                          const std::filesystem::path& cache_dir, const Progress& progress = nullptr);

// The training loop shared by FP32 training and quantisation-aware fine-tuning
// (nn/pann_train.h): SGD + momentum + weight decay on `params` with cfg's LR schedule,
// batches in the order of (seed, epoch), a checkpoint of model and optimizer after every
// epoch under dir (resumed from the latest one found), the finished model saved
// atomically as dir/model.pt and the checkpoints removed. Fills resumed_from_epoch,
// last_epoch_loss, seconds and model_file.
struct EpochLoop {
  std::function<void(int epoch)> epoch_start;                 // before each epoch (e.g. the module's mode)
  std::function<torch::Tensor(const torch::Tensor&)> forward;  // a batch's logits, under autograd
  std::string label = "train";                                 // progress messages: "LABEL epoch e/E loss L"
  std::function<void(int epoch, double loss)> epoch_end;       // after each epoch (0-based), before its checkpoint
};
TrainResult run_epochs(GraphNet& net, const std::vector<torch::Tensor>& params, const TensorDataset& train,
                       const TrainConfig& cfg, const std::filesystem::path& dir, const EpochLoop& loop,
                       const Progress& progress);

// Loads dir/model.pt into net if it exists (true); an unreadable file is an InputError.
bool load_cached_model(GraphNet& net, const std::filesystem::path& model_file);

// Top-1 accuracy (0..1) of net (eval mode) on data, in batches.
double evaluate_fp32(GraphNet& net, const TensorDataset& data, int batch_size = 1000);

// Learning rate at optimizer step `step` of `total`.
double learning_rate(const TrainConfig& cfg, int64_t step, int64_t total);

// torch::save to a temporary file, then rename (an interrupted save leaves no torn file).
void save_atomically(const std::function<void(const std::string&)>& save, const std::filesystem::path& path);

// Said (stderr) when another process holds a model's cache lock: it is training that model.
void say_waiting_for_model(const std::string& lock_file);

}  // namespace lpsim::nn
