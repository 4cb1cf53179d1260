#include "util/md5.hpp"

#include <gtest/gtest.h>

namespace iwx::util {
namespace {

TEST(Md5Hex, matches_rfc1321_test_vectors) {
  EXPECT_EQ(Md5Hex(""), "d41d8cd98f00b204e9800998ecf8427e");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  EXPECT_EQ(Md5Hex("message digest"), "f96b697d7cb7938d525a2f31aaf161d0");
}

}  // namespace
}  // namespace iwx::util
