// Typed, validated reads of registered options from ConfigSources, with oslo.config's rules: deprecated
// names and groups, "$option"/"${group.option}" substitution ("$$" or "\$" for a literal '$'), and errors
// that name the file, section and option: "/etc/neutron/x.ini: [AGENT] report_interval: 'abc' is not a
// number". The value of a secret option (transport_url) never appears in an error.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "config/config_sources.h"
#include "config/option_types.h"

namespace nwg::config {

struct OptionSpec {
  std::string group;  // as oslo registers it: "DEFAULT", "AGENT", "wireguard", "oslo_messaging_rabbit"
  std::string name;
  std::string default_value;  // the default as text (for substitution into other options)
  // (group, name) pairs oslo also reads, in order, when the option itself is not set.
  std::vector<std::pair<std::string, std::string>> deprecated = {};
  bool secret = false;
};

class OptionReader {
 public:
  // `options` are every registered option; substitution may refer to any of them.
  OptionReader(const ConfigSources& sources, std::vector<OptionSpec> options);

  // The option's value after substitution, with where it came from; nullopt when no file sets it.
  Result<std::optional<SourcedValue>> raw(std::string_view group, std::string_view name) const;

  Result<std::string> getString(std::string_view group, std::string_view name) const;
  Result<bool> getBool(std::string_view group, std::string_view name) const;
  Result<int64_t> getInt(std::string_view group, std::string_view name, int64_t min, int64_t max) const;
  Result<double> getFloat(std::string_view group, std::string_view name, double min, double max) const;
  Result<std::vector<std::string>> getList(std::string_view group, std::string_view name) const;
  // One of `choices` (exact spelling, as oslo's choices= are).
  Result<std::string> getChoice(std::string_view group, std::string_view name,
                                const std::vector<std::string>& choices) const;

  // An error about a value from a file: "<file>: [<section>] <option>: <cause>" (the value is not shown
  // for secret options; callers build `cause` without the value for those).
  static Error valueError(const SourcedValue& where, std::string_view cause);

  const OptionSpec& spec(std::string_view group, std::string_view name) const;

 private:
  Result<std::string> substitute(const SourcedValue& where, const std::string& value, std::string_view group,
                                 bool secret, int depth) const;
  Result<std::string> lookupForSubstitution(const SourcedValue& where, std::string_view group,
                                            std::string_view key, bool secret, int depth) const;
  std::optional<SourcedValue> findInFiles(const OptionSpec& spec) const;

  const ConfigSources& sources_;
  std::vector<OptionSpec> options_;
};

}  // namespace nwg::config
