// Ordered configuration files with last-one-wins lookup.
#include "config/config_sources.h"

namespace nwg::config {

Result<ConfigSources> ConfigSources::load(const std::vector<std::string>& paths) {
  ConfigSources sources;
  for (const auto& path : paths) {
    NWG_ASSIGN_OR_RETURN(IniFile file, IniFile::load(path));
    sources.add(std::move(file));
  }
  return sources;
}

std::optional<SourcedValue> ConfigSources::find(std::string_view section, std::string_view option) const {
  for (auto it = files_.rbegin(); it != files_.rend(); ++it) {
    if (const IniEntry* e = it->find(section, option)) {
      return SourcedValue{e->value, it->path(), it->sectionSpelling(section), std::string(option), e->line};
    }
  }
  return std::nullopt;
}

}  // namespace nwg::config
