#include "arith/atomic_file.h"

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
    if (!out) throw InputError("cannot open for writing", tmp.string());
    out.write(contents.data(), std::streamsize(contents.size()));
    out.flush();
    if (!out) {
      fs::remove(tmp, ec);
      throw InputError("write failed", tmp.string());
    }
  }
  fs::rename(tmp, path, ec);
  if (ec) {
    fs::remove(tmp, ec);
    throw InputError("cannot rename into place: " + ec.message(), path.string());
  }
}

}  // namespace lpsim
