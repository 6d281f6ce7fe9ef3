// Low-precision training GEMMs (papers.md §2 LUQ, §3 lognormal gradients): the SAWB
// forward quantiser against its formula, the LUQ backward GEMMs against the shift-and-add
// golden computation (INT4 × ±2^k, exact integer sums) bit for bit, thread independence,
// and the FP8 / pruning gradient quantisers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "arith/aciq.h"
#include "arith/error.h"
#include "arith/format.h"
#include "arith/quantize.h"
#include "nn/lowp_train.h"
#include "tests/nn/nn_fixtures.h"

using namespace lpsim;
using namespace lpsim::nn;
using namespace lpsim::nn::nntest;

namespace {

Node make_node(const std::string& name, OpKind k, std::vector<int> in, int cin, int cout) {
  Node n;
  n.name = name, n.kind = k, n.inputs = std::move(in), n.in_channels = cin, n.out_channels = cout;
  if (k == OpKind::conv) n.kernel = 3, n.padding = 1;
  return n;
}

Graph one_layer(OpKind k) {
  Graph g;
  g.arch = "one";
  g.nodes = {k == OpKind::conv ? make_node("conv", k, {-1}, 3, 5) : make_node("fc", k, {-1}, 24, 7)};
  g.input_channels = 3, g.input_height = g.input_width = 6;
  return g;
}

// A one-layer network (its initial weights drawn after torch::manual_seed(init_seed))
// under LUQ training with draws from `seed`, at optimizer step `step`. On the heap:
// LowpNet's layers point back at it, so it must not move.
std::unique_ptr<LowpNet> luq_one_layer(OpKind kind, uint64_t init_seed, uint64_t seed, int64_t step) {
  torch::manual_seed(init_seed);
  GraphNet net(one_layer(kind));
  GradientSpec spec;
  spec.method = "luq";
  auto lp = std::make_unique<LowpNet>(net, spec, seed);
  lp->set_step(step);
  return lp;
}

// int64 of an integer-valued float tensor (exact).
torch::Tensor ints(const torch::Tensor& t) { return t.to(torch::kFloat64).round().to(torch::kInt64); }

}  // namespace

TEST(LowpTrain, SawbInt4IsTheFormula) {
  torch::manual_seed(1);
  auto w = torch::randn({16, 9}) * 0.2;
  auto [wi, sw] = sawb_int4(w, true);
  auto wf = w.contiguous();
  const double clip = arith::sawb_clip({wf.data_ptr<float>(), size_t(wf.numel())});
  EXPECT_DOUBLE_EQ(sw, 2 * clip / 14);  // weights on [−7, 7]
  EXPECT_TRUE(torch::equal(wi, torch::round(torch::clamp(w / float(sw), -7, 7))));
  EXPECT_LE(wi.abs().max().item<float>(), 7);
  auto a = torch::relu(torch::randn({8, 20}));
  auto [ai, sa] = sawb_int4(a, false);
  EXPECT_GE(ai.min().item<float>(), 0);  // never negative: [0, 15]
  EXPECT_LE(ai.max().item<float>(), 15);
  auto af = a.contiguous();
  EXPECT_DOUBLE_EQ(sa, 2 * arith::sawb_clip({af.data_ptr<float>(), size_t(af.numel())}) / 15);
  // A constant tensor (SAWB's clip ≤ 0) falls back to max|x|; zeros stay zeros.
  auto [ci, cs] = sawb_int4(torch::full({10}, 0.5f), true);
  EXPECT_TRUE(torch::equal(ci, torch::full({10}, 7.0f)));
  EXPECT_TRUE(torch::equal(sawb_int4(torch::zeros({4}), false).first, torch::zeros({4})));
  // Large tensors (LibTorch's vectorised kernels) and many scales: the one-pass quantiser
  // gives the reference expression's bits.
  for (int t = 0; t < 6; ++t) {
    auto x = torch::randn({300007}) * std::pow(10.0, t - 3);
    if (t % 2) x = torch::relu(x);
    auto [xi, sx] = sawb_int4(x, t == 0);
    const double qn = (t % 2) ? 0 : -7, qp = (t % 2) ? 15 : 7;
    EXPECT_TRUE(torch::equal(xi, torch::round(torch::clamp(x / float(sx), qn, qp)))) << t;
  }
}

// INT4 × FP4 [1,3,0] as the multiplier-free unit does it: sign · (code << k).
int64_t shift_mul(int64_t int4, int64_t pow2) {
  if (pow2 == 0) return 0;
  const int64_t mag = pow2 < 0 ? -pow2 : pow2;
  int k = 0;
  while ((int64_t{1} << k) < mag) ++k;
  EXPECT_EQ(int64_t{1} << k, mag);
  return (pow2 < 0 ? -1 : 1) * (int4 * (int64_t{1} << k));
}

// A layer's operands as int64 rows: activation codes X (B·L × K, the conv's 3×3 receptive
// fields, padding 1) and gradient codes G (B·L × N), L positions per image (1: linear).
struct CodeRows {
  torch::Tensor X, G;
};
CodeRows code_rows(OpKind kind, const torch::Tensor& xi, const torch::Tensor& codes) {
  const int64_t B = xi.size(0), N = codes.size(1);
  if (kind == OpKind::linear) return {ints(xi), ints(codes)};
  auto cols = torch::nn::functional::unfold(xi.to(torch::kFloat64), torch::nn::functional::UnfoldFuncOptions({3, 3}).padding(1));
  const int64_t L = cols.size(2);
  return {ints(cols.transpose(1, 2).reshape({B * L, -1})), ints(codes.flatten(2).transpose(1, 2).reshape({B * L, N}))};
}

// dW[n][k] = Σ_m g[m][n]·x[m][k] through the shift-and-add unit, in int64.
torch::Tensor golden_weight_grad(const CodeRows& r) {
  const int64_t M = r.X.size(0), K = r.X.size(1), N = r.G.size(1);
  auto Xa = r.X.accessor<int64_t, 2>(), Ga = r.G.accessor<int64_t, 2>();
  auto dW = torch::zeros({N, K}, torch::kInt64);
  auto dWa = dW.accessor<int64_t, 2>();
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n)
      for (int64_t k = 0; k < K; ++k) dWa[n][k] += shift_mul(Xa[m][k], Ga[m][n]);
  return dW;
}

// The last layer's output gradient is the loss weights R, so the LUQ-quantised gradient is
// known exactly; the weight and input gradients must equal Σ sign·(INT4 << k) in int64,
// times α and the other operand's scale — bit for bit.
TEST(LowpTrain, LuqBackwardIsTheShiftAndAddGoldenBitForBit) {
  for (OpKind kind : {OpKind::linear, OpKind::conv}) {
    const uint64_t seed = 11;
    const auto lp = luq_one_layer(kind, 5, seed, 3);
    GraphNet& net = lp->net();
    const GradientSpec& spec = lp->spec();
    const int64_t B = 2;
    auto x = kind == OpKind::conv ? torch::relu(torch::randn({B, 3, 6, 6})) : torch::relu(torch::randn({B, 24}));
    auto y = lp->forward(x);
    auto R = torch::randn(y.sizes()) * 1e-3;
    (y * R).sum().backward();
    GradientLog log;
    auto gq = quantise_gradient(spec, R, lowp_step_seed(seed, 3), 0, nullptr, &log);  // layer 0, sample 0
    const double alpha = log.alpha;
    ASSERT_GT(alpha, 0);
    auto& w = kind == OpKind::conv ? net->conv(0)->weight : net->linear(0)->weight;
    auto [xi, sx] = sawb_int4(x, false);
    auto [wi, sw] = sawb_int4(w, true);
    const int64_t N = w.size(0);
    // Operands as int64 rows: activations (B·L × K), weights (N × K), gradient (B·L × N).
    const CodeRows rows = code_rows(kind, xi, gq / alpha);
    const torch::Tensor W = ints(wi).reshape({N, -1});
    const int64_t M = rows.X.size(0), K = rows.X.size(1);
    const torch::Tensor dW = golden_weight_grad(rows);
    // dcols[m][k] = Σ_n g[m][n]·w[n][k]
    auto Wa = W.accessor<int64_t, 2>(), Ga = rows.G.accessor<int64_t, 2>();
    auto dC = torch::zeros({M, K}, torch::kInt64);
    auto dCa = dC.accessor<int64_t, 2>();
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) dCa[m][k] += shift_mul(Wa[n][k], Ga[m][n]);
    auto want_w = (dW.to(torch::kFloat64) * (alpha * sx)).to(torch::kFloat32).view(w.sizes());
    EXPECT_TRUE(torch::equal(w.grad(), want_w)) << (kind == OpKind::conv ? "conv" : "linear");
    // dcols is the input gradient before the receptive fields are summed back: checked
    // through the conv's transpose in InputGradientIsTheGoldenToo; here its linear case.
    if (kind == OpKind::linear) {
      ASSERT_FALSE(x.requires_grad());
      auto xg = x.detach().requires_grad_(true);
      LowpNet lp2(net, spec, seed);
      lp2.set_step(3);
      (lp2.forward(xg) * R).sum().backward();
      EXPECT_TRUE(torch::equal(xg.grad(), (dC.to(torch::kFloat64) * (alpha * sw)).to(torch::kFloat32)));
    }
  }
}

// The weight gradient's other path: a positive gradient whose codes are 2^6 but for one
// in 16, which is 1, over 64 images of 40×40 positions of positive activations: the
// bound Σ|code|·15 exceeds 2^24 (so LowpNet cannot take LibTorch's one call and cuts the
// batch into chunks that stay exact in float32, added in float64), and so do the sums
// themselves, with odd terms (one float32 sum over the batch would round them).
TEST(LowpTrain, LuqWeightGradientAboveTheFloat32BoundIsStillExact) {
  const uint64_t seed = 13;
  const auto lp = luq_one_layer(OpKind::conv, 7, seed, 1);
  GraphNet& net = lp->net();
  const GradientSpec& spec = lp->spec();
  const int64_t B = 64;
  auto x = torch::rand({B, 3, 40, 40});
  auto y = lp->forward(x);
  auto R = torch::where(torch::rand(y.sizes()) < 1.0 / 16, torch::full(y.sizes(), 1e-3 / 64), torch::full(y.sizes(), 1e-3));
  (y * R).sum().backward();
  GradientLog log;
  auto gq = quantise_gradient(spec, R, lowp_step_seed(seed, 1), 0, nullptr, &log);
  const double alpha = log.alpha;
  ASSERT_GT(alpha, 0);
  auto codes = ints(gq / alpha);
  ASSERT_EQ(codes.min().item<int64_t>(), 1);
  ASSERT_EQ(codes.max().item<int64_t>(), 64);
  auto& w = net->conv(0)->weight;
  auto [xi, sx] = sawb_int4(x, false);
  const torch::Tensor dW = golden_weight_grad(code_rows(OpKind::conv, xi, codes));
  ASSERT_GT(double(dW.max().item<int64_t>()), 0x1p24);  // beyond float32's integers
  EXPECT_TRUE(torch::equal(w.grad(), (dW.to(torch::kFloat64) * (alpha * sx)).to(torch::kFloat32).view(w.sizes())));
}

TEST(LowpTrain, InputGradientIsTheGoldenToo) {
  const auto lp = luq_one_layer(OpKind::conv, 6, 2, 0);
  GraphNet& net = lp->net();
  const GradientSpec& spec = lp->spec();
  auto x = torch::relu(torch::randn({2, 3, 6, 6})).requires_grad_(true);
  auto y = lp->forward(x);
  auto R = torch::randn(y.sizes()) * 1e-2;
  (y * R).sum().backward();
  GradientLog log;
  auto gq = quantise_gradient(spec, R, lowp_step_seed(2, 0), 0, nullptr, &log);
  auto [wi, sw] = sawb_int4(net->conv(0)->weight, true);
  // conv_transpose of integer operands in float64 is exact: the golden here.
  auto want = torch::nn::functional::conv_transpose2d(
                  (gq / log.alpha).to(torch::kFloat64), wi.to(torch::kFloat64),
                  torch::nn::functional::ConvTranspose2dFuncOptions().padding(1)) *
              (log.alpha * sw);
  EXPECT_TRUE(torch::equal(x.grad(), want.to(torch::kFloat32)));
}

TEST(LowpTrain, TrainingStepsAreBitIdenticalOnOneAndTwoThreads) {
  auto run = [](int threads, uint64_t seed, const std::string& method, const std::string& arch = "lenet5") {
    torch::set_num_threads(threads);
    torch::manual_seed(9);
    GraphNet net(make_builtin_model(arch));
    GradientSpec spec;
    spec.method = method;
    spec.smp = method == "luq" ? 2 : 1;
    LowpNet lp(net, spec, seed);
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05).momentum(0.9));
    net->train();
    const auto& d = data().train;
    for (int step = 0; step < (arch == "lenet5" ? 4 : 2); ++step) {
      lp.set_step(step);
      opt.zero_grad();
      auto loss = torch::nn::functional::cross_entropy(lp.forward(d.images.slice(0, step * 32, step * 32 + 32)),
                                                       d.labels.slice(0, step * 32, step * 32 + 32));
      loss.backward();
      opt.step();
    }
    torch::set_num_threads(2);
    return net->parameters()[0].detach().clone();  // the first layer: every gradient flows into it
  };
  const auto a1 = run(1, 7, "luq"), a2 = run(2, 7, "luq"), b = run(2, 8, "luq");
  EXPECT_TRUE(torch::equal(a1, a2));   // same seed, 1 and 2 threads: the same bits
  EXPECT_FALSE(torch::equal(a1, b));   // another seed: other draws
  EXPECT_TRUE(torch::equal(run(2, 7, "prune"), run(2, 7, "prune")));
  EXPECT_TRUE(torch::equal(run(1, 7, "prune"), run(2, 7, "prune"))) << "prune 1 vs 2";
  EXPECT_TRUE(torch::equal(run(1, 7, "fp8"), run(2, 7, "fp8"))) << "fp8 1 vs 2";
  // ResNet-8: BatchNorm and residual additions between the GEMMs.
  for (const char* m : {"fp8", "prune"}) EXPECT_TRUE(torch::equal(run(1, 7, m, "resnet8"), run(2, 7, m, "resnet8"))) << m;
}

// fp8/prune take a convolution's input gradient from one LibTorch call on the whole batch
// (its weight gradient in fixed chunks): bit-identical training on any thread count needs
// that call's bits not to depend on the thread count (each image's gradient sums over no
// other image, so the kernel need not split a reduction over threads; oneDNN does not
// promise it). Checked on the layer shapes of LeNet-5 and ResNet-8 at the batch sizes
// lpsim trains with (32 in the tests, 64 and 128 in the scenarios), 1 thread against 2,
// 3, 4 and 8. (Against each image computed alone it differs even on one
// thread: the kernel's blocking depends on the batch — hence one fixed call, not chunks.)
TEST(LowpTrain, ConvolutionInputGradientIsTheSameOnAnyThreadCount) {
  struct Shape {
    int64_t ic, oc, k, stride, pad, hw;
  };
  for (const Shape& sh : {Shape{6, 16, 5, 1, 0, 14}, Shape{16, 16, 3, 1, 1, 28}, Shape{16, 32, 3, 2, 1, 28},
                          Shape{32, 64, 3, 1, 1, 7}, Shape{32, 64, 1, 2, 0, 14}}) {
    for (const int64_t B : {32, 64, 128}) {
      torch::manual_seed(5);
      const int64_t out = (sh.hw + 2 * sh.pad - sh.k) / sh.stride + 1;
      const auto x = torch::randn({B, sh.ic, sh.hw, sh.hw}), w = torch::randn({sh.oc, sh.ic, sh.k, sh.k});
      const auto g = torch::randn({B, sh.oc, out, out});
      const std::vector<int64_t> st{sh.stride, sh.stride}, pd{sh.pad, sh.pad}, dil{1, 1}, op{0, 0};
      auto dx = [&] {
        return std::get<0>(at::convolution_backward(g, x, w, c10::nullopt, st, pd, dil, false, op, 1, {true, false, false}));
      };
      torch::set_num_threads(1);
      const auto want = dx();
      for (int threads : {2, 3, 4, 8}) {
        torch::set_num_threads(threads);
        EXPECT_TRUE(torch::equal(dx(), want))
            << "ic " << sh.ic << " oc " << sh.oc << " k " << sh.k << ", batch " << B << ", " << threads << " threads";
      }
      torch::set_num_threads(2);
    }
  }
}

TEST(LowpTrain, Fp8AndPruningQuantisers) {
  torch::manual_seed(3);
  auto g = torch::exp(torch::randn({4096}) * 2.0 - 9.0) * torch::sign(torch::randn({4096}));  // lognormal magnitudes
  GradientSpec spec;
  spec.method = "fp8";
  spec.format = "fp8_e5m2";
  auto fmt = std::get<arith::FloatFormat>(arith::parse_format("fp8_e5m2"));
  GradientLog log;
  auto q = quantise_gradient(spec, g, 1, 0, &fmt, &log);
  EXPECT_NEAR(log.mu, -9.0, 0.1);
  EXPECT_NEAR(log.sigma, 2.0, 0.1);
  // Every value is an E5M2 value times e^μ (the centring scale's inverse).
  const double unit = std::exp(log.mu);
  auto on_grid = (q / unit).to(torch::kFloat32).contiguous();
  auto re = on_grid.clone();
  arith::quantize(fmt, {on_grid.data_ptr<float>(), size_t(on_grid.numel())}, {re.data_ptr<float>(), size_t(re.numel())});
  EXPECT_LT(((re - on_grid).abs() / on_grid.abs().clamp_min(1e-30)).max().item<float>(), 1e-6);
  // Stochastic rounding is unbiased: the mean error is far below one step.
  spec.rounding = "stochastic";
  auto qs = quantise_gradient(spec, g, 2, 0, &fmt, &log);
  EXPECT_LT(std::fabs((qs - g).sum().item<double>()) / g.abs().sum().item<double>(), 0.02);
  // Pruning reaches its target sparsity (papers.md §3) and stays unbiased.
  spec.method = "prune";
  spec.sparsity = 0.85;
  auto p = quantise_gradient(spec, g, 3, 0, nullptr, &log);
  EXPECT_NEAR(log.sparsity, 0.85, 0.02);
  EXPECT_LT(std::fabs((p - g).sum().item<double>()) / g.abs().sum().item<double>(), 0.05);
  // Bad settings name their key.
  GraphNet net(make_builtin_model("mlp"));
  GradientSpec bad;
  bad.method = "fp4ever";
  try {
    LowpNet lp(net, bad, 1);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.key(), "training.method");
  }
  bad.method = "fp8", bad.format = "int8";
  EXPECT_THROW(LowpNet(net, bad, 1), InputError);
}

TEST(LowpTrain, BiasFreeLayersTrain) {
  // ResNet-8's convs have no bias (BN follows): a step runs and moves the weights.
  torch::manual_seed(2);
  GraphNet net(make_builtin_model("resnet8"));
  for (const char* m : {"luq", "fp8", "prune"}) {
    GradientSpec spec;
    spec.method = m;
    LowpNet lp(net, spec, 1);
    net->train();
    const int c = node_index(net->graph(), "s1b1_conv1");
    auto before = net->conv(c)->weight.detach().clone();
    torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.1));
    opt.zero_grad();
    torch::nn::functional::cross_entropy(lp.forward(data().train.images.slice(0, 0, 16)), data().train.labels.slice(0, 0, 16))
        .backward();
    opt.step();
    EXPECT_FALSE(torch::equal(before, net->conv(c)->weight.detach())) << m;
  }
}

TEST(LowpTrain, CurveIsCachedWithTheModelAndADivergedLossReadsBackAsNaN) {
  const auto dir = std::filesystem::temp_directory_path() / ("lpsim_curve_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto& d = data();
  const TensorDataset train{d.train.images.slice(0, 0, 256), d.train.labels.slice(0, 0, 256)};
  const TensorDataset test{d.test.images.slice(0, 0, 200), d.test.labels.slice(0, 0, 200)};
  TrainConfig cfg;
  cfg.epochs = 2, cfg.batch_size = 64, cfg.threads = 2;
  GradientSpec spec;  // fp32: the loop and the cache are the same for every method
  torch::manual_seed(4);
  GraphNet a(make_builtin_model("lenet5"));
  const TrainResult r1 = lowp_train_or_load(a, train, cfg, spec, "curve-test", dir, nullptr, nullptr, &test);
  ASSERT_EQ(r1.curve.size(), 2u);
  EXPECT_EQ(r1.curve[1].epoch, 2);
  EXPECT_TRUE(std::isfinite(r1.curve[0].loss));
  EXPECT_GT(r1.curve[1].test_accuracy, 0.0);
  // A diverged epoch is stored as a null loss (JSON has no NaN): it must read back as NaN.
  std::filesystem::path file;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir))
    if (e.path().filename() == "curve.json") file = e.path();
  ASSERT_FALSE(file.empty());
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  const auto at = text.find("\"loss\":");
  ASSERT_NE(at, std::string::npos);
  text.replace(at, text.find(',', at) - at, "\"loss\": null");
  std::ofstream(file) << text;
  GraphNet b(make_builtin_model("lenet5"));
  const TrainResult r2 = lowp_train_or_load(b, train, cfg, spec, "curve-test", dir, nullptr, nullptr, &test);
  EXPECT_TRUE(r2.from_cache);
  ASSERT_EQ(r2.curve.size(), 2u);
  EXPECT_TRUE(std::isnan(r2.curve[0].loss));
  EXPECT_EQ(r2.curve[1].test_accuracy, r1.curve[1].test_accuracy);
  std::filesystem::remove_all(dir);
}
