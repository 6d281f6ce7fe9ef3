#include "arith/atomic_file.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

#include "arith/error.h"

namespace lpsim {

void atomic_write_file(const std::filesystem::path& path, std::string_view contents) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (path.has_parent_path()) {
    fs::create_directories(path.parent_path(), ec);
    if (ec) throw InputError("cannot create directory: " + ec.message(), path.parent_path().string());
  }
  // Unique name per writer so two processes writing the same result do not collide.
  const fs::path tmp = path.string() + ".tmp." + std::to_string(std::random_device{}());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw InputError(std::string("cannot open for writing (") + std::strerror(errno) + ")", tmp.string());
    out.write(contents.data(), std::streamsize(contents.size()));
    out.close();  // a write or close failure (a full disk, a file size limit) shows here
    if (!out) {
      const int err = errno;
      fs::remove(tmp, ec);
      throw InputError(std::string("cannot write (") + std::strerror(err) + "); the previous file, if any, is unchanged",
                       path.string());
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError("cannot rename into place: " + ec.message(), path.string());
  }
}

std::string read_whole_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::string text;
  if (!in) return text;
  in.seekg(0, std::ios::end);
  const std::streamoff n = in.tellg();
  if (n > 0) {
    text.resize(size_t(n));
    in.seekg(0);
    in.read(text.data(), n);
    text.resize(size_t(in.gcount()));
  }
  return text;
}

}  // namespace lpsim
