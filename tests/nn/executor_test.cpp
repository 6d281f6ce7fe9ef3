// The quantised executor against independent references: the golden MAC of arith
// (the model the RTL is verified against) on real layer tensors, closed-form operation
// counts, FP32 LibTorch for BN folding, and bit-exact training reproducibility.
#include <gtest/gtest.h>

#include <filesystem>

#include "arith/fp_units.h"
#include "arith/int_units.h"
#include "nn/executor.h"
#include "nn/pricing.h"
#include "nn/train.h"

namespace fs = std::filesystem;
using namespace lpsim;
using namespace lpsim::nn;

namespace {

struct Fixture {
  TensorDataset train, test;
};

const Fixture& data() {
  static Fixture f = [] {
    Fixture x;
    const ImageDataset ds = load_fashion_mnist(default_fashion_mnist_dir());
    x.train = to_tensors(ds.train_images, ds.train_labels, 4096);
    x.test = to_tensors(ds.test_images, ds.test_labels, 1000);
    return x;
  }();
  return f;
}

fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("lpsim_exec_" + name);
  fs::remove_all(d);
  return d;
}

// A LeNet-5 trained for one short epoch on real images: real, non-random weights.
GraphNet trained(const std::string& arch, uint64_t seed = 3) {
  GraphNet net(make_builtin_model(arch));
  TrainConfig c;
  c.epochs = 1, c.seed = seed, c.lr = 0.05;
  train_or_load(net, data().train, c, fresh_dir(arch + std::to_string(seed)));
  net->eval();
  return net;
}

// Inputs each gemm node sees in FP32 (with the module's own layers).
std::map<int, torch::Tensor> layer_inputs(GraphNet& net, const torch::Tensor& x) {
  std::map<int, torch::Tensor> in;
  torch::NoGradGuard ng;
  net->run(x, [&](int i, const torch::Tensor& t) {
    in[i] = t;
    return net->graph().nodes[i].kind == OpKind::conv ? net->conv(i)->forward(t) : net->linear(i)->forward(t);
  });
  return in;
}

int node_index(const Graph& g, const std::string& name) {
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (g.nodes[i].name == name) return int(i);
  return -1;
}

std::vector<LayerQuant> all_layers(const Graph& g, LayerQuant q) {
  std::vector<LayerQuant> v(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i)
    if (Graph::is_gemm(g.nodes[i].kind)) v[i] = q;
  return v;
}

// Accumulator outputs as an (M_total × N) matrix in the executor's row order.
torch::Tensor as_rows(const torch::Tensor& acc) {
  if (acc.dim() == 2) return acc;
  return acc.flatten(2).transpose(1, 2).reshape({-1, acc.size(1)});
}

}  // namespace

// Integer layers: every output equals the golden accumulator (AccumulatorModel) clocked
// with golden products (mul_golden) in the PE's order, with real overflow happening.
TEST(Executor, IntegerLayersMatchGoldenMac) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto x = data().test.images.slice(0, 0, 2);
  auto inputs = layer_inputs(net, x);
  for (const char* ovf : {"wrap", "saturate"}) {
    for (const char* layer : {"conv2", "fc1"}) {
      LayerQuant q;
      q.quantised = true;
      q.acc_bits = std::string(ovf) == "wrap" ? 12 : 14;
      q.acc_overflow = std::string(ovf) == "wrap" ? arith::Overflow::wrap : arith::Overflow::saturate;
      QuantizedExecutor ex(net, all_layers(g, q), 1);
      ex.calibrate(data().train.images.slice(0, 0, 256));
      const int i = node_index(g, layer);
      LayerOperands ops;
      auto acc = as_rows(ex.accumulate(i, inputs.at(i), &ops)).to(torch::kFloat64).contiguous();
      const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
      ASSERT_EQ(acc.size(0), M);
      int64_t overflowed = 0;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          arith::AccumulatorModel a{q.acc_bits, true, q.acc_overflow == arith::Overflow::saturate};
          bool any = false;
          for (int64_t k = 0; k < K; ++k) {
            const auto ca = uint64_t(int64_t(ops.cols[m][k].item<float>())) & 0xFF;
            const auto cw = uint64_t(int64_t(ops.w[k][n].item<float>())) & 0xFF;
            const int64_t p = arith::operand_value(arith::mul_golden(ca, cw, 8, 8, true), 16, true);
            a.clock(false, true, p);
            any |= a.overflow;
          }
          overflowed += any;
          ASSERT_EQ(int64_t(acc[m][n].item<double>()), a.value) << layer << " " << ovf << " m=" << m << " n=" << n;
        }
      EXPECT_GT(overflowed, 0) << "the test must exercise overflow: " << layer << " " << ovf;
    }
  }
}

// FP8 operands with an FP32 accumulator: every output equals fp8_mac_golden run over k.
TEST(Executor, Fp8LayerMatchesGoldenFp8Mac) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, data().test.images.slice(0, 0, 1));
  const arith::FloatFormat f = std::get<arith::FloatFormat>(arith::parse_format("fp8_e4m3"));
  LayerQuant q;
  q.quantised = true;
  q.weights = q.activations = f;
  q.accumulator = "fp32";
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(data().train.images.slice(0, 0, 256));
  const int i = node_index(g, "conv2");
  LayerOperands ops;
  auto acc = as_rows(ex.accumulate(i, inputs.at(i), &ops)).contiguous();
  const arith::FloatFormat f32 = arith::fp32();
  for (int64_t m = 0; m < ops.cols.size(0); ++m)
    for (int64_t n = 0; n < ops.w.size(1); ++n) {
      uint32_t a = 0;
      for (int64_t k = 0; k < ops.cols.size(1); ++k)
        a = arith::fp8_mac_golden(f, a, arith::encode(f, ops.cols[m][k].item<float>()).code,
                                  arith::encode(f, ops.w[k][n].item<float>()).code);
      ASSERT_EQ(acc[m][n].item<float>(), float(f32.decode(a))) << "m=" << m << " n=" << n;
    }
}

// Closed-form LeNet-5 counts: conv1 28·28·6·25, conv2 10·10·16·150, fc 400·120, 120·84, 84·10.
TEST(Executor, LeNetOperationCounts) {
  GraphNet net(make_builtin_model("lenet5"));
  LayerQuant q;
  q.quantised = true;
  q.weights = arith::IntFormat{4, true};
  QuantizedExecutor ex(net, all_layers(net->graph(), q), 1);
  ex.calibrate(data().train.images.slice(0, 0, 8));
  ex.forward(data().test.images.slice(0, 0, 3));
  const auto c = ex.costs();
  ASSERT_EQ(c.size(), 5u);
  const int64_t macs[5] = {28 * 28 * 6 * 25, 10 * 10 * 16 * 150, 400 * 120, 120 * 84, 84 * 10};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(c[i].macs, macs[i]) << c[i].name;
  EXPECT_EQ(c[1].weight_bits, 16 * 150 * 4);        // int4 weights
  EXPECT_EQ(c[1].input_bits, 6 * 14 * 14 * 8);      // int8 activations
  EXPECT_EQ(c[1].output_bits, 16 * 10 * 10 * 32);   // 32-bit accumulators
}

// BN folding: a ResNet with trained BN statistics, executed unquantised with BN folded
// into the convolutions, equals LibTorch's eval-mode forward.
TEST(Executor, BatchNormFoldingMatchesLibTorch) {
  GraphNet net = trained("resnet8");
  QuantizedExecutor ex(net, std::vector<LayerQuant>(net->graph().nodes.size()), 1);
  auto x = data().test.images.slice(0, 0, 16);
  torch::NoGradGuard ng;
  auto want = net->forward(x), got = ex.forward(x);
  EXPECT_LT((want - got).abs().max().item<double>(), 1e-4 * (1 + want.abs().max().item<double>()));
}

// INT8 keeps LeNet's accuracy within a point; INT2 does not (the test can fail both ways).
TEST(Executor, QuantisedAccuracyBehaves) {
  GraphNet net = trained("lenet5");
  const auto& d = data();
  auto acc = [&](QuantizedExecutor& ex) {
    return ex.forward(d.test.images).argmax(1).eq(d.test.labels).to(torch::kFloat64).mean().item<double>();
  };
  QuantizedExecutor fp(net, std::vector<LayerQuant>(net->graph().nodes.size()), 1);
  LayerQuant q;
  q.quantised = true;
  QuantizedExecutor i8(net, all_layers(net->graph(), q), 1);
  i8.calibrate(d.train.images.slice(0, 0, 256));
  q.weights = q.activations = arith::IntFormat{2, true};
  QuantizedExecutor i2(net, all_layers(net->graph(), q), 1);
  i2.calibrate(d.train.images.slice(0, 0, 256));
  const double a32 = acc(fp), a8 = acc(i8), a2 = acc(i2);
  EXPECT_GT(a32, 0.6);  // one short epoch on 4096 images
  EXPECT_NEAR(a8, a32, 0.01);
  EXPECT_LT(a2, a32 - 0.05);
}

// Same seed → bit-identical weights; an interrupted training resumes from its last
// checkpoint to the same bits as an uninterrupted one.
TEST(Training, ReproducibleAndResumable) {
  const TensorDataset small{data().train.images.slice(0, 0, 1024), data().train.labels.slice(0, 0, 1024)};
  TrainConfig c;
  c.epochs = 2, c.seed = 11;
  auto params = [](GraphNet& n) {
    std::vector<torch::Tensor> v;
    for (auto& p : n->parameters()) v.push_back(p.detach().clone());
    return v;
  };
  GraphNet a(make_builtin_model("lenet5")), b(make_builtin_model("lenet5")), r(make_builtin_model("lenet5"));
  train_or_load(a, small, c, fresh_dir("repro_a"));
  train_or_load(b, small, c, fresh_dir("repro_b"));
  const auto dir = fresh_dir("repro_r");
  struct Stop {};
  EXPECT_THROW(train_or_load(r, small, c, dir,
                             [](int64_t done, int64_t total, const std::string&) {
                               if (done > total * 3 / 4) throw Stop{};
                             }),
               Stop);
  GraphNet r2(make_builtin_model("lenet5"));
  const TrainResult res = train_or_load(r2, small, c, dir);
  EXPECT_EQ(res.resumed_from_epoch, 1);
  const auto pa = params(a), pb = params(b), pr = params(r2);
  for (size_t i = 0; i < pa.size(); ++i) {
    EXPECT_TRUE(torch::equal(pa[i], pb[i])) << "parameter " << i;
    EXPECT_TRUE(torch::equal(pa[i], pr[i])) << "parameter " << i << " after resume";
  }
  // A different seed gives different weights.
  c.seed = 12;
  GraphNet d(make_builtin_model("lenet5"));
  train_or_load(d, small, c, fresh_dir("repro_d"));
  EXPECT_FALSE(torch::equal(params(d)[0], pa[0]));
}

// The weight-stationary sample: each run holds one weight code while activations of
// consecutive output positions of the same reduction index stream past.
TEST(Pricing, WeightStationaryStream) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  LayerQuant q;
  q.quantised = true;
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(data().train.images.slice(0, 0, 64));
  ex.record_next_forward();
  ex.forward(data().test.images.slice(0, 0, 4));
  const LayerOperands& ops = ex.recorded()[node_index(g, "conv2")];
  const MacStream s = sample_mac_stream(q, ops, 64 * 50, 64, 9);
  ASSERT_TRUE(s.ok);
  ASSERT_EQ(s.operands.size(), 64u * 50);
  EXPECT_EQ(s.key.unit, "mac");
  EXPECT_EQ(s.key.fmt_a, "int8");
  int weight_changes_inside_runs = 0;
  for (size_t i = 1; i < s.operands.size(); ++i)
    if (i % 64 != 0) weight_changes_inside_runs += s.operands[i].second != s.operands[i - 1].second;
  EXPECT_EQ(weight_changes_inside_runs, 0);
  // Codes are 8-bit two's complement of values that occur in the tensors.
  for (const auto& [a, w] : s.operands) {
    EXPECT_LT(a, 256u);
    EXPECT_LT(w, 256u);
  }
  const MacStream t = sample_mac_stream(q, ops, 64 * 50, 64, 9);
  EXPECT_EQ(s.operands, t.operands);  // seeded
  // An accumulator narrower than the product has no RTL MAC: not priced, with a reason.
  q.acc_bits = 12;
  EXPECT_FALSE(sample_mac_stream(q, ops, 128, 64, 1).ok);
}
