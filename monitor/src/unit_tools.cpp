#include "unit_tools.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace monitor {

namespace {
std::FILE* open_for_writing(const std::string& path, const char* option) {
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f)
    throw OptionError(
        fmt::format("{} {}: cannot write it: {}", option, path, std::strerror(errno)));
  return f;
}
}  // namespace

std::string perf_map_path() {
  return fmt::format("/tmp/perf-{}.map", getpid());
}

UnitTools::UnitTools(const TcToolsConfig& cfg) : cfg_(cfg) {
  if (!cfg.guest_symbols.empty()) {
    if (!cfg.perf_map && cfg.dump_path.empty())
      throw OptionError(
          "--guest-symbols names guest code in --perf-map and --dump-translations: add one");
    symbols_ = GuestSymbols(cfg.guest_symbols);
  }
  if (cfg.dump_range && cfg.dump_path.empty())
    throw OptionError("--dump-range selects what --dump-translations writes: add it");
  if (!cfg.dump_path.empty()) {
    struct stat st {};
    if (stat(cfg.dump_path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      if (access(cfg.dump_path.c_str(), W_OK) != 0)
        throw OptionError(
            fmt::format("--dump-translations {}: the directory is not writable", cfg.dump_path));
      dump_dir_ = cfg.dump_path;
    } else {
      dump_ = open_for_writing(cfg.dump_path, "--dump-translations");
    }
  }
  if (cfg.perf_map) perf_ = open_for_writing(perf_map_path(), "--perf-map");
}

UnitTools::~UnitTools() {
  if (dump_) std::fclose(dump_);
  if (perf_) std::fclose(perf_);
}

void UnitTools::flush() {
  if (dump_) std::fflush(dump_);
  if (perf_) std::fflush(perf_);
}

void UnitTools::on_unit(const bt::UnitRecord& u) {
  if (symbols_.observe(u.eip, u.guest) && symbols_.offset() != 0)
    std::fprintf(stderr,
                 "bt86: --guest-symbols: the kernel runs %#x above its link address "
                 "(KASLR)\n",
                 symbols_.offset());
  if (perf_) {
    // perf resolves a sample with the last entry covering its address: a unit made again at a
    // host address after a flush takes over from the one that was there before.
    std::string sym = symbols_.name(u.eip);
    std::fprintf(perf_, "%lx %x bt86 guest %08x%s%s\n", reinterpret_cast<unsigned long>(u.host),
                 u.host_size, u.eip, sym.empty() ? "" : " ", sym.c_str());
  }
  if ((dump_ || !dump_dir_.empty()) &&
      (!cfg_.dump_range || (u.eip >= cfg_.dump_range->first && u.eip <= cfg_.dump_range->second)))
    dump(u);
}

void UnitTools::dump(const bt::UnitRecord& u) {
  std::string text = bt::format_unit(u, false);
  // The guest function the unit starts in, where --guest-symbols names it (after KASLR too).
  if (const std::string sym = symbols_.name(u.eip); !sym.empty())
    text = "guest function: " + sym + "\n" + text;
  if (dump_) {
    std::fputs(text.c_str(), dump_);
    return;
  }
  const std::string path = fmt::format("{}/unit-{:06}-{:08x}.txt", dump_dir_, u.serial, u.eip);
  std::FILE* f = std::fopen(path.c_str(), "w");
  if (!f) throw std::runtime_error(fmt::format("cannot write {}: {}", path, std::strerror(errno)));
  std::fputs(text.c_str(), f);
  std::fclose(f);
}

std::optional<std::pair<uint32_t, uint32_t>> parse_range(const std::string& s) {
  const auto dash = s.find('-');
  if (dash == std::string::npos) return std::nullopt;
  auto num = [](const std::string& t) -> std::optional<uint32_t> {
    if (t.empty()) return std::nullopt;
    size_t used = 0;
    unsigned long long v = 0;
    try {
      v = std::stoull(t, &used, 0);
    } catch (const std::exception&) {
      return std::nullopt;
    }
    if (used != t.size() || v > 0xffffffffull) return std::nullopt;
    return uint32_t(v);
  };
  auto a = num(s.substr(0, dash)), b = num(s.substr(dash + 1));
  if (!a || !b || *a > *b) return std::nullopt;
  return std::make_pair(*a, *b);
}

}  // namespace monitor
