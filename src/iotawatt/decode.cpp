#include "iotawatt/decode.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "util/strings.hpp"

namespace iwx::iotawatt {
namespace {

using Json = nlohmann::json;

constexpr size_t kExcerptChars = 80;
constexpr double kLargestInteger = 9.0e18;
constexpr const char* kStatusEndpoint = "/status";
constexpr const char* kSeriesEndpoint = "/query?show=series";
constexpr const char* kSelectEndpoint = "/query?select";

// At most kExcerptChars of a text, with control characters escaped so that a CR LF or
// binary garbage cannot break a log line.
std::string Shorten(std::string_view text) {
  std::string out;
  for (const char c : text.substr(0, kExcerptChars)) {
    const auto byte = static_cast<unsigned char>(c);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (byte < 0x20 || byte == 0x7F) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[byte >> 4];
      out += kHex[byte & 0x0F];
    } else {
      out += c;
    }
  }
  if (text.size() > kExcerptChars) {
    out += "...";
  }
  return out;
}

// The start of a raw body, in quotes.
std::string ExcerptText(std::string_view text) {
  return '"' + Shorten(text) + '"';
}

// A JSON value as it appeared (strings keep their quotes, so " 6" and 6 differ).
std::string Excerpt(const Json& value) {
  return Shorten(value.dump());
}

[[noreturn]] void Fail(std::string_view endpoint, const std::string& what) {
  throw DecodeError(std::string(endpoint) + ": " + what);
}

Json ParseBody(std::string_view endpoint, std::string_view body, const char* expected) {
  try {
    return Json::parse(body.begin(), body.end());
  } catch (const Json::exception& error) {
    // The parser's message gives the position (without its "[json.exception...] " tag);
    // the excerpt shows what came back instead, typically an HTML page or a cut transfer.
    std::string_view reason = error.what();
    const size_t tag_end = reason.find("] ");
    if (tag_end != std::string_view::npos) {
      reason.remove_prefix(tag_end + 2);
    }
    Fail(endpoint, "body is not valid JSON (" + std::string(reason) + "); expected " + expected +
                       "; body starts with " + ExcerptText(body));
  }
}

// Field access that names the field by its path ("inputs[3].Watts") in errors. An empty
// path stands for the whole body.
class Object {
 public:
  Object(std::string_view endpoint, const Json& json, std::string path)
      : endpoint_(endpoint), json_(json), path_(std::move(path)) {
    if (!json_.is_object()) {
      Fail(endpoint_,
           (path_.empty() ? "body" : path_) + " is " + Excerpt(json_) + "; expected a JSON object");
    }
  }

  const Json* Find(const char* key) const {
    const auto found = json_.find(key);
    return found == json_.end() ? nullptr : &*found;
  }

  std::string Path(const char* key) const { return path_.empty() ? key : path_ + "." + key; }

  const std::string& path() const noexcept { return path_; }
  const Json& json() const noexcept { return json_; }

  std::optional<double> OptionalNumber(const char* key) const {
    const Json* value = Find(key);
    if (value == nullptr) {
      return std::nullopt;
    }
    if (!value->is_number()) {
      Fail(endpoint_, Path(key) + " is " + Excerpt(*value) + "; expected a number");
    }
    return value->get<double>();
  }

  double Number(const char* key) const { return OptionalNumber(key).value_or(0.0); }

  int64_t Integer(const char* key) const {
    const std::optional<double> value = OptionalNumber(key);
    if (!value) {
      return 0;
    }
    const Json& json = *Find(key);
    if (json.is_number_integer()) {
      return json.get<int64_t>();
    }
    // The single-precision serializer may print a whole number in exponent form
    // (1.717e9); it is rounded, as the firmware meant an integer.
    if (!std::isfinite(*value) || std::fabs(*value) > kLargestInteger) {
      Fail(endpoint_, Path(key) + " is " + Excerpt(json) + "; expected an integer");
    }
    return std::llround(*value);
  }

  bool Bool(const char* key) const {
    const Json* value = Find(key);
    if (value == nullptr) {
      return false;
    }
    if (!value->is_boolean()) {
      Fail(endpoint_, Path(key) + " is " + Excerpt(*value) + "; expected true or false");
    }
    return value->get<bool>();
  }

  std::string String(const char* key) const {
    const Json* value = Find(key);
    if (value == nullptr) {
      return {};
    }
    if (!value->is_string()) {
      Fail(endpoint_, Path(key) + " is " + Excerpt(*value) + "; expected a string");
    }
    return value->get<std::string>();
  }

  std::string RequiredString(const char* key) const {
    if (Find(key) == nullptr) {
      Fail(endpoint_, Path(key) + " is absent in " + Excerpt(json_) + "; expected a string");
    }
    return String(key);
  }

  const Json& RequiredArray(const char* key) const {
    const Json* value = Find(key);
    if (value == nullptr || !value->is_array()) {
      Fail(endpoint_, Path(key) + " is " + (value ? Excerpt(*value) : std::string("absent")) +
                          "; expected a JSON array");
    }
    return *value;
  }

 private:
  std::string_view endpoint_;
  const Json& json_;
  std::string path_;
};

std::string ItemPath(const char* array, size_t index) {
  return std::string(array) + "[" + std::to_string(index) + "]";
}

// "Watts" is an integer right-aligned in a string of width 2 (" 6", "-842"); edited
// captures carry a plain number instead.
std::optional<double> DecodeWatts(const Object& input, const std::string& path) {
  const Json* value = input.Find("Watts");
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_number()) {
    return value->get<double>();
  }
  if (!value->is_string()) {
    Fail(kStatusEndpoint, path + ".Watts is " + Excerpt(*value) +
                              "; expected a number in a string such as \" 6\" or \"-842\"");
  }
  const std::string& text = value->get_ref<const std::string&>();
  const size_t first = text.find_first_not_of(' ');
  const size_t last = text.find_last_not_of(' ');
  double watts = 0;
  if (first != std::string::npos) {
    const char* begin = text.data() + first;
    const char* end = text.data() + last + 1;
    const auto [ptr, ec] = std::from_chars(begin, end, watts);
    if (ec == std::errc() && ptr == end) {
      return watts;
    }
  }
  Fail(kStatusEndpoint, path + ".Watts is " + Excerpt(*value) +
                            "; expected a number in a string such as \" 6\" or \"-842\"");
}

DeviceSection DecodeDevice(const Json& json) {
  const Object device(kStatusEndpoint, json, "device");
  DeviceSection out;
  out.name = device.String("name");
  out.timediff_minutes = device.Integer("timediff");
  out.allow_dst = device.Bool("allowdst");
  out.update = device.String("update");
  return out;
}

StatsSection DecodeStats(const Json& json) {
  const Object stats(kStatusEndpoint, json, "stats");
  StatsSection out;
  out.cyclerate = stats.Number("cyclerate");
  out.chanrate = stats.Number("chanrate");
  out.starttime = stats.Integer("starttime");
  out.currenttime = stats.Integer("currenttime");
  out.runseconds = stats.Integer("runseconds");
  out.free_heap_bytes = stats.Integer("stack");
  out.version = stats.String("version");
  out.frequency_hz = stats.Number("frequency");
  out.low_battery = stats.Bool("lowbat");
  return out;
}

// Decodes a /status array section element by element; `decode` gets each element as an
// Object that names its path in errors.
template <typename Decode>
auto DecodeArray(const Json& json, const char* section, Decode decode) {
  if (!json.is_array()) {
    Fail(kStatusEndpoint,
         std::string(section) + " is " + Excerpt(json) + "; expected a JSON array");
  }
  std::vector<decltype(decode(std::declval<const Object&>()))> out;
  for (size_t i = 0; i < json.size(); ++i) {
    out.push_back(decode(Object(kStatusEndpoint, json[i], ItemPath(section, i))));
  }
  return out;
}

InputStatus DecodeInput(const Object& input) {
  if (input.Find("channel") == nullptr) {
    Fail(kStatusEndpoint, input.path() + " has no channel: " + Excerpt(input.json()) +
                              "; expected {\"channel\":N,...}");
  }
  InputStatus status;
  status.channel = static_cast<int>(input.Integer("channel"));
  status.vrms = input.OptionalNumber("Vrms");
  status.hz = input.OptionalNumber("Hz");
  status.watts = DecodeWatts(input, input.path());
  status.pf = input.OptionalNumber("Pf");
  status.reversed = input.Bool("reversed");
  return status;
}

OutputStatus DecodeOutput(const Object& output) {
  OutputStatus status;
  status.name = output.RequiredString("name");
  status.units = output.String("units");
  status.value = output.Number("value");
  return status;
}

DatalogInfo DecodeDatalog(const Object& log) {
  DatalogInfo info;
  info.id = log.RequiredString("id");
  info.firstkey = log.Integer("firstkey");
  info.lastkey = log.Integer("lastkey");
  info.size = log.Integer("size");
  info.interval = log.Integer("interval");
  return info;
}

WifiSection DecodeWifi(const Json& json) {
  // When WiFi is down only connecttime (0) is present; every other field is optional.
  const Object wifi(kStatusEndpoint, json, "wifi");
  WifiSection out;
  out.connecttime = wifi.Integer("connecttime");
  out.rssi = wifi.OptionalNumber("RSSI");
  out.ssid = wifi.String("SSID");
  out.ip = wifi.String("IP");
  out.mac = wifi.String("mac");
  return out;
}

SeriesInfo DecodeSeriesEntry(const Json& json, size_t index) {
  const Object entry(kSeriesEndpoint, json, ItemPath("series", index));
  return SeriesInfo{entry.RequiredString("name"), entry.RequiredString("unit")};
}

int64_t DecodeEpoch(const Json& value, const std::string& path) {
  if (!value.is_number_integer()) {
    Fail(kSelectEndpoint, path + " is " + Excerpt(value) +
                              "; expected an integer epoch (select time.utc.unix first)");
  }
  return value.get<int64_t>();
}

std::optional<double> DecodeCell(const Json& value, const std::string& path) {
  if (value.is_null()) {
    return std::nullopt;
  }
  if (!value.is_number()) {
    Fail(kSelectEndpoint, path + " is " + Excerpt(value) + "; expected a number or null");
  }
  return value.get<double>();
}

void CheckWidth(const Json& array, size_t width, const std::string& path) {
  if (array.size() != width) {
    Fail(kSelectEndpoint, path + " has " + std::to_string(array.size()) + " entries " +
                              Excerpt(array) + "; expected " + std::to_string(width) +
                              " (the time column and " + std::to_string(width - 1) +
                              " requested columns)");
  }
}

QueryRow DecodeRow(const Json& json, size_t index, size_t width) {
  const std::string path = ItemPath("data", index);
  if (!json.is_array()) {
    Fail(kSelectEndpoint, path + " is " + Excerpt(json) + "; expected an array (a row)");
  }
  CheckWidth(json, width, path);

  QueryRow row;
  row.time = DecodeEpoch(json[0], path + "[0]");
  bool all_null = true;
  for (size_t column = 1; column < width; ++column) {
    row.values.push_back(DecodeCell(json[column], path + "[" + std::to_string(column) + "]"));
    all_null = all_null && !row.values.back().has_value();
  }

  // The firmware writes null into every column when no time was logged in the group;
  // QueryRow documents such a row by empty values.
  if (all_null) {
    row.values.clear();
  }
  return row;
}

void DecodeRange(const Object& page, QueryPage& out) {
  const Json& range = page.RequiredArray("range");
  if (range.size() != 2) {
    Fail(kSelectEndpoint, "range is " + Excerpt(range) + "; expected [begin,end]");
  }
  out.range_begin = DecodeEpoch(range[0], "range[0]");
  out.range_end = DecodeEpoch(range[1], "range[1]");
}

void DecodeLabels(const Object& page, size_t width, QueryPage& out) {
  const Json& labels = page.RequiredArray("labels");
  CheckWidth(labels, width, "labels");
  for (size_t i = 0; i < labels.size(); ++i) {
    if (!labels[i].is_string()) {
      Fail(kSelectEndpoint,
           ItemPath("labels", i) + " is " + Excerpt(labels[i]) + "; expected a string");
    }
    out.labels.push_back(labels[i].get<std::string>());
  }
}

std::string EpochArgument(const char* name, int64_t epoch) {
  // The device takes exactly 10 digits as unix seconds; anything else is parsed as a
  // date or rejected.
  if (epoch < 1000000000 || epoch > 9999999999) {
    throw std::invalid_argument("query " + std::string(name) + " " + std::to_string(epoch) +
                                " is not a 10-digit epoch in seconds; expected 1000000000 to "
                                "9999999999");
  }
  return std::to_string(epoch);
}

}  // namespace

StatusReport DecodeStatus(std::string_view body) {
  const Json json = ParseBody(kStatusEndpoint, body, "a JSON object of status sections");
  const Object root(kStatusEndpoint, json, "");

  // Sections absent from the answer stay unset; uploader sections (influx1, ..., or
  // the newer uploaders array) and anything unknown are ignored.
  StatusReport report;
  if (const Json* device = root.Find("device")) {
    report.device = DecodeDevice(*device);
  }
  if (const Json* stats = root.Find("stats")) {
    report.stats = DecodeStats(*stats);
  }
  if (const Json* inputs = root.Find("inputs")) {
    report.inputs = DecodeArray(*inputs, "inputs", DecodeInput);
  }
  if (const Json* outputs = root.Find("outputs")) {
    report.outputs = DecodeArray(*outputs, "outputs", DecodeOutput);
  }
  if (const Json* datalogs = root.Find("datalogs")) {
    report.datalogs = DecodeArray(*datalogs, "datalogs", DecodeDatalog);
  }
  if (const Json* wifi = root.Find("wifi")) {
    report.wifi = DecodeWifi(*wifi);
  }
  return report;
}

std::vector<SeriesInfo> DecodeSeriesList(std::string_view body) {
  const Json json = ParseBody(kSeriesEndpoint, body, "{\"series\":[...]}");
  const Object root(kSeriesEndpoint, json, "");
  const Json& series = root.RequiredArray("series");

  std::vector<SeriesInfo> out;
  for (size_t i = 0; i < series.size(); ++i) {
    out.push_back(DecodeSeriesEntry(series[i], i));
  }
  return out;
}

QueryPage DecodeQueryPage(std::string_view body, size_t expected_columns) {
  const Json json =
      ParseBody(kSelectEndpoint, body, "{\"range\":[...],\"labels\":[...],\"data\":[...]}");
  if (!json.is_object()) {
    Fail(kSelectEndpoint, "body starts with " + ExcerptText(body) +
                              "; expected a JSON object with range, labels and data "
                              "(request header=yes)");
  }
  const Object page(kSelectEndpoint, json, "");
  const size_t width = expected_columns + 1;

  QueryPage out;
  DecodeRange(page, out);
  DecodeLabels(page, width, out);
  const Json& data = page.RequiredArray("data");
  for (size_t i = 0; i < data.size(); ++i) {
    out.rows.push_back(DecodeRow(data[i], i, width));
  }
  if (const Json* limit = page.Find("limit")) {
    out.continuation = DecodeEpoch(*limit, "limit");
  }
  return out;
}

std::string BuildQueryTarget(const QueryRequest& request) {
  if (request.limit < 1) {
    throw std::invalid_argument("query limit " + std::to_string(request.limit) +
                                " is not positive; expected at least 1 row");
  }
  std::string select = "[time.utc.unix";
  for (const std::string& column : request.columns) {
    select += ',';
    select += column;
  }
  select += ']';

  // Everything is percent-encoded, so no raw '+' (decoded as a space) can reach the device.
  return "/query?select=" + util::UrlEncode(select) +
         "&begin=" + EpochArgument("begin", request.begin) +
         "&end=" + EpochArgument("end", request.end) + "&group=" + util::UrlEncode(request.group) +
         "&header=yes&limit=" + std::to_string(request.limit);
}

}  // namespace iwx::iotawatt
