// An exclusive advisory lock on a file (POSIX flock), held for the object's lifetime:
// parallel jobs and MPI ranks sharing a cache (trained models) take it around the work
// that fills one entry, so that entry is made once and the others wait, then read it.
// Works across processes on one machine and on NFS v4 / Lustre with flock support.
#pragma once

#include <filesystem>
#include <string>

namespace lpsim {

class FileLock {
 public:
  // Creates the file (and its folder) if needed and blocks until the lock is held; when
  // another process holds it, `waiting` is called once first (e.g. to say so).
  explicit FileLock(const std::filesystem::path& file, void (*waiting)(const std::string& file) = nullptr);
  ~FileLock();
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace lpsim
