// One configuration file parsed the way oslo.config's iniparser reads it: sections, "key = value" or
// "key: value", '#'/';' comment lines, indented continuation lines, quoted values unquoted. Pure: the
// parser takes text, so every rule is unit-tested without files.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace nwg::config {

struct IniEntry {
  std::string value;  // continuation lines joined with '\n', as oslo joins them
  int line = 0;       // where the assignment starts
};

class IniFile {
 public:
  // Errors name the file and line: "<path>:<line>: <what is wrong>".
  static Result<IniFile> parse(std::string_view text, std::string path);
  static Result<IniFile> load(const std::string& path);

  const std::string& path() const { return path_; }

  // The last assignment of `key` in `section`. Section names match as oslo.config matches groups:
  // "DEFAULT" exactly, every other name case-insensitively ([AGENT] is [agent]).
  const IniEntry* find(std::string_view section, std::string_view key) const;
  // The section's name as the file spells it (its first spelling), for messages.
  std::string sectionSpelling(std::string_view section) const;
  bool hasSection(std::string_view section) const;

  // oslo.config's group name normalization.
  static std::string normalizeSection(std::string_view section);

 private:
  struct Section {
    std::string spelling;
    std::map<std::string, IniEntry, std::less<>> entries;
  };
  std::string path_;
  std::map<std::string, Section, std::less<>> sections_;
};

}  // namespace nwg::config
