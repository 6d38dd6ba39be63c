// Command-line parsing for the agent (both "--opt value" and "--opt=value" forms, as argparse accepts).
#include "config/command_line.h"

namespace nwg::config {

Result<CommandLine> CommandLine::parse(const std::vector<std::string>& args) {
  CommandLine cl;
  for (size_t i = 0; i < args.size(); ++i) {
    std::string arg = args[i];
    std::string value;
    bool has_value = false;
    if (startsWith(arg, "--")) {
      if (const size_t eq = arg.find('='); eq != std::string::npos) {
        value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
        has_value = true;
      }
    }
    auto takeValue = [&]() -> Result<std::string> {
      if (has_value) {
        if (value.empty()) return fail("option ", arg, " needs a non-empty value");
        return value;
      }
      if (i + 1 >= args.size() || args[i + 1].empty()) return fail("option ", arg, " needs a value");
      return args[++i];
    };
    auto noValue = [&]() -> Status {
      if (has_value) return fail("option ", arg, " takes no value");
      return okStatus();
    };
    if (arg == "--config-file") {
      NWG_ASSIGN_OR_RETURN(std::string path, takeValue());
      cl.config.push_back({ConfigLocation::Kind::kFile, path});
    } else if (arg == "--config-dir") {
      NWG_ASSIGN_OR_RETURN(std::string path, takeValue());
      cl.config.push_back({ConfigLocation::Kind::kDir, path});
    } else if (arg == "--debug" || arg == "-d") {
      NWG_RETURN_IF_ERROR(noValue());
      cl.debug = true;
    } else if (arg == "--dry-run") {
      NWG_RETURN_IF_ERROR(noValue());
      cl.dry_run = true;
    } else if (arg == "--once") {
      NWG_RETURN_IF_ERROR(noValue());
      cl.once = true;
    } else if (arg == "--help" || arg == "-h") {
      NWG_RETURN_IF_ERROR(noValue());
      cl.help = true;
    } else if (arg == "--version") {
      NWG_RETURN_IF_ERROR(noValue());
      cl.version = true;
    } else {
      return fail("unknown argument '", args[i], "' (see --help)");
    }
  }
  return cl;
}

Result<CommandLine> CommandLine::parse(int argc, const char* const* argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) args.emplace_back(argv[i]);
  return parse(args);
}

std::string CommandLine::usage(std::string_view program) {
  return str(
      "usage: ", program,
      " [--config-file PATH]... [--config-dir DIR]... [--debug] [--dry-run] [--once] [--help] [--version]\n"
      "\n"
      "The WireGuard agent of networking-wireguard: realizes the WireGuard hub ports bound to this host.\n"
      "\n"
      "  --config-file PATH  read PATH (repeatable; later files override earlier ones), e.g.\n"
      "                      --config-file /etc/neutron/neutron.conf\n"
      "                      --config-file /etc/neutron/plugins/ml2/wireguard_agent.ini\n"
      "  --config-dir DIR    read every DIR/*.conf in sorted order, at this point of the list\n"
      "  --debug, -d         log at DEBUG level ([DEFAULT] debug = true)\n"
      "  --dry-run           log the operations a pass would perform and perform none\n"
      "                      ([wireguard] dry_run = true)\n"
      "  --once              run one full synchronisation and exit (0 when every hub was realized)\n"
      "  --help, -h          show this help\n"
      "  --version           print the version\n"
      "\n"
      "Without --config-file or --config-dir, /etc/neutron/neutron.conf and\n"
      "/etc/neutron/plugins/ml2/wireguard_agent.ini are read if they exist.\n"
      "Options: docs/configuration.md.\n");
}

}  // namespace nwg::config
