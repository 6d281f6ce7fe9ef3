#include "nn/bn_synthesis.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "arith/error.h"

namespace lpsim::nn {

namespace {

int last_batchnorm(const Graph& g) {
  int last = -1;
  for (int i = 0; i < int(g.nodes.size()); ++i)
    if (g.nodes[i].kind == OpKind::batchnorm) last = i;
  return last;
}

void require_batchnorm(const GraphNetImpl& net) {
  if (last_batchnorm(net.graph()) < 0)
    throw InputError("model '" + net.graph().arch +
                         "' has no BatchNorm layer: BN-statistics calibration images need the running statistics of one",
                     {}, "calibration");
}

// The input of every BN node for x, in graph order, under autograd. The walk of
// GraphNetImpl::run, re-done here because run() hands out only the inputs of conv/linear
// nodes while a BN may read any node (an add, a pool). It stops at the last BN: the layers
// after it do not enter the loss.
std::vector<std::pair<int, torch::Tensor>> batchnorm_inputs(GraphNetImpl& net, const torch::Tensor& x) {
  const Graph& g = net.graph();
  const int last = last_batchnorm(g);
  std::vector<int> last_reader(g.nodes.size(), -1);
  for (int i = 0; i <= last; ++i)
    for (int j : g.nodes[i].inputs)
      if (j >= 0) last_reader[j] = i;
  std::vector<torch::Tensor> out(g.nodes.size());
  std::vector<std::pair<int, torch::Tensor>> bn_in;
  for (int i = 0; i <= last; ++i) {
    const Node& n = g.nodes[i];
    std::vector<torch::Tensor> in;
    for (int j : n.inputs) in.push_back(j < 0 ? x : out[j]);
    switch (n.kind) {
      case OpKind::conv: out[i] = net.conv(i)->forward(in[0]); break;
      case OpKind::linear: out[i] = net.linear(i)->forward(in[0]); break;
      case OpKind::batchnorm:
        bn_in.emplace_back(i, in[0]);
        if (i < last) out[i] = net.bn(i)->forward(in[0]);
        break;
      default: out[i] = eval_simple(n, in);
    }
    // Free what nobody reads any more; the autograd graph keeps what backward needs.
    for (int j : n.inputs)
      if (j >= 0 && last_reader[j] == i) out[j] = torch::Tensor();
  }
  return bn_in;
}

// Σ_c KL(N(μ̂_c, σ̂²_c) ‖ N(μ_c, σ²_c)) for one BN layer and its input t (channels on dim 1).
torch::Tensor layer_kl(const torch::nn::BatchNorm2dImpl& bn, const torch::Tensor& t) {
  std::vector<int64_t> dims;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (d != 1) dims.push_back(d);
  const double eps = bn.options.eps();
  // The biased variance, as BN's own training-mode normalisation uses; two passes (mean,
  // then mean square deviation) rather than E[t²] − E[t]², which cancels for large means.
  const auto mean_hat = t.mean(dims, /*keepdim=*/true);
  const auto var_hat = (t - mean_hat).square().mean(dims) + eps;
  const auto mu = bn.running_mean.to(t.scalar_type());
  const auto var = bn.running_var.to(t.scalar_type()) + eps;
  // log(σ/σ̂) = ½·log(σ²/σ̂²).
  return (0.5 * torch::log(var / var_hat) + (var_hat + (mean_hat.flatten() - mu).square()) / (2 * var) - 0.5).sum();
}

void check_options(const BnSynthesisOptions& o) {
  if (o.images <= 0) throw InputError("must be > 0, got " + std::to_string(o.images), {}, "calibration.images");
  if (o.batch <= 0) throw InputError("must be > 0, got " + std::to_string(o.batch), {}, "calibration.batch");
  if (o.steps <= 0) throw InputError("must be > 0, got " + std::to_string(o.steps), {}, "calibration.steps");
  if (!(o.lr > 0)) throw InputError("must be > 0, got " + std::to_string(o.lr), {}, "calibration.lr");
}

}  // namespace

torch::Tensor noise_images(int64_t n, const InputShape& shape, uint64_t seed) {
  // A private generator: the images depend on the seed alone, and the global generator
  // (weight initialisation, batch order) is left where it was.
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  return torch::randn({n, shape.channels, shape.height, shape.width}, gen, torch::kFloat32);
}

torch::Tensor bn_statistics_loss(GraphNetImpl& net, const torch::Tensor& x) {
  require_batchnorm(net);
  net.eval();  // train mode would normalise with the batch statistics and update the running ones
  torch::Tensor total;
  for (const auto& [i, t] : batchnorm_inputs(net, x)) {
    auto kl = layer_kl(*net.bn(i), t);
    total = total.defined() ? total + kl : kl;
  }
  return total;
}

BnSynthesisResult synthesise_bn_images(GraphNetImpl& net, const InputShape& shape, const BnSynthesisOptions& opt,
                                       const std::function<void(int64_t, int64_t)>& progress) {
  check_options(opt);
  require_batchnorm(net);
  const Graph& g = net.graph();
  if (shape.channels != g.input_channels || shape.height != g.input_height || shape.width != g.input_width)
    throw InputError("calibration images of " + std::to_string(shape.channels) + "x" + std::to_string(shape.height) +
                         "x" + std::to_string(shape.width) + " for model '" + g.arch + "' built for " +
                         std::to_string(g.input_channels) + "x" + std::to_string(g.input_height) + "x" +
                         std::to_string(g.input_width),
                     {}, "dataset");
  net.eval();
  // The optimisation needs autograd even when the caller runs under a NoGradGuard.
  torch::AutoGradMode grad_mode(true);
  // Optimise in the network's own precision (float32 normally, float64 in gradient checks).
  const auto dtype = net.bn(last_batchnorm(g))->running_mean.scalar_type();
  const torch::Tensor noise = noise_images(opt.images, shape, opt.seed).to(dtype);

  const int64_t batches = (opt.images + opt.batch - 1) / opt.batch;
  const int64_t total_steps = batches * opt.steps;
  const int64_t report_every = std::max<int64_t>(1, total_steps / 100);
  std::vector<torch::Tensor> done;
  double initial = 0, last = 0;
  int64_t step = 0;
  for (int64_t b = 0; b < batches; ++b) {
    auto x = noise.slice(0, b * opt.batch, std::min(opt.images, (b + 1) * opt.batch)).clone();
    const bool bounded = opt.input_lo.defined() && opt.input_hi.defined();
    torch::Tensor lo, hi;
    if (bounded) {
      lo = opt.input_lo.to(dtype).view({1, -1, 1, 1}), hi = opt.input_hi.to(dtype).view({1, -1, 1, 1});
      x = torch::max(torch::min(x, hi), lo);
    }
    x.requires_grad_(true);
    torch::optim::Adam adam({x}, torch::optim::AdamOptions(opt.lr));
    for (int s = 0; s < opt.steps; ++s) {
      const auto loss = bn_statistics_loss(net, x);
      if (s == 0) initial += loss.item<double>();
      // Gradient w.r.t. x only: the parameters keep requires_grad but receive nothing
      // (autograd::grad does not accumulate, and skips the weight gradients altogether).
      x.mutable_grad() = torch::autograd::grad({loss}, {x})[0];
      adam.step();
      if (bounded) {
        torch::NoGradGuard ng;
        x.copy_(torch::max(torch::min(x, hi), lo));
      }
      ++step;
      if (progress && (step % report_every == 0 || step == total_steps)) progress(step, total_steps);
    }
    torch::NoGradGuard ng;
    last += bn_statistics_loss(net, x).item<double>();
    done.push_back(x.detach().to(torch::kFloat32));
  }
  BnSynthesisResult r;
  r.images = torch::cat(done);
  r.initial_loss = initial / double(batches);
  r.final_loss = last / double(batches);
  return r;
}

}  // namespace lpsim::nn
