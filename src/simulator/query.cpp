#include "simulator/query.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <vector>

#include "simulator/civil_time.hpp"
#include "simulator/number_format.hpp"
#include "simulator/script.hpp"

namespace iwx::sim {

namespace {

constexpr int64_t kCurrentInterval = 5;
constexpr int64_t kHistoryInterval = 60;
constexpr int64_t kDefaultLimit = 1000;
constexpr int64_t kAutoGroups[] = {5,   10,   15,   20,   30,   60,    120,   300,
                                   600, 1200, 1800, 3600, 7200, 14400, 21600, 28800};

enum class Unit { kVolts, kWatts, kWh, kAmps, kVa, kVar, kVarh, kHz, kPf, kKwh, kVah };
enum class GroupUnit { kSeconds, kMinutes, kHours, kDays, kWeeks, kMonths, kYears };

struct Column {
  char source = ' ';  // 'T' time, 'I' input, 'O' output
  bool time_local = true;
  bool time_unix = false;
  size_t index = 0;  // input channel or output position
  Unit unit = Unit::kWatts;
  int decimals = 1;
  std::string label;
};

struct Request {
  int64_t begin = 0;
  int64_t end = 0;
  int64_t group_mult = 1;
  GroupUnit group_unit = GroupUnit::kSeconds;
  bool missing_skip = false;
  bool missing_null = true;
  bool missing_zero = false;
  bool header = false;
  bool csv = false;
  std::optional<int64_t> limit = kDefaultLimit;
  std::vector<Column> columns;
  bool time_only = false;
};

// A boundary of the walk: the time it stands for and the log record read there.
struct Boundary {
  int64_t time = 0;
  LogRecord record;
};

bool EqualsIgnoreCase(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string Lower(std::string text) {
  std::transform(text.begin(), text.end(), text.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return text;
}

const std::string* Arg(const QueryArgs& args, const std::string& name) {
  const auto found = args.find(name);
  return found == args.end() ? nullptr : &found->second;
}

// Arduino's String::toInt(): atol of the text.
int64_t ToInt(const std::string& text) {
  return std::atol(text.c_str());
}

// strtoul as the firmware uses it: digits from position, 0 if none.
int64_t ParseDigits(const std::string& text, size_t& position) {
  int64_t value = 0;
  while (position < text.size() && std::isdigit(static_cast<unsigned char>(text[position]))) {
    value = value * 10 + (text[position++] - '0');
  }
  return value;
}

std::optional<int64_t> ParseUnixTime(const std::string& text) {
  size_t digits = 0;
  int64_t value = 0;
  while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) {
    if (digits < 10) {
      value = value * 10 + (text[digits] - '0');
    }
    ++digits;
  }
  if (digits == text.size() && (digits == 10 || digits == 13)) {
    return value;
  }
  return std::nullopt;
}

// YYYY[-MM[-DD[Thh[:mm[:ss]]]]][Z]. The month only becomes zero-based when a day follows,
// which reproduces the firmware's "YYYY-MM is a month late" bug.
std::optional<int64_t> ParseIsoTime(const std::string& text, int64_t offset) {
  size_t position = 0;
  const int64_t year = ParseDigits(text, position);
  if (year < 2000 || year > 2099) {
    return std::nullopt;
  }
  BrokenTime time;
  time.year = year;
  auto next_is = [&](char c) {
    if (position < text.size() && text[position] == c) {
      ++position;
      return true;
    }
    return false;
  };
  bool in_range = true;
  if (next_is('-')) {
    time.month = ParseDigits(text, position);
    in_range = time.month >= 1 && time.month <= 12;
    if (in_range && next_is('-')) {
      time.month -= 1;
      time.day = ParseDigits(text, position);
      in_range = time.day >= 1 && time.day <= 31;
      if (in_range && next_is('T')) {
        time.hour = ParseDigits(text, position);
        in_range = time.hour <= 24;
        if (in_range && next_is(':')) {
          time.minute = ParseDigits(text, position);
          in_range = time.minute <= 59;
          if (in_range && next_is(':')) {
            time.second = ParseDigits(text, position);
          }
        }
      }
    }
  }
  const std::string rest = text.substr(position);
  if (!in_range || (!rest.empty() && rest != "Z")) {
    return 0;
  }
  return ToSeconds(time) - (rest == "Z" ? 0 : offset);
}

int64_t ParseRelativeTime(const std::string& text, int64_t now, int64_t offset) {
  BrokenTime time = BreakDown(now + offset);
  time.second -= time.second % 5;
  switch (text[0]) {
    case 'y':
      time.month = 0;
      [[fallthrough]];
    case 'M':
      time.day = 1;
      [[fallthrough]];
    case 'd':
      time.hour = 0;
      [[fallthrough]];
    case 'h':
      time.minute = 0;
      [[fallthrough]];
    case 'm':
      time.second = 0;
      break;
    case 's':
      break;
    case 'w':
      time.day -= time.weekday;
      time.hour = time.minute = time.second = 0;
      break;
    default:
      return 0;
  }
  size_t position = 1;
  while (position < text.size()) {
    const char sign = text[position] == ' ' ? '+' : text[position];
    if (sign != '+' && sign != '-') {
      return 0;
    }
    ++position;
    const int64_t magnitude = ParseDigits(text, position);
    const int64_t mult = sign == '-' ? -magnitude : magnitude;
    if (mult == 0 || position >= text.size()) {
      return 0;
    }
    switch (text[position++]) {
      case 'y':
        time.year += mult;
        break;
      case 'M':
        time.month += mult;
        break;
      case 'w':
        time.day += 7 * mult;
        break;
      case 'd':
        time.day += mult;
        break;
      case 'h':
        time.hour += mult;
        break;
      case 'm':
        time.minute += mult;
        break;
      case 's':
        time.second += mult - mult % 5;
        break;
      default:
        return 0;
    }
  }
  return ToSeconds(time) - offset;
}

std::optional<Unit> UnitFromName(const std::string& name) {
  static const std::pair<const char*, Unit> kNames[] = {
      {"volts", Unit::kVolts}, {"watts", Unit::kWatts}, {"wh", Unit::kWh},
      {"amps", Unit::kAmps},   {"va", Unit::kVa},       {"var", Unit::kVar},
      {"varh", Unit::kVarh},   {"hz", Unit::kHz},       {"pf", Unit::kPf},
      {"kwh", Unit::kKwh},     {"vah", Unit::kVah}};
  for (const auto& [text, unit] : kNames) {
    if (EqualsIgnoreCase(name, text)) {
      return unit;
    }
  }
  return std::nullopt;
}

// Decimals of an output whose configured unit is neither Volts nor Watts: the firmware
// takes them from a precision table that is one entry out of step.
int MisalignedDecimals(Unit unit) {
  switch (unit) {
    case Unit::kAmps:
      return 3;
    case Unit::kVa:
    case Unit::kVah:
    case Unit::kPf:
      return 2;
    case Unit::kHz:
    case Unit::kVar:
      return 4;
    case Unit::kWh:
      return 7;
    case Unit::kKwh:
      return 3;
    default:
      return 0;
  }
}

class QueryError {
 public:
  explicit QueryError(std::string reason) : reason_(std::move(reason)) {}
  const std::string& reason() const { return reason_; }

 private:
  std::string reason_;
};

void ParseGroup(const std::string& group, Request& request, bool high_resolution) {
  if (group == "auto") {
    const int64_t raw = (request.end - request.begin) / (high_resolution ? 800 : 400);
    request.group_mult = 86400;
    for (const int64_t candidate : kAutoGroups) {
      if (raw <= candidate) {
        request.group_mult = candidate;
        break;
      }
    }
    return;
  }
  if (group == "all") {
    request.group_mult = request.end - request.begin;
    return;
  }
  request.group_mult = std::max<int64_t>(1, ToInt(group));
  const char last = group.empty() ? '\0' : group.back();
  static const std::pair<char, GroupUnit> kUnits[] = {
      {'s', GroupUnit::kSeconds}, {'m', GroupUnit::kMinutes}, {'h', GroupUnit::kHours},
      {'d', GroupUnit::kDays},    {'w', GroupUnit::kWeeks},   {'M', GroupUnit::kMonths},
      {'y', GroupUnit::kYears}};
  for (const auto& [letter, unit] : kUnits) {
    if (last == letter) {
      request.group_unit = unit;
      return;
    }
  }
  if (request.group_mult % 5 != 0) {
    throw QueryError("Invalid group");
  }
}

void ApplyTimeMethod(Column& column, const std::string& method) {
  if (method == "local") {
    column.time_local = true;
  } else if (method == "utc") {
    column.time_local = false;
  } else if (method == "iso") {
    column.time_unix = false;
  } else if (method == "unix") {
    column.time_unix = true;
  } else {
    throw QueryError("invalid time method: " + method);
  }
}

void ApplySeriesMethod(Column& column, const std::string& method) {
  if (method[0] == 'd' && UnitFromName(method) == std::nullopt) {
    if (method.size() != 2 || !std::isdigit(static_cast<unsigned char>(method[1]))) {
      throw QueryError("unspecified");
    }
    column.decimals = method[1] - '0';
    return;
  }
  const std::optional<Unit> unit = UnitFromName(method);
  if (!unit || *unit == Unit::kKwh || *unit == Unit::kVah) {
    throw QueryError("Invalid series method: " + method);
  }
  column.unit = *unit;
  column.decimals = *unit == Unit::kWh || *unit == Unit::kVarh ? 0 : *unit == Unit::kHz ? 2 : 1;
}

Column ParseColumn(const UnitModel& model, std::string element) {
  Column column;
  std::string methods;
  const size_t period = element.find('.');
  std::string name = element;
  if (period != std::string::npos) {
    name = element.substr(0, period);
    methods = Lower(element.substr(period + 1));
  }
  if (name.empty()) {
    // The firmware would dereference an unfinished column here and reboot.
    throw QueryError("unspecified");
  }
  const UnitSpec& spec = model.spec();
  column.label = name;
  if (EqualsIgnoreCase(name, "time")) {
    column.source = 'T';
    column.label = "Time";
  } else if (const std::optional<size_t> input = model.FindInput(name)) {
    column.source = 'I';
    column.index = *input;
    column.unit = spec.inputs[*input].kind == InputKind::kVoltage ? Unit::kVolts : Unit::kWatts;
  } else {
    for (size_t o = 0; o < spec.outputs.size(); ++o) {
      if (spec.outputs[o].name != name) {
        continue;
      }
      column.source = 'O';
      column.index = o;
      const std::string& units = spec.outputs[o].units;
      if (units == "Volts" || units == "Watts") {
        column.unit = units == "Volts" ? Unit::kVolts : Unit::kWatts;
      } else {
        column.unit = UnitFromName(units).value_or(Unit::kWatts);
        column.decimals = MisalignedDecimals(column.unit);
      }
      break;
    }
  }
  if (column.source == ' ') {
    throw QueryError("Invalid series: " + name);
  }
  size_t start = 0;
  while (start < methods.size()) {
    size_t stop = methods.find('.', start);
    if (stop == std::string::npos) {
      stop = methods.size();
    }
    const std::string method = methods.substr(start, stop - start);
    start = stop + 1;
    if (method.empty()) {
      continue;
    }
    if (column.source == 'T') {
      ApplyTimeMethod(column, method);
    } else {
      ApplySeriesMethod(column, method);
    }
  }
  return column;
}

void ParseSelect(const UnitModel& model, const std::string& select, Request& request) {
  if (select.size() < 2 || select.front() != '[' || select.back() != ']') {
    throw QueryError("select not an array []");
  }
  std::string list = select.substr(1, select.size() - 2);
  while (!list.empty()) {
    const size_t comma = list.find(',');
    const std::string element = list.substr(0, comma);
    list = comma == std::string::npos ? "" : list.substr(comma + 1);
    request.columns.push_back(ParseColumn(model, element));
  }
  if (request.columns.empty()) {
    throw QueryError("unspecified");  // `select=[]` reboots the firmware
  }
  request.time_only = request.columns.size() == 1 && request.columns[0].source == 'T';
}

void ParseOptions(const QueryArgs& args, Request& request) {
  if (const std::string* missing = Arg(args, "missing")) {
    request.missing_skip = EqualsIgnoreCase(*missing, "skip");
    request.missing_null = EqualsIgnoreCase(*missing, "null");
    request.missing_zero = EqualsIgnoreCase(*missing, "zero");
  }
  if (const std::string* header = Arg(args, "header")) {
    if (EqualsIgnoreCase(*header, "yes")) {
      request.header = true;
    } else if (EqualsIgnoreCase(*header, "no")) {
      request.header = false;
    }
  }
  if (const std::string* format = Arg(args, "format")) {
    if (EqualsIgnoreCase(*format, "json")) {
      request.csv = false;
    } else if (EqualsIgnoreCase(*format, "csv")) {
      request.csv = true;
    } else {
      throw QueryError("Invalid format");
    }
  }
  if (const std::string* limit = Arg(args, "limit")) {
    if (EqualsIgnoreCase(*limit, "none")) {
      request.limit.reset();
    } else {
      const int64_t value = ToInt(*limit);
      if (value == 0) {
        throw QueryError("Invalid limit");
      }
      request.limit = value < 0 ? std::nullopt : std::optional<int64_t>(value);
    }
  }
}

Request ParseRequest(const UnitModel& model, const QueryArgs& args) {
  const std::string* begin = Arg(args, "begin");
  const std::string* end = Arg(args, "end");
  const std::string* group = Arg(args, "group");
  if (begin == nullptr || end == nullptr || group == nullptr) {
    throw QueryError("Missing begin, end or group.");
  }

  Request request;
  const int64_t now = model.clock()->NowSeconds();
  const int timezone = model.spec().timezone_minutes;
  request.begin = ParseTimeSpecifier(*begin, now, timezone);
  if (request.begin % kCurrentInterval != 0) {
    request.begin += kCurrentInterval - request.begin % kCurrentInterval;
  }
  request.end = ParseTimeSpecifier(*end, now, timezone);
  request.end -= request.end % kCurrentInterval;
  if (request.begin == 0 || request.end == 0 || request.end < request.begin) {
    throw QueryError("unspecified");
  }

  bool high_resolution = false;
  if (const std::string* resolution = Arg(args, "resolution")) {
    if (EqualsIgnoreCase(*resolution, "high")) {
      high_resolution = true;
    } else if (!EqualsIgnoreCase(*resolution, "low")) {
      throw QueryError("Invalid resolution");
    }
  }
  ParseGroup(*group, request, high_resolution);
  ParseOptions(args, request);
  const std::string* select = Arg(args, "select");
  ParseSelect(model, select != nullptr ? *select : std::string(), request);
  return request;
}

// Computes group boundaries and reads log records the way the firmware does.
class Walker {
 public:
  Walker(const UnitModel& model, const Request& request)
      : model_(model),
        request_(request),
        offset_(int64_t{model.spec().timezone_minutes} * 60),
        current_first_(model.CurrentFirstKey()),
        history_last_(model.HistoryLastKey()) {}

  // The read rounds the key down to the interval of the log it uses; the rounded key
  // becomes the boundary, which is why short groups can stall.
  Boundary Read(int64_t t) const {
    const bool history = t < current_first_ || (t % 60 == 0 && t <= history_last_);
    Boundary boundary;
    boundary.time = FloorTo(t, history ? kHistoryInterval : kCurrentInterval);
    boundary.record = model_.RecordAt(boundary.time);
    return boundary;
  }

  int64_t NextGroup(int64_t t) const {
    const int64_t mult = request_.group_mult;
    int64_t next = 0;
    switch (request_.group_unit) {
      case GroupUnit::kSeconds:
        next = t + mult;
        break;
      case GroupUnit::kMinutes:
        next = t + 60 * mult - t % 60;
        break;
      case GroupUnit::kHours:
        next = t + 3600 * mult - t % 3600;
        break;
      default:
        next = NextCalendarGroup(t, mult);
        break;
    }
    return std::min(request_.end, next);
  }

 private:
  int64_t NextCalendarGroup(int64_t t, int64_t mult) const {
    BrokenTime local = BreakDown(t + offset_);
    local.hour = local.minute = local.second = 0;
    switch (request_.group_unit) {
      case GroupUnit::kDays:
        local.day += mult;
        break;
      case GroupUnit::kWeeks:
        local.day += 7 * mult - local.weekday;
        break;
      case GroupUnit::kMonths:
        local.month += mult;
        local.day = 1;
        break;
      default:
        local.year += mult;
        local.month = 0;
        local.day = 1;
        break;
    }
    return ToSeconds(local) - offset_;
  }

  const UnitModel& model_;
  const Request& request_;
  const int64_t offset_;
  const int64_t current_first_;
  const int64_t history_last_;
};

// Averages and energies of one input between two records, as the firmware's script
// runner computes them for a one-input script.
double InputValue(const UnitModel& model, size_t input, Unit unit, const LogRecord& from,
                  const LogRecord& to, double hours) {
  const UnitSpec& spec = model.spec();
  size_t reference = input;
  if (spec.inputs[input].kind != InputKind::kVoltage) {
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
      if (spec.inputs[i].kind == InputKind::kVoltage) {
        reference = i;
        break;
      }
    }
  }
  const double wh = to.accum1[input] - from.accum1[input];
  const double vah = to.accum2[input] - from.accum2[input];
  const double watts = wh / hours;
  const double va = vah / hours;
  const double volts = (to.accum1[reference] - from.accum1[reference]) / hours;
  const double hertz = (to.accum2[reference] - from.accum2[reference]) / hours;
  double value = 0;
  switch (unit) {
    case Unit::kWatts:
      value = watts;
      break;
    case Unit::kVolts:
      value = volts;
      break;
    case Unit::kWh:
      value = wh;
      break;
    case Unit::kKwh:
      value = wh / 1000;
      break;
    case Unit::kVah:
      value = vah;
      break;
    case Unit::kAmps:
      value = volts == 0 ? 0 : va / volts;
      break;
    case Unit::kVa:
      value = va;
      break;
    case Unit::kVar:
      value = std::sqrt(va * va - watts * watts);
      break;
    case Unit::kVarh:
      value = std::sqrt(vah * vah - wh * wh);
      break;
    case Unit::kHz:
      value = hertz;
      break;
    case Unit::kPf:
      value = va == 0 ? 0 : watts / va;
      break;
  }
  return std::isnan(value) ? 0 : value;
}

double ColumnValue(const UnitModel& model, const Column& column, const Script* script,
                   const LogRecord& from, const LogRecord& to, double hours) {
  if (column.source == 'I') {
    return InputValue(model, column.index, column.unit, from, to, hours);
  }
  auto run = [&](Unit unit) {
    return script->Evaluate([&](int input) {
      if (static_cast<size_t>(input) >= model.spec().inputs.size()) {
        return 0.0;
      }
      return InputValue(model, static_cast<size_t>(input), unit, from, to, hours);
    });
  };
  double value = 0;
  if (column.unit == Unit::kVa) {
    value = std::hypot(run(Unit::kVar), run(Unit::kWatts));
  } else if (column.unit == Unit::kPf) {
    const double va = run(Unit::kVa);
    value = va == 0 ? 0 : run(Unit::kWatts) / va;
  } else {
    value = run(column.unit);
  }
  return std::isnan(value) ? 0 : value;
}

class Renderer {
 public:
  Renderer(const UnitModel& model, const Request& request) : model_(model), request_(request) {
    for (const Column& column : request.columns) {
      scripts_.push_back(column.source == 'O' ? std::optional<Script>(Script::Parse(
                                                    model.spec().outputs[column.index].script))
                                              : std::nullopt);
    }
  }

  std::string Header() const {
    std::string text;
    if (!request_.csv) {
      text += "{\"range\":[" + std::to_string(request_.begin) + "," + std::to_string(request_.end) +
              "],\"labels\":[";
    }
    for (size_t i = 0; i < request_.columns.size(); ++i) {
      text += i == 0 ? "" : (request_.csv ? ", " : ",");
      const std::string& label = request_.columns[i].label;
      text += request_.csv ? label : "\"" + label + "\"";
    }
    text += request_.csv ? "\r\n" : "],\r\n\"data\":";
    return text;
  }

  std::string Row(const Boundary& from, const Boundary& to) const {
    const double hours = to.record.log_hours - from.record.log_hours;
    const bool missing = !request_.time_only && hours == 0;
    std::string text = request_.csv ? "" : "[";
    for (size_t i = 0; i < request_.columns.size(); ++i) {
      text += i == 0 ? "" : (request_.csv ? ", " : ",");
      const Column& column = request_.columns[i];
      if (column.source == 'T') {
        text += TimeCell(column, from.time);
      } else if (missing) {
        text += request_.missing_zero ? "0" : request_.missing_null ? "null" : "";
      } else {
        const Script* script = scripts_[i] ? &*scripts_[i] : nullptr;
        text += FormatQueryValue(ColumnValue(model_, column, script, from.record, to.record, hours),
                                 column.decimals);
      }
    }
    text += request_.csv ? "" : "]";
    return text;
  }

 private:
  std::string TimeCell(const Column& column, int64_t t) const {
    const int64_t shown = column.time_local ? t + int64_t{model_.spec().timezone_minutes} * 60 : t;
    if (column.time_unix) {
      return std::to_string(shown);
    }
    return request_.csv ? FormatIso(shown) : "\"" + FormatIso(shown) + "\"";
  }

  const UnitModel& model_;
  const Request& request_;
  std::vector<std::optional<Script>> scripts_;
};

QueryResponse RunSelect(const UnitModel& model, const Request& request, const QueryArgs& args) {
  const Walker walker(model, request);
  const Renderer renderer(model, request);
  QueryResponse response;
  response.content_type = request.csv ? "text/plain" : "application/json";
  if (Arg(args, "download") != nullptr) {
    response.content_type = "application/octet-stream";
  }
  std::string& body = response.body;
  if (request.header) {
    body += renderer.Header();
  }
  body += request.csv ? "" : "[";

  Boundary newer;
  newer.time = request.begin;
  if (!request.time_only) {
    newer = walker.Read(request.begin);
  }
  std::optional<int64_t> limit_marker;
  bool closed = true;
  size_t rows = 0;
  while (newer.time < request.end) {
    if (request.limit && static_cast<int64_t>(rows) >= *request.limit) {
      limit_marker = newer.time;
      break;
    }
    Boundary older = std::move(newer);
    newer.time = walker.NextGroup(older.time);
    if (!request.time_only) {
      newer = walker.Read(newer.time);
    }
    const bool missing = newer.record.log_hours == older.record.log_hours;
    if (request.time_only || !(missing && request.missing_skip)) {
      if (rows > 0) {
        body += request.csv ? "\r\n" : ",";
      }
      body += renderer.Row(older, newer);
      ++rows;
    }
    // A boundary that did not move forward ends the stream without its closing bracket.
    if (newer.time <= older.time) {
      closed = false;
      break;
    }
  }
  response.rows = rows;
  if (!closed) {
    return response;
  }
  if (!request.csv) {
    body += "]";
    if (request.header) {
      body += limit_marker ? ",\"limit\":" + std::to_string(*limit_marker) + "}" : "}";
    }
  } else if (limit_marker) {
    body += "\r\nLimit exceeded at " + std::to_string(*limit_marker);
  }
  return response;
}

QueryResponse SeriesList(const UnitModel& model) {
  std::string body = "{\"series\":[";
  bool first = true;
  for (const InputSpec& input : model.spec().inputs) {
    body += first ? "" : ",";
    first = false;
    body += "{\"name\":\"" + input.name + "\",\"unit\":\"" +
            (input.kind == InputKind::kVoltage ? "Volts" : "Watts") + "\"}";
  }
  for (const OutputSpec& output : model.spec().outputs) {
    body += first ? "" : ",";
    first = false;
    body += "{\"name\":\"" + output.name + "\",\"unit\":\"" + output.units + "\"}";
  }
  body += "]}";
  QueryResponse response;
  response.content_type = "application/json";
  response.body = std::move(body);
  response.is_series = true;
  return response;
}

QueryResponse ErrorResponse(const std::string& reason) {
  QueryResponse response;
  response.status = 400;
  response.content_type = "text/plain";
  response.body = "{\"error\":\"invalid query. " + reason + "\"}";
  return response;
}

}  // namespace

int64_t ParseTimeSpecifier(const std::string& full_text, int64_t now, int timezone_minutes) {
  const std::string text = full_text.substr(0, 31);
  if (text.empty()) {
    return 0;
  }
  const int64_t offset = int64_t{timezone_minutes} * 60;
  if (const std::optional<int64_t> unix_time = ParseUnixTime(text)) {
    return *unix_time;
  }
  if (const std::optional<int64_t> iso = ParseIsoTime(text, offset)) {
    return *iso;
  }
  return ParseRelativeTime(text, now, offset);
}

QueryResponse RunQuery(const UnitModel& model, const QueryArgs& args) {
  if (const std::string* show = Arg(args, "show")) {
    return EqualsIgnoreCase(*show, "series") ? SeriesList(model) : ErrorResponse("unspecified");
  }
  if (Arg(args, "select") == nullptr) {
    return ErrorResponse("unspecified");
  }
  try {
    const Request request = ParseRequest(model, args);
    return RunSelect(model, request, args);
  } catch (const QueryError& error) {
    return ErrorResponse(error.reason());
  }
}

}  // namespace iwx::sim
