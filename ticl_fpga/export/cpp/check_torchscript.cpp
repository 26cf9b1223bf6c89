// Loads an exported ticl-fpga TorchScript model with libtorch, as CMSSW does (torch::jit::load),
// runs forward on the graphs of an input file and writes the scores.
//
//   check_torchscript MODEL.pt INPUT.bin OUTPUT.bin SIGNATURE DEVICE
//
// SIGNATURE: cmssw   -> forward(X [N,F] float32, edge_features [E,Fe] float32, edge_index [E,2] int64)
//            default -> forward(x [N,F] float32, edge_index [2,E] int64, edge_attr [E,Fe] float32)
// DEVICE: cpu or cuda.
// INPUT.bin (little endian): int64 ncases; per case int64 N, E, F, Fe, then float32 X[N*F],
// float32 edge features[E*Fe], int64 edge_index[2*E] (row-major, in the signature's layout).
// OUTPUT.bin: per case int64 E then float32 scores[E].  Scores are also printed, one case a line.
#include <torch/script.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

namespace {
  int64_t read_i64(std::ifstream& in) {
    int64_t v = 0;
    in.read(reinterpret_cast<char*>(&v), sizeof(v));
    if (!in)
      throw std::runtime_error("truncated input file");
    return v;
  }
  template <typename T>
  std::vector<T> read_vec(std::ifstream& in, int64_t n) {
    std::vector<T> v(static_cast<size_t>(n));
    if (n > 0)
      in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * sizeof(T)));
    if (!in)
      throw std::runtime_error("truncated input file");
    return v;
  }
}  // namespace

int main(int argc, char** argv) {
  if (argc != 6) {
    std::cerr << "usage: check_torchscript MODEL.pt INPUT.bin OUTPUT.bin cmssw|default cpu|cuda\n";
    return 2;
  }
  const std::string signature = argv[4];
  const torch::Device device(std::string(argv[5]) == "cuda" ? torch::kCUDA : torch::kCPU);
  try {
    torch::jit::script::Module model = torch::jit::load(argv[1], device);
    model.eval();
    torch::NoGradGuard no_grad;
    std::ifstream in(argv[2], std::ios::binary);
    std::ofstream out(argv[3], std::ios::binary);
    const int64_t ncases = read_i64(in);
    for (int64_t c = 0; c < ncases; ++c) {
      const int64_t n = read_i64(in), e = read_i64(in), f = read_i64(in), fe = read_i64(in);
      auto xv = read_vec<float>(in, n * f);
      auto ev = read_vec<float>(in, e * fe);
      auto iv = read_vec<int64_t>(in, 2 * e);
      auto fopt = torch::TensorOptions().dtype(torch::kFloat32);
      auto iopt = torch::TensorOptions().dtype(torch::kInt64);
      torch::Tensor x = torch::from_blob(xv.data(), {n, f}, fopt).clone().to(device);
      torch::Tensor ef = torch::from_blob(ev.data(), {e, fe}, fopt).clone().to(device);
      torch::Tensor ei;
      std::vector<torch::jit::IValue> inputs;
      if (signature == "cmssw") {
        ei = torch::from_blob(iv.data(), {e, 2}, iopt).clone().to(device);
        inputs = {x, ef, ei};
      } else {
        ei = torch::from_blob(iv.data(), {2, e}, iopt).clone().to(device);
        inputs = {x, ei, ef};
      }
      torch::Tensor scores = model.forward(inputs).toTensor().to(torch::kCPU).contiguous();
      if (scores.numel() != e)
        throw std::runtime_error("model returned " + std::to_string(scores.numel()) + " scores for " +
                                 std::to_string(e) + " edges");
      out.write(reinterpret_cast<const char*>(&e), sizeof(e));
      out.write(reinterpret_cast<const char*>(scores.data_ptr<float>()),
                static_cast<std::streamsize>(e * sizeof(float)));
      std::printf("case %lld N=%lld E=%lld shape=[", static_cast<long long>(c), static_cast<long long>(n),
                  static_cast<long long>(e));
      for (int64_t d = 0; d < scores.dim(); ++d)
        std::printf(d ? ",%lld" : "%lld", static_cast<long long>(scores.size(d)));
      std::printf("] scores:");
      const float* p = scores.data_ptr<float>();
      for (int64_t k = 0; k < e; ++k)
        std::printf(" %.9g", p[k]);
      std::printf("\n");
    }
  } catch (const std::exception& exc) {
    std::cerr << "check_torchscript: " << exc.what() << "\n";
    return 1;
  }
  return 0;
}
