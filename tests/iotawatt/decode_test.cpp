#include "iotawatt/decode.hpp"

#include <functional>
#include <sstream>

#include <gtest/gtest.h>

#include "fixtures.hpp"

namespace iwx::iotawatt {
namespace {

using testing::ReadFixture;

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// The message of the DecodeError that `decode` throws, or a note that it threw none.
std::string DecodeErrorOf(const std::function<void()>& decode) {
  try {
    decode();
  } catch (const DecodeError& error) {
    return error.what();
  }
  return "(no DecodeError thrown)";
}

std::string StatusError(const std::string& body) {
  return DecodeErrorOf([&] { DecodeStatus(body); });
}

std::string QueryError(const std::string& body, size_t columns) {
  return DecodeErrorOf([&] { DecodeQueryPage(body, columns); });
}

// ---- /status -------------------------------------------------------------------------

TEST(DecodeStatus, device_section_from_captured_answer) {
  const StatusReport report = DecodeStatus(ReadFixture("jeedom-status-device.json"));

  ASSERT_TRUE(report.device.has_value());
  EXPECT_EQ(report.device->name, "IotaWatt");
  EXPECT_EQ(report.device->timediff_minutes, 60);
  EXPECT_FALSE(report.device->allow_dst);
  EXPECT_EQ(report.device->update, "ALPHA");
  EXPECT_FALSE(report.stats.has_value());
  EXPECT_FALSE(report.inputs.has_value());
}

TEST(DecodeStatus, stats_section_maps_stack_to_free_heap) {
  const StatusReport report = DecodeStatus(ReadFixture("jeedom-status-stats.json"));

  ASSERT_TRUE(report.stats.has_value());
  EXPECT_DOUBLE_EQ(report.stats->cyclerate, 771.7698);
  EXPECT_DOUBLE_EQ(report.stats->chanrate, 33.36037);
  EXPECT_EQ(report.stats->starttime, 1677953821);
  EXPECT_EQ(report.stats->currenttime, 1678092109);
  EXPECT_EQ(report.stats->runseconds, 138288);
  EXPECT_EQ(report.stats->free_heap_bytes, 25048);
  EXPECT_EQ(report.stats->version, "02_08_02");
  EXPECT_DOUBLE_EQ(report.stats->frequency_hz, 50.0487);
  EXPECT_FALSE(report.stats->low_battery);
}

TEST(DecodeStatus, inputs_decode_padded_watts_strings_and_reversed_flags) {
  const StatusReport report = DecodeStatus(ReadFixture("jeedom-status-inputs.json"));

  ASSERT_TRUE(report.inputs.has_value());
  const std::vector<InputStatus>& inputs = *report.inputs;
  ASSERT_EQ(inputs.size(), 15u);

  EXPECT_EQ(inputs[0].channel, 0);
  EXPECT_DOUBLE_EQ(inputs[0].vrms.value(), 239.4988);
  EXPECT_DOUBLE_EQ(inputs[0].hz.value(), 50.04351);
  EXPECT_FALSE(inputs[0].watts.has_value());
  EXPECT_FALSE(inputs[0].pf.has_value());

  EXPECT_EQ(inputs[1].channel, 1);
  EXPECT_DOUBLE_EQ(inputs[1].watts.value(), 6);
  EXPECT_DOUBLE_EQ(inputs[1].pf.value(), 0.44705);
  EXPECT_TRUE(inputs[1].reversed);
  EXPECT_FALSE(inputs[1].vrms.has_value());

  EXPECT_DOUBLE_EQ(inputs[3].watts.value(), 0);
  EXPECT_FALSE(inputs[3].reversed);
  EXPECT_DOUBLE_EQ(inputs[6].watts.value(), 5);
  EXPECT_FALSE(inputs[6].reversed);
  EXPECT_DOUBLE_EQ(inputs[11].watts.value(), 677);
  EXPECT_TRUE(inputs[11].reversed);
  EXPECT_EQ(inputs[14].channel, 14);
  EXPECT_DOUBLE_EQ(inputs[14].watts.value(), 3);
}

TEST(DecodeStatus, outputs_datalogs_and_wifi_sections) {
  const StatusReport outputs = DecodeStatus(ReadFixture("jeedom-status-outputs.json"));
  ASSERT_TRUE(outputs.outputs.has_value());
  ASSERT_EQ(outputs.outputs->size(), 2u);
  EXPECT_EQ((*outputs.outputs)[0].name, "PuissanceTotale");
  EXPECT_EQ((*outputs.outputs)[0].units, "Watts");
  EXPECT_DOUBLE_EQ((*outputs.outputs)[0].value, 874.2493);
  EXPECT_EQ((*outputs.outputs)[1].units, "Volts");

  const StatusReport logs = DecodeStatus(ReadFixture("jeedom-status-datalogs.json"));
  const DatalogInfo* history = logs.FindLog("History");
  ASSERT_NE(history, nullptr);
  EXPECT_EQ(history->firstkey, 1677770520);
  EXPECT_EQ(history->lastkey, 1678092060);
  EXPECT_EQ(history->size, 1372160);
  EXPECT_EQ(history->interval, 60);
  ASSERT_NE(logs.FindLog("Current"), nullptr);
  EXPECT_EQ(logs.FindLog("Current")->interval, 5);
  EXPECT_EQ(logs.FindLog("grid"), nullptr);

  const StatusReport wifi = DecodeStatus(ReadFixture("jeedom-status-wifi.json"));
  ASSERT_TRUE(wifi.wifi.has_value());
  EXPECT_EQ(wifi.wifi->connecttime, 3);
  EXPECT_DOUBLE_EQ(wifi.wifi->rssi.value(), -44);
  EXPECT_EQ(wifi.wifi->ssid, "Livebox-3756");
  EXPECT_EQ(wifi.wifi->ip, "192.168.0.91");
  EXPECT_EQ(wifi.wifi->mac, "3C:61:05:FA:C6:F7");
}

TEST(DecodeStatus, sections_it_does_not_know_are_ignored) {
  const StatusReport report = DecodeStatus(ReadFixture("jeedom-status-passwords.json"));

  EXPECT_FALSE(report.device || report.stats || report.inputs || report.outputs ||
               report.datalogs || report.wifi);
}

TEST(DecodeStatus, both_uploader_forms_are_ignored) {
  std::istringstream lines(ReadFixture("jeedom-status-uploaders-not-running.jsonl"));
  std::string line;
  int decoded = 0;
  while (std::getline(lines, line)) {
    EXPECT_NO_THROW(DecodeStatus(line)) << line;
    ++decoded;
  }
  EXPECT_EQ(decoded, 4);

  const StatusReport report = DecodeStatus(
      R"({"stats":{"version":"02_09_00"},"uploaders":[{"id":"influxDB","status":"running",)"
      R"("lastpost":1717086390},{"id":"PVoutput","status":"stopped","message":"x"}]})");
  ASSERT_TRUE(report.stats.has_value());
  EXPECT_EQ(report.stats->version, "02_09_00");
}

TEST(DecodeStatus, edited_capture_with_numeric_watts_and_pretty_printing) {
  const StatusReport report = DecodeStatus(ReadFixture("openhab-status-02_08_03.json"));

  EXPECT_FALSE(report.device.has_value());
  ASSERT_TRUE(report.stats.has_value());
  EXPECT_EQ(report.stats->version, "02_08_03");
  ASSERT_TRUE(report.inputs.has_value());
  ASSERT_EQ(report.inputs->size(), 2u);
  EXPECT_DOUBLE_EQ((*report.inputs)[0].vrms.value(), 254.2972);
  EXPECT_DOUBLE_EQ((*report.inputs)[1].watts.value(), 1.42);
  ASSERT_TRUE(report.outputs.has_value());
  EXPECT_TRUE(report.outputs->empty());
  ASSERT_NE(report.FindLog("Current"), nullptr);
  EXPECT_EQ(report.FindLog("Current")->lastkey, 1708126540);
  ASSERT_TRUE(report.wifi.has_value());
  EXPECT_EQ(report.wifi->connecttime, 1707993027);
}

TEST(DecodeStatus, negative_watts_and_numbers_in_exponent_form) {
  const StatusReport report = DecodeStatus(
      R"({"stats":{"cyclerate":6.405e2,"starttime":1.717e9,"stack":2.152e4,)"
      R"("frequency":5.998012e1},)"
      R"("inputs":[{"channel":3,"Watts":"-842","Pf":-0.970211,"phase":1.5,"lastphase":1.46}],)"
      R"("wifi":{"connecttime":0}})");

  EXPECT_DOUBLE_EQ(report.stats->cyclerate, 640.5);
  EXPECT_EQ(report.stats->starttime, 1717000000);
  EXPECT_EQ(report.stats->free_heap_bytes, 21520);
  EXPECT_DOUBLE_EQ(report.stats->frequency_hz, 59.98012);
  EXPECT_DOUBLE_EQ((*report.inputs)[0].watts.value(), -842);
  EXPECT_DOUBLE_EQ((*report.inputs)[0].pf.value(), -0.970211);
  EXPECT_FALSE((*report.inputs)[0].reversed);
  EXPECT_EQ(report.wifi->connecttime, 0);
  EXPECT_FALSE(report.wifi->rssi.has_value());
  EXPECT_EQ(report.wifi->ssid, "");
}

TEST(DecodeStatus, garbage_watts_string_names_channel_and_value) {
  const std::string message =
      StatusError(R"({"inputs":[{"channel":0},{"channel":1,"Watts":"n/a"}]})");

  EXPECT_EQ(message,
            "/status: inputs[1].Watts is \"n/a\"; expected a number in a string such as \" 6\" or "
            "\"-842\"");
}

TEST(DecodeStatus, truncated_body_is_a_decode_error_quoting_the_body) {
  const std::string message = StatusError(R"({"stats":{"cyclerate":771.7698,"chanr)");

  EXPECT_PRED2(Contains, message,
               "/status: body is not valid JSON (parse error at line 1, column ");
  EXPECT_PRED2(Contains, message, "expected a JSON object of status sections");
  EXPECT_PRED2(Contains, message, R"(body starts with "{"stats":{"cyclerate":771.7698,"chanr")");
}

TEST(DecodeStatus, html_and_garbage_bodies_are_decode_errors) {
  const std::string html =
      StatusError("<!DOCTYPE html>\r\n<html><body>Captive portal login</body></html>");
  EXPECT_PRED2(Contains, html, "/status: body is not valid JSON");
  EXPECT_PRED2(Contains, html, R"(body starts with "<!DOCTYPE html>\r\n<html>)");

  EXPECT_PRED2(Contains, StatusError(std::string("\x00\xff\x13garbage", 10)), "not valid JSON");
  EXPECT_PRED2(Contains, StatusError(""), "not valid JSON");
}

TEST(DecodeStatus, wrong_shapes_name_the_section_and_the_expectation) {
  EXPECT_EQ(StatusError("[1,2]"), "/status: body is [1,2]; expected a JSON object");
  EXPECT_EQ(StatusError(R"({"stats":[]})"), "/status: stats is []; expected a JSON object");
  EXPECT_EQ(StatusError(R"({"inputs":{"channel":0}})"),
            R"(/status: inputs is {"channel":0}; expected a JSON array)");
  EXPECT_EQ(StatusError(R"({"stats":{"runseconds":"12"}})"),
            R"(/status: stats.runseconds is "12"; expected a number)");
  EXPECT_EQ(StatusError(R"({"datalogs":[{"firstkey":1}]})"),
            R"(/status: datalogs[0].id is absent in {"firstkey":1}; expected a string)");
}

// ---- /query?show=series --------------------------------------------------------------

TEST(DecodeSeriesList, inputs_then_outputs_with_units) {
  const std::vector<SeriesInfo> series = DecodeSeriesList(
      R"({"series":[{"name":"Voltage","unit":"Volts"},{"name":"Main_A","unit":"Watts"},)"
      R"({"name":"MainsPF","unit":"PF"}]})");

  ASSERT_EQ(series.size(), 3u);
  EXPECT_EQ(series[0].name, "Voltage");
  EXPECT_EQ(series[0].unit, "Volts");
  EXPECT_EQ(series[2].name, "MainsPF");
  EXPECT_EQ(series[2].unit, "PF");
}

TEST(DecodeSeriesList, malformed_lists_are_decode_errors) {
  const auto error = [](const std::string& body) {
    return DecodeErrorOf([&] { DecodeSeriesList(body); });
  };

  EXPECT_EQ(error(R"({"series":{}})"), "/query?show=series: series is {}; expected a JSON array");
  EXPECT_EQ(
      error(R"({"series":[{"name":"Main_A"}]})"),
      R"(/query?show=series: series[0].unit is absent in {"name":"Main_A"}; expected a string)");
  // The firmware's invalid JSON when no input is configured.
  EXPECT_PRED2(Contains, error(R"({"series":[[{"name":"Total","unit":"Watts"}]})"),
               "/query?show=series: body is not valid JSON");
}

// ---- /query?select -------------------------------------------------------------------

TEST(DecodeQueryPage, captured_page_in_device_form_with_time_column) {
  const std::string body = ReadFixture("sivann-query-select-5m-header-with-time.compact.json");
  ASSERT_PRED2(Contains, body, "],\r\n\"data\":[[");

  const QueryPage page = DecodeQueryPage(body, 23);

  EXPECT_EQ(page.range_begin, 1731265880);
  EXPECT_EQ(page.range_end, 1731269480);
  ASSERT_EQ(page.labels.size(), 24u);
  EXPECT_EQ(page.labels[0], "Time");
  EXPECT_EQ(page.labels[1], "R");
  EXPECT_EQ(page.labels[23], "Input_0");
  ASSERT_EQ(page.rows.size(), 13u);
  EXPECT_FALSE(page.continuation.has_value());

  const QueryRow& first = page.rows.front();
  EXPECT_EQ(first.time, 1731265880);
  ASSERT_EQ(first.values.size(), 23u);
  EXPECT_DOUBLE_EQ(first.values[0].value(), 23.2);
  EXPECT_DOUBLE_EQ(first.values[6].value(), 68.7);
  EXPECT_DOUBLE_EQ(first.values[14].value(), 20);
  EXPECT_FALSE(first.missing());

  const QueryRow& last = page.rows.back();
  EXPECT_EQ(last.time, 1731269460);
  EXPECT_DOUBLE_EQ(last.values[12].value(), 0);
  EXPECT_DOUBLE_EQ(last.values[22].value(), 236.6);
  EXPECT_EQ(page.rows[1].time, 1731266160);
}

TEST(DecodeQueryPage, captured_page_without_time_column_asks_for_it) {
  const std::string body = ReadFixture("sivann-query-select-5m-header.compact.json");

  EXPECT_EQ(QueryError(body, 22),
            "/query?select: data[0][0] is 23.2; expected an integer epoch (select time.utc.unix "
            "first)");
  EXPECT_PRED2(Contains, QueryError(body, 23),
               "/query?select: labels has 23 entries [\"R\",\"S\",\"T\",");
  EXPECT_PRED2(Contains, QueryError(body, 23),
               "; expected 24 (the time column and 23 requested columns)");
}

TEST(DecodeQueryPage, null_values_and_missing_rows) {
  const QueryPage page = DecodeQueryPage(
      "{\"range\":[1700000000,1700000015],\"labels\":[\"Time\",\"Mains\",\"Mains\"],\r\n"
      "\"data\":[[1700000000,1520.3,2],[1700000005,null,null],[1700000010,null,-0]]}",
      2);

  ASSERT_EQ(page.rows.size(), 3u);
  EXPECT_FALSE(page.rows[0].missing());
  EXPECT_TRUE(page.rows[1].missing());
  EXPECT_TRUE(page.rows[1].values.empty());
  EXPECT_EQ(page.rows[1].time, 1700000005);
  EXPECT_FALSE(page.rows[2].missing());
  ASSERT_EQ(page.rows[2].values.size(), 2u);
  EXPECT_FALSE(page.rows[2].values[0].has_value());
  EXPECT_DOUBLE_EQ(page.rows[2].values[1].value(), 0);
}

TEST(DecodeQueryPage, limit_marker_gives_continuation) {
  const QueryPage page = DecodeQueryPage(
      "{\"range\":[1700000000,1700003600],\"labels\":[\"Time\",\"Mains\"],\r\n"
      "\"data\":[[1700000000,1],[1700000005,2]],\"limit\":1700000010}",
      1);

  EXPECT_EQ(page.rows.size(), 2u);
  EXPECT_EQ(page.continuation, std::optional<int64_t>(1700000010));
}

TEST(DecodeQueryPage, empty_result) {
  const QueryPage page = DecodeQueryPage(
      "{\"range\":[1700000000,1700000000],\"labels\":[\"Time\",\"Mains\"],\r\n\"data\":[]}", 1);

  EXPECT_TRUE(page.rows.empty());
  EXPECT_EQ(page.range_end, 1700000000);
}

TEST(DecodeQueryPage, malformed_pages_are_decode_errors_with_reasons) {
  const std::string head =
      "{\"range\":[1700000000,1700000015],\"labels\":[\"Time\",\"A\",\"B\"],\r\n";

  EXPECT_EQ(QueryError(head + "\"data\":[[1700000000,1,2],[1700000005,1.5]]}", 2),
            "/query?select: data[1] has 2 entries [1700000005,1.5]; expected 3 (the time column "
            "and 2 requested columns)");
  EXPECT_EQ(QueryError(head + "\"data\":[[1700000000,\"1\",2]]}", 2),
            "/query?select: data[0][1] is \"1\"; expected a number or null");
  EXPECT_EQ(QueryError(head + "\"data\":[[\"2023-11-14T17:00:00\",1,2]]}", 2),
            "/query?select: data[0][0] is \"2023-11-14T17:00:00\"; expected an integer epoch "
            "(select time.utc.unix first)");
  EXPECT_EQ(QueryError(head + "\"data\":[[1700000000,1,2]],\"limit\":\"x\"}", 2),
            "/query?select: limit is \"x\"; expected an integer epoch (select time.utc.unix "
            "first)");
  EXPECT_EQ(QueryError("{\"labels\":[\"Time\"],\"data\":[]}", 0),
            "/query?select: range is absent; expected a JSON array");
}

TEST(DecodeQueryPage, truncated_html_and_headerless_bodies_are_decode_errors) {
  // What the firmware sends for a group of 1 s: one row and no closing brackets.
  const std::string truncated = QueryError(
      "{\"range\":[1700000000,1700000015],\"labels\":[\"Time\",\"A\"],\r\n\"data\":[[1700000000,"
      "null]",
      1);
  EXPECT_PRED2(Contains, truncated, "/query?select: body is not valid JSON (");
  EXPECT_PRED2(Contains, truncated, R"(body starts with "{"range":[1700000000,1700000015])");

  EXPECT_PRED2(Contains, QueryError("<html><head><title>502 Bad Gateway</title></head></html>", 1),
               R"(body starts with "<html><head><title>502 Bad Gateway</title></head></html>")");
  EXPECT_EQ(QueryError("[[1700000000,1520.3]]", 1),
            "/query?select: body starts with \"[[1700000000,1520.3]]\"; expected a JSON object "
            "with range, labels and data (request header=yes)");
}

TEST(DecodeQueryPage, long_bad_values_are_shortened_in_messages) {
  const std::string label(300, 'x');
  const std::string message = QueryError(
      "{\"range\":[1,2],\"labels\":[\"Time\",\"" + label + "\",\"" + label + "\"],\"data\":[]}", 1);

  EXPECT_PRED2(Contains, message, "labels has 3 entries [\"Time\",\"xxx");
  EXPECT_PRED2(Contains, message, "xxx...; expected 2");
  EXPECT_LT(message.size(), 200u);
}

// ---- BuildQueryTarget ----------------------------------------------------------------

TEST(BuildQueryTarget, encodes_select_list_and_uses_epoch_arguments) {
  QueryRequest request;
  request.columns = {"Mains_1.wh.d6", "Solar.watts"};
  request.begin = 1700000000;
  request.end = 1700003600;
  request.group = "5s";
  request.limit = 1000;

  EXPECT_EQ(BuildQueryTarget(request),
            "/query?select=%5Btime.utc.unix%2CMains_1.wh.d6%2CSolar.watts%5D&begin=1700000000"
            "&end=1700003600&group=5s&header=yes&limit=1000");
}

TEST(BuildQueryTarget, never_sends_a_raw_plus_or_space) {
  QueryRequest request;
  request.columns = {"A+B C"};
  request.begin = 1700000000;
  request.end = 1700000060;
  request.group = "1m";
  request.limit = 12;

  const std::string target = BuildQueryTarget(request);
  EXPECT_EQ(target.find('+'), std::string::npos);
  EXPECT_EQ(target.find(' '), std::string::npos);
  EXPECT_PRED2(Contains, target, "A%2BB%20C%5D&begin=1700000000&end=1700000060&group=1m");
  EXPECT_PRED2(Contains, target, "&limit=12");
}

TEST(BuildQueryTarget, rejects_times_that_are_not_ten_digit_epochs) {
  QueryRequest request;
  request.begin = 999999999;
  request.end = 1700000000;

  try {
    BuildQueryTarget(request);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_STREQ(error.what(),
                 "query begin 999999999 is not a 10-digit epoch in seconds; expected 1000000000 "
                 "to 9999999999");
  }
  request.begin = 1700000000;
  request.limit = 0;
  EXPECT_THROW(BuildQueryTarget(request), std::invalid_argument);
}

}  // namespace
}  // namespace iwx::iotawatt
