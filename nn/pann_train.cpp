#include "nn/pann_train.h"

#include <sstream>
#include <optional>

#include <fmt/format.h>

#include "arith/error.h"
#include "arith/file_lock.h"
#include "arith/hash.h"

namespace lpsim::nn {

namespace F = torch::nn::functional;

FakeQuantNet::FakeQuantNet(GraphNet net, std::vector<LayerQuant> layers, int threads)
    : net_(std::move(net)), layers_(std::move(layers)), threads_(threads) {
  const Graph& g = net_->graph();
  const size_t n = g.nodes.size();
  if (layers_.size() != n) throw InputError("quantisation config has " + std::to_string(layers_.size()) +
                                            " entries for a graph of " + std::to_string(n) + " nodes");
  folded_bn_.assign(n, false);
  act_scale_.assign(n, 0.0), act_zero_.assign(n, 0.0);
  torch::NoGradGuard ng;
  for (int i = 0; i < int(n); ++i)
    if (Graph::is_gemm(g.nodes[i].kind))
      if (const int bn = fold_gemm(*net_, i).bn; bn >= 0) folded_bn_[size_t(bn)] = true;
}

void FakeQuantNet::calibrate(const torch::Tensor& images) {
  QuantizedExecutor ex(net_, layers_, threads_);  // validates the layers, as the conversion will
  ex.calibrate(images);
  for (size_t i = 0; i < layers_.size(); ++i)
    if (Graph::is_gemm(net_->graph().nodes[i].kind) && layers_[i].quantised)
      act_scale_[i] = ex.input_scale(int(i)), act_zero_[i] = ex.input_zero(int(i));
  calibrated_ = true;
}

torch::Tensor FakeQuantNet::gemm(int i, const torch::Tensor& x) {
  const Node& nd = net_->graph().nodes[i];
  const LayerQuant& q = layers_[i];
  const FoldedGemm f = fold_gemm(*net_, i);
  auto w = f.w.view({nd.out_channels, -1}).to(torch::kFloat32);
  auto in = x;
  if (q.quantised) {
    torch::Tensor wq, xq;
    {
      torch::NoGradGuard ng;
      // The executor's rounding of the folded float64 weights, from the current values.
      const WeightGrid g = quantise_weights(q, f.w.detach().view({nd.out_channels, -1}), threads_);
      wq = ((g.codes.to(torch::kFloat64) - g.zero.view({-1, 1})) * g.scale.view({-1, 1})).to(torch::kFloat32);
      const double s = act_scale_[i], z = act_zero_[i];
      xq = activation_codes(q.activations, x.detach(), s, z, threads_, q.offset_bits).to(torch::kFloat64).sub_(z).mul_(s).to(torch::kFloat32);
    }
    w = w + (wq - w).detach();
    in = x + (xq - x).detach();
  }
  const auto b = f.b.to(torch::kFloat32);
  if (nd.kind == OpKind::conv)
    return F::conv2d(in, w.view({nd.out_channels, nd.in_channels, nd.kernel, nd.kernel}),
                     F::Conv2dFuncOptions().bias(b).stride(nd.stride).padding(nd.padding));
  return F::linear(in, w, b);
}

torch::Tensor FakeQuantNet::forward(const torch::Tensor& x) {
  LPSIM_CHECK(calibrated_);  // calibrate() first
  net_->eval();
  return net_->run(
      x, [&](int i, const torch::Tensor& t) { return gemm(i, t); }, [&](int i) { return bool(folded_bn_[size_t(i)]); });
}

std::string pann_training_key(const std::string& fp32_key, const Graph& g, const std::vector<LayerQuant>& layers,
                              const TrainConfig& c, const torch::Tensor& calib, int64_t train_size) {
  std::ostringstream s;
  s << "pann-ste-1|" << fp32_key;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    if (!Graph::is_gemm(g.nodes[i].kind)) continue;
    const LayerQuant& q = layers.at(i);
    s << '|' << g.nodes[i].name << ':' << q.quantised;
    if (q.quantised)
      s << ',' << arith::format_name(q.weights) << ',' << arith::format_name(q.activations) << ",pc" << q.per_channel
        << ",pann" << q.pann << fmt::format(",R{:.17g}", q.pann_R);
  }
  s << "|e" << c.epochs << "|b" << c.batch_size << fmt::format("|lr{:.17g}|m{:.17g}|wd{:.17g}", c.lr, c.momentum, c.weight_decay)
    << '|' << c.schedule << "|s" << c.seed << "|t" << c.threads << "|n" << train_size << "|torch" << TORCH_VERSION;
  const auto cal = calib.to(torch::kFloat32).contiguous();
  s << "|calib" << cal.sizes();
  const uint64_t h = fnv1a(std::string_view(reinterpret_cast<const char*>(cal.data_ptr<float>()),
                                            size_t(cal.numel()) * sizeof(float)),
                           fnv1a(s.str()));
  return fmt::format("{}-pann-{:016x}", g.arch, h);
}

TrainResult pann_train_or_load(GraphNet& net, const TensorDataset& train, const torch::Tensor& calib,
                               const std::vector<LayerQuant>& layers, const TrainConfig& cfg,
                               const std::string& fp32_key, const std::filesystem::path& cache_dir,
                               const Progress& progress) {
  if (cfg.epochs < 1) throw InputError("epochs must be >= 1", {}, "pann.train.epochs");
  if (cfg.batch_size < 1) throw InputError("batch_size must be >= 1", {}, "model.train.batch_size");
  if (!(cfg.lr > 0)) throw InputError("lr must be > 0", {}, "pann.train.lr");
  if (calib.size(0) < 1) throw InputError("PANN-aware training needs calibration images", {}, "calibration_images");
  torch::set_num_threads(cfg.threads);
  const Graph& g = net->graph();
  const auto dir = cache_dir / pann_training_key(fp32_key, g, layers, cfg, calib, train.size());
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
  // Trained: conv/linear weights and biases. BN is frozen (folded with its running
  // statistics, as the executor folds it).
  std::vector<torch::Tensor> params;
  for (int i = 0; i < int(g.nodes.size()); ++i) {
    const OpKind k = g.nodes[i].kind;
    if (k == OpKind::conv)
      for (auto& p : net->conv(i)->parameters()) params.push_back(p);
    else if (k == OpKind::linear)
      for (auto& p : net->linear(i)->parameters()) params.push_back(p);
    else if (k == OpKind::batchnorm)
      for (auto& p : net->bn(i)->parameters()) p.requires_grad_(false);
  }
  FakeQuantNet fq(net, layers, cfg.threads);
  EpochLoop loop;
  loop.label = "fine-tune";
  // The activation scales on the weights the epoch starts from (a resumed run recomputes
  // them from the checkpoint: the same values).
  loop.epoch_start = [&](int) { fq.calibrate(calib); };
  loop.forward = [&](const torch::Tensor& x) { return fq.forward(x); };
  // Nothing here draws from Torch's generator: the batches' order is run_epochs' (seed, epoch) shuffle.
  return run_epochs(net, params, train, cfg, dir, loop, progress);
}

}  // namespace lpsim::nn
