// Driver for the RTL mutation check (scripts/rtl-mutations.sh): built by Verilator
// against one (possibly mutated) unit as Vdut, it runs the same harness check as the
// ctest suite; CHECK_CALL names the check. Exit 0 = no mismatch (mutant survived).
#include <cstdio>

#include "Vdut.h"
#include "rtl/harness.h"

using namespace lpsim::rtl;

int main() {
  CheckOptions o;
  o.random_vectors = 20000;
  o.seed = 1;
  const CheckResult r = CHECK_CALL;
  std::printf("vectors=%llu mismatches=%llu %s\n", (unsigned long long)r.vectors, (unsigned long long)r.mismatches,
              r.first_failure.c_str());
  return r.mismatches ? 1 : 0;
}
