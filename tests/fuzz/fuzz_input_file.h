// The readers that take a path (IDX, Yosys JSON, TorchScript) get the fuzz input as a file:
// one per process, rewritten every execution, under $TMPDIR.
#pragma once

#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

inline std::filesystem::path fuzz_input_file(const uint8_t* data, size_t size, const char* suffix) {
  static const std::filesystem::path path = std::filesystem::temp_directory_path() /
                                            ("lpsim-fuzz-" + std::to_string(::getpid()) + suffix);
  std::ofstream(path, std::ios::binary | std::ios::trunc).write(reinterpret_cast<const char*>(data), std::streamsize(size));
  return path;
}
