// OptionReader: lookup with deprecated names, template substitution, typed validation with errors
// naming file, section and option.
#include "config/option_reader.h"

#include <cassert>
#include <cctype>

namespace nwg::config {
namespace {

constexpr int kMaxSubstitutionDepth = 8;

bool sameGroup(std::string_view a, std::string_view b) {
  return IniFile::normalizeSection(a) == IniFile::normalizeSection(b);
}

// string.Template's idpattern in oslo.config: [_a-z][._a-z0-9]* (case-insensitive).
bool isIdStart(char c) {
  return c == '_' || std::isalpha(static_cast<unsigned char>(c));
}
bool isIdChar(char c) {
  return c == '_' || c == '.' || std::isalnum(static_cast<unsigned char>(c));
}

}  // namespace

OptionReader::OptionReader(const ConfigSources& sources, std::vector<OptionSpec> options)
    : sources_(sources), options_(std::move(options)) {}

const OptionSpec& OptionReader::spec(std::string_view group, std::string_view name) const {
  for (const auto& o : options_) {
    if (o.name == name && sameGroup(o.group, group)) return o;
  }
  assert(false && "option read without being registered");
  static const OptionSpec kNone;
  return kNone;
}

Error OptionReader::valueError(const SourcedValue& where, std::string_view cause) {
  if (where.file.empty())
    return fail("built-in default of [", where.section, "] ", where.option, ": ", cause);
  return fail(where.file, ": [", where.section, "] ", where.option, ": ", cause);
}

std::optional<SourcedValue> OptionReader::findInFiles(const OptionSpec& spec) const {
  if (auto v = sources_.find(spec.group, spec.name)) return v;
  for (const auto& [group, name] : spec.deprecated) {
    if (auto v = sources_.find(group, name)) return v;
  }
  return std::nullopt;
}

Result<std::string> OptionReader::lookupForSubstitution(const SourcedValue& where, std::string_view group,
                                                        std::string_view key, bool secret, int depth) const {
  // oslo: "group.option" names a group; a plain name is looked up in the option's own group, then in
  // DEFAULT. Options we do not register (e.g. neutron's [DEFAULT] state_path) come from the files.
  std::vector<std::pair<std::string, std::string>> candidates;
  const size_t dot = key.find('.');
  if (dot != std::string_view::npos) {
    candidates.emplace_back(std::string(key.substr(0, dot)), std::string(key.substr(dot + 1)));
  } else {
    candidates.emplace_back(std::string(group), std::string(key));
  }
  candidates.emplace_back("DEFAULT", std::string(key));
  for (const auto& [g, n] : candidates) {
    const OptionSpec* registered = nullptr;
    for (const auto& o : options_) {
      if (o.name == n && sameGroup(o.group, g)) registered = &o;
    }
    std::optional<SourcedValue> found = registered ? findInFiles(*registered) : sources_.find(g, n);
    if (found) return substitute(*found, found->value, g, registered && registered->secret, depth + 1);
    if (registered) return registered->default_value;
  }
  if (secret) {
    return valueError(where,
                      "contains a '$' that does not name a known option; write '$$' for a literal '$'");
  }
  return valueError(where, str("'$", key, "' does not name a known option; write '$$' for a literal '$'"));
}

Result<std::string> OptionReader::substitute(const SourcedValue& where, const std::string& value,
                                             std::string_view group, bool secret, int depth) const {
  if (value.find('$') == std::string::npos) return value;
  if (depth > kMaxSubstitutionDepth)
    return valueError(where, "option references form a loop ($a refers to $b refers to $a)");
  std::string out;
  for (size_t i = 0; i < value.size(); ++i) {
    const char c = value[i];
    if (c == '\\' && i + 1 < value.size() && value[i + 1] == '$') {  // oslo treats "\$" like "$$"
      out.push_back('$');
      ++i;
      continue;
    }
    if (c != '$') {
      out.push_back(c);
      continue;
    }
    if (i + 1 < value.size() && value[i + 1] == '$') {
      out.push_back('$');
      ++i;
      continue;
    }
    size_t start = i + 1;
    size_t end = start;
    bool braced = false;
    if (start < value.size() && value[start] == '{') {
      braced = true;
      ++start;
      end = start;
    }
    if (end < value.size() && isIdStart(value[end])) {
      ++end;
      while (end < value.size() && isIdChar(value[end])) ++end;
    }
    if (end == start || (braced && (end >= value.size() || value[end] != '}'))) {
      out.push_back('$');  // safe_substitute leaves what is not a placeholder as it is
      continue;
    }
    NWG_ASSIGN_OR_RETURN(std::string sub, lookupForSubstitution(
                                              where, group, value.substr(start, end - start), secret, depth));
    out += sub;
    i = braced ? end : end - 1;
  }
  return out;
}

Result<std::optional<SourcedValue>> OptionReader::raw(std::string_view group, std::string_view name) const {
  const OptionSpec& s = spec(group, name);
  std::optional<SourcedValue> found = findInFiles(s);
  if (!found) return std::optional<SourcedValue>();
  NWG_ASSIGN_OR_RETURN(found->value, substitute(*found, found->value, s.group, s.secret, 0));
  return found;
}

namespace {

// The value to parse: from a file, or the registered default (reported as a built-in default).
SourcedValue valueOrDefault(const std::optional<SourcedValue>& found, const OptionSpec& spec) {
  if (found) return *found;
  return SourcedValue{spec.default_value, "", spec.group, spec.name, 0};
}

}  // namespace

Result<std::string> OptionReader::getString(std::string_view group, std::string_view name) const {
  NWG_ASSIGN_OR_RETURN(auto found, raw(group, name));
  return valueOrDefault(found, spec(group, name)).value;
}

Result<bool> OptionReader::getBool(std::string_view group, std::string_view name) const {
  NWG_ASSIGN_OR_RETURN(auto found, raw(group, name));
  const SourcedValue v = valueOrDefault(found, spec(group, name));
  auto b = parseBool(v.value);
  if (!b.ok()) return valueError(v, b.error().message);
  return *b;
}

Result<int64_t> OptionReader::getInt(std::string_view group, std::string_view name, int64_t min,
                                     int64_t max) const {
  NWG_ASSIGN_OR_RETURN(auto found, raw(group, name));
  const SourcedValue v = valueOrDefault(found, spec(group, name));
  auto i = parseInt(v.value);
  if (!i.ok()) return valueError(v, i.error().message);
  if (*i < min || *i > max) return valueError(v, str(*i, " is out of range (", min, "..", max, ")"));
  return *i;
}

Result<double> OptionReader::getFloat(std::string_view group, std::string_view name, double min,
                                      double max) const {
  NWG_ASSIGN_OR_RETURN(auto found, raw(group, name));
  const SourcedValue v = valueOrDefault(found, spec(group, name));
  auto d = parseFloat(v.value);
  if (!d.ok()) return valueError(v, d.error().message);
  if (*d < min || *d > max) return valueError(v, str(*d, " is out of range (", min, "..", max, ")"));
  return *d;
}

Result<std::vector<std::string>> OptionReader::getList(std::string_view group, std::string_view name) const {
  NWG_ASSIGN_OR_RETURN(auto found, raw(group, name));
  return parseList(valueOrDefault(found, spec(group, name)).value);
}

Result<std::string> OptionReader::getChoice(std::string_view group, std::string_view name,
                                            const std::vector<std::string>& choices) const {
  NWG_ASSIGN_OR_RETURN(auto found, raw(group, name));
  const SourcedValue v = valueOrDefault(found, spec(group, name));
  for (const auto& c : choices) {
    if (v.value == c) return v.value;
  }
  return valueError(v, str("'", v.value, "' is not one of: ", join(choices, ", ")));
}

}  // namespace nwg::config
