// A fuzz target as an ordinary program (builds without libFuzzer): runs its
// LLVMFuzzerTestOneInput on each file named, or on each file in each directory named. The
// committed corpus becomes a regression test; a finding aborts, as under libFuzzer.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
void replay(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  if (!f) {
    std::fprintf(stderr, "replay: cannot read %s\n", p.c_str());
    std::exit(2);
  }
  const std::vector<uint8_t> bytes{std::istreambuf_iterator<char>(f), {}};
  std::printf("%s (%zu bytes)\n", p.c_str(), bytes.size());
  std::fflush(stdout);
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
}
}  // namespace

int main(int argc, char** argv) {
  unsigned files = 0;
  for (int i = 1; i < argc; ++i) {
    const std::filesystem::path arg(argv[i]);
    if (!std::filesystem::is_directory(arg)) {
      replay(arg);
      ++files;
      continue;
    }
    std::vector<std::filesystem::path> in_dir;
    for (const auto& e : std::filesystem::directory_iterator(arg))
      if (e.is_regular_file()) in_dir.push_back(e.path());
    std::sort(in_dir.begin(), in_dir.end());
    for (const auto& p : in_dir) replay(p);
    files += unsigned(in_dir.size());
  }
  if (!files) {
    std::fprintf(stderr, "replay: no input files\n");
    return 2;
  }
  std::printf("%u inputs, no finding\n", files);
  return 0;
}
