#include "nn/net.h"

#include <ATen/CPUGeneratorImpl.h>

#include "arith/error.h"

namespace lpsim::nn {

GraphNetImpl::GraphNetImpl(Graph g) : g_(std::move(g)), last_reader_(g_.nodes.size(), -1) {
  for (int i = 0; i < int(g_.nodes.size()); ++i) {
    const Node& n = g_.nodes[i];
    for (int in : n.inputs) {
      LPSIM_CHECK(in >= -1 && in < i);
      if (in >= 0) last_reader_[in] = i;
    }
    if (n.kind == OpKind::conv) {
      convs_.emplace(i, register_module(n.name, torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                                      n.in_channels, n.out_channels, n.kernel)
                                                                      .stride(n.stride)
                                                                      .padding(n.padding)
                                                                      .bias(n.bias))));
    } else if (n.kind == OpKind::linear) {
      linears_.emplace(
          i, register_module(n.name, torch::nn::Linear(torch::nn::LinearOptions(n.in_channels, n.out_channels).bias(n.bias))));
    } else if (n.kind == OpKind::batchnorm) {
      bns_.emplace(i, register_module(n.name, torch::nn::BatchNorm2d(
                                                  torch::nn::BatchNorm2dOptions(n.out_channels).eps(n.bn_eps))));
    }
  }
}

torch::Tensor eval_simple(const Node& n, const std::vector<torch::Tensor>& in) {
  switch (n.kind) {
    case OpKind::relu: return torch::relu(in[0]);
    case OpKind::maxpool: return torch::max_pool2d(in[0], n.kernel, n.stride);
    case OpKind::avgpool: return torch::avg_pool2d(in[0], n.kernel, n.stride);
    case OpKind::global_avgpool: return torch::adaptive_avg_pool2d(in[0], {1, 1});
    case OpKind::flatten: return in[0].flatten(1);
    case OpKind::add: return in[0] + in[1];
    default: break;
  }
  LPSIM_CHECK(!"eval_simple on a layer with parameters");
  return {};
}

torch::Tensor GraphNetImpl::run(torch::Tensor x, const GemmFn& gemm, const std::function<bool(int)>& skip) {
  std::vector<torch::Tensor> out(g_.nodes.size());
  for (int i = 0; i < int(g_.nodes.size()); ++i) {
    const Node& n = g_.nodes[i];
    std::vector<torch::Tensor> in;
    for (int j : n.inputs) in.push_back(j < 0 ? x : out[j]);
    if (Graph::is_gemm(n.kind)) {
      out[i] = gemm(i, in[0]);
    } else if (n.kind == OpKind::batchnorm) {
      out[i] = (skip && skip(i)) ? in[0] : bns_.at(i)->forward(in[0]);
    } else {
      out[i] = eval_simple(n, in);
    }
    // Free intermediate results nobody reads any more (keeps batch memory flat).
    for (int j : n.inputs)
      if (j >= 0 && last_reader_[j] == i) out[j] = torch::Tensor();
  }
  return out.back();
}

GraphNet clone_net(GraphNet& net) {
  // Building the module draws its initial weights: the global generator is restored, so
  // a copy changes no later random draw.
  auto gen = at::detail::getDefaultCPUGenerator();
  const torch::Tensor state = gen.get_state();
  GraphNet copy(net->graph());
  gen.set_state(state);
  torch::NoGradGuard ng;
  auto sp = net->named_parameters(), dp = copy->named_parameters();
  for (auto& p : dp) p.value().copy_(*sp.find(p.key()));
  auto sb = net->named_buffers(), db = copy->named_buffers();
  for (auto& b : db) b.value().copy_(*sb.find(b.key()));
  copy->train(net->is_training());
  return copy;
}

torch::Tensor GraphNetImpl::forward(torch::Tensor x) {
  return run(x, [&](int i, const torch::Tensor& in) {
    return g_.nodes[i].kind == OpKind::conv ? convs_.at(i)->forward(in) : linears_.at(i)->forward(in);
  });
}

}  // namespace lpsim::nn
