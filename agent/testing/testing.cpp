#include "testing/testing.h"

#include <unistd.h>

#include <cstdlib>
#include <random>

namespace nwg::testing {

bool requireAll() { return env("NWG_TEST_REQUIRE_ALL") == "1"; }

bool isRoot() { return geteuid() == 0; }

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

const std::string& runToken() {
  static const std::string token = [] {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::string t;
    for (int i = 0; i < 6; ++i) t += alphabet[rd() % (sizeof alphabet - 1)];
    return t;
  }();
  return token;
}

}  // namespace nwg::testing
