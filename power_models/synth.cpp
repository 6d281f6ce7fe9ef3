#include "power_models/synth.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <map>
#include <set>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <vector>

#include "arith/atomic_file.h"
#include "arith/error.h"
#include "arith/hash.h"
#include "arith/process.h"

namespace lpsim::power {

namespace {

std::string read_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The text without // and /* */ comments (module names in comments are not instances).
std::string strip_comments(const std::string& t) {
  std::string o;
  o.reserve(t.size());
  for (size_t i = 0; i < t.size(); ++i) {
    if (t.compare(i, 2, "//") == 0) {
      while (i < t.size() && t[i] != '\n') ++i;
      o += '\n';
    } else if (t.compare(i, 2, "/*") == 0) {
      const size_t e = t.find("*/", i + 2);
      i = e == std::string::npos ? t.size() : e + 1;
      o += ' ';
    } else {
      o += t[i];
    }
  }
  return o;
}

bool has_identifier(const std::string& text, const std::string& id) {
  auto word = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$'; };
  for (size_t p = text.find(id); p != std::string::npos; p = text.find(id, p + 1))
    if ((p == 0 || !word(text[p - 1])) && (p + id.size() == text.size() || !word(text[p + id.size()]))) return true;
  return false;
}

}  // namespace

std::vector<std::filesystem::path> referenced_module_files(const std::vector<std::filesystem::path>& roots,
                                                          const std::vector<std::filesystem::path>& dirs) {
  namespace fs = std::filesystem;
  std::map<std::string, fs::path> files;  // module name (one module per file, named as it) -> file
  for (const fs::path& dir : dirs)
    if (fs::is_directory(dir))
      for (const auto& e : fs::directory_iterator(dir))
        if ((e.path().extension() == ".sv" || e.path().extension() == ".v") && !files.count(e.path().stem().string()))
          files[e.path().stem().string()] = e.path();
  std::map<std::string, std::string> text;  // file (as a string) -> its text without comments
  std::vector<fs::path> todo = roots, out;
  std::set<std::string> seen;
  for (const fs::path& r : roots) seen.insert(fs::weakly_canonical(r).string());
  while (!todo.empty()) {
    const fs::path f = todo.back();
    todo.pop_back();
    const std::string t = strip_comments(read_file(f));
    for (const auto& [name, path] : files) {
      const std::string key = fs::weakly_canonical(path).string();
      if (seen.count(key) || !has_identifier(t, name)) continue;
      seen.insert(key);
      todo.push_back(path);
      out.push_back(path);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::filesystem::path> unit_sources(const std::filesystem::path& rtl_dir, const std::string& top) {
  namespace fs = std::filesystem;
  const fs::path top_file = rtl_dir / (top + ".sv");
  if (!fs::is_regular_file(top_file)) throw InputError("no module file " + top + ".sv", rtl_dir.string());
  std::vector<fs::path> out = referenced_module_files({top_file}, {rtl_dir});
  std::erase_if(out, [](const fs::path& p) { return p.extension() != ".sv"; });
  out.push_back(top_file);
  std::sort(out.begin(), out.end());
  return out;
}

std::filesystem::path synthesize(const SynthRequest& req) {
  namespace fs = std::filesystem;
  // Only the files of the unit's own hierarchy: what Yosys reads changes ABC's result (by
  // up to 5 % in energy and area), so an unrelated new file must not move any figure.
  const std::vector<fs::path> sources = req.sources.empty() ? unit_sources(req.rtl_dir, req.top) : req.sources;
  for (const fs::path& s : sources)
    if (!fs::is_regular_file(s)) throw InputError("no such file", s.string(), "--rtl");
  std::string key = req.top;
  for (const auto& [k, v] : req.params) key += " " + k + "=" + v;
  uint64_t h = fnv1a(key);
  for (const fs::path& s : sources) h = fnv1a(s.filename().string() + read_file(s), h);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  const fs::path out = req.cache_dir / (req.top + "-" + hex + ".json");
  if (fs::exists(out)) return out;

  if (!find_program("yosys"))
    throw InputError("yosys not found on PATH (install the Debian package 'yosys')", {}, "yosys");
  {
    std::error_code ec;
    fs::create_directories(req.cache_dir, ec);
    if (ec)  // the user's path (--netlist-cache, hardware.netlist_cache): their input, exit 2
      throw InputError("cannot create the netlist cache folder: " + ec.message(), req.cache_dir.string(),
                       "netlist cache");
  }
  // Yosys splits its script on whitespace and ';' outside double quotes: every path is
  // quoted, and one holding a quote or a line break cannot be written into the script.
  auto quoted = [](const fs::path& p) {
    const std::string s = p.string();
    if (s.find_first_of("\"\n\r") != std::string::npos)
      throw InputError("yosys cannot read or write a path holding a double quote or a line break", s);
    return '"' + s + '"';
  };
  std::string script = "read_verilog -sv";
  for (const fs::path& s : sources) script.append(" ").append(quoted(s));  // (" " + …: GCC 12 -Wrestrict false positive)
  // One chparam with every parameter, then synth: a hierarchy pass before chparam (or
  // hierarchy -chparam) trips an assertion in Yosys 0.23 for some modules.
  if (!req.params.empty()) {
    script += "; chparam";
    for (const auto& [k, v] : req.params) script += " -set " + k + " " + v;
    script += " " + req.top;
  }
  // Async resets become synchronous logic so that the simulator needs one DFF type.
  // Per-process temporary and log: parallel test processes may synthesise the same unit
  // into a shared cache; the last rename wins and both results are identical.
  const std::string pid = std::to_string(::getpid());
  const fs::path tmp = out.string() + "." + pid + ".tmp";
  script += "; synth -flatten -top " + req.top + "; async2sync; dfflegalize -cell $_DFF_P_ 01; abc -g AND,NAND,OR,NOR,XOR,XNOR,ANDNOT,ORNOT,MUX; opt_clean; "
            "write_json ";
  script += quoted(tmp);
  const fs::path log = out.string() + "." + pid + ".log";
  // No shell: yosys gets its arguments as a vector (paths with spaces or ';' stay literal).
  const ProcessResult run =
      run_process({"yosys", "-q", "-l", log.string(), "-p", script}, {"/dev/null", "/dev/null", "/dev/null"});
  if (!run.ok() || !fs::exists(tmp)) {
    std::error_code ec;
    fs::remove(tmp, ec);
    if (run.status == ProcessResult::Status::not_found)
      throw InputError("yosys not found on PATH (install the Debian package 'yosys')", {}, "yosys");
    std::string tail = fs::exists(log) ? read_file(log) : std::string();
    // The whole line of the error: Yosys puts the source's file:line before "ERROR".
    size_t err = tail.find("ERROR");
    if (err != std::string::npos) err = tail.rfind('\n', err) == std::string::npos ? 0 : tail.rfind('\n', err) + 1;
    tail = err != std::string::npos ? tail.substr(err, tail.find('\n', err) - err)
                                    : tail.substr(tail.size() > 600 ? tail.size() - 600 : 0);
    while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
    const std::string what = run.ok() ? "exited 0 but wrote no netlist" : run.describe();
    throw InputError("yosys failed on " + req.top + " (" + what + ")" + (tail.empty() ? "" : ": " + tail),
                     fs::exists(log) ? log.string() : std::string());
  }
  fs::rename(tmp, out);  // atomic: a half-written netlist never sits in the cache
  std::error_code ec;
  fs::remove(log, ec);
  return out;
}

}  // namespace lpsim::power
