// Each hub's identity, its private key and listen port, kept on disk so that an agent or host restart
// re-keys nothing and changes no port (spokes need no change). One wg(8)-style file per hub in
// state_path (directory 0700, files 0600, written atomically); the key never leaves this directory.
//
// The directory is the agent's alone (docs/security.md): it must be owned by the agent's user with no
// group or other permission bits, and is refused otherwise (someone may have read or planted keys).
// It is opened once and every file is reached relative to that descriptor (openat, O_NOFOLLOW, fstat),
// so a symlink or a renamed directory cannot redirect a key; a file that is not a regular file, not
// owned by the agent, or open to group or others is refused, never adopted (its hub stays down).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"
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

  // Creates the directory (0700) if needed, checks its owner and mode, and loads every identity. A
  // file that cannot be read or is refused is reported in `unreadable` (its hub must not be re-keyed
  // silently). Left-over temporary files of an interrupted write are removed.
  Status load();

  std::optional<HubIdentity> find(const std::string& port_id) const;
  // Writes atomically (temporary file, fsync, rename, fsync of the directory).
  Status put(const std::string& port_id, const HubIdentity& identity);
  // An absent file is success. The directory is synced, so the removal survives a crash.
  Status remove(const std::string& port_id);

  const std::map<std::string, HubIdentity>& all() const { return identities_; }
  const std::map<std::string, std::string>& unreadable() const { return unreadable_; }
  std::set<uint16_t> usedPorts() const;
  const std::string& directory() const { return dir_; }
  std::string pathOf(const std::string& port_id) const;

 private:
  Status requireLoaded() const;

  std::string dir_;
  UniqueFd dir_fd_;  // opened by load(); every file operation is relative to it
  std::map<std::string, HubIdentity> identities_;
  std::map<std::string, std::string> unreadable_;  // port ID -> why
};

}  // namespace nwg::reconcile
