#include "util/duration.hpp"

#include <stdexcept>

#include <gtest/gtest.h>

namespace iwx::util {
namespace {

using std::chrono::milliseconds;

TEST(ParseDuration, accepts_single_and_compound_units) {
  EXPECT_EQ(ParseDuration("500ms"), milliseconds{500});
  EXPECT_EQ(ParseDuration("10s"), milliseconds{10'000});
  EXPECT_EQ(ParseDuration("5m"), milliseconds{300'000});
  EXPECT_EQ(ParseDuration("1h30m"), milliseconds{5'400'000});
  EXPECT_EQ(ParseDuration("2d"), milliseconds{172'800'000});
  EXPECT_EQ(ParseDuration("1w"), milliseconds{604'800'000});
}

TEST(ParseDuration, rejects_missing_unit_sign_and_garbage) {
  for (const char* text : {"", "10", "-5s", "5 s", "s", "1.5s", "10x", "1h30"}) {
    EXPECT_THROW(ParseDuration(text), std::invalid_argument) << text;
  }
}

TEST(ParseDuration, error_quotes_the_value_and_the_expected_form) {
  try {
    ParseDuration("10x");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "invalid duration \"10x\": expected a number followed by a unit "
                 "(ms, s, m, h, d, w), for example \"10s\" or \"1h30m\"");
  }
}

TEST(FormatDuration, round_trips_through_parse) {
  for (const char* text : {"0s", "250ms", "10s", "1m30s", "2h", "1d2h3m4s5ms"}) {
    EXPECT_EQ(FormatDuration(ParseDuration(text)), text);
  }
}

}  // namespace
}  // namespace iwx::util
