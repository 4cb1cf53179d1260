// A simulated IoTaWatt installation: deterministic synthetic measurements, the device's
// two logs with running accumulators, and its HTTP API on loopback.
//
// This header is the public face of the simulator used by the exporter's `demo`
// command, the `iotawatt_simulator` program and the tests.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace iwx::sim {

/// The device's notion of "now" (UTC). Thread-safe.
class Clock {
 public:
  /// Follows the system clock.
  static std::shared_ptr<Clock> Real();
  /// Stands still at start until Set() or Advance().
  static std::shared_ptr<Clock> Fixed(int64_t start_unix_ms);
  /// Runs `factor` times faster than the system clock, starting at start.
  static std::shared_ptr<Clock> Accelerated(int64_t start_unix_ms, double factor);

  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
  int64_t NowSeconds() const { return NowMs() / 1000; }
  /// Moves the clock (any kind; a real clock becomes offset from the system clock).
  virtual void Set(int64_t unix_ms) = 0;
  void Advance(std::chrono::milliseconds step) { Set(NowMs() + step.count()); }
};

enum class InputKind { kVoltage, kPower };

/// One input channel and how its synthetic signal is generated.
struct InputSpec {
  std::string name;
  InputKind kind = InputKind::kPower;
  /// Signed CT ("allow negative power"): unsigned channels report |P|.
  bool is_signed = false;
  /// Name of the synthetic pattern, e.g. "voltage", "mains", "solar", "fridge", "hvac",
  /// "water_heater", "lighting", "ev", "base". See simulator docs for the list.
  std::string profile = "base";
  /// Nominal size: peak watts for power profiles, nominal volts for "voltage".
  double nominal = 100;
  /// Which mains leg the load sits on (1 or 2, 0 = both legs: a 240 V load).
  int leg = 1;
  /// The CT is clamped backwards: a signed channel reads the negated power, an unsigned
  /// one still reads |P| but /status flags it `reversed` above 5 W.
  bool reversed = false;
};

/// A device output ("calculator" series), evaluated at read time like the firmware does.
struct OutputSpec {
  std::string name;
  std::string units = "Watts";
  /// Firmware script syntax: @n input, #c constant, + - * / < > |, no precedence.
  std::string script;
};

/// A span [begin, end) (UTC seconds) in which the unit was powered off: nothing measured,
/// log hours do not advance, the 5-s log has a hole when longer than 600 s.
struct Outage {
  int64_t begin = 0;
  int64_t end = 0;
};

struct UnitSpec {
  std::string name;               // device name (also the Digest realm)
  std::vector<InputSpec> inputs;  // index = channel number
  std::vector<OutputSpec> outputs;
  std::string firmware = "02_08_04";
  int timezone_minutes = 0;
  /// Digest password of the read-only `user` account; empty: no authentication.
  std::string user_password;
  /// First record of the history (1-minute) log, UTC seconds, a multiple of 60.
  int64_t history_start = 0;
  /// Days kept by the current (5-second) log before its firstkey moves forward.
  int current_log_days = 365;
  std::vector<Outage> outages;
  uint64_t seed = 1;
  /// Whether the mains CTs see the house load only (solar on the grid side, the default)
  /// or the net of load and solar (net metering: negative while exporting).
  bool net_metering = false;
  /// Power inputs of the other units of the installation. Their loads also flow through
  /// this unit's mains CTs (and their solar, with net metering), so a "mains" input sums
  /// them too. Filled by DefaultInstallation() and ParseInstallation().
  std::vector<InputSpec> other_loads;
  /// Models the device's blocking: every /query row adds this much to the response time.
  std::chrono::microseconds row_delay{0};
};

struct Installation {
  std::vector<UnitSpec> units;
};

/// The built-in installation: units "iwatt5" and "iwatt6", split-phase mains
/// (Mains_1, Mains_2), solar systems SolarA_1/2 and SolarB_1/2 (signed, slightly negative at
/// night), 20+ circuits; history starting `history_days` before `now_unix`.
Installation DefaultInstallation(int64_t now_unix, int history_days = 400);

/// Parses an installation from TOML (see docs/simulator.md). \throw std::runtime_error
Installation ParseInstallation(const std::string& toml_text, const std::string& source_name);

/// A record of the device log: running accumulators since the log began.
struct LogRecord {
  int64_t key = 0;             // UTC seconds
  double log_hours = 0;        // hours of measured time since the log began
  std::vector<double> accum1;  // per input: Wh (CT) or V·h (VT)
  std::vector<double> accum2;  // per input: VAh (CT) or Hz·h (VT)
};

/// One 5-second interval of one input as the generator produces it.
struct IntervalValue {
  double value = 0;       // W as the CT reports it (|P| if unsigned), or V for a VT
  double va = 0;          // VA for a CT; the voltage for a VT
  double hertz = 0;       // line frequency of the unit's voltage reference
  bool reversed = false;  // an unsigned CT whose raw reading was negative and above 5 W
};

/// The measurements and logs of one unit. Thread-safe.
class UnitModel {
 public:
  UnitModel(UnitSpec spec, std::shared_ptr<Clock> clock);
  ~UnitModel();

  const UnitSpec& spec() const noexcept;
  const std::shared_ptr<Clock>& clock() const noexcept;

  /// Ground truth straight from the synthetic generator, independent of the logs:
  /// the value (W for CTs, as the CT reports it; V for VTs) of the 5-second interval
  /// [t, t+5) (t a multiple of 5), or nullopt when the unit was off.
  std::optional<double> TruthValue(size_t input, int64_t t) const;
  /// Value, VA and frequency of the interval [t, t+5); nullopt when the unit was off.
  std::optional<IntervalValue> IntervalAt(size_t input, int64_t t) const;
  /// Index of an input by name, or nullopt.
  std::optional<size_t> FindInput(const std::string& name) const;

  /// The log record at key t (a multiple of 5) as the firmware would hold it.
  LogRecord RecordAt(int64_t t) const;

  /// First and last keys of the current (5 s) and history (60 s) logs at clock time.
  int64_t CurrentFirstKey() const;
  int64_t CurrentLastKey() const;
  int64_t HistoryFirstKey() const;
  int64_t HistoryLastKey() const;

  /// Computes the accumulator checkpoints up to the clock's present, so that the first
  /// query does not pay for it. Optional; safe to call from any thread.
  void Warm() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// Faults a test can inject into a unit's HTTP server.
enum class FaultKind {
  kNone,
  kRefuse,     // the port is closed: connections are refused
  kHang,       // requests are accepted and never answered (until the fault is cleared)
  kHttp500,    // every request answers 500
  kTruncated,  // bodies are cut in the middle
  kGarbage,    // bodies are replaced by invalid JSON
  kSlow,       // every response is delayed by `delay`
};

struct Fault {
  FaultKind kind = FaultKind::kNone;
  std::chrono::milliseconds delay{0};
};

/// Request counts by endpoint, for tests and benchmarks.
struct RequestStats {
  uint64_t status = 0;
  uint64_t query_select = 0;
  uint64_t query_series = 0;
  uint64_t unauthorized = 0;  // answered 401
  uint64_t other = 0;
  uint64_t total() const { return status + query_select + query_series + unauthorized + other; }
};

/// The HTTP API of one unit, served on a loopback port by a background thread.
class UnitServer {
 public:
  explicit UnitServer(std::shared_ptr<UnitModel> model);
  ~UnitServer();

  UnitServer(const UnitServer&) = delete;
  UnitServer& operator=(const UnitServer&) = delete;

  /// Binds and serves; port 0 picks a free one. Returns the bound port.
  /// \throw std::runtime_error when the address cannot be bound.
  uint16_t Start(const std::string& host = "127.0.0.1", uint16_t port = 0);
  /// Stops serving; returns when the port is closed. Idempotent.
  void Stop();

  uint16_t port() const noexcept;
  std::string url() const;  // "http://127.0.0.1:PORT"

  void SetFault(Fault fault);
  RequestStats stats() const;

  UnitModel& model() noexcept;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

/// All units of an installation, with one shared clock.
class Simulator {
 public:
  Simulator(Installation installation, std::shared_ptr<Clock> clock);
  ~Simulator();

  /// Starts every unit; base_port 0 picks free ports, otherwise unit i gets base_port + i.
  void Start(const std::string& host = "127.0.0.1", uint16_t base_port = 0);
  void Stop();

  const std::shared_ptr<Clock>& clock() const noexcept { return clock_; }
  std::vector<std::string> unit_names() const;
  UnitServer& unit(const std::string& name);

 private:
  std::shared_ptr<Clock> clock_;
  std::map<std::string, std::unique_ptr<UnitServer>> units_;
};

}  // namespace iwx::sim
