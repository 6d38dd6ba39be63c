#include "base/result.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace nwg {
namespace {

Result<int> half(int v) {
  if (v % 2) return fail(v, " is odd");
  return v / 2;
}

Result<int> quarter(int v) {
  NWG_ASSIGN_OR_RETURN(int h, half(v));
  return half(h);
}

Status checkEven(int v) {
  NWG_RETURN_IF_ERROR(half(v));
  return okStatus();
}

TEST(Result, CarriesValueOrError) {
  EXPECT_EQ(*quarter(8), 2);
  auto r = quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "3 is odd");
  EXPECT_TRUE(checkEven(2).ok());
  EXPECT_EQ(checkEven(3).error().message, "3 is odd");
}

TEST(Error, ContextAndErrno) {
  Error e = Error::fromErrno(ENODEV, "get wg-x").context("hub 1234");
  EXPECT_EQ(e.code, ENODEV);
  EXPECT_EQ(e.message, "hub 1234: get wg-x: No such device");
}

}  // namespace
}  // namespace nwg
