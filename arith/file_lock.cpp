#include "arith/file_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "arith/error.h"

namespace lpsim {

FileLock::FileLock(const std::filesystem::path& file, void (*waiting)(const std::string&)) {
  std::error_code ec;
  std::filesystem::create_directories(file.parent_path(), ec);
  fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) throw InputError(std::string("cannot create lock file: ") + std::strerror(errno), file.string());
  if (::flock(fd_, LOCK_EX | LOCK_NB) == 0) return;
  if (waiting) waiting(file.string());
  while (::flock(fd_, LOCK_EX) != 0)
    if (errno != EINTR) {
      const int e = errno;
      ::close(fd_);
      throw InputError(std::string("cannot lock: ") + std::strerror(e), file.string());
    }
}

FileLock::~FileLock() {
  if (fd_ >= 0) ::close(fd_);  // closing releases the lock
}

}  // namespace lpsim
