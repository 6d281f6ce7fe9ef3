// Two error classes (gem5's fatal/panic split): InputError is the user's fault and
// carries where it happened; LPSIM_CHECK guards invariants whose failure is a bug.
#pragma once

#include <stdexcept>
#include <string>

namespace lpsim {

// Bad input: YAML, model files, CLI flags, out-of-range formats. The CLI prints
// `where: key: message` and exits 2. `where` is "file:line:col", "stdin:line" or
// empty; `key` is the key path or flag at fault, possibly empty.
class InputError : public std::runtime_error {
 public:
  explicit InputError(std::string message, std::string where = {}, std::string key = {})
      : std::runtime_error(compose(message, where, key)),
        m_message(std::move(message)), m_where(std::move(where)), m_key(std::move(key)) {}
  const std::string& message() const { return m_message; }
  const std::string& where() const { return m_where; }
  const std::string& key() const { return m_key; }

 private:
  static std::string compose(const std::string& m, const std::string& w, const std::string& k) {
    std::string s;
    if (!w.empty()) s += w + ": ";
    if (!k.empty()) s += k + ": ";
    return s + m;
  }
  std::string m_message, m_where, m_key;
};

[[noreturn]] inline void invariant_failed(const char* expr, const char* file, int line) {
  throw std::logic_error(std::string("lpsim internal error: ") + expr + " at " + file + ":" +
                         std::to_string(line));
}

}  // namespace lpsim

#define LPSIM_CHECK(expr) ((expr) ? (void)0 : ::lpsim::invariant_failed(#expr, __FILE__, __LINE__))
