// neutron-wireguard-agent's command line, oslo.config style:
//   --config-file PATH (repeatable, later files override earlier), --config-dir DIR (its *.conf, sorted),
//   --debug/-d, --dry-run, --once, --help/-h, --version.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::config {

struct ConfigLocation {
  enum class Kind { kFile, kDir };
  Kind kind = Kind::kFile;
  std::string path;
};

struct CommandLine {
  std::vector<ConfigLocation> config;  // in command-line order
  bool debug = false;
  bool dry_run = false;
  bool once = false;
  bool help = false;
  bool version = false;

  // Errors name the offending argument.
  static Result<CommandLine> parse(const std::vector<std::string>& args);
  static Result<CommandLine> parse(int argc, const char* const* argv);  // argv[0] is skipped

  static std::string usage(std::string_view program);
};

}  // namespace nwg::config
