// Fuzz target: the unit spec of `lpsim verify-rtl --spec unit.yaml` (rtl/user_unit_spec.h):
// the YAML loader, the checks of the spec (resolved), the --ports list parser, and for a
// spec that passes, the port roles and the generated wrapper for a module whose ports are
// the kind's own. Every bad input must be InputError.
#include <cstddef>
#include <cstdint>
#include <string>

#include "arith/error.h"
#include "rtl/user_unit_spec.h"
#include "tests/fuzz/fuzz_input_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace lpsim::rtl;
  try {
    (void)parse_port_list(std::string(reinterpret_cast<const char*>(data), size));
  } catch (const lpsim::InputError&) {
  }
  try {
    UserUnitSpec s = load_user_unit_spec(fuzz_input_file(data, size, ".yaml"));
    s.rtl = {"/dev/null"};  // an existing file: the spec's own checks go on
    s = resolved(s);
    std::vector<UserPort> ports;
    for (const KindPort& k : kind_ports(s)) ports.push_back({k.port, k.input, k.width});
    (void)wrapper_verilog(s, map_ports(s, ports));
  } catch (const lpsim::InputError&) {
  }
  return 0;
}
