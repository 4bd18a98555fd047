// Prints, for each input file named on the command line, the coverage edges of the project's
// own code that it reaches: "<file> <edge> <edge> ...". Built by fuzz/run with
// -fsanitize-coverage=trace-pc-guard limited to src/ and fuzz/, this is what
// fuzz/select_inputs.py chooses the kept corpus from (the fuzzer's finds that add the most
// project edges), rather than every input that adds some feature inside Boost or a counter.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {
std::vector<std::uint8_t>& hits() {
  static std::vector<std::uint8_t> h;
  return h;
}
}  // namespace

// SanitizerCoverage's interface: number the guards once, mark each one reached.
extern "C" void __sanitizer_cov_trace_pc_guard_init(std::uint32_t* start, std::uint32_t* stop) {
  static std::uint32_t count = 0;
  if (start == stop || *start != 0) return;
  for (std::uint32_t* guard = start; guard < stop; ++guard) *guard = ++count;
  hits().resize(count + 1);
}

extern "C" void __sanitizer_cov_trace_pc_guard(std::uint32_t* guard) {
  hits()[*guard] = 1;
}

int main(int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::ifstream in(argv[i], std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::fill(hits().begin(), hits().end(), 0);
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    std::printf("%s", argv[i]);
    for (std::size_t edge = 1; edge < hits().size(); ++edge)
      if (hits()[edge]) std::printf(" %zu", edge);
    std::printf("\n");
  }
  return 0;
}
