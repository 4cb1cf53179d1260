#include <cmath>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "simulator/number_format.hpp"
#include "simulator/script.hpp"
#include "test_support.hpp"

namespace iwx::sim {
namespace {

using testing::kNow;

class QueryTest : public ::testing::Test {
 protected:
  QueryTest() : clock_(Clock::Fixed(kNow * 1000)), model_(testing::SmallUnit(), clock_) {}

  QueryResponse Run(QueryArgs args) const { return RunQuery(model_, args); }

  std::string Error(QueryArgs args) const {
    const QueryResponse response = Run(std::move(args));
    EXPECT_EQ(response.status, 400);
    EXPECT_EQ(response.content_type, "text/plain");
    return response.body;
  }

  std::shared_ptr<Clock> clock_;
  UnitModel model_;
};

TEST_F(QueryTest, show_series_lists_inputs_then_outputs) {
  const QueryResponse response = Run({{"show", "Series"}});
  EXPECT_EQ(response.content_type, "application/json");
  EXPECT_EQ(response.body,
            "{\"series\":[{\"name\":\"Voltage\",\"unit\":\"Volts\"},{\"name\":\"Load\",\"unit\":"
            "\"Watts\"},{\"name\":\"Solar\",\"unit\":\"Watts\"},{\"name\":\"Mains\",\"unit\":"
            "\"Watts\"},{\"name\":\"Total\",\"unit\":\"Watts\"},{\"name\":\"TotalPF\",\"unit\":"
            "\"PF\"}]}");
}

// The captured case: begin=s-1h at hh:mm:20 with group=5m gives 13 rows, a 280-s first
// group and a 20-s last group.
TEST_F(QueryTest, five_minute_groups_align_like_the_capture) {
  const QueryResponse response = Run({{"select", "[time.utc.unix,Load.wh.d4]"},
                                      {"begin", "s-1h"},
                                      {"end", "s"},
                                      {"group", "5m"},
                                      {"header", "yes"}});
  ASSERT_EQ(response.status, 200);
  const std::string crlf_data = "],\r\n\"data\":";
  ASSERT_NE(response.body.find(crlf_data), std::string::npos);
  const auto json = nlohmann::json::parse(response.body);
  EXPECT_EQ(json["range"], nlohmann::json::array({kNow - 3600, kNow}));
  EXPECT_EQ(json["labels"], nlohmann::json::array({"Time", "Load"}));
  const auto& data = json["data"];
  ASSERT_EQ(data.size(), 13u);
  EXPECT_EQ(data[0][0], kNow - 3600);
  EXPECT_EQ(data[1][0].get<int64_t>() - data[0][0].get<int64_t>(), 280);
  EXPECT_EQ(kNow - data[12][0].get<int64_t>(), 20);

  double truth_wh = 0;
  for (int64_t t = kNow - 20; t < kNow; t += 5) {
    truth_wh += *model_.TruthValue(1, t) * 5 / 3600;
  }
  EXPECT_NEAR(data[12][1].get<double>(), truth_wh, 1e-4);
}

TEST_F(QueryTest, query_averages_equal_generator_averages) {
  const int64_t begin = kNow - 2 * 3600 - kNow % 60;
  const QueryResponse response = Run({{"select", "[Voltage.volts.d6,Load.watts.d6,Solar.d6]"},
                                      {"begin", std::to_string(begin)},
                                      {"end", std::to_string(begin + 3600)},
                                      {"group", "15m"}});
  const auto data = nlohmann::json::parse(response.body);
  ASSERT_EQ(data.size(), 4u);
  for (size_t row = 0; row < 4; ++row) {
    for (size_t input = 0; input < 3; ++input) {
      double sum = 0;
      const int64_t start = begin + static_cast<int64_t>(row) * 900;
      for (int64_t t = start; t < start + 900; t += 5) {
        sum += *model_.TruthValue(input, t);
      }
      EXPECT_NEAR(data[row][input].get<double>(), sum / 180, 2e-6) << row << "/" << input;
    }
  }
}

TEST_F(QueryTest, default_decimals_and_trailing_zero_stripping) {
  EXPECT_EQ(FormatQueryValue(333.0, 1), "333");
  EXPECT_EQ(FormatQueryValue(0.5, 2), "0.5");
  EXPECT_EQ(FormatQueryValue(0, 3), "0");
  EXPECT_EQ(FormatQueryValue(-0.01, 1), "-0");
  EXPECT_EQ(FormatQueryValue(1234567.891, 2), "1234567.89");
  EXPECT_EQ(FormatQueryValue(1e12, 1), "1000000000000");
  EXPECT_EQ(FormatQueryValue(NAN, 1), "0");

  const auto data = nlohmann::json::parse(
      Run({{"select", "[Load.wh,Load.pf,Voltage.hz,Load.watts,Load.watts.d3,Load.wh.d2]"},
           {"begin", "s-1h"},
           {"end", "s"},
           {"group", "all"}})
          .body);
  const auto& row = data[0];
  EXPECT_EQ(row[0].get<double>(), std::round(row[0].get<double>()));              // wh: 0
  EXPECT_EQ(row[1].get<double>() * 10, std::round(row[1].get<double>() * 10));    // pf: 1
  EXPECT_EQ(row[2].get<double>() * 100, std::round(row[2].get<double>() * 100));  // hz: 2
  EXPECT_NEAR(row[3].get<double>(), row[4].get<double>(), 0.05);
  EXPECT_NEAR(row[0].get<double>(), row[5].get<double>(), 0.5);
}

TEST_F(QueryTest, csv_uses_comma_space_and_crlf_without_final_newline) {
  const std::string body = Run({{"select", "[time.utc,Load.d0]"},
                                {"begin", std::to_string(kNow - 15)},
                                {"end", std::to_string(kNow)},
                                {"group", "5s"},
                                {"format", "CSV"},
                                {"header", "yes"}})
                               .body;
  EXPECT_EQ(body.rfind("Time, Load\r\n2024-11-10T20:11:05, ", 0), 0u) << body;
  EXPECT_EQ(std::count(body.begin(), body.end(), '\n'), 3);
  EXPECT_NE(body.back(), '\n');
}

TEST_F(QueryTest, local_time_labels_and_shifted_unix) {
  const auto data =
      nlohmann::json::parse(Run({{"select", "[time,time.unix,time.utc.unix,time.utc.iso]"},
                                 {"begin", std::to_string(kNow - 5)},
                                 {"end", std::to_string(kNow)},
                                 {"group", "5s"}})
                                .body);
  EXPECT_EQ(data[0][0], "2024-11-10T15:11:15");
  EXPECT_EQ(data[0][1], kNow - 5 - 300 * 60);
  EXPECT_EQ(data[0][2], kNow - 5);
  EXPECT_EQ(data[0][3], "2024-11-10T20:11:15");
}

class OutageQueryTest : public QueryTest {
 protected:
  OutageQueryTest() : outage_model_(WithOutage(), clock_) {}

  static UnitSpec WithOutage() {
    UnitSpec spec = testing::SmallUnit();
    spec.outages = {{kNow - 3600 - kNow % 60, kNow - 1800 - kNow % 60}};
    return spec;
  }

  std::string Rows(const std::string& missing) const {
    const int64_t begin = kNow - 5400 - kNow % 60;
    QueryArgs args{{"select", "[time.utc.unix,Load]"},
                   {"begin", std::to_string(begin)},
                   {"end", std::to_string(begin + 3600 * 3 / 2)},
                   {"group", "15m"}};
    if (!missing.empty()) {
      args.emplace("missing", missing);
    }
    return RunQuery(outage_model_, args).body;
  }

  UnitModel outage_model_;
};

TEST_F(OutageQueryTest, missing_rows_are_null_zero_or_skipped) {
  const int64_t begin = kNow - 5400 - kNow % 60;
  const std::string missing_row_null = "[" + std::to_string(begin + 1800) + ",null]";
  const std::string missing_row_zero = "[" + std::to_string(begin + 1800) + ",0]";
  EXPECT_NE(Rows("").find(missing_row_null), std::string::npos) << Rows("");
  EXPECT_NE(Rows("ZERO").find(missing_row_zero), std::string::npos) << Rows("ZERO");
  const auto skipped = nlohmann::json::parse(Rows("skip"));
  EXPECT_EQ(skipped.size(), 4u);
  EXPECT_NE(Rows("other").find("[" + std::to_string(begin + 1800) + ",]"), std::string::npos);
}

TEST_F(OutageQueryTest, future_and_pre_log_rows_are_missing) {
  const auto data = nlohmann::json::parse(
      RunQuery(outage_model_,
               {{"select", "[Load]"}, {"begin", "s"}, {"end", "s+10m"}, {"group", "5m"}})
          .body);
  EXPECT_EQ(data, nlohmann::json::parse("[[null],[null],[null]]"));
}

TEST_F(QueryTest, limit_markers_in_json_header_and_csv_only) {
  const int64_t minute = kNow - kNow % 60;
  const std::string begin = std::to_string(minute - 600);
  const std::string end = std::to_string(minute);
  QueryArgs args{{"select", "[time.utc.unix,Load]"},
                 {"begin", begin},
                 {"end", end},
                 {"group", "1m"},
                 {"limit", "3"}};
  const std::string plain = Run(args).body;
  EXPECT_EQ(nlohmann::json::parse(plain).size(), 3u);
  EXPECT_EQ(plain.find("limit"), std::string::npos);

  args.emplace("header", "yes");
  const std::string with_header = Run(args).body;
  const std::string marker = ",\"limit\":" + std::to_string(minute - 600 + 180) + "}";
  EXPECT_EQ(with_header.substr(with_header.size() - marker.size()), marker);

  args.emplace("format", "csv");
  const std::string csv = Run(args).body;
  const std::string csv_marker = "\r\nLimit exceeded at " + std::to_string(minute - 600 + 180);
  EXPECT_EQ(csv.substr(csv.size() - csv_marker.size()), csv_marker);
}

TEST_F(QueryTest, no_limit_marker_when_the_last_row_reaches_end) {
  const int64_t minute = kNow - kNow % 60;
  const std::string body = Run({{"select", "[Load]"},
                                {"begin", std::to_string(minute - 180)},
                                {"end", std::to_string(minute)},
                                {"group", "1m"},
                                {"limit", "3"},
                                {"header", "yes"}})
                               .body;
  EXPECT_EQ(body.find("limit"), std::string::npos);
  EXPECT_EQ(body.back(), '}');
}

TEST_F(QueryTest, second_groups_below_five_truncate_the_output) {
  const std::string body = Run({{"select", "[time.utc.unix,Load]"},
                                {"begin", std::to_string(kNow - 60)},
                                {"end", std::to_string(kNow)},
                                {"group", "3s"}})
                               .body;
  EXPECT_EQ(body, "[[" + std::to_string(kNow - 60) + ",null]");
  const std::string seven = Run({{"select", "[time.utc.unix]"},
                                 {"begin", std::to_string(kNow - 20)},
                                 {"end", std::to_string(kNow)},
                                 {"group", "7s"},
                                 {"header", "yes"}})
                                .body;
  EXPECT_EQ(seven.back(), '}');
}

TEST_F(QueryTest, seven_second_groups_step_by_five_in_the_current_log) {
  const auto data = nlohmann::json::parse(Run({{"select", "[time.utc.unix,Load]"},
                                               {"begin", std::to_string(kNow - 20)},
                                               {"end", std::to_string(kNow)},
                                               {"group", "7s"}})
                                              .body);
  ASSERT_EQ(data.size(), 4u);
  EXPECT_EQ(data[1][0], kNow - 15);
}

TEST(QueryLogs, minute_data_older_than_the_current_log_comes_from_history) {
  auto clock = Clock::Fixed(kNow * 1000);
  UnitSpec spec = testing::SmallUnit();
  spec.current_log_days = 2;
  UnitModel model(spec, clock);
  const int64_t old = kNow - 5 * 86400 - kNow % 60;
  // Minute groups work there, and a begin that is not minute-aligned is relabelled.
  const auto minutes =
      nlohmann::json::parse(testing::Query(model, {{"select", "[time.utc.unix,Load]"},
                                                   {"begin", std::to_string(old + 20)},
                                                   {"end", std::to_string(old + 300)},
                                                   {"group", "1m"}}));
  ASSERT_EQ(minutes.size(), 5u);
  EXPECT_EQ(minutes[0][0], old);
  EXPECT_FALSE(minutes[1][1].is_null());
  // 5-s groups stall on the 60-s history log.
  const std::string seconds = testing::Query(model, {{"select", "[time.utc.unix,Load]"},
                                                     {"begin", std::to_string(old)},
                                                     {"end", std::to_string(old + 300)},
                                                     {"group", "5s"}});
  EXPECT_EQ(seconds, "[[" + std::to_string(old) + ",null]");
}

TEST_F(QueryTest, errors_have_exact_reasons_and_order) {
  const std::string prefix = "{\"error\":\"invalid query. ";
  EXPECT_EQ(Error({{"select", "[Load]"}, {"begin", "s"}}),
            prefix + "Missing begin, end or group.\"}");
  EXPECT_EQ(Error({{"select", "[Load]"}, {"begin", "x"}, {"end", "s"}, {"group", "zz"}}),
            prefix + "unspecified\"}");
  EXPECT_EQ(Error({{"select", "[Load]"}, {"begin", "s"}, {"end", "s-1h"}, {"group", "5"}}),
            prefix + "unspecified\"}");
  EXPECT_EQ(Error({{"select", "[Bad]"},
                   {"begin", "s-1h"},
                   {"end", "s"},
                   {"group", "7"},
                   {"resolution", "mid"}}),
            prefix + "Invalid resolution\"}");
  EXPECT_EQ(Error({{"select", "[Bad]"},
                   {"begin", "s-1h"},
                   {"end", "s"},
                   {"group", "7"},
                   {"format", "xml"}}),
            prefix + "Invalid group\"}");
  EXPECT_EQ(Error({{"select", "[Bad]"},
                   {"begin", "s-1h"},
                   {"end", "s"},
                   {"group", "5m"},
                   {"format", "xml"},
                   {"limit", "0"}}),
            prefix + "Invalid format\"}");
  EXPECT_EQ(
      Error(
          {{"select", "Bad"}, {"begin", "s-1h"}, {"end", "s"}, {"group", "5m"}, {"limit", "abc"}}),
      prefix + "Invalid limit\"}");
  EXPECT_EQ(Error({{"select", "Load"}, {"begin", "s-1h"}, {"end", "s"}, {"group", "5m"}}),
            prefix + "select not an array []\"}");
  EXPECT_EQ(Error({{"select", "[Load.kwh,Bad]"}, {"begin", "s-1h"}, {"end", "s"}, {"group", "5m"}}),
            prefix + "Invalid series method: kwh\"}");
  EXPECT_EQ(Error({{"select", "[Bad,Load.kwh]"}, {"begin", "s-1h"}, {"end", "s"}, {"group", "5m"}}),
            prefix + "Invalid series: Bad\"}");
  EXPECT_EQ(Error({{"select", "[time.gmt]"}, {"begin", "s-1h"}, {"end", "s"}, {"group", "5m"}}),
            prefix + "invalid time method: gmt\"}");
  EXPECT_EQ(Error({{"select", "[Load.d10]"}, {"begin", "s-1h"}, {"end", "s"}, {"group", "5m"}}),
            prefix + "unspecified\"}");
  EXPECT_EQ(Error({{"show", "inputs"}}), prefix + "unspecified\"}");
  EXPECT_EQ(Error({}), prefix + "unspecified\"}");
}

TEST_F(QueryTest, group_parsing_quirks) {
  auto rows = [this](const std::string& group) {
    return nlohmann::json::parse(Run({{"select", "[time.utc.unix]"},
                                      {"begin", std::to_string(kNow - 3600)},
                                      {"end", std::to_string(kNow)},
                                      {"group", group}})
                                     .body)
        .size();
  };
  EXPECT_EQ(rows("5min"), 720u);  // the last character decides: five seconds
  EXPECT_EQ(rows("0m"), 61u);     // forced to 1m; the first group is shortened
  EXPECT_EQ(rows("auto"), 360u);  // 3600/400 = 9 -> 10 s
  EXPECT_EQ(rows("all"), 1u);
  EXPECT_EQ(rows("h"), 2u);  // UTC hours: hh:11:20 -> hh+1:00 -> end
}

TEST_F(QueryTest, calendar_groups_use_local_midnight) {
  const auto data = nlohmann::json::parse(
      Run({{"select", "[time,time.utc.unix]"}, {"begin", "d-2d"}, {"end", "d"}, {"group", "d"}})
          .body);
  ASSERT_EQ(data.size(), 2u);
  EXPECT_EQ(data[0][0], "2024-11-08T00:00:00");
  EXPECT_EQ(data[1][1].get<int64_t>() - data[0][1].get<int64_t>(), 86400);
}

TEST(TimeSpecifier, unix_iso_and_relative_forms) {
  const int tz = -300;
  EXPECT_EQ(ParseTimeSpecifier("1700000000", kNow, tz), 1700000000);
  EXPECT_EQ(ParseTimeSpecifier("1700000000123", kNow, tz), 1700000000);
  EXPECT_EQ(ParseTimeSpecifier("170000000", kNow, tz), 0);
  EXPECT_EQ(ParseTimeSpecifier("2024-03-05Z", kNow, tz), 1709596800);
  EXPECT_EQ(ParseTimeSpecifier("2024-03-05", kNow, tz), 1709596800 + 5 * 3600);
  EXPECT_EQ(ParseTimeSpecifier("2024-03-05T10:20:30Z", kNow, tz), 1709634030);
  EXPECT_EQ(ParseTimeSpecifier("2024-3-5T10:20Z", kNow, tz), 1709634000);
  EXPECT_EQ(ParseTimeSpecifier("2024-03Z", kNow, tz), 1711929600);     // read as April 1
  EXPECT_EQ(ParseTimeSpecifier("2024-02-30Z", kNow, tz), 1709251200);  // March 1
  EXPECT_EQ(ParseTimeSpecifier("2024-03-05 10:20", kNow, tz), 0);
  EXPECT_EQ(ParseTimeSpecifier("2024-03-05T10:20+01:00", kNow, tz), 0);
  EXPECT_EQ(ParseTimeSpecifier("1999-01-01", kNow, tz), 0);
  EXPECT_EQ(ParseTimeSpecifier("s", kNow, tz), kNow);
  EXPECT_EQ(ParseTimeSpecifier("s-7s", kNow, tz), kNow - 5);
  EXPECT_EQ(ParseTimeSpecifier("m", kNow, tz), kNow - 20);
  EXPECT_EQ(ParseTimeSpecifier("h 1h", kNow, tz), kNow - 20 - 11 * 60 + 3600);
  EXPECT_EQ(ParseTimeSpecifier("d", kNow, tz), 1731214800);  // local midnight, UTC-5
  EXPECT_EQ(ParseTimeSpecifier("w", kNow, tz), 1731214800);  // 2024-11-10 is a Sunday
  EXPECT_EQ(ParseTimeSpecifier("d-0d", kNow, tz), 0);
  EXPECT_EQ(ParseTimeSpecifier("q", kNow, tz), 0);
}

TEST(Script, evaluates_left_to_right_without_precedence) {
  auto value_of = [](int input) { return static_cast<double>(input); };
  EXPECT_EQ(Script::Parse("@1+@2*#2").Evaluate(value_of), 6);
  EXPECT_EQ(Script::Parse("@1+(@2*#2)").Evaluate(value_of), 5);
  EXPECT_EQ(Script::Parse("(@1-@3)|").Evaluate(value_of), 2);
  EXPECT_EQ(Script::Parse("@4<@2").Evaluate(value_of), 2);
  EXPECT_EQ(Script::Parse("@4>@2").Evaluate(value_of), 4);
  EXPECT_EQ(Script::Parse("@4/@0").Evaluate(value_of), 0);
  EXPECT_THROW(Script::Parse("@1+"), std::runtime_error);
  EXPECT_THROW(Script::Parse("@1 x"), std::runtime_error);
}

TEST_F(QueryTest, outputs_follow_their_scripts) {
  const auto data = nlohmann::json::parse(
      Run({{"select", "[Load.d4,Mains.d4,Total.d4,TotalPF.pf.d4,Load.va.d4,Mains.va.d4]"},
           {"begin", "s-10m"},
           {"end", "s"},
           {"group", "all"}})
          .body);
  const auto& row = data[0];
  EXPECT_NEAR(row[2].get<double>(), row[0].get<double>() + row[1].get<double>(), 2e-4);
  EXPECT_NEAR(row[3].get<double>(),
              row[2].get<double>() / (row[4].get<double>() + row[5].get<double>()), 2e-4);
}

}  // namespace
}  // namespace iwx::sim
