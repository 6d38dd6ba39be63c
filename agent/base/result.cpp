#include "base/result.h"

#include <cstring>

namespace nwg {

Error Error::fromErrno(int err, std::string_view what) {
  return Error(str(what, ": ", std::strerror(err)), err);
}

Error Error::context(std::string_view prefix) const& {
  return Error(str(prefix, ": ", message), code);
}

Error Error::context(std::string_view prefix) && {
  message = str(prefix, ": ", message);
  return std::move(*this);
}

}  // namespace nwg
