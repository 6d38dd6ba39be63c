// The configuration files of one agent run, in command-line order: later files override earlier ones
// (oslo.config's rule), so a value is looked up from the last file backwards.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "config/ini_file.h"

namespace nwg::config {

// Where a value came from, so an error can name the file, section and option.
struct SourcedValue {
  std::string value;
  std::string file;
  std::string section;  // as the file spells it
  std::string option;   // the name found (possibly a deprecated name)
  int line = 0;
};

class ConfigSources {
 public:
  ConfigSources() = default;
  explicit ConfigSources(std::vector<IniFile> files) : files_(std::move(files)) {}

  // Reads and parses each file; the first unreadable or malformed file is the error.
  static Result<ConfigSources> load(const std::vector<std::string>& paths);

  void add(IniFile file) { files_.push_back(std::move(file)); }
  const std::vector<IniFile>& files() const { return files_; }

  // The value of `option` in `section` from the last file that sets it.
  std::optional<SourcedValue> find(std::string_view section, std::string_view option) const;

 private:
  std::vector<IniFile> files_;
};

}  // namespace nwg::config
