// Each hub's identity, its private key and listen port, kept on disk so that an agent or host restart
// re-keys nothing and changes no port (spokes need no change). One wg(8)-style file per hub in
// state_path (directory 0700, files 0600, written atomically); the key never leaves this directory.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/result.h"
#include "keys/key.h"

namespace nwg::reconcile {

struct HubIdentity {
  Key private_key;
  uint16_t listen_port = 0;
  bool operator==(const HubIdentity&) const = default;
};

// The file's text: a wg(8) [Interface] section (`wg setconf` reads it) with a comment naming the port.
std::string formatIdentityFile(const std::string& port_id, const HubIdentity& identity);
Result<HubIdentity> parseIdentityFile(std::string_view text);

// The lowest port of [first, last] not in `taken`, or nothing when the range is full.
std::optional<uint16_t> allocateListenPort(uint16_t first, uint16_t last, const std::set<uint16_t>& taken);

class IdentityStore {
 public:
  explicit IdentityStore(std::string directory) : dir_(std::move(directory)) {}

  // Creates the directory (0700) if needed, tightens loose permissions, and loads every identity.
  // A file that cannot be read is reported in `unreadable` (its hub must not be re-keyed silently).
  Status load();

  std::optional<HubIdentity> find(const std::string& port_id) const;
  // Writes atomically (temporary file, fsync, rename, fsync of the directory).
  Status put(const std::string& port_id, const HubIdentity& identity);
  // An absent file is success.
  Status remove(const std::string& port_id);

  const std::map<std::string, HubIdentity>& all() const { return identities_; }
  const std::map<std::string, std::string>& unreadable() const { return unreadable_; }
  std::set<uint16_t> usedPorts() const;
  const std::string& directory() const { return dir_; }
  std::string pathOf(const std::string& port_id) const;

 private:
  std::string dir_;
  std::map<std::string, HubIdentity> identities_;
  std::map<std::string, std::string> unreadable_;  // port ID -> why
};

}  // namespace nwg::reconcile
