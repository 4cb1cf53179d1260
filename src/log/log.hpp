// Structured logging: one logfmt line per event on stderr, tagged with a subsystem.
//
// Every line reads `ts=... level=info subsystem=poller msg="device up" device=iwatt5`.
// Messages are constant texts; everything variable goes into key=value fields, so the
// lines stay greppable and can be parsed by logfmt-aware tools.
#pragma once

#include <concepts>
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>

namespace iwx::log {

/// Debug: per-poll detail. Info: state changes and start/stop. Warning: degraded
/// operation that continues. Error: something failed and needs the user.
enum class Level { kDebug, kInfo, kWarning, kError };

/// Parses "debug", "info", "warn"/"warning", "error".
/// \throw std::invalid_argument naming the value and the accepted spellings.
Level ParseLevel(std::string_view text);

/// Lines below this level are dropped. Default: kInfo. Thread-safe.
void SetLevel(Level level) noexcept;

/// Replaces stderr as the destination of complete lines (without newline); an empty
/// function restores stderr. For tests that count log lines.
void SetSink(std::function<void(std::string_view line)> sink);

/// Leaves out the `ts=` field, for output captured by journald, which stamps lines itself.
void SetTimestamps(bool enabled) noexcept;

/// One key=value pair. Values are quoted in the output when they need it.
struct Field {
  Field(std::string_view field_key, std::string_view field_value)
      : key(field_key), value(field_value) {}
  Field(std::string_view field_key, const char* field_value) : key(field_key), value(field_value) {}
  Field(std::string_view field_key, const std::string& field_value)
      : key(field_key), value(field_value) {}
  Field(std::string_view field_key, bool field_value)
      : key(field_key), value(field_value ? "true" : "false") {}
  template <std::integral T>
  Field(std::string_view field_key, T field_value)
      : key(field_key), value(std::to_string(field_value)) {}
  Field(std::string_view field_key, double field_value);

  std::string_view key;
  std::string value;
};

using Fields = std::initializer_list<Field>;

/// A named source of log lines. Cheap to copy; safe to use from any thread.
class Logger {
 public:
  explicit Logger(std::string subsystem) : subsystem_(std::move(subsystem)) {}

  void Debug(std::string_view message, Fields fields = {}) const;
  void Info(std::string_view message, Fields fields = {}) const;
  void Warning(std::string_view message, Fields fields = {}) const;
  void Error(std::string_view message, Fields fields = {}) const;

  bool Enabled(Level level) const noexcept;

 private:
  void Write(Level level, std::string_view message, Fields fields) const;

  std::string subsystem_;
};

}  // namespace iwx::log
