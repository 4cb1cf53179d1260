// Binding derived series to the channels the devices actually report.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "config/config.hpp"
#include "derived/expression.hpp"

namespace iwx::derived {

/// One device channel.
struct ChannelKey {
  std::string device;
  std::string channel;

  auto operator<=>(const ChannelKey&) const = default;
};

/// Channel names per device, as discovered. A device missing from the map has not been
/// discovered yet.
using Inventory = std::map<std::string, std::vector<std::string>>;

/// Why a derived series could not be bound.
struct Problem {
  std::string series;
  config::Location location;
  /// Full message: "FILE:LINE:COL: derived.NAME: unknown channel \"X\" ..." etc.
  std::string message;
  /// True when the series may still bind once undiscovered devices report (not an error
  /// yet for the running exporter, but an error for `check`).
  bool pending = false;
  /// The message without location and key.
  std::string reason;
  /// Set when the series is unbound only because this derived series is unbound (whose
  /// own problem is listed too).
  std::string depends_on;
};

/// The derived series that could be bound, ready for evaluation per record.
class DerivedSet {
 public:
  /// Names of the bound series, in config order.
  const std::vector<std::string>& names() const noexcept { return names_; }

  /// Every channel any bound series needs (directly or through other series), sorted.
  const std::vector<ChannelKey>& inputs() const noexcept { return inputs_; }

  /// For bound series i, the indexes into inputs() it needs (transitively).
  const std::vector<size_t>& InputsOf(size_t series) const { return series_inputs_.at(series); }

  /// Evaluates every bound series for one record. input_values[i] belongs to inputs()[i]
  /// (NaN when missing); out receives one value per name (NaN when an input it needs is
  /// missing). out.size() must equal names().size().
  void Evaluate(std::span<const double> input_values, std::span<double> out) const;

  const std::vector<Problem>& problems() const noexcept { return problems_; }

  /// Binds every series of the config. Bare names refer to a derived series of that name
  /// if there is one, else to the only device channel of that name; a bare name found on
  /// several devices is ambiguous. Series that depend on an unbound series are unbound.
  /// The inventory should list the channels the exporter reads (after allow-lists).
  /// This form knows only the devices of the inventory and those named in `dev.chan`
  /// references: a bare name none of them reports is pending while one of them is missing
  /// from the inventory, else unknown.
  static DerivedSet Resolve(const std::vector<config::DerivedSeries>& series,
                            const Inventory& inventory);

  /// Same, with the configured devices taken from the config: a bare name that no
  /// discovered device reports is pending while some configured device is undiscovered.
  static DerivedSet Resolve(const config::Config& config, const Inventory& inventory);

 private:
  struct Compiled;
  class Binder;

  std::vector<std::string> names_;
  std::vector<ChannelKey> inputs_;
  std::vector<std::vector<size_t>> series_inputs_;
  std::vector<Problem> problems_;
  std::shared_ptr<const std::vector<Compiled>> program_;
};

}  // namespace iwx::derived
