#include "nn/train.h"

#include <chrono>
#include <optional>
#include <cmath>
#include <fstream>
#include <numbers>
#include <random>
#include <sstream>

#include <fmt/format.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/file_lock.h"
#include "arith/hash.h"

namespace lpsim::nn {

std::string training_key(const Graph& g, const TrainConfig& c, int64_t train_size) {
  std::ostringstream s;
  s << g.arch << '|' << g.input_channels << '|' << g.input_height << 'x' << g.input_width << '|' << g.classes;
  for (const Node& n : g.nodes) {
    s << '|' << n.name << ':' << op_name(n.kind) << ':' << n.in_channels << ',' << n.out_channels << ','
      << n.kernel << ',' << n.stride << ',' << n.padding << ',' << n.bias;
    for (int i : n.inputs) s << ',' << i;
  }
  s << "|e" << c.epochs << "|b" << c.batch_size << "|lr" << c.lr << "|m" << c.momentum << "|wd" << c.weight_decay
    << '|' << c.schedule << "|s" << c.seed << "|t" << c.threads << "|n" << train_size << "|torch" << TORCH_VERSION;
  if (!c.data_key.empty()) s << "|data:" << c.data_key;
  return fmt::format("{}-{:016x}", g.arch, fnv1a(s.str()));
}

double learning_rate(const TrainConfig& c, int64_t step, int64_t total) {
  if (c.schedule == "cosine") return 0.5 * c.lr * (1 + std::cos(std::numbers::pi * double(step) / double(total)));
  if (c.schedule == "step") return c.lr * (step >= total * 3 / 4 ? 0.01 : step >= total / 2 ? 0.1 : 1.0);
  return c.lr;
}

void say_waiting_for_model(const std::string& lock_file) {
  std::cerr << "model: another process holds this model's cache entry (training or reading it: " << lock_file << "); waiting\n";
}

void save_atomically(const std::function<void(const std::string&)>& save, const std::filesystem::path& path) {
  std::filesystem::create_directories(path.parent_path());
  const auto tmp = path.string() + ".tmp";
  save(tmp);
  std::filesystem::rename(tmp, path);
}

double evaluate_fp32(GraphNet& net, const TensorDataset& data, int batch_size) {
  torch::NoGradGuard ng;
  net->eval();
  int64_t correct = 0;
  for (int64_t b = 0; b < data.size(); b += batch_size) {
    const int64_t e = std::min(data.size(), b + batch_size);
    auto logits = net->forward(data.images.slice(0, b, e));
    correct += logits.argmax(1).eq(data.labels.slice(0, b, e)).sum().item<int64_t>();
  }
  return double(correct) / double(data.size());
}

bool load_cached_model(GraphNet& net, const std::filesystem::path& model_file) {
  if (!std::filesystem::exists(model_file)) return false;
  try {
    torch::load(net, model_file.string());
  } catch (const c10::Error& e) {
    throw InputError(std::string("cached model is unreadable (delete it to retrain): ") + e.what_without_backtrace(),
                     model_file.string());
  }
  return true;
}

TrainResult run_epochs(GraphNet& net, const std::vector<torch::Tensor>& params, const TensorDataset& train,
                       const TrainConfig& cfg, const std::filesystem::path& dir, const EpochLoop& loop,
                       const Progress& progress) {
  torch::set_num_threads(cfg.threads);
  const auto t0 = std::chrono::steady_clock::now();
  TrainResult r;
  r.model_file = dir / "model.pt";
  torch::optim::SGD opt(params, torch::optim::SGDOptions(cfg.lr).momentum(cfg.momentum).weight_decay(cfg.weight_decay));
  int start_epoch = 0;
  for (int e = cfg.epochs - 1; e >= 1; --e) {
    const auto m = dir / fmt::format("epoch-{}.pt", e), o = dir / fmt::format("epoch-{}.optim.pt", e);
    if (std::filesystem::exists(m) && std::filesystem::exists(o)) {
      try {
        torch::load(net, m.string());
        torch::load(opt, o.string());
      } catch (const c10::Error& err) {  // written atomically: only a disk fault or an edit gets here
        throw InputError(std::string("checkpoint is unreadable (delete it and its .optim.pt to resume from the one "
                                     "before): ") + err.what_without_backtrace(), m.string());
      }
      start_epoch = e;
      break;
    }
  }
  r.resumed_from_epoch = start_epoch;
  const int64_t n = train.size(), steps_per_epoch = (n + cfg.batch_size - 1) / cfg.batch_size;
  const int64_t total = steps_per_epoch * cfg.epochs;
  for (int epoch = start_epoch; epoch < cfg.epochs; ++epoch) {
    loop.epoch_start(epoch);
    // The shuffle depends only on (seed, epoch): a resumed run sees the same batches.
    std::vector<int64_t> perm(n);
    for (int64_t i = 0; i < n; ++i) perm[i] = i;
    std::mt19937_64 rng(cfg.seed * 1000003ull + uint64_t(epoch));
    for (int64_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[std::uniform_int_distribution<int64_t>(0, i)(rng)]);
    auto order = torch::from_blob(perm.data(), {n}, torch::kInt64).clone();
    double loss_sum = 0;
    for (int64_t s = 0; s < steps_per_epoch; ++s) {
      const int64_t step = int64_t(epoch) * steps_per_epoch + s;
      for (auto& g : opt.param_groups())
        static_cast<torch::optim::SGDOptions&>(g.options()).lr(learning_rate(cfg, step, total));
      auto idx = order.slice(0, s * cfg.batch_size, std::min(n, (s + 1) * cfg.batch_size));
      auto x = train.images.index_select(0, idx), y = train.labels.index_select(0, idx);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(loop.forward(x), y);
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      if (progress && (s % 20 == 0 || s + 1 == steps_per_epoch))
        progress(step + 1, total,
                 fmt::format("{} epoch {}/{} loss {:.3f}", loop.label, epoch + 1, cfg.epochs, loss_sum / double(s + 1)));
    }
    r.last_epoch_loss = loss_sum / double(steps_per_epoch);
    if (loop.epoch_end) loop.epoch_end(epoch, r.last_epoch_loss);
    if (epoch + 1 < cfg.epochs) {
      save_atomically([&](const std::string& p) { torch::save(net, p); }, dir / fmt::format("epoch-{}.pt", epoch + 1));
      save_atomically([&](const std::string& p) { torch::save(opt, p); },
                      dir / fmt::format("epoch-{}.optim.pt", epoch + 1));
    }
  }
  save_atomically([&](const std::string& p) { torch::save(net, p); }, r.model_file);
  for (int e = 1; e < cfg.epochs; ++e) {
    std::filesystem::remove(dir / fmt::format("epoch-{}.pt", e));
    std::filesystem::remove(dir / fmt::format("epoch-{}.optim.pt", e));
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

TrainResult train_or_load(GraphNet& net, const TensorDataset& train, const TrainConfig& cfg,
                          const std::filesystem::path& cache_dir, const Progress& progress) {
  if (cfg.epochs < 1) throw InputError("epochs must be >= 1", {}, "model.train.epochs");
  if (cfg.batch_size < 1) throw InputError("batch_size must be >= 1", {}, "model.train.batch_size");
  if (!(cfg.lr > 0)) throw InputError("lr must be > 0", {}, "model.train.lr");
  if (cfg.schedule != "cosine" && cfg.schedule != "step" && cfg.schedule != "constant")
    throw InputError("schedule must be cosine, step or constant", {}, "model.train.schedule");
  torch::set_num_threads(cfg.threads);
  const auto dir = cache_dir / training_key(net->graph(), cfg, train.size());
  // One process trains this model; others (parallel jobs, MPI ranks) wait, then load it.
  // A finished model (written atomically) is read without the lock.
  std::optional<FileLock> lock;
  if (!std::filesystem::exists(dir / "model.pt")) lock.emplace(dir / ".lock", say_waiting_for_model);
  if (load_cached_model(net, dir / "model.pt")) {
    TrainResult r;
    r.model_file = dir / "model.pt";
    r.from_cache = true;
    return r;
  }
  torch::manual_seed(cfg.seed);
  // Re-create the parameters under the seed (the module was initialised before).
  {
    GraphNet fresh(net->graph());
    torch::NoGradGuard ng;
    auto dst = net->named_parameters(), src = fresh->named_parameters();
    for (auto& p : dst) p.value().copy_(*src.find(p.key()));
  }
  EpochLoop loop;
  loop.epoch_start = [&](int) { net->train(); };
  loop.forward = [&](const torch::Tensor& x) { return net->forward(x); };
  return run_epochs(net, net->parameters(), train, cfg, dir, loop, progress);
}

void to_json(nlohmann::json& j, const EpochPoint& p) {
  auto num = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
  j = {{"phase", p.phase}, {"epoch", p.epoch}, {"loss", num(p.loss)}, {"test_accuracy", num(p.test_accuracy)}};
}

void from_json(const nlohmann::json& j, EpochPoint& p) {
  auto num = [&](const char* k) { return j.contains(k) && j[k].is_number() ? j[k].get<double>() : NAN; };
  p.phase = j.at("phase").get<std::string>();
  p.epoch = j.at("epoch").get<int>();
  p.loss = num("loss");
  p.test_accuracy = num("test_accuracy");
}

}  // namespace lpsim::nn
