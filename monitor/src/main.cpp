// bt86 command line: `bt86 run --kernel FILE [--initrd FILE] [--mem SIZE] [--append STR]
// [--cpu NAME] [--stats] [--no-direct] [--strict-memory] [--tc KEY=VALUE,...]`; `bt86 run --cpu
// help` lists the CPU models.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>

#include "cpu_option.h"
#include "interrupt_exit.h"
#include "load_error.h"
#include "machine.h"
#include "size_option.h"
#include "tc_option.h"
#include "translate_tool.h"

int main(int argc, char** argv) {
  monitor::Config cfg;
  std::string mem = "128M";
  CLI::App app{"bt86: runs 32-bit x86 operating systems by binary translation, without VT-x"};
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "boot a Linux bzImage or a multiboot v1 ELF32 kernel");
  run->add_option("--kernel", cfg.kernel, "the kernel file (required)");
  run->add_option("--mem", mem, "guest RAM size: bytes or with a K/M/G suffix (default 128M)");
  run->add_option("--append", cfg.append, "the kernel command line");
  run->add_option("--initrd", cfg.initrd,
                  "bzImage: the initial ramdisk; multiboot: modules, \"file arg,file2 arg\"");
  std::string cpu_name(cpu::default_cpu_model().name);
  run->add_option("--cpu", cpu_name,
                  "the CPU model the guest sees (default pentium3; `--cpu help` lists them)");
  std::string stats_format;
  run->add_flag("--stats{text}", stats_format,
                "print execution statistics at exit (stderr); --stats=json: one JSON document "
                "(docs/STATS.md)");
  std::string dump_range;
  auto& t = cfg.tools;
  run->add_option("--stats-file", t.stats_file, "with --stats=json: write it to this file");
  run->add_option("--stats-interval", t.stats_interval,
                  "with --stats=json: also a snapshot every SECONDS (JSON lines)");
  run->add_flag("--count-insns", t.count_insns,
                "count entries per translation unit: guest instructions executed by translated "
                "code and the hottest units in the statistics");
  run->add_option("--hottest", t.hottest, "units listed as hottest (default 20)");
  run->add_option("--dump-translations", t.dump_path,
                  "write every translation unit made (guest and host code) to this file, or a "
                  "file per unit into this directory");
  run->add_option("--dump-range", dump_range, "only units starting in FIRST-LAST (guest EIPs)");
  run->add_flag("--perf-map", t.perf_map,
                "write /tmp/perf-PID.map so perf can name translated guest code");
  run->add_option("--guest-symbols", t.guest_symbols,
                  "a System.map of the guest kernel, for --perf-map and --dump-translations names");
  bool no_direct = false;
  run->add_flag("--no-direct", no_direct,
                "translate ring-3 code too, instead of running it directly on the CPU");
  run->add_flag("--de-approve-maps,!--no-de-approve-maps", cfg.de_approve_maps,
                "direct execution: let the confined process map or unprotect guest RAM only as "
                "bt86 asked (guest user code that escaped to 64-bit code cannot reach pages its "
                "kernel hid; the default); costs a round trip per mapping call (SECURITY.md)");
  std::string tc_spec;
  run->add_option("--tc", tc_spec, monitor::kTcHelp);
  run->add_flag("--strict-memory", cfg.strict_memory,
                "stop the VM at a guest access to physical memory with neither RAM nor a device "
                "behind it (default: reads give all ones, writes vanish, as on a PC)");
  std::string lost_ticks = "delay";
  run->add_option("--lost-tick-policy", lost_ticks,
                  "PIT periods the guest could not take in time: delay (deliver each one late, "
                  "so its clock keeps time; the default) or discard (merge them into one, as a "
                  "PC's PIC does)")
      ->check(CLI::IsMember({"delay", "discard"}));
  monitor::TranslateArgs tr;
  CLI::App* translate = app.add_subcommand(
      "translate", "translate raw 32-bit code (ring 0, flat, paging off) and list the units");
  translate->add_option("file", tr.file, "the raw code")->required();
  translate->add_option("--at", tr.at, "the guest address of its first byte (e.g. 0x100000)")
      ->required();
  translate->add_flag("--absolute", tr.absolute,
                      "print host addresses (default: offsets, identical in every run)");
  translate->add_option("--tc", tr.tc,
                        "translation policy, as for bt86 run --tc (e.g. unit-max=, superblocks=)");
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
  if (cpu_name == "help") {
    monitor::print_cpu_models(stdout);
    return 0;
  }
  monitor::exit_on_interrupt();  // from here on, every phase ends with 130 on SIGINT/SIGTERM
  cfg.cpu_model = monitor::select_cpu_model(cpu_name);
  if (!cfg.cpu_model) return monitor::kExitUsage;
  if (cfg.kernel.empty()) {
    std::fprintf(stderr, "bt86: error: --kernel is required (see bt86 --help)\n");
    return monitor::kExitUsage;
  }
  try {
    auto bytes = monitor::parse_size(mem);
    if (!bytes) {
      std::fprintf(stderr, "bt86: error: --mem %s: not a size (use e.g. 64M or 1G)\n", mem.c_str());
      return monitor::kExitUsage;
    }
    cfg.mem_bytes = *bytes;
    if (!stats_format.empty()) {
      if (stats_format != "text" && stats_format != "json") {
        std::fprintf(stderr, "bt86: error: --stats=%s: use --stats or --stats=json\n",
                     stats_format.c_str());
        return monitor::kExitUsage;
      }
      cfg.stats = true;
      cfg.tools.stats_json = stats_format == "json";
    }
    if (!dump_range.empty() && !(cfg.tools.dump_range = monitor::parse_range(dump_range))) {
      std::fprintf(stderr, "bt86: error: --dump-range %s: use FIRST-LAST, e.g. 0x100000-0x1fffff\n",
                   dump_range.c_str());
      return monitor::kExitUsage;
    }
    monitor::TcPolicy tc;
    if (!tc_spec.empty()) monitor::parse_tc(tc_spec, tc);
    cfg.engine = tc.engine;
    if (no_direct && tc.translate_user == false) {
      std::fprintf(stderr, "bt86: error: --no-direct contradicts --tc translate-user=off\n");
      return monitor::kExitUsage;
    }
    cfg.direct = !no_direct && !tc.translate_user.value_or(false);
    cfg.lost_ticks = lost_ticks == "discard" ? devices::Pit8254::LostTicks::Discard
                                             : devices::Pit8254::LostTicks::Delay;
    monitor::Machine m(cfg);
    return m.run();
  } catch (const monitor::OptionError& e) {
    std::fprintf(stderr, "bt86: error: %s\n", e.what());
    return monitor::kExitUsage;
  } catch (const monitor::LoadError& e) {
    std::fprintf(stderr, "bt86: error: %s\n", e.what());
    return monitor::kExitUsage;
  } catch (const bt::CacheTooSmall& e) {
    std::fprintf(stderr, "bt86: error: --tc size: %s\n", e.what());
    return monitor::kExitUsage;
  } catch (const shadowmmu::Error& e) {
    std::fprintf(stderr, "bt86: error: %s\n", e.what());
    return monitor::kExitUsage;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bt86: internal error: %s\n", e.what());
    return 70;
  }
}
