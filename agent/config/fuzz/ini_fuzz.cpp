// Fuzzes the INI parser and the option reader on arbitrary file contents: no crash, no hang, and every
// error names the file.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config/agent_config.h"
#include "config/ini_file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto file = nwg::config::IniFile::parse(text, "fuzz.ini");
  if (!file.ok()) {
    if (file.error().message.rfind("fuzz.ini:", 0) != 0) std::abort();
    return 0;
  }
  nwg::config::ConfigSources sources;
  sources.add(std::move(file).value());
  auto config = nwg::config::AgentConfig::fromSources(sources, "fuzz-host");
  if (!config.ok() && config.error().message.empty()) std::abort();
  return 0;
}
