// The quantised executor against independent references: the golden MAC of arith
// (the model the RTL is verified against) on real layer tensors, closed-form operation
// counts, FP32 LibTorch for BN folding, and bit-exact training reproducibility.
#include <gtest/gtest.h>

#include <filesystem>

#include "arith/fp_units.h"
#include "arith/int_units.h"
#include "arith/quantize.h"
#include "nn/dot_error.h"
#include "nn/executor.h"
#include "nn/train.h"
#include "tests/nn/nn_fixtures.h"

using namespace lpsim;
using namespace lpsim::nn;
using namespace lpsim::nn::nntest;


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

// Every operand format the executor accepts reaches near-FP32 accuracy where it should:
// wide floating formats (bf16, e8m3 — whose max|x|/format-max scales once underflowed
// float32), FP16, FP32, FP8, INT8, INT16 and asymmetric UINT8 with zero points. Measured
// as agreement with the FP32 network's predictions (a briefly trained model sits on many
// decision boundaries, so accuracy alone would be noisy); the accuracy is printed.
TEST(Executor, EveryFormatNearFp32) {
  GraphNet net = trained("lenet5");
  const auto& d = data();
  auto test = d.test.images.slice(0, 0, 500), labels = d.test.labels.slice(0, 0, 500);
  QuantizedExecutor fp(net, std::vector<LayerQuant>(net->graph().nodes.size()), 1);
  const auto p32 = fp.forward(test).argmax(1);
  const double a32 = p32.eq(labels).to(torch::kFloat64).mean().item<double>();
  struct Case {
    const char* fmt;
    const char* acc;
    double agreement;
  };
  for (const Case c : {Case{"bf16", "fp32", 0.99}, Case{"e8m3", "fp32", 0.95}, Case{"fp16", "fp32", 0.995},
                       Case{"fp32", "fp32", 0.998}, Case{"fp8_e4m3", "fp32", 0.95}, Case{"fp8_e5m2", "fp32", 0.9},
                       Case{"int8", "int", 0.97}, Case{"uint8", "int", 0.97}, Case{"int16", "int", 0.995}}) {
    LayerQuant q;
    q.quantised = true;
    q.weights = q.activations = arith::parse_format(c.fmt);
    q.accumulator = c.acc;
    q.acc_bits = 48;
    QuantizedExecutor ex(net, all_layers(net->graph(), q), 1);
    ex.calibrate(d.train.images.slice(0, 0, 256));
    const auto p = ex.forward(test).argmax(1);
    const double agree = p.eq(p32).to(torch::kFloat64).mean().item<double>();
    EXPECT_GE(agree, c.agreement) << c.fmt;
    std::cout << c.fmt << ": agreement with FP32 " << agree << ", top-1 "
              << p.eq(labels).to(torch::kFloat64).mean().item<double>() << " (FP32 " << a32 << ")\n";
  }
}

// Asymmetric UINT8 (gemmlowp-style zero points): every output equals the centred sum
// Σ(q_a − z_a)(q_w − z_w) under wrap, and under saturation the golden unsigned
// AccumulatorModel over the raw products in k-order, corrected exactly and clamped.
TEST(Executor, ZeroPointLayersMatchGolden) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto x = data().test.images.slice(0, 0, 2);
  auto inputs = layer_inputs(net, x);
  for (const bool sat : {false, true}) {
    LayerQuant q;
    q.quantised = true;
    q.weights = q.activations = arith::IntFormat{8, false};
    q.acc_bits = sat ? 18 : 16;
    q.acc_overflow = sat ? arith::Overflow::saturate : arith::Overflow::wrap;
    QuantizedExecutor ex(net, all_layers(g, q), 1);
    ex.calibrate(data().train.images.slice(0, 0, 256));
    // The network input is normalised (negative values): a zero point; post-ReLU inputs are not.
    EXPECT_GT(ex.input_zero(node_index(g, "conv1")), 0);
    EXPECT_EQ(ex.input_zero(node_index(g, "conv2")), 0);
    for (const char* layer : {"conv1", "fc1"}) {
      const int i = node_index(g, layer);
      LayerOperands ops;
      auto acc = as_rows(ex.accumulate(i, inputs.at(i), &ops)).to(torch::kInt64).contiguous();
      const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
      const int64_t za = int64_t(ops.act_zero);
      EXPECT_EQ(double(za), ops.act_zero);
      const AccRange r = ex.acc_range(i);
      EXPECT_FALSE(r.mac_signed);
      EXPECT_TRUE(r.out_signed);
      int64_t overflowed = 0;
      for (int64_t m = 0; m < M; ++m)
        for (int64_t n = 0; n < N; ++n) {
          const int64_t zw = int64_t(ops.weight_zero[n].item<double>());
          ASSERT_GE(zw, 0);
          ASSERT_LE(zw, 255);
          int64_t centred = 0, raw = 0;
          arith::AccumulatorModel a{q.acc_bits, false, sat};
          bool any = false;
          for (int64_t k = 0; k < K; ++k) {
            const int64_t qa = int64_t(ops.cols[m][k].item<float>()), qw = int64_t(ops.w[k][n].item<float>());
            ASSERT_TRUE(qa >= 0 && qa <= 255 && qw >= 0 && qw <= 255);
            centred += (qa - za) * (qw - zw);
            raw += qa * qw;
            a.clock(false, true, int64_t(arith::mul_golden(uint64_t(qa), uint64_t(qw), 8, 8, false)));
            any |= a.overflow;
          }
          const int64_t lo = -(int64_t{1} << (q.acc_bits - 1)), hi = (int64_t{1} << (q.acc_bits - 1)) - 1;
          int64_t want;
          if (!sat) {
            const int64_t span = int64_t{1} << q.acc_bits;
            want = ((centred - lo) % span + span) % span + lo;
            overflowed += centred < lo || centred > hi;
          } else {
            const int64_t corrected = a.value - (raw - centred);
            want = std::clamp(corrected, lo, hi);
            overflowed += any || corrected != want;
          }
          ASSERT_EQ(acc[m][n].item<int64_t>(), want) << layer << (sat ? " saturate" : " wrap") << " m=" << m << " n=" << n;
        }
      EXPECT_EQ(ex.out_of_range()[i], overflowed) << layer;
    }
  }
}

// Integer operands beyond float64's exact range (int24 × int24, K = 150: sums up to 2^53.2)
// take the split path; every output equals a plain int64 dot product, wrapped to 62 bits.
TEST(Executor, WideIntegersExact) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, data().test.images.slice(0, 0, 1));
  for (const int bits : {16, 24}) {
    LayerQuant q;
    q.quantised = true;
    q.weights = q.activations = arith::IntFormat{bits, true};
    q.acc_bits = 62;
    QuantizedExecutor ex(net, all_layers(g, q), 1);
    ex.calibrate(data().train.images.slice(0, 0, 64));
    const int i = node_index(g, "conv2");
    LayerOperands ops;
    auto acc = as_rows(ex.accumulate(i, inputs.at(i), &ops)).to(torch::kInt64).contiguous();
    auto c = ops.cols.to(torch::kInt64), w = ops.w.to(torch::kInt64);
    double max_abs = 0;
    for (int64_t m = 0; m < c.size(0); ++m)
      for (int64_t n = 0; n < w.size(1); ++n) {
        int64_t s = 0;
        for (int64_t k = 0; k < c.size(1); ++k) s += c[m][k].item<int64_t>() * w[k][n].item<int64_t>();
        max_abs = std::max(max_abs, std::fabs(double(s)));
        ASSERT_EQ(acc[m][n].item<int64_t>(), s) << bits << " m=" << m << " n=" << n;
      }
    if (bits == 24) {
      EXPECT_GT(max_abs, std::ldexp(1.0, 24)) << "the test must exceed float32's exact range";
    }
    EXPECT_EQ(ex.out_of_range()[i], 0);
  }
}

// The float32 exactness bound uses the format's largest magnitude: int8 activations reach
// −128, so K = 1040 products of up to 128·127 pass 2^24, while the bound with 127
// (1040·127² < 2^24) would claim float32 exactness. Every output equals the int64 sum.
TEST(Executor, ExactnessBoundCountsMinus128) {
  Graph g;
  g.arch = "wide_linear";
  Node fl;
  fl.name = "flatten", fl.kind = OpKind::flatten, fl.inputs = {-1};
  Node fc;
  fc.name = "fc", fc.kind = OpKind::linear, fc.inputs = {0}, fc.in_channels = 1040, fc.out_channels = 2;
  g.nodes = {fl, fc};
  GraphNet net(g);
  {
    torch::NoGradGuard ng;
    auto& lin = net->linear(1);
    lin->weight.fill_(-1.0);
    lin->weight[1].fill_(1.0);
    lin->weight[1][0] = -1.0;  // a mix: the sum is odd
    lin->bias.zero_();
  }
  LayerQuant q;
  q.quantised = true;
  q.per_channel = false;
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(torch::full({1, 1040}, -1.0));  // amax 1 → scale 1/127
  auto x = torch::full({1, 1040}, -2.0);       // clamps to −128
  x[0][7] = 1.0 / 127.0;                       // one small odd term
  LayerOperands ops;
  auto acc = ex.accumulate(1, x, &ops).to(torch::kInt64);
  auto c = ops.cols.to(torch::kInt64), w = ops.w.to(torch::kInt64);
  EXPECT_EQ(c.min().item<int64_t>(), -128);
  for (int64_t n = 0; n < 2; ++n) {
    int64_t s = 0;
    for (int64_t k = 0; k < 1040; ++k) s += c[0][k].item<int64_t>() * w[k][n].item<int64_t>();
    EXPECT_GT(std::abs(s), int64_t{1} << 24);
    EXPECT_EQ(acc[0][n].item<int64_t>(), s) << n;
  }
}

// INT16 on a 32-bit wrapping accumulator overflows on real data: reported per layer, with
// the width that would not overflow — the bits of the largest exact sum.
TEST(Executor, OverflowReportedWithTheWidthThatWouldNot) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto inputs = layer_inputs(net, data().test.images.slice(0, 0, 4));
  LayerQuant q;
  q.quantised = true;
  q.weights = q.activations = arith::IntFormat{16, true};
  QuantizedExecutor ex(net, all_layers(g, q), 1);
  ex.calibrate(data().train.images.slice(0, 0, 64));
  const int i = node_index(g, "conv1");
  LayerOperands ops;
  ex.accumulate(i, inputs.at(i), &ops);
  auto c = ops.cols.to(torch::kFloat64), w = ops.w.to(torch::kFloat64);
  auto exact = c.matmul(w);  // exact in float64: < 2^53
  const int64_t over = ((exact < -std::ldexp(1.0, 31)) | (exact > std::ldexp(1.0, 31) - 1)).sum().item<int64_t>();
  EXPECT_GT(over, 0);
  EXPECT_EQ(ex.out_of_range()[i], over);
  const double max_abs = exact.abs().max().item<double>();
  const int need = ex.acc_bits_needed(i);
  EXPECT_GT(need, 32);
  EXPECT_GE(std::ldexp(1.0, need - 1) - 1, max_abs);
  EXPECT_LT(std::ldexp(1.0, need - 2) - 1, max_abs);
}

// PANN (papers.md §1): per output channel mean|w̃| ≈ R (γ by search); every output equals
// Σ x·w̃ as |w̃| repeated additions (the golden pann_add: x·R), positive and negative
// weights into two accumulators, minus the zero-point constant; the additions are exactly
// Σ|w̃| per output, as costs() reports them.
TEST(Executor, PannLayersAreExactRepeatedAdditions) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto x = data().test.images.slice(0, 0, 2);
  auto inputs = layer_inputs(net, x);
  for (const double R : {0.5, 2.0}) {
    LayerQuant q;
    q.quantised = true;
    q.pann = true;
    q.pann_R = R;
    q.weights = arith::IntFormat{16, true};
    q.activations = arith::IntFormat{4, false};
    QuantizedExecutor ex(net, all_layers(g, q), 1);
    ex.calibrate(data().train.images.slice(0, 0, 256));
    ex.forward(x);
    const auto costs = ex.costs();
    for (const char* layer : {"conv1", "conv2", "fc1"}) {
      const int i = node_index(g, layer);
      LayerOperands ops;
      auto acc = as_rows(ex.accumulate(i, inputs.at(i), &ops)).to(torch::kInt64).contiguous();
      const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
      const int64_t za = int64_t(ops.act_zero);
      auto w = ops.w.to(torch::kInt64);
      // mean|w̃| per output channel near R: within the step of one weight's rounding.
      for (int64_t n = 0; n < N; ++n) {
        const double mean = w.select(1, n).abs().to(torch::kFloat64).mean().item<double>();
        EXPECT_NEAR(mean, R, 0.1 * R + 2.0 / double(K)) << layer << " channel " << n;
      }
      int64_t additions = 0;
      for (int64_t n = 0; n < N; ++n)
        for (int64_t k = 0; k < K; ++k) additions += std::abs(w[k][n].item<int64_t>());
      const LayerCost* c = nullptr;
      for (const auto& lc : costs) c = lc.node == i ? &lc : c;
      ASSERT_NE(c, nullptr);
      EXPECT_EQ(c->pann_additions, c->M * additions) << layer;  // per image: Σ|w̃| for every output position
      for (int64_t m = 0; m < M; m += 7)
        for (int64_t n = 0; n < N; ++n) {
          uint64_t pos = 0, neg = 0;
          int64_t wsum = 0;
          for (int64_t k = 0; k < K; ++k) {
            const auto xc = uint64_t(ops.cols[m][k].item<float>());
            const int64_t wt = w[k][n].item<int64_t>();
            (wt > 0 ? pos : neg) += arith::pann_golden(xc, uint64_t(std::abs(wt)));
            wsum += wt;
          }
          ASSERT_EQ(acc[m][n].item<int64_t>(), int64_t(pos) - int64_t(neg) - za * wsum)
              << layer << " R=" << R << " m=" << m << " n=" << n;
        }
    }
  }
}

// The signed intN network on an unsigned MAC (papers.md §1, unsigned arithmetic): codes
// offset by 2^(N−1) (weights always, activations where the input can be negative) give
// bit-identical logits to the signed network, every operand the MAC sees is in
// [0, 2^N − 1], and the offset is exactly 2^(N−1) (or 0 after a ReLU).
TEST(Executor, UnsignedMacOffsetsGiveTheSameNetwork) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto x = data().test.images.slice(0, 0, 64);
  auto calib = data().train.images.slice(0, 0, 256);
  for (const int bits : {2, 4, 8}) {
    LayerQuant s;
    s.quantised = true;
    s.weights = s.activations = arith::IntFormat{bits, true};
    LayerQuant u = s;
    u.offset_bits = bits;
    u.weights = u.activations = arith::IntFormat{bits, false};
    QuantizedExecutor es(net, all_layers(g, s), 1), eu(net, all_layers(g, u), 1);
    es.calibrate(calib);
    eu.calibrate(calib);
    eu.record_next_forward();
    const auto ys = es.forward(x), yu = eu.forward(x);
    EXPECT_TRUE(torch::equal(ys, yu)) << bits << " bits: max |diff| " << (ys - yu).abs().max().item<double>();
    const double top = std::ldexp(1.0, bits) - 1, half = std::ldexp(1.0, bits - 1);
    for (const char* layer : {"conv1", "conv2", "fc3"}) {
      const int i = node_index(g, layer);
      EXPECT_EQ(eu.input_zero(i), std::string(layer) == "conv1" ? half : 0.0) << layer;
      const LayerOperands& ops = eu.recorded()[size_t(i)];
      EXPECT_GE(ops.cols.min().item<double>(), 0) << layer;
      EXPECT_LE(ops.cols.max().item<double>(), top) << layer;
      EXPECT_GE(ops.w.min().item<double>(), 1) << layer;  // symmetric codes ±(2^(N−1) − 1), offset
      EXPECT_LE(ops.w.max().item<double>(), top) << layer;
      EXPECT_TRUE(torch::all(ops.weight_zero == half).item<bool>()) << layer;
      EXPECT_FALSE(eu.acc_range(i).mac_signed);
      EXPECT_TRUE(es.acc_range(i).mac_signed);
    }
  }
}

// LNS layers (issue 17) on real LeNet-5 tensors: the activation codes are arith's
// quantize_codes of x / s (im2col padding the zero code); every output of units A, B and C
// equals the golden unit run over those codes (arith::lns_unit_a / lns_unit_log); A never
// overflows its formula width and is within its table's rounding of the FP64 dot product
// of the decoded codes; and the network keeps most of its FP32 accuracy on A.
TEST(Executor, LnsLayersMatchGoldenUnits) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto x = data().test.images.slice(0, 0, 1);
  auto inputs = layer_inputs(net, x);
  // lns8_b3 on A runs the executor's table of terms, lns10_b4 the golden step itself.
  for (const auto& [fname, acc] : {std::pair{"lns8_b3", "linear"}, std::pair{"lns10_b4", "linear"},
                                   std::pair{"lns8_b3", "log"}, std::pair{"lns8_b3", "mitchell"}}) {
    const arith::LnsFormat f = arith::parse_lns_format(fname);
    LayerQuant q;
    q.quantised = true;
    q.weights = q.activations = f;
    q.accumulator = acc;
    QuantizedExecutor ex(net, all_layers(g, q), 1);
    ex.calibrate(data().train.images.slice(0, 0, 256));
    for (const char* layer : {"conv1", "conv2", "fc1"}) {  // conv1: padding (the zero code)
      const int i = node_index(g, layer);
      LayerOperands ops;
      auto val = as_rows(ex.accumulate(i, inputs.at(i), &ops)).to(torch::kFloat64).contiguous();
      const int64_t M = ops.cols.size(0), K = ops.cols.size(1), N = ops.w.size(1);
      // The codes, by another route: quantize_codes on the real input over the scale.
      auto xs = im2col_rows(g.nodes[size_t(i)], inputs.at(i)).contiguous();
      std::vector<uint32_t> ref(static_cast<size_t>(xs.numel()));
      arith::QuantizeOptions o;
      o.scale = float(ex.input_scale(i));
      arith::quantize_codes(f, std::span<const float>(xs.data_ptr<float>(), size_t(xs.numel())), ref, o);
      auto cols = ops.cols.to(torch::kInt64).contiguous();
      for (int64_t j = 0; j < cols.numel(); ++j)
        ASSERT_EQ(uint32_t(cols.data_ptr<int64_t>()[j]), ref[size_t(j)]) << layer << " element " << j;
      const arith::LnsLinearAcc ua = lns_linear_unit(q, K);
      const arith::LnsLogAcc ub = lns_log_unit(q, K);
      auto w = ops.w.to(torch::kInt64).contiguous();
      const auto ca = cols.accessor<int64_t, 2>(), wa = w.accessor<int64_t, 2>();
      const auto va = val.accessor<double, 2>();
      for (int64_t m = 0; m < M; m += 7)
        for (int64_t n = 0; n < N; ++n) {
          std::vector<uint32_t> a(static_cast<size_t>(K)), b(static_cast<size_t>(K));
          double exact = 0, magnitude = 0;
          for (int64_t k = 0; k < K; ++k) {
            a[size_t(k)] = uint32_t(ca[m][k]), b[size_t(k)] = uint32_t(wa[k][n]);
            const double t = arith::lns_decode(f, a[size_t(k)]) * arith::lns_decode(f, b[size_t(k)]);
            exact += t, magnitude += std::fabs(t);
          }
          const double got = va[m][n];
          if (std::string(acc) == "linear") {
            const arith::LnsAccResult r = arith::lns_unit_a(ua, a, b);
            ASSERT_FALSE(r.overflow);
            ASSERT_EQ(got, arith::lns_linear_value(ua, r.sum)) << layer << " m=" << m << " n=" << n;
            // Each term's table entry is within half a unit of 2^-alpha of 2^(r/γ) in [1, 2).
            EXPECT_LE(std::fabs(got - exact), magnitude * std::ldexp(1.0, -ua.alpha - 1) * (1 + 1e-9)) << m << " " << n;
          } else {
            ASSERT_EQ(got, arith::lns_log_value(ub, arith::lns_unit_log(ub, a, b))) << acc << " " << layer << " m=" << m;
          }
        }
    }
  }
  LayerQuant q;
  q.quantised = true;
  q.weights = q.activations = arith::parse_lns_format("lns8_b3");
  q.accumulator = "linear";
  QuantizedExecutor ex(net, all_layers(g, q), 2);
  ex.calibrate(data().train.images.slice(0, 0, 256));
  auto xt = data().test.images.slice(0, 0, 500);
  const double lns = (ex.forward(xt).argmax(1) == data().test.labels.slice(0, 0, 500)).to(torch::kFloat64).mean().item<double>();
  QuantizedExecutor fp32(net, std::vector<LayerQuant>(g.nodes.size()), 1);
  const double fp = (fp32.forward(xt).argmax(1) == data().test.labels.slice(0, 0, 500)).to(torch::kFloat64).mean().item<double>();
  EXPECT_GT(lns, fp - 0.03) << "lns8_b3 on unit A: " << lns << " vs FP32 " << fp;
  // Bad combinations name the key.
  LayerQuant bad = q;
  bad.activations = arith::IntFormat{8, true};
  EXPECT_THROW(QuantizedExecutor(net, all_layers(g, bad), 1), InputError);
  bad = q;
  bad.lns_alpha = 2;  // < b + 1
  EXPECT_THROW(QuantizedExecutor(net, all_layers(g, bad), 1), InputError);
}

// Dot-product error on real operands (nn/dot_error.h): an integer MAC accumulates exactly
// (no accumulation error, only quantisation), unit A's error is its table's rounding (below
// 2^-alpha relative even at K = 4096), unit B's grows with K as its sum stagnates
// (F_acc = 7: an equal term stops counting after ~2^8/ln 2 additions), and the same seed
// gives the same figures.
TEST(Executor, DotProductErrorOfTheUnits) {
  GraphNet net = trained("lenet5");
  const Graph& g = net->graph();
  auto x = data().test.images.slice(0, 0, 4);
  const int i = node_index(g, "fc1");
  auto errors = [&](LayerQuant q, uint64_t seed) {
    QuantizedExecutor ex(net, all_layers(g, q), 1);
    ex.calibrate(data().train.images.slice(0, 0, 256));
    ex.record_next_forward();
    ex.forward(x);
    return dot_product_error(ex.layer(i), ex.recorded()[size_t(i)], ex.input_scale(i), {64, 4096}, 64, seed);
  };
  LayerQuant q;
  q.quantised = true;
  const auto i8 = errors(q, 1);
  ASSERT_EQ(i8.size(), 2u);
  for (const auto& d : i8) {
    EXPECT_EQ(d.rel_rms_accumulation, 0.0);
    EXPECT_GT(d.rel_rms_total, 0.0);
    EXPECT_LT(d.rel_rms_total, 0.1);
  }
  q.weights = q.activations = arith::parse_lns_format("lns8_b3");
  q.accumulator = "linear";
  const auto a = errors(q, 1);
  for (const auto& d : a) EXPECT_LT(d.rel_rms_accumulation, std::ldexp(1.0, -lns_linear_unit(q, d.K).alpha)) << d.K;
  q.accumulator = "log";
  const auto b = errors(q, 1), b2 = errors(q, 1);
  EXPECT_GT(b[1].rel_rms_accumulation, 2 * b[0].rel_rms_accumulation);
  EXPECT_GT(b[1].rel_rms_accumulation, 10 * a[1].rel_rms_accumulation);
  EXPECT_EQ(b[1].rel_rms_total, b2[1].rel_rms_total);
}
