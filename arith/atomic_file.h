// Whole files in and out. Results are written atomically: to a temporary file in the same directory, then
// renamed over the target, so an interrupted run never leaves a truncated file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace lpsim {

// Creates parent directories; throws InputError naming the path on any I/O failure.
void atomic_write_file(const std::filesystem::path& path, std::string_view contents);

// A whole file's bytes ("" when it cannot be read: callers that must tell check first).
std::string read_whole_file(const std::filesystem::path& path);

}  // namespace lpsim
