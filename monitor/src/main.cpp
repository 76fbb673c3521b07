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

namespace {

// `bt86 run`'s options as typed, before they become a monitor::Config.
struct RunArgs {
  monitor::Config cfg;
  std::string mem = "128M";
  std::string cpu_name{cpu::default_cpu_model().name};
  std::string stats_format, dump_range, tc_spec;
  std::string lost_ticks = "delay";
  bool no_direct = false;
};

void add_guest_options(CLI::App* run, RunArgs& r) {
  run->add_option("--kernel", r.cfg.kernel, "the kernel file (required)");
  run->add_option("--mem", r.mem, "guest RAM size: bytes or with a K/M/G suffix (default 128M)");
  run->add_option("--append", r.cfg.append, "the kernel command line");
  run->add_option("--initrd", r.cfg.initrd,
                  "bzImage: the initial ramdisk; multiboot: modules, \"file arg,file2 arg\"");
  run->add_option("--cpu", r.cpu_name,
                  "the CPU model the guest sees (default pentium3; `--cpu help` lists them)");
}

void add_tool_options(CLI::App* run, RunArgs& r) {
  auto& t = r.cfg.tools;
  run->add_flag("--stats{text}", r.stats_format,
                "print execution statistics at exit (stderr); --stats=json: one JSON document "
                "(docs/STATS.md)");
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
  run->add_option("--dump-range", r.dump_range, "only units starting in FIRST-LAST (guest EIPs)");
  run->add_flag("--perf-map", t.perf_map,
                "write /tmp/perf-PID.map so perf can name translated guest code");
  run->add_option("--guest-symbols", t.guest_symbols,
                  "a System.map of the guest kernel, for --perf-map and --dump-translations names");
}

void add_machine_options(CLI::App* run, RunArgs& r) {
  run->add_flag("--no-direct", r.no_direct,
                "translate ring-3 code too, instead of running it directly on the CPU");
  run->add_flag("--de-approve-maps,!--no-de-approve-maps", r.cfg.de_approve_maps,
                "direct execution: let the confined process map or unprotect guest RAM only as "
                "bt86 asked (guest user code that escaped to 64-bit code cannot reach pages its "
                "kernel hid; the default); costs a round trip per mapping call (SECURITY.md)");
  run->add_option("--tc", r.tc_spec, monitor::kTcHelp);
  run->add_flag("--strict-memory", r.cfg.strict_memory,
                "stop the VM at a guest access to physical memory with neither RAM nor a device "
                "behind it (default: reads give all ones, writes vanish, as on a PC)");
  run->add_option("--lost-tick-policy", r.lost_ticks,
                  "PIT periods the guest could not take in time: delay (deliver each one late, "
                  "so its clock keeps time; the default) or discard (merge them into one, as a "
                  "PC's PIC does)")
      ->check(CLI::IsMember({"delay", "discard"}));
}

void add_translate_options(CLI::App* translate, monitor::TranslateArgs& tr) {
  translate->add_option("file", tr.file, "the raw code")->required();
  translate->add_option("--at", tr.at, "the guest address of its first byte (e.g. 0x100000)")
      ->required();
  translate->add_flag("--absolute", tr.absolute,
                      "print host addresses (default: offsets, identical in every run)");
  translate->add_option("--tc", tr.tc,
                        "translation policy, as for bt86 run --tc (e.g. unit-max=, superblocks=)");
}

// The typed options into r.cfg; a bad one throws monitor::OptionError with its message.
void finish_config(RunArgs& r) {
  monitor::Config& cfg = r.cfg;
  auto bytes = monitor::parse_size(r.mem);
  if (!bytes)
    throw monitor::OptionError(fmt::format("--mem {}: not a size (use e.g. 64M or 1G)", r.mem));
  cfg.mem_bytes = *bytes;
  if (!r.stats_format.empty()) {
    if (r.stats_format != "text" && r.stats_format != "json")
      throw monitor::OptionError(
          fmt::format("--stats={}: use --stats or --stats=json", r.stats_format));
    cfg.stats = true;
    cfg.tools.stats_json = r.stats_format == "json";
  }
  if (!r.dump_range.empty() && !(cfg.tools.dump_range = monitor::parse_range(r.dump_range)))
    throw monitor::OptionError(
        fmt::format("--dump-range {}: use FIRST-LAST, e.g. 0x100000-0x1fffff", r.dump_range));
  monitor::TcPolicy tc;
  if (!r.tc_spec.empty()) monitor::parse_tc(r.tc_spec, tc);
  cfg.engine = tc.engine;
  if (r.no_direct && tc.translate_user == false)
    throw monitor::OptionError("--no-direct contradicts --tc translate-user=off");
  cfg.direct = !r.no_direct && !tc.translate_user.value_or(false);
  cfg.lost_ticks = r.lost_ticks == "discard" ? devices::Pit8254::LostTicks::Discard
                                             : devices::Pit8254::LostTicks::Delay;
}

// Builds the machine and runs it; every error becomes one line and an exit status.
int run_machine(RunArgs& r) {
  try {
    finish_config(r);
    monitor::Machine m(r.cfg);
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

}  // namespace

int main(int argc, char** argv) {
  RunArgs r;
  CLI::App app{"bt86: runs 32-bit x86 operating systems by binary translation, without VT-x"};
  app.require_subcommand(1);
  CLI::App* run = app.add_subcommand("run", "boot a Linux bzImage or a multiboot v1 ELF32 kernel");
  add_guest_options(run, r);
  add_tool_options(run, r);
  add_machine_options(run, r);
  monitor::TranslateArgs tr;
  CLI::App* translate = app.add_subcommand(
      "translate", "translate raw 32-bit code (ring 0, flat, paging off) and list the units");
  add_translate_options(translate, tr);
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
  if (r.cpu_name == "help") {
    monitor::print_cpu_models(stdout);
    return 0;
  }
  monitor::exit_on_interrupt();  // from here on, every phase ends with 130 on SIGINT/SIGTERM
  r.cfg.cpu_model = monitor::select_cpu_model(r.cpu_name);
  if (!r.cfg.cpu_model) return monitor::kExitUsage;
  if (r.cfg.kernel.empty()) {
    std::fprintf(stderr, "bt86: error: --kernel is required (see bt86 --help)\n");
    return monitor::kExitUsage;
  }
  return run_machine(r);
}
