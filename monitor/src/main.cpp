// bt86 command line: `bt86 run --kernel FILE [--initrd FILE] [--mem SIZE] [--append STR] [--stats]
// [--no-direct]`.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "load_error.h"
#include "machine.h"
#include "size_option.h"
#include "translate_tool.h"

int main(int argc, char** argv) {
  monitor::Config cfg;
  std::string mem = "128M";
  CLI::App app{"bt86: runs 32-bit x86 operating systems by binary translation, without VT-x"};
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "boot a Linux bzImage or a multiboot v1 ELF32 kernel");
  run->add_option("--kernel", cfg.kernel, "the kernel file")->required();
  run->add_option("--mem", mem, "guest RAM size: bytes or with a K/M/G suffix (default 128M)");
  run->add_option("--append", cfg.append, "the kernel command line");
  run->add_option("--initrd", cfg.initrd,
                  "bzImage: the initial ramdisk; multiboot: modules, \"file arg,file2 arg\"");
  run->add_flag("--stats", cfg.stats, "print execution statistics at exit (stderr)");
  bool no_direct = false;
  run->add_flag("--no-direct", no_direct,
                "translate ring-3 code too, instead of running it directly on the CPU");
  monitor::TranslateArgs tr;
  CLI::App* translate = app.add_subcommand(
      "translate", "translate raw 32-bit code (ring 0, flat, paging off) and list the units");
  translate->add_option("file", tr.file, "the raw code")->required();
  translate->add_option("--at", tr.at, "the guest address of its first byte (e.g. 0x100000)")
      ->required();
  translate->add_flag("--absolute", tr.absolute,
                      "print host addresses (default: offsets, identical in every run)");
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "bt86: error: %s (see bt86 --help)\n", e.what());
    return monitor::kExitUsage;
  }
  if (*translate) return monitor::translate_tool(tr);
  try {
    auto bytes = monitor::parse_size(mem);
    if (!bytes) {
      std::fprintf(stderr, "bt86: error: --mem %s: not a size (use e.g. 64M or 1G)\n", mem.c_str());
      return monitor::kExitUsage;
    }
    cfg.mem_bytes = *bytes;
    cfg.direct = !no_direct;
    monitor::Machine m(cfg);
    return m.run();
  } catch (const monitor::LoadError& e) {
    std::fprintf(stderr, "bt86: error: %s\n", e.what());
    return monitor::kExitUsage;
  } catch (const shadowmmu::Error& e) {
    std::fprintf(stderr, "bt86: error: %s\n", e.what());
    return monitor::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bt86: internal error: %s\n", e.what());
    return 70;
  }
}
