#include "util/strings.hpp"

#include <cmath>

#include <gtest/gtest.h>

namespace iwx::util {
namespace {

TEST(GlobMatch, matches_stars_and_question_marks) {
  EXPECT_TRUE(GlobMatch("Mains_*", "Mains_1"));
  EXPECT_TRUE(GlobMatch("Mains_*", "Mains_"));
  EXPECT_TRUE(GlobMatch("*_?", "SolarA_2"));
  EXPECT_TRUE(GlobMatch("*", ""));
  EXPECT_TRUE(GlobMatch("S*A*2", "SolarA_2"));
  EXPECT_FALSE(GlobMatch("Mains_*", "mains_1"));
  EXPECT_FALSE(GlobMatch("Solar?", "SolarA_1"));
  EXPECT_FALSE(GlobMatch("", "x"));
}

TEST(UrlEncode, encodes_reserved_characters) {
  EXPECT_EQ(UrlEncode("[time.utc.unix,Mains]"), "%5Btime.utc.unix%2CMains%5D");
  EXPECT_EQ(UrlEncode("s+1h x"), "s%2B1h%20x");
  EXPECT_EQ(UrlEncode("a-b_c.d~e"), "a-b_c.d~e");
}

TEST(FormatDouble, gives_shortest_round_trip_text) {
  EXPECT_EQ(FormatDouble(0.1), "0.1");
  EXPECT_EQ(FormatDouble(1234.5), "1234.5");
  EXPECT_EQ(FormatDouble(3.6e6), "3600000");
  EXPECT_EQ(FormatDouble(std::nan("")), "NaN");
  EXPECT_EQ(FormatDouble(-HUGE_VAL), "-Inf");
}

}  // namespace
}  // namespace iwx::util
