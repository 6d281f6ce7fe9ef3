// Data-free calibration images (shared/papers.md §5, "The Knowledge Within") against
// independent references: the Gaussian KL computed by hand per channel, its closed forms
// for a shifted mean or a scaled variance, central finite differences of the gradient, a
// one-layer conv + BN whose batch statistics must reach the running ones, and a trained
// ResNet-8 on real Fashion-MNIST images.
#include "nn/bn_synthesis.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <cstdio>

#include "arith/error.h"
#include "tests/nn/nn_fixtures.h"

using namespace lpsim;
using namespace lpsim::nn;
using namespace lpsim::nn::nntest;

namespace {

Node make_node(const std::string& name, OpKind k, std::vector<int> in, int cin = 0, int cout = 0) {
  Node n;
  n.name = name, n.kind = k, n.inputs = std::move(in), n.in_channels = cin, n.out_channels = cout;
  if (k == OpKind::conv) n.kernel = 3, n.padding = 1;
  if (k == OpKind::maxpool) n.kernel = 2, n.stride = 2;
  return n;
}

Graph graph_of(std::vector<Node> nodes, int channels, int hw) {
  Graph g;
  g.arch = "test";
  g.nodes = std::move(nodes);
  g.input_channels = channels, g.input_height = g.input_width = hw;
  return g;
}

// The one-layer network of papers.md §5's golden test: 3×3 conv (cin → cout) and its BN.
Graph conv_bn(int cin, int cout, int hw) {
  return graph_of({make_node("conv", OpKind::conv, {-1}, cin, cout), make_node("bn", OpKind::batchnorm, {0}, 0, cout)},
                  cin, hw);
}

// BN layers reading a conv, an add (of a conv and a BN output) and a max pool: the loss
// must find the BN inputs wherever they come from.
Graph mixed_bn(int hw) {
  return graph_of({make_node("conv1", OpKind::conv, {-1}, 2, 4),      // 0
                   make_node("bn1", OpKind::batchnorm, {0}, 0, 4),   // 1 ← conv
                   make_node("relu1", OpKind::relu, {1}),            // 2
                   make_node("conv2", OpKind::conv, {2}, 4, 4),      // 3
                   make_node("add", OpKind::add, {3, 1}),            // 4
                   make_node("bn2", OpKind::batchnorm, {4}, 0, 4),   // 5 ← add
                   make_node("pool", OpKind::maxpool, {5}),          // 6
                   make_node("bn3", OpKind::batchnorm, {6}, 0, 4)},  // 7 ← pool
                  2, hw);
}

// Running statistics unlike those of the inputs (means in [−1, 1], variances in [0.5, 2]).
void set_running_stats(GraphNet& net, uint64_t seed) {
  torch::manual_seed(seed);
  torch::NoGradGuard ng;
  for (int i = 0; i < int(net->graph().nodes.size()); ++i) {
    if (net->graph().nodes[i].kind != OpKind::batchnorm) continue;
    auto& bn = *net->bn(i);
    bn.running_mean.copy_(torch::rand_like(bn.running_mean) * 2 - 1);
    bn.running_var.copy_(torch::rand_like(bn.running_var) * 1.5 + 0.5);
  }
}

// Σ_c KL(N(μ̂, σ̂²) ‖ N(μ, σ²)) of one layer, element by element in double (papers.md §5).
double kl_by_hand(const torch::Tensor& t, const torch::Tensor& rm, const torch::Tensor& rv, double eps) {
  auto a = t.to(torch::kFloat64).contiguous();
  auto A = a.accessor<double, 4>();
  double kl = 0;
  for (int64_t c = 0; c < a.size(1); ++c) {
    double s = 0, ss = 0, count = 0;
    for (int64_t n = 0; n < a.size(0); ++n)
      for (int64_t h = 0; h < a.size(2); ++h)
        for (int64_t w = 0; w < a.size(3); ++w) s += A[n][c][h][w], count += 1;
    const double m = s / count;
    for (int64_t n = 0; n < a.size(0); ++n)
      for (int64_t h = 0; h < a.size(2); ++h)
        for (int64_t w = 0; w < a.size(3); ++w) ss += (A[n][c][h][w] - m) * (A[n][c][h][w] - m);
    const double var_hat = ss / count + eps, mu = rm[c].item<double>(), var = rv[c].item<double>() + eps;
    kl += std::log(std::sqrt(var) / std::sqrt(var_hat)) + (var_hat + (m - mu) * (m - mu)) / (2 * var) - 0.5;
  }
  return kl;
}

GraphNet double_net(const Graph& g, uint64_t seed) {
  torch::manual_seed(seed);
  GraphNet net(g);
  net->to(torch::kFloat64);
  set_running_stats(net, seed + 1);
  net->eval();
  return net;
}

template <class F>
void expect_input_error(F&& f, const std::string& key) {
  try {
    f();
    ADD_FAILURE() << "no InputError for " << key;
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), key) << e.what();
  }
}

}  // namespace

// The loss is the sum of per-channel Gaussian KLs (papers.md §5): equal to a hand
// computation, ≥ 0, zero when the batch statistics are the running ones, and the closed
// forms δ²/(2σ²) for a mean off by δ and ½(log r + 1/r − 1) for a variance off by r.
TEST(BnSynthesis, LossIsGaussianKlOfBatchAgainstRunningStatistics) {
  GraphNet net = double_net(conv_bn(2, 3, 6), 11);
  auto& bn = *net->bn(1);
  const double eps = bn.options.eps();
  torch::manual_seed(12);
  const auto x = torch::randn({5, 2, 6, 6}, torch::kFloat64) * 1.5 + 0.3;
  torch::NoGradGuard ng;
  const auto y = net->conv(0)->forward(x);
  const double loss = bn_statistics_loss(*net, x).item<double>();
  EXPECT_GT(loss, 0);
  EXPECT_NEAR(loss, kl_by_hand(y, bn.running_mean, bn.running_var, eps), 1e-12 * loss);

  // The running statistics set to the batch's: KL = 0.
  const auto mean = y.mean({0, 2, 3}), var = y.var({0, 2, 3}, /*unbiased=*/false);
  bn.running_mean.copy_(mean), bn.running_var.copy_(var);
  EXPECT_LT(std::abs(bn_statistics_loss(*net, x).item<double>()), 1e-12);

  // Channel 1's mean off by δ: δ²/(2σ²).
  const double delta = 0.25;
  bn.running_mean[1] += delta;
  const double sigma2 = var[1].item<double>() + eps;
  EXPECT_NEAR(bn_statistics_loss(*net, x).item<double>(), delta * delta / (2 * sigma2), 1e-12);
  bn.running_mean.copy_(mean);

  // Channel 2's variance: σ² = r·σ̂² (r > 1 and r < 1) gives ½(log r + 1/r − 1) > 0.
  for (double r : {3.0, 0.2}) {
    const double var_hat = var[2].item<double>() + eps;
    bn.running_var[2] = r * var_hat - eps;
    const double want = 0.5 * (std::log(r) + 1 / r - 1);
    EXPECT_GT(want, 0);
    EXPECT_NEAR(bn_statistics_loss(*net, x).item<double>(), want, 1e-12) << "r=" << r;
    bn.running_var.copy_(var);
  }
}

// Every layer of a ResNet-8 (float32, 9 BN layers): running statistics made equal to the
// batch statistics of their inputs, layer by layer (each change moves the later inputs),
// give L_BNS ≈ 0 relative to its value before; any one channel's mean moved makes it > 0.
// The BN inputs are captured here through run()'s gemm callback, not the module's walk
// (in ResNet-8 every BN reads a conv).
TEST(BnSynthesis, MatchingStatisticsZeroTheLossInEveryLayer) {
  torch::manual_seed(5);
  GraphNet net(make_builtin_model("resnet8"));
  net->eval();
  const Graph& g = net->graph();
  const auto x = data().test.images.slice(0, 0, 32);
  torch::NoGradGuard ng;
  const double before = bn_statistics_loss(*net, x).item<double>();
  EXPECT_GT(before, 0);
  int layers = 0;
  for (int i = 0; i < int(g.nodes.size()); ++i) {
    if (g.nodes[i].kind != OpKind::batchnorm) continue;
    const int src = g.nodes[i].inputs[0];
    ASSERT_EQ(g.nodes[src].kind, OpKind::conv);
    torch::Tensor y;
    net->run(x, [&](int j, const torch::Tensor& t) {
      auto o = g.nodes[j].kind == OpKind::conv ? net->conv(j)->forward(t) : net->linear(j)->forward(t);
      if (j == src) y = o;
      return o;
    });
    net->bn(i)->running_mean.copy_(y.mean({0, 2, 3}));
    net->bn(i)->running_var.copy_(y.var({0, 2, 3}, /*unbiased=*/false));
    ++layers;
  }
  EXPECT_EQ(layers, 9);
  const double after = bn_statistics_loss(*net, x).item<double>();
  std::printf("resnet8 L_BNS: %.6g with default statistics, %.3g matched\n", before, after);
  EXPECT_LT(std::abs(after), 1e-6 * before);
  auto& last = *net->bn(node_index(g, "s3b1_bn2"));
  last.running_mean[7] += 0.1;
  EXPECT_GT(bn_statistics_loss(*net, x).item<double>(), after + 1e-4);
}

// ∂L_BNS/∂x against central finite differences (papers.md §5) in double, through BN layers
// that read a conv, an add and a pool (with the ReLU and max-pool kinks never within h).
TEST(BnSynthesis, GradientMatchesFiniteDifferences) {
  GraphNet net = double_net(mixed_bn(6), 21);
  torch::manual_seed(22);
  auto x = torch::randn({3, 2, 6, 6}, torch::kFloat64).requires_grad_(true);
  const auto grad = torch::autograd::grad({bn_statistics_loss(*net, x)}, {x})[0];
  torch::NoGradGuard ng;
  const double h = 1e-5;
  const auto flat = x.detach().flatten();
  const int64_t picks[] = {0, 7, 35, 36, 50, 71, 100, 143, 150, 215};
  for (int64_t k : picks) {
    auto xp = flat.clone(), xm = flat.clone();
    xp[k] += h, xm[k] -= h;
    const double fd = (bn_statistics_loss(*net, xp.view_as(x)).item<double>() -
                       bn_statistics_loss(*net, xm.view_as(x)).item<double>()) / (2 * h);
    const double an = grad.flatten()[k].item<double>();
    EXPECT_NEAR(an, fd, 1e-6 * (1 + std::abs(fd))) << "coordinate " << k;
  }
  for (auto& p : net->parameters()) EXPECT_FALSE(p.grad().defined());
}

// Golden (papers.md §5): a one-layer conv + BN with known running statistics; optimising
// x̂ from noise drives each channel's batch (μ̂, σ̂) of the conv output to (μ, σ) within 1e−3.
// As many input channels as output channels: each output mean is (nearly) a weighted sum
// of the input channels' means through the kernel sums, so fewer inputs could not reach
// arbitrary output means. The kernel is the identity at its centre plus 0.3 × its random
// initialisation, so that the kernel sums are well conditioned (random ones alone had a
// condition number of 40 here: the same optimum, reached only after ~1000 steps at lr 0.2).
TEST(BnSynthesis, OneLayerGoldenReachesRunningStatistics) {
  torch::manual_seed(31);
  GraphNet net(conv_bn(4, 4, 8));
  net->eval();
  auto& bn = *net->bn(1);
  const double eps = bn.options.eps();
  {
    torch::NoGradGuard ng;
    auto& w = net->conv(0)->weight;
    w.mul_(0.3);
    for (int c = 0; c < 4; ++c) w[c][c][1][1] += 1.0;
    bn.running_mean.copy_(torch::tensor({0.5, -1.0, 2.0, 0.0}));
    bn.running_var.copy_(torch::tensor({1.0, 0.25, 4.0, 2.0}));
  }
  BnSynthesisOptions o;
  o.images = 32, o.batch = 32, o.steps = 300, o.lr = 0.05, o.seed = 4;
  const auto r = synthesise_bn_images(*net, {4, 8, 8, 10}, o);
  ASSERT_EQ(r.images.sizes(), (std::vector<int64_t>{32, 4, 8, 8}));
  torch::NoGradGuard ng;
  const auto y = net->conv(0)->forward(r.images);
  const auto mu_hat = y.mean({0, 2, 3}), sigma_hat = (y.var({0, 2, 3}, false) + eps).sqrt();
  const auto sigma = (bn.running_var + eps).sqrt();
  std::printf("golden: L_BNS %.4g → %.3g; max |μ̂ − μ| %.2g, max |σ̂ − σ| %.2g\n", r.initial_loss, r.final_loss,
              (mu_hat - bn.running_mean).abs().max().item<double>(), (sigma_hat - sigma).abs().max().item<double>());
  for (int c = 0; c < 4; ++c) {
    EXPECT_NEAR(mu_hat[c].item<double>(), bn.running_mean[c].item<double>(), 1e-3) << "channel " << c;
    EXPECT_NEAR(sigma_hat[c].item<double>(), sigma[c].item<double>(), 1e-3) << "channel " << c;
  }
}

// Bounded synthesis (the valid input range, e.g. pixels 0..1 after normalisation): the
// start and every step are projected, so no image leaves [lo, hi] per channel, and the
// loss still falls.
TEST(BnSynthesis, BoundedImagesStayInTheInputRange) {
  torch::manual_seed(31);
  GraphNet net(conv_bn(2, 4, 8));
  net->eval();
  BnSynthesisOptions o;
  o.images = 16, o.batch = 16, o.steps = 50, o.lr = 0.05, o.seed = 9;
  o.input_lo = torch::tensor({-0.5f, 0.0f}), o.input_hi = torch::tensor({0.5f, 2.0f});
  const auto r = synthesise_bn_images(*net, {2, 8, 8, 10}, o);
  for (int c = 0; c < 2; ++c) {
    EXPECT_GE(r.images.select(1, c).min().item<float>(), o.input_lo[c].item<float>()) << c;
    EXPECT_LE(r.images.select(1, c).max().item<float>(), o.input_hi[c].item<float>()) << c;
  }
  EXPECT_LT(r.final_loss, r.initial_loss);
  // Both bounds are reached: the projection is active, not vacuous.
  EXPECT_EQ(r.images.select(1, 0).max().item<float>(), 0.5f);
}

// A trained ResNet-8: synthesis cuts L_BNS tenfold, is bit-identical per seed and differs
// between seeds, leaves the network untouched (parameters, buffers, no gradients, eval
// mode). Real test images score a lower L_BNS than noise: the loss measures how much a
// batch resembles the training data (papers.md §5, the similarity metric).
TEST(BnSynthesis, TrainedResNet8SynthesisIsReproducibleAndLeavesNetAlone) {
  GraphNet net = trained("resnet8");
  GraphNet before = clone_net(net);
  // Training leaves its last gradients behind: synthesis must add nothing to them.
  std::map<std::string, torch::Tensor> grads_before;
  for (auto& p : net->named_parameters())
    grads_before[p.key()] = p.value().grad().defined() ? p.value().grad().clone() : torch::Tensor();
  const InputShape shape;  // Fashion-MNIST: 1 × 28 × 28
  BnSynthesisOptions o;
  o.images = 64, o.batch = 32, o.steps = 40, o.lr = 0.1, o.seed = 7;
  int64_t calls = 0, last_done = 0, last_total = 0;
  const auto t0 = std::chrono::steady_clock::now();
  const auto a = synthesise_bn_images(*net, shape, o, [&](int64_t done, int64_t total) {
    EXPECT_GT(done, last_done);
    ++calls, last_done = done, last_total = total;
  });
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("resnet8: L_BNS %.4g → %.4g in %.1f s (%d steps × 2 batches)\n", a.initial_loss, a.final_loss, secs,
              o.steps);
  EXPECT_EQ(a.images.sizes(), (std::vector<int64_t>{64, 1, 28, 28}));
  EXPECT_EQ(a.images.scalar_type(), torch::kFloat32);
  EXPECT_FALSE(a.images.requires_grad());
  EXPECT_LT(a.final_loss, 0.1 * a.initial_loss);
  EXPECT_GT(calls, 0);
  EXPECT_EQ(last_done, 2 * o.steps);
  EXPECT_EQ(last_total, 2 * o.steps);

  // The initial loss is that of method 1's noise, batch by batch.
  const auto noise = noise_images(64, shape, o.seed);
  {
    torch::NoGradGuard ng;
    const double l0 = (bn_statistics_loss(*net, noise.slice(0, 0, 32)).item<double>() +
                       bn_statistics_loss(*net, noise.slice(0, 32, 64)).item<double>()) / 2;
    EXPECT_NEAR(a.initial_loss, l0, 1e-6 * l0);
    const double real = bn_statistics_loss(*net, data().test.images.slice(0, 0, 32)).item<double>();
    std::printf("resnet8: L_BNS of 32 real test images %.4g, of noise %.4g\n", real, l0);
    EXPECT_LT(real, l0);
  }

  // The network is untouched.
  EXPECT_FALSE(net->is_training());
  for (auto& p : net->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), *before->named_parameters().find(p.key()))) << p.key();
    const auto& g0 = grads_before.at(p.key());
    EXPECT_EQ(p.value().grad().defined(), g0.defined()) << p.key();
    if (g0.defined()) {
      EXPECT_TRUE(torch::equal(p.value().grad(), g0)) << p.key();
    }
  }
  for (auto& b : net->named_buffers()) EXPECT_TRUE(torch::equal(b.value(), *before->named_buffers().find(b.key()))) << b.key();

  // Reproducibility on shorter runs (the CPU time of this test is mostly the training):
  // 40 images in batches of 32 and 8, 8 steps.
  o.images = 40, o.steps = 8;
  const auto b = synthesise_bn_images(*net, shape, o), same = synthesise_bn_images(*net, shape, o);
  EXPECT_TRUE(torch::equal(b.images, same.images));
  EXPECT_EQ(b.final_loss, same.final_loss);
  o.seed = 8;
  const auto other = synthesise_bn_images(*net, shape, o);
  EXPECT_EQ(other.images.size(0), 40);
  EXPECT_FALSE(torch::equal(b.images, other.images));
}

// Method 1: N(0, 1) noise of the requested shape, bit-identical per seed, seeds differ, and
// the global generator is not consumed.
TEST(BnSynthesis, NoiseImagesAreSeededStandardNormal) {
  torch::manual_seed(1);
  const auto want_next = torch::rand({4});
  torch::manual_seed(1);
  const auto a = noise_images(512, {3, 8, 8, 10}, 5);
  EXPECT_TRUE(torch::equal(torch::rand({4}), want_next));
  EXPECT_EQ(a.sizes(), (std::vector<int64_t>{512, 3, 8, 8}));
  EXPECT_EQ(a.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::equal(a, noise_images(512, {3, 8, 8, 10}, 5)));
  EXPECT_FALSE(torch::equal(a, noise_images(512, {3, 8, 8, 10}, 6)));
  EXPECT_NEAR(a.mean().item<double>(), 0, 0.02);  // 98 304 draws: σ/√n ≈ 0.003
  EXPECT_NEAR(a.std().item<double>(), 1, 0.02);
}

// A network without BN has nothing to match (InputError); bad options name their key.
TEST(BnSynthesis, ErrorsNameTheirKey) {
  GraphNet mlp(make_builtin_model("mlp"));
  expect_input_error([&] { bn_statistics_loss(*mlp, torch::zeros({2, 1, 28, 28})); }, "calibration");
  expect_input_error([&] { synthesise_bn_images(*mlp, {}, {}); }, "calibration");
  GraphNet net(conv_bn(1, 2, 8));
  const InputShape shape{1, 8, 8, 10};
  auto with = [&](auto set) {
    BnSynthesisOptions o;
    o.images = 2, o.batch = 2, o.steps = 1;
    set(o);
    return [&net, shape, o] { synthesise_bn_images(*net, shape, o); };
  };
  expect_input_error(with([](BnSynthesisOptions& o) { o.images = 0; }), "calibration.images");
  expect_input_error(with([](BnSynthesisOptions& o) { o.batch = -1; }), "calibration.batch");
  expect_input_error(with([](BnSynthesisOptions& o) { o.steps = 0; }), "calibration.steps");
  expect_input_error(with([](BnSynthesisOptions& o) { o.lr = 0; }), "calibration.lr");
  expect_input_error([&] { synthesise_bn_images(*net, {1, 9, 8, 10}, {}); }, "dataset");
  // A batch that does not divide the images: the remainder is a batch of its own. Under a
  // caller's NoGradGuard too (the optimisation turns autograd back on for itself).
  BnSynthesisOptions o;
  o.images = 5, o.batch = 2, o.steps = 2;
  torch::NoGradGuard ng;
  const auto r = synthesise_bn_images(*net, shape, o);
  EXPECT_EQ(r.images.size(0), 5);
  EXPECT_LT(r.final_loss, r.initial_loss);
}
