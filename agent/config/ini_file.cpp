// oslo.config iniparser semantics (oslo_config/iniparser.py): a blank line or a new key ends a
// multi-line value; a line that starts with a space or tab continues the previous value; comments are
// only whole lines that start with '#' or ';' (no inline comments: "a = b # c" is the value "b # c").
#include "config/ini_file.h"

#include <cctype>
#include <cerrno>
#include <fstream>
#include <sstream>

namespace nwg::config {
namespace {

std::string_view rstrip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string_view lstrip(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  return s;
}

}  // namespace

std::string IniFile::normalizeSection(std::string_view section) {
  std::string out(section);
  if (out == "DEFAULT") return out;
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

Result<IniFile> IniFile::parse(std::string_view text, std::string path) {
  IniFile file;
  file.path_ = std::move(path);
  Section* section = nullptr;
  std::string key;  // the assignment being collected ("" when none)
  std::vector<std::string> value;
  int key_line = 0;
  int lineno = 0;

  auto where = [&](int line) { return str(file.path_, ":", line, ": "); };
  auto flush = [&]() {
    if (key.empty()) return;
    std::string joined;
    for (size_t i = 0; i < value.size(); ++i) {
      if (i) joined.push_back('\n');
      joined += value[i];
    }
    section->entries[key] = IniEntry{std::move(joined), key_line};
    key.clear();
    value.clear();
  };

  size_t pos = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string_view raw = text.substr(pos, nl - pos);
    pos = nl + 1;
    ++lineno;
    if (nl == text.size() && raw.empty()) break;

    const std::string_view line = rstrip(raw);
    if (line.empty()) {
      flush();
      continue;
    }
    if (line.front() == ' ' || line.front() == '\t') {
      if (key.empty())
        return Error(where(lineno) + "unexpected continuation line (indented, but no option before it)");
      value.emplace_back(lstrip(line));
      continue;
    }
    flush();
    if (line.front() == '[') {
      if (line.back() != ']') return Error(where(lineno) + "section header is missing its closing ']'");
      if (line.size() <= 2) return Error(where(lineno) + "empty section name '[]'");
      const std::string_view name = line.substr(1, line.size() - 2);
      const std::string norm = normalizeSection(name);
      auto [it, inserted] = file.sections_.try_emplace(norm);
      if (inserted) it->second.spelling = std::string(name);
      section = &it->second;
      continue;
    }
    if (line.front() == '#' || line.front() == ';') continue;

    // "key = value" or "key: value": split at whichever of '=' / ':' comes first.
    const size_t colon = line.find(':');
    const size_t equal = line.find('=');
    if (colon == std::string_view::npos && equal == std::string_view::npos) {
      return Error(where(lineno) + "not an option assignment (expected 'name = value')");
    }
    const size_t split =
        (colon == std::string_view::npos || (equal != std::string_view::npos && equal < colon)) ? equal
                                                                                                : colon;
    const std::string_view k = trim(line.substr(0, split));
    std::string_view v = trim(line.substr(split + 1));
    if (k.empty()) return Error(where(lineno) + "option assignment without a name");
    if (section == nullptr) {
      return Error(where(lineno) + str("option '", k, "' appears before any [section] header"));
    }
    if (v.size() >= 2 && v.front() == v.back() && (v.front() == '"' || v.front() == '\'')) {
      v = v.substr(1, v.size() - 2);
    }
    key = std::string(k);
    key_line = lineno;
    value.emplace_back(v);
  }
  flush();
  return file;
}

Result<IniFile> IniFile::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::fromErrno(errno, str("cannot read config file ", path));
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error::fromErrno(errno, str("cannot read config file ", path));
  return parse(text.str(), path);
}

const IniEntry* IniFile::find(std::string_view section, std::string_view key) const {
  auto s = sections_.find(normalizeSection(section));
  if (s == sections_.end()) return nullptr;
  auto e = s->second.entries.find(key);
  return e == s->second.entries.end() ? nullptr : &e->second;
}

std::string IniFile::sectionSpelling(std::string_view section) const {
  auto s = sections_.find(normalizeSection(section));
  return s == sections_.end() ? std::string(section) : s->second.spelling;
}

bool IniFile::hasSection(std::string_view section) const {
  return sections_.count(normalizeSection(section)) != 0;
}

}  // namespace nwg::config
