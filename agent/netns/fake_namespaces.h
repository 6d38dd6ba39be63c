// FakeNamespaces: an in-memory Namespaces for unit tests, kept honest by the contract suite that runs
// against it and against LinuxNamespaces (netns/tests/namespaces_contract.h).
#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "netns/namespaces.h"

namespace nwg {

class FakeNamespaces : public Namespaces {
 public:
  FakeNamespaces();

  Result<std::vector<std::string>> list() override;
  Result<bool> exists(const std::string& name) override;
  Status create(const std::string& name) override;
  Status remove(const std::string& name) override;
  Status setSysctl(const std::string& netns, const std::string& key, const std::string& value) override;
  Result<std::string> sysctl(const std::string& netns, const std::string& key) override;

  // The sysctl keys a fresh namespace has, with their default values (the real kernel's).
  static const std::map<std::string, std::string>& defaultSysctls();

  // Test hooks: the next call of operation `op` ("create", "remove", "setSysctl", ...) fails with
  // `error`; and a count of mutating calls, to assert that something did nothing.
  void failNext(const std::string& op, Error error) { failures_[op] = std::move(error); }
  int mutations() const { return mutations_; }

 private:
  Status injected(const std::string& op);

  std::set<std::string> names_;
  std::map<std::pair<std::string, std::string>, std::string> sysctls_;  // (netns, key) -> value
  std::map<std::string, Error> failures_;
  int mutations_ = 0;
};

}  // namespace nwg
