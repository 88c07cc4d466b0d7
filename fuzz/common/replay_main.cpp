// Standalone replay driver: feeds every file named on the command line (directories recursively) to
// LLVMFuzzerTestOneInput once. Linked into each target for the gcc CTest run, so the seed and
// regression corpora are replayed without clang or libFuzzer; an invariant violation aborts, as it
// does under libFuzzer, and names the input that caused it.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

std::vector<std::filesystem::path> inputs_under(const std::filesystem::path& root) {
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(root)) {
    for (const auto& entry : std::filesystem::recursive_directory_iterator(root)) {
      if (entry.is_regular_file()) files.push_back(entry.path());
    }
    std::sort(files.begin(), files.end());  // a stable order makes a failure reproducible
  } else {
    files.push_back(root);
  }
  return files;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t replayed = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path root = argv[i];
    if (!std::filesystem::exists(root)) {
      std::fprintf(stderr, "replay: %s does not exist (no regression inputs yet?), skipped\n", argv[i]);
      continue;
    }
    for (const auto& file : inputs_under(root)) {
      std::ifstream stream(file, std::ios::binary);
      const std::vector<std::uint8_t> bytes{std::istreambuf_iterator<char>(stream), std::istreambuf_iterator<char>()};
      // Printed before running, so the input that aborts is the last one named.
      std::fprintf(stderr, "replay: %s (%zu bytes)\n", file.string().c_str(), bytes.size());
      LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
      ++replayed;
    }
  }
  if (replayed == 0) {
    std::fprintf(stderr, "replay: no inputs\n");
    return 2;
  }
  std::printf("replay: %zu inputs, no invariant violated\n", replayed);
  return 0;
}
