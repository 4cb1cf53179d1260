#include <gtest/gtest.h>
#include <zlib.h>

#include "backfill/backfill.hpp"
#include "backfill/encoder.hpp"
#include "backfill/planner.hpp"
#include "backfill/vm_client.hpp"

namespace iwx::backfill {
namespace {

using namespace std::chrono_literals;

std::string Gunzip(const std::string& data) {
  z_stream stream{};
  inflateInit2(&stream, 15 + 16);
  std::string out(1 << 20, '\0');
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  stream.avail_in = static_cast<uInt>(data.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  inflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  inflateEnd(&stream);
  return out;
}

TEST(ParseTime, accepts_rfc3339_utc_and_epoch_seconds) {
  EXPECT_EQ(ParseTime("2026-01-02T03:04:00Z", "--from"), 1767323040);
  EXPECT_EQ(ParseTime("1767323040", "--from"), 1767323040);
  EXPECT_EQ(FormatTime(1767323040), "2026-01-02T03:04:00Z");
  EXPECT_EQ(FormatTime(951782400), "2000-02-29T00:00:00Z");
}

TEST(ParseTime, names_the_flag_and_the_forms_it_accepts) {
  try {
    ParseTime("2026-01-02 03:04", "--to");
    ADD_FAILURE() << "no error";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "--to: invalid time \"2026-01-02 03:04\"; expected RFC 3339 in UTC such as "
                 "2026-01-02T03:04:00Z or Unix epoch seconds such as 1767322800");
  }
  EXPECT_THROW(ParseTime("2026-13-02T03:04:00Z", "--from"), std::invalid_argument);
  EXPECT_THROW(ParseTime("2026-01-02T03:04:00+01:00", "--from"), std::invalid_argument);
}

TEST(SplitIntoWindows, aligns_to_utc_days) {
  const auto windows = SplitIntoWindows({kDaySeconds - 120, 2 * kDaySeconds + 60}, kDaySeconds);

  ASSERT_EQ(windows.size(), 3u);
  EXPECT_EQ(windows[0], (Span{kDaySeconds - 120, kDaySeconds}));
  EXPECT_EQ(windows[1], (Span{kDaySeconds, 2 * kDaySeconds}));
  EXPECT_EQ(windows[2], (Span{2 * kDaySeconds, 2 * kDaySeconds + 60}));
}

TEST(MissingSpans, joins_gaps_closer_than_the_merge_distance) {
  std::vector<bool> present(30, true);
  present[2] = present[3] = false;  // 2..4
  present[6] = false;               // joined with the above: 2 present minutes between
  present[20] = false;

  EXPECT_EQ(MissingSpans(600, present, 3),
            (std::vector<Span>{{600 + 120, 600 + 420}, {600 + 1200, 600 + 1260}}));
  EXPECT_TRUE(MissingSpans(0, std::vector<bool>(5, true), 3).empty());
}

TEST(PauseAfter, keeps_the_device_busy_at_most_its_share) {
  EXPECT_EQ(PauseAfter(800ms, 0.5), 800ms);
  EXPECT_EQ(PauseAfter(1000ms, 0.25), 3000ms);
  EXPECT_EQ(PauseAfter(1000ms, 1.0), 0ms);
}

TEST(Backoff, doubles_up_to_the_cap_and_resets) {
  Backoff backoff(100ms, 1s);
  EXPECT_EQ(backoff.Next(), 100ms);
  EXPECT_EQ(backoff.Next(), 200ms);
  EXPECT_EQ(backoff.Next(), 400ms);
  EXPECT_EQ(backoff.Next(), 800ms);
  EXPECT_EQ(backoff.Next(), 1s);
  EXPECT_EQ(backoff.Next(), 1s);
  backoff.Reset();
  EXPECT_EQ(backoff.Next(), 100ms);
}

TEST(EstimatePlan, counts_pages_per_window_and_paces_the_duration) {
  const auto plan = EstimatePlan({0, 2 * kDaySeconds}, kDaySeconds, 1000, 10, 0.001, 0.5);

  EXPECT_EQ(plan.minutes, 2880);
  EXPECT_EQ(plan.requests, 2 * 2 + 1);
  EXPECT_EQ(plan.rows, 2880);
  EXPECT_EQ(plan.samples, 28800);
  EXPECT_EQ(plan.duration, 6s);
}

TEST(ClassifyVmStatus, retries_outages_and_overload_only) {
  EXPECT_EQ(ClassifyVmStatus(204), VmAnswer::kAccepted);
  EXPECT_EQ(ClassifyVmStatus(0), VmAnswer::kRetry);
  EXPECT_EQ(ClassifyVmStatus(429), VmAnswer::kRetry);
  EXPECT_EQ(ClassifyVmStatus(503), VmAnswer::kRetry);
  EXPECT_EQ(ClassifyVmStatus(400), VmAnswer::kRefused);
  EXPECT_EQ(ClassifyVmStatus(401), VmAnswer::kRefused);
}

TEST(ParseRetention, reads_victoriametrics_units) {
  EXPECT_EQ(ParseRetention("1"), std::chrono::seconds(31 * kDaySeconds));
  EXPECT_EQ(ParseRetention("100y"), std::chrono::seconds(36500 * kDaySeconds));
  EXPECT_EQ(ParseRetention("2w"), std::chrono::seconds(14 * kDaySeconds));
  EXPECT_EQ(ParseRetention("12h"), std::chrono::seconds(12 * 3600));
  EXPECT_EQ(ParseRetention("x"), std::nullopt);
}

TEST(EncodeJsonLines, writes_one_line_per_series_with_shortest_numbers) {
  Batch batch;
  batch.series.push_back({kPowerMetric,
                          {{"device", "iw\"5"}, {"channel", "Mains_1"}},
                          {1767323040000, 1767323100000},
                          {1000.0000000200001, 0.1}});
  batch.series.push_back({kDerivedMetric, {{"name", "load"}}, {}, {}});

  EXPECT_EQ(EncodeJsonLines(batch),
            "{\"metric\":{\"__name__\":\"iotawatt_power_watts\",\"device\":\"iw\\\"5\","
            "\"channel\":\"Mains_1\"},\"values\":[1000.0000000200001,0.1],"
            "\"timestamps\":[1767323040000,1767323100000]}\n");
  EXPECT_EQ(batch.samples(), 2u);
}

TEST(Gzip, round_trips) {
  const std::string text(100000, 'x');
  EXPECT_EQ(Gunzip(Gzip(text)), text);
}

}  // namespace
}  // namespace iwx::backfill
