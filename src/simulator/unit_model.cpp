// The unit's logs are never stored: a record is recomputed from the generator. Because each
// minute's energy is known in closed form (see signals.hpp), a record is
//   hourly checkpoint + whole minutes of its hour + 5-s intervals of its minute.
// Checkpoints are computed once, incrementally from the start of the log, and kept; the
// minute prefix sums of recently used hours are cached as well.
#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>

#include "simulator/civil_time.hpp"
#include "simulator/signals.hpp"
#include "simulator/simulator.hpp"

namespace iwx::sim {

namespace {

constexpr int64_t kInterval = 5;
constexpr int64_t kIntervalsPerMinute = 12;
constexpr double kHoursPerInterval = 5.0 / 3600.0;
constexpr size_t kMaxCachedHours = 512;

// One contribution of a source to a channel: value += coefficient × source.
struct Term {
  size_t source = 0;
  double coefficient = 1;
};

// Everything about one minute that the channels need.
struct Frame {
  int64_t minute_start = 0;
  std::vector<SourceMinute> sources;
  std::vector<std::array<double, 12>> patterns;  // filled on demand by EnsurePatterns()
  bool has_patterns = false;
};

struct Channel {
  bool voltage = false;
  bool is_signed = false;
  bool reversed = false;
  // Some term can make the raw value negative (solar, or a subtracted source): such a
  // channel's VA cannot follow its watts linearly, and an unsigned one needs |P| per interval.
  bool may_go_negative = false;
  std::vector<Term> terms;
};

// "AC_1" and "AC_2" are two CTs on one 240 V load, "SolarA_1/2" the two legs of one
// inverter: they share one source of randomness.
std::string SystemName(const std::string& name) {
  const size_t underscore = name.rfind('_');
  if (underscore == std::string::npos || underscore + 1 == name.size()) {
    return name;
  }
  const bool digits = std::all_of(name.begin() + static_cast<std::ptrdiff_t>(underscore) + 1,
                                  name.end(), [](char c) { return c >= '0' && c <= '9'; });
  return digits ? name.substr(0, underscore) : name;
}

double LegShare(int load_leg, int mains_leg) {
  if (mains_leg == 0 || load_leg == mains_leg) {
    return 1;
  }
  return load_leg == 0 ? 0.5 : 0;
}

}  // namespace

struct UnitModel::Impl {
  UnitSpec spec;
  std::shared_ptr<Clock> clock;
  std::vector<Source> sources;
  std::vector<bool> source_is_solar;
  std::vector<Channel> channels;
  std::optional<size_t> voltage_source;  // the source of the unit's reference VT
  size_t width = 0;                      // 1 + 2 × inputs: log hours, then accum1, then accum2
  int64_t origin = 0;                    // first key of the history log
  int64_t grid_origin = 0;               // checkpoints sit on whole UTC hours from here
  uint64_t weather_seed = 0;

  mutable std::mutex mutex;
  mutable std::vector<std::vector<double>> checkpoints;  // [k] = state at origin + k hours
  mutable std::map<int64_t, std::vector<double>> hour_prefixes;

  Impl(UnitSpec unit_spec, std::shared_ptr<Clock> unit_clock)
      : spec(std::move(unit_spec)), clock(std::move(unit_clock)) {
    origin = FloorTo(spec.history_start, 60);
    grid_origin = FloorTo(origin, 3600);
    // Every unit of an installation shares the seed, hence the same sky and temperatures.
    weather_seed = Mix(spec.seed, 0x77656174686572ULL);
    for (Outage& outage : spec.outages) {
      outage.begin = FloorTo(outage.begin, kInterval);
      outage.end = FloorTo(outage.end + kInterval - 1, kInterval);
    }
    BuildChannels();
    width = 1 + 2 * channels.size();
    checkpoints.push_back(std::vector<double>(width, 0.0));
  }

  size_t AddSource(const InputSpec& input, Profile profile, const std::string& identity) {
    Source source;
    source.profile = profile;
    source.nominal = input.nominal;
    source.key = Mix(spec.seed, HashText(identity));
    sources.push_back(source);
    source_is_solar.push_back(profile == Profile::kSolar);
    return sources.size() - 1;
  }

  void BuildChannels() {
    // Every load of the installation that the mains CTs see, with its leg.
    std::vector<std::pair<size_t, int>> house_loads;
    channels.resize(spec.inputs.size());
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
      const InputSpec& input = spec.inputs[i];
      Channel& channel = channels[i];
      channel.is_signed = input.is_signed;
      channel.reversed = input.reversed;
      const Profile profile = ParseProfile(input.profile);
      if (input.kind == InputKind::kVoltage || profile == Profile::kVoltage) {
        channel.voltage = true;
        channel.terms.push_back({AddSource(input, Profile::kVoltage, input.name), 1});
        if (!voltage_source) {
          voltage_source = channel.terms.back().source;
        }
        continue;
      }
      if (profile == Profile::kMains) {
        continue;  // filled below, once all loads are known
      }
      const size_t source = AddSource(input, profile, SystemName(input.name));
      channel.terms.push_back({source, 1});
      house_loads.emplace_back(source, input.leg);
    }
    for (const InputSpec& other : spec.other_loads) {
      const Profile profile = ParseProfile(other.profile);
      if (other.kind == InputKind::kPower && profile != Profile::kMains &&
          profile != Profile::kVoltage) {
        house_loads.emplace_back(AddSource(other, profile, SystemName(other.name)), other.leg);
      }
    }
    for (size_t i = 0; i < spec.inputs.size(); ++i) {
      const InputSpec& input = spec.inputs[i];
      if (channels[i].voltage || ParseProfile(input.profile) != Profile::kMains) {
        continue;
      }
      BuildMains(input, channels[i], house_loads);
    }
    for (Channel& channel : channels) {
      for (const Term& term : channel.terms) {
        channel.may_go_negative |= term.coefficient < 0 || source_is_solar[term.source];
      }
    }
  }

  // A mains CT carries the leg's share of every house load plus loads nobody monitors;
  // solar ties in on the grid side, so the mains see it only with net metering.
  void BuildMains(const InputSpec& input, Channel& channel,
                  const std::vector<std::pair<size_t, int>>& house_loads) {
    const size_t unmonitored = AddSource(input, Profile::kOutlets, input.name);
    channel.terms.push_back({unmonitored, 1});
    for (const auto& [source, leg] : house_loads) {
      const double share = LegShare(leg, input.leg);
      if (share == 0) {
        continue;
      }
      if (!source_is_solar[source]) {
        channel.terms.push_back({source, share});
      } else if (spec.net_metering) {
        channel.terms.push_back({source, -share});
      }
    }
  }

  bool IsOff(int64_t t) const {
    return std::any_of(spec.outages.begin(), spec.outages.end(),
                       [t](const Outage& o) { return t >= o.begin && t < o.end; });
  }

  bool OverlapsOutage(int64_t begin, int64_t end) const {
    return std::any_of(spec.outages.begin(), spec.outages.end(),
                       [&](const Outage& o) { return o.begin < end && begin < o.end; });
  }

  void Evaluate(int64_t minute_start, Frame& frame) const {
    const Moment moment = MakeMoment(minute_start, spec.timezone_minutes, weather_seed);
    frame.minute_start = minute_start;
    frame.sources.resize(sources.size());
    for (size_t s = 0; s < sources.size(); ++s) {
      frame.sources[s] = EvaluateSource(sources[s], moment);
    }
    frame.has_patterns = false;
  }

  void EnsurePatterns(Frame& frame) const {
    if (frame.has_patterns) {
      return;
    }
    frame.patterns.resize(sources.size());
    for (size_t s = 0; s < sources.size(); ++s) {
      frame.patterns[s] = Patterns(sources[s].key, frame.minute_start);
    }
    frame.has_patterns = true;
  }

  double Sign(const Channel& channel) const {
    return channel.is_signed && channel.reversed ? -1.0 : 1.0;
  }

  // VA that never falls below |W| for channels whose power can change sign.
  static double EnvelopeVa(const Channel& channel, const Frame& frame) {
    double va = 0;
    for (const Term& term : channel.terms) {
      const SourceMinute& source = frame.sources[term.source];
      va += std::abs(term.coefficient) * (std::abs(source.base) + source.amplitude) /
            source.power_factor;
    }
    return va;
  }

  // Caller has called EnsurePatterns(frame).
  IntervalValue ChannelInterval(size_t c, const Frame& frame, int interval) const {
    const Channel& channel = channels[c];
    IntervalValue result;
    result.hertz = HertzOf(frame);
    if (channel.voltage) {
      const size_t s = channel.terms[0].source;
      const SourceMinute& source = frame.sources[s];
      result.value = source.base + source.amplitude * frame.patterns[s][interval];
      result.va = result.value;
      return result;
    }
    double watts = 0;
    double linear_va = 0;
    for (const Term& term : channel.terms) {
      const SourceMinute& source = frame.sources[term.source];
      const double value = source.base + source.amplitude * frame.patterns[term.source][interval];
      watts += term.coefficient * value;
      linear_va += term.coefficient * value / source.power_factor;
    }
    watts *= Sign(channel);
    if (!channel.is_signed && (watts < 0) != channel.reversed && std::abs(watts) > 5) {
      result.reversed = true;
    }
    result.value = channel.is_signed ? watts : std::abs(watts);
    result.va = channel.may_go_negative ? EnvelopeVa(channel, frame) : linear_va;
    return result;
  }

  double HertzOf(const Frame& frame) const {
    return voltage_source ? frame.sources[*voltage_source].hertz : 60;
  }

  bool Measured(int64_t t) const { return t >= origin && !IsOff(t); }

  // Adds `count` intervals of the frame's minute from interval 0 to a state vector,
  // skipping intervals in which nothing was measured.
  void AddIntervals(Frame& frame, int count, std::vector<double>& state) const {
    EnsurePatterns(frame);
    const size_t n = channels.size();
    for (int i = 0; i < count; ++i) {
      if (!Measured(frame.minute_start + i * kInterval)) {
        continue;
      }
      state[0] += kHoursPerInterval;
      for (size_t c = 0; c < n; ++c) {
        const IntervalValue value = ChannelInterval(c, frame, i);
        state[1 + c] += value.value * kHoursPerInterval;
        state[1 + n + c] += (channels[c].voltage ? value.hertz : value.va) * kHoursPerInterval;
      }
    }
  }

  // Adds one whole minute, in closed form where possible: each interval pattern sums to zero.
  void AddMinute(int64_t minute_start, Frame& frame, std::vector<double>& state) const {
    if (minute_start + 60 <= origin) {
      return;
    }
    Evaluate(minute_start, frame);
    if (minute_start < origin || OverlapsOutage(minute_start, minute_start + 60)) {
      AddIntervals(frame, kIntervalsPerMinute, state);
      return;
    }
    const size_t n = channels.size();
    state[0] += 1.0 / 60;
    for (size_t c = 0; c < n; ++c) {
      const Channel& channel = channels[c];
      if (channel.voltage) {
        const SourceMinute& source = frame.sources[channel.terms[0].source];
        state[1 + c] += source.base / 60;
        state[1 + n + c] += source.hertz / 60;
        continue;
      }
      if (!channel.is_signed && channel.may_go_negative) {
        // |P| has no closed form when P changes sign within the minute.
        EnsurePatterns(frame);
        for (int i = 0; i < kIntervalsPerMinute; ++i) {
          const IntervalValue value = ChannelInterval(c, frame, i);
          state[1 + c] += value.value * kHoursPerInterval;
          state[1 + n + c] += value.va * kHoursPerInterval;
        }
        continue;
      }
      double watts = 0;
      double linear_va = 0;
      for (const Term& term : channel.terms) {
        const SourceMinute& source = frame.sources[term.source];
        watts += term.coefficient * source.base;
        linear_va += term.coefficient * source.base / source.power_factor;
      }
      state[1 + c] += Sign(channel) * watts / 60;
      state[1 + n + c] += (channel.may_go_negative ? EnvelopeVa(channel, frame) : linear_va) / 60;
    }
  }

  // Caller holds the mutex.
  const std::vector<double>& Checkpoint(size_t hour) const {
    Frame frame;
    while (checkpoints.size() <= hour) {
      std::vector<double> state = checkpoints.back();
      const int64_t hour_start = grid_origin + static_cast<int64_t>(checkpoints.size() - 1) * 3600;
      for (int m = 0; m < 60; ++m) {
        AddMinute(hour_start + m * 60, frame, state);
      }
      checkpoints.push_back(std::move(state));
    }
    return checkpoints[hour];
  }

  // Caller holds the mutex. Row j: the change over the hour's first j whole minutes.
  const std::vector<double>& HourPrefix(size_t hour) const {
    const auto key = static_cast<int64_t>(hour);
    if (auto found = hour_prefixes.find(key); found != hour_prefixes.end()) {
      return found->second;
    }
    if (hour_prefixes.size() >= kMaxCachedHours) {
      hour_prefixes.clear();
    }
    std::vector<double> prefix(61 * width, 0.0);
    std::vector<double> state(width, 0.0);
    Frame frame;
    const int64_t hour_start = grid_origin + key * 3600;
    for (int m = 0; m < 60; ++m) {
      AddMinute(hour_start + m * 60, frame, state);
      std::copy(state.begin(), state.end(), prefix.begin() + (m + 1) * static_cast<long>(width));
    }
    return hour_prefixes.emplace(key, std::move(prefix)).first->second;
  }

  int64_t LastKey() const { return std::max(origin, FloorTo(clock->NowSeconds(), kInterval)); }

  std::vector<double> StateAt(int64_t t) const {
    t = std::min(FloorTo(t, kInterval), LastKey());
    if (t <= origin) {
      return std::vector<double>(width, 0.0);
    }
    const auto hour = static_cast<size_t>((t - grid_origin) / 3600);
    const int64_t hour_start = grid_origin + static_cast<int64_t>(hour) * 3600;
    const int64_t whole_minutes = (t - hour_start) / 60;
    const int64_t minute_start = hour_start + whole_minutes * 60;

    std::vector<double> state;
    {
      std::lock_guard lock(mutex);
      state = Checkpoint(hour);
      if (whole_minutes > 0) {
        const std::vector<double>& prefix = HourPrefix(hour);
        for (size_t k = 0; k < width; ++k) {
          state[k] += prefix[static_cast<size_t>(whole_minutes) * width + k];
        }
      }
    }
    const int intervals = static_cast<int>((t - minute_start) / kInterval);
    if (intervals > 0) {
      Frame frame;
      Evaluate(minute_start, frame);
      AddIntervals(frame, intervals, state);
    }
    return state;
  }
};

UnitModel::UnitModel(UnitSpec spec, std::shared_ptr<Clock> clock)
    : impl_(std::make_unique<Impl>(std::move(spec), std::move(clock))) {}

UnitModel::~UnitModel() = default;

const UnitSpec& UnitModel::spec() const noexcept {
  return impl_->spec;
}

const std::shared_ptr<Clock>& UnitModel::clock() const noexcept {
  return impl_->clock;
}

std::optional<IntervalValue> UnitModel::IntervalAt(size_t input, int64_t t) const {
  if (input >= impl_->channels.size()) {
    throw std::out_of_range("input " + std::to_string(input) + " of unit \"" + impl_->spec.name +
                            "\" does not exist: the unit has " +
                            std::to_string(impl_->channels.size()) + " inputs");
  }
  t = FloorTo(t, kInterval);
  if (t < impl_->origin || impl_->IsOff(t)) {
    return std::nullopt;
  }
  Frame frame;
  impl_->Evaluate(FloorTo(t, 60), frame);
  impl_->EnsurePatterns(frame);
  return impl_->ChannelInterval(input, frame,
                                static_cast<int>((t - frame.minute_start) / kInterval));
}

std::optional<double> UnitModel::TruthValue(size_t input, int64_t t) const {
  const std::optional<IntervalValue> interval = IntervalAt(input, t);
  if (!interval) {
    return std::nullopt;
  }
  return interval->value;
}

std::optional<size_t> UnitModel::FindInput(const std::string& name) const {
  for (size_t i = 0; i < impl_->spec.inputs.size(); ++i) {
    if (impl_->spec.inputs[i].name == name) {
      return i;
    }
  }
  return std::nullopt;
}

LogRecord UnitModel::RecordAt(int64_t t) const {
  const std::vector<double> state = impl_->StateAt(t);
  const size_t n = impl_->channels.size();
  LogRecord record;
  record.key = FloorTo(t, kInterval);
  record.log_hours = state[0];
  record.accum1.assign(state.begin() + 1, state.begin() + 1 + static_cast<long>(n));
  record.accum2.assign(state.begin() + 1 + static_cast<long>(n), state.end());
  return record;
}

int64_t UnitModel::CurrentLastKey() const {
  return impl_->LastKey();
}

int64_t UnitModel::CurrentFirstKey() const {
  const int64_t retention = int64_t{impl_->spec.current_log_days} * 86400;
  return std::max(impl_->origin, CurrentLastKey() - retention);
}

int64_t UnitModel::HistoryFirstKey() const {
  return impl_->origin;
}

int64_t UnitModel::HistoryLastKey() const {
  return std::max(impl_->origin, FloorTo(impl_->clock->NowSeconds(), 60));
}

void UnitModel::Warm() const {
  const int64_t now = impl_->LastKey();
  std::lock_guard lock(impl_->mutex);
  impl_->Checkpoint(static_cast<size_t>((now - impl_->grid_origin) / 3600));
}

}  // namespace iwx::sim
