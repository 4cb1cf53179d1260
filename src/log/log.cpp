#include "log/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>
#include <stdexcept>

#include "util/strings.hpp"

namespace iwx::log {

namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<bool> g_timestamps{true};
std::mutex g_sink_mutex;
std::function<void(std::string_view)> g_sink;

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarning:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "unknown";
}

bool NeedsQuotes(std::string_view value) {
  if (value.empty()) {
    return true;
  }
  for (const char c : value) {
    if (c <= ' ' || c == '"' || c == '=' || c == '\\') {
      return true;
    }
  }
  return false;
}

void AppendValue(std::string& line, std::string_view value) {
  if (!NeedsQuotes(value)) {
    line += value;
    return;
  }
  line += '"';
  for (const char c : value) {
    switch (c) {
      case '"':
        line += "\\\"";
        break;
      case '\\':
        line += "\\\\";
        break;
      case '\n':
        line += "\\n";
        break;
      case '\r':
        line += "\\r";
        break;
      case '\t':
        line += "\\t";
        break;
      default:
        line += c;
    }
  }
  line += '"';
}

void AppendTimestamp(std::string& line) {
  const auto now = std::chrono::system_clock::now();
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  const std::time_t seconds = static_cast<std::time_t>(millis / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[96];
  std::snprintf(buffer, sizeof(buffer), "ts=%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ",
                utc.tm_year + 1900, utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min,
                utc.tm_sec, static_cast<int>(millis % 1000));
  line += buffer;
}

}  // namespace

Field::Field(std::string_view field_key, double field_value)
    : key(field_key), value(util::FormatDouble(field_value)) {}

Level ParseLevel(std::string_view text) {
  if (text == "debug") {
    return Level::kDebug;
  }
  if (text == "info") {
    return Level::kInfo;
  }
  if (text == "warn" || text == "warning") {
    return Level::kWarning;
  }
  if (text == "error") {
    return Level::kError;
  }
  throw std::invalid_argument("invalid log level \"" + std::string(text) +
                              "\": expected one of debug, info, warn, error");
}

void SetLevel(Level level) noexcept {
  g_level.store(level);
}

void SetTimestamps(bool enabled) noexcept {
  g_timestamps.store(enabled);
}

void SetSink(std::function<void(std::string_view line)> sink) {
  const std::lock_guard lock(g_sink_mutex);
  g_sink = std::move(sink);
}

bool Logger::Enabled(Level level) const noexcept {
  return level >= g_level.load();
}

void Logger::Debug(std::string_view message, Fields fields) const {
  Write(Level::kDebug, message, fields);
}

void Logger::Info(std::string_view message, Fields fields) const {
  Write(Level::kInfo, message, fields);
}

void Logger::Warning(std::string_view message, Fields fields) const {
  Write(Level::kWarning, message, fields);
}

void Logger::Error(std::string_view message, Fields fields) const {
  Write(Level::kError, message, fields);
}

void Logger::Write(Level level, std::string_view message, Fields fields) const {
  if (!Enabled(level)) {
    return;
  }

  std::string line;
  line.reserve(128);
  if (g_timestamps.load()) {
    AppendTimestamp(line);
  }
  line += "level=";
  line += LevelName(level);
  line += " subsystem=";
  line += subsystem_;
  line += " msg=";
  AppendValue(line, message);
  for (const auto& field : fields) {
    line += ' ';
    line += field.key;
    line += '=';
    AppendValue(line, field.value);
  }

  const std::lock_guard lock(g_sink_mutex);
  if (g_sink) {
    g_sink(line);
    return;
  }
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace iwx::log
