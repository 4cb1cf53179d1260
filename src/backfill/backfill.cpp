#include "backfill/backfill.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>

#include "backfill/holdings.hpp"
#include "backfill/progress.hpp"
#include "backfill/slots.hpp"
#include "derived/resolver.hpp"
#include "iotawatt/energy.hpp"
#include "log/log.hpp"
#include "util/duration.hpp"

namespace iwx::backfill {

namespace {

using detail::IsEnergy;
using detail::SeriesKey;
using detail::Slot;
using detail::SlotKind;
using detail::VmHoldings;

const log::Logger kLog("backfill");

constexpr double kNanoWhPerWh = 1e9;
constexpr double kJoulesPerNanoWh = 3.6e-6;
// A minute's Wh as average watts: Wh * 3600 s/h / 60 s.
constexpr double kWattsPerWhPerMinute = 60;
// The device writes the record that closes a minute at the minute's end; leave it a moment.
constexpr int64_t kSettleSeconds = 5;
// Missing minutes closer than this are read with one request.
constexpr int64_t kMergeMinutes = 10;
// For --plan: a guess of the device's time per 1-minute row.
constexpr double kAssumedSecondsPerRow = 0.002;
// Like the live exporter, each positive minute counts the allowance of its 12 records less.
constexpr int64_t kAllowanceNwhPerMinute =
    iotawatt::kRoundingAllowanceNwh * iotawatt::kRecordsPerMinute;

struct DeviceState {
  const config::DeviceConfig* config = nullptr;
  std::unique_ptr<DeviceReader> reader;
  DeviceInfo info;
  Span range;
  std::vector<size_t> channel_slots;
  std::vector<std::optional<size_t>> energy_slots;
  // Energy since the history log began, exact in nWh, valid at energy_position.
  std::optional<int64_t> energy_position;
  std::vector<int64_t> energy_nwh;
  std::vector<bool> negative;
  // The current window.
  std::vector<MinuteRow> rows;
  std::vector<std::vector<std::pair<int64_t, double>>> energy_samples;
  std::vector<int32_t> row_of_minute;
};

class VmSink : public backfill::Sink {
 public:
  explicit VmSink(VmClient& vm) : vm_(vm) {}
  // The next window is read from the devices and encoded while this one is imported; it
  // is handed over only once this one was accepted.
  void Write(const Batch& batch) override { vm_.ImportInBackground(EncodeJsonLines(batch)); }
  void Finish() override { vm_.WaitForImport(); }

 private:
  VmClient& vm_;
};

class Runner {
 public:
  Runner(const config::Config& config, const Options& options, const StopSignal& stop,
         std::ostream& out)
      : config_(config), options_(options), stop_(stop), out_(out) {}

  Summary Run() {
    const auto started = std::chrono::steady_clock::now();
    SelectDevices();
    Discover();
    ComputeRanges();
    BindDerived();
    BuildSlots();
    if (options_.plan) {
      PrintPlan();
      return summary_;
    }

    std::unique_ptr<backfill::Sink> sink = OpenSink();
    if (vm_) {
      holdings_.emplace(*vm_, options_, slots_);
      Preflight();
    }
    WriteWindows(*sink);
    if (summary_.complete) {
      sink->Finish();
    }
    Summarise(started);
    return summary_;
  }

 private:
  void SelectDevices() {
    for (const auto& wanted : options_.devices) {
      const bool known = std::any_of(config_.devices.begin(), config_.devices.end(),
                                     [&](const auto& device) { return device.name == wanted; });
      if (!known) {
        std::string names;
        for (const auto& device : config_.devices) {
          names += (names.empty() ? "" : ", ") + device.name;
        }
        throw std::invalid_argument("--device: unknown device \"" + wanted + "\" in " +
                                    config_.source + "; expected one of " + names);
      }
    }
    for (const auto& device : config_.devices) {
      const auto& wanted = options_.devices;
      if (wanted.empty() || std::find(wanted.begin(), wanted.end(), device.name) != wanted.end()) {
        DeviceState state;
        state.config = &device;
        state.reader = std::make_unique<DeviceReader>(config_, device, options_.reader, stop_);
        devices_.push_back(std::move(state));
      }
    }
  }

  void Discover() {
    for (auto& device : devices_) {
      device.info = device.reader->Discover();
      Note("device discovered", {{"device", device.config->name},
                                 {"channels", device.info.channels.size()},
                                 {"history_start", FormatTime(device.info.history_first)},
                                 {"device_time", FormatTime(device.info.now)}});
    }
  }

  void ComputeRanges() {
    if (options_.from && options_.to && *options_.from >= *options_.to) {
      throw std::invalid_argument("--from " + FormatTime(*options_.from) + " is not before --to " +
                                  FormatTime(*options_.to) +
                                  "; expected a range of at least one minute");
    }
    overall_ = {std::numeric_limits<int64_t>::max(), std::numeric_limits<int64_t>::min()};
    for (auto& device : devices_) {
      const int64_t last_complete = FloorToMinute(device.info.now - kSettleSeconds);
      device.range.begin =
          CeilToMinute(std::max(options_.from.value_or(0), device.info.history_first));
      device.range.end =
          FloorToMinute(std::min(options_.to.value_or(last_complete), last_complete));
      device.range.end = std::max(device.range.end, device.range.begin);
      overall_.begin = std::min(overall_.begin, device.range.begin);
      overall_.end = std::max(overall_.end, device.range.end);
    }
  }

  void BindDerived() {
    derived::Inventory inventory;
    for (const auto& device : devices_) {
      auto& names = inventory[device.config->name];
      for (const auto& channel : device.info.channels) {
        names.push_back(channel.name);
      }
    }
    derived_ = derived::DerivedSet::Resolve(config_, inventory);
    for (const auto& problem : derived_.problems()) {
      kLog.Warning("derived series skipped",
                   {{"series", problem.series}, {"reason", problem.reason}});
    }

    // Where each input of the derived series comes from.
    for (const auto& input : derived_.inputs()) {
      InputRef ref;
      for (size_t d = 0; d < devices_.size(); ++d) {
        const auto& channels = devices_[d].info.channels;
        for (size_t c = 0; c < channels.size(); ++c) {
          if (devices_[d].config->name == input.device && channels[c].name == input.channel) {
            ref = {d, c, channels[c].kind};
          }
        }
      }
      inputs_.push_back(ref);
    }
  }

  void BuildSlots() {
    for (size_t d = 0; d < devices_.size(); ++d) {
      auto& device = devices_[d];
      const auto& channels = device.info.channels;
      device.energy_nwh.assign(channels.size(), 0);
      device.negative.assign(channels.size(), false);
      device.energy_slots.assign(channels.size(), std::nullopt);
      for (size_t c = 0; c < channels.size(); ++c) {
        config::Labels labels{{"device", device.config->name}, {"channel", channels[c].name}};
        labels.insert(labels.end(), channels[c].labels.begin(), channels[c].labels.end());
        const bool power = channels[c].kind == ChannelKind::kPower;
        device.channel_slots.push_back(
            AddSlot(SlotKind::kChannel, d, c, power ? kPowerMetric : kVoltageMetric, labels));
        if (power) {
          labels.emplace_back("direction", "positive");
          device.energy_slots[c] = AddSlot(SlotKind::kEnergy, d, c, kEnergyMetric, labels);
        }
      }
    }
    for (size_t k = 0; k < derived_.names().size(); ++k) {
      const std::string& name = derived_.names()[k];
      derived_slots_.push_back(AddSlot(SlotKind::kDerived, 0, k, kDerivedMetric, {{"name", name}}));
      derived_energy_slots_.push_back(AddSlot(SlotKind::kDerivedEnergy, 0, k, kDerivedEnergyMetric,
                                              {{"name", name}, {"direction", "positive"}}));
    }
    derived_joules_.assign(derived_.names().size(), 0);
    derived_negative_.assign(derived_.names().size(), false);
  }

  // `index` is the channel of a device, or the derived series.
  size_t AddSlot(SlotKind kind, size_t device, size_t index, const char* metric,
                 config::Labels labels) {
    Slot slot;
    slot.kind = kind;
    slot.device = device;
    (kind == SlotKind::kDerived ? slot.derived : slot.channel) = index;
    slot.metric = metric;
    slot.labels = std::move(labels);
    slot.labels.insert(slot.labels.end(), options_.extra_labels.begin(),
                       options_.extra_labels.end());
    slots_.push_back(std::move(slot));
    return slots_.size() - 1;
  }

  void PrintPlan() {
    for (const auto& device : devices_) {
      int64_t series = 0;
      for (const auto& channel : device.info.channels) {
        series += channel.kind == ChannelKind::kPower ? 2 : 1;
      }
      const auto plan =
          EstimatePlan(device.range, options_.window_seconds, options_.reader.rows_per_page, series,
                       kAssumedSecondsPerRow, options_.reader.device_share);
      out_ << "device " << device.config->name << ": " << FormatTime(device.range.begin) << " to "
           << FormatTime(device.range.end) << "\n"
           << "  minutes " << plan.minutes << ", device requests " << plan.requests << ", rows "
           << plan.rows << ", samples " << plan.samples << " (" << series << " series)\n"
           << "  estimated duration " << util::FormatDuration(plan.duration) << " at device_share "
           << options_.reader.device_share << " (assuming " << kAssumedSecondsPerRow * 1000
           << " ms of device time per row)\n";
    }
    out_ << "derived series: " << derived_.names().size() << ", samples up to "
         << overall_.minutes() * static_cast<int64_t>(derived_.names().size()) << "\n";
  }

  std::unique_ptr<backfill::Sink> OpenSink() {
    if (!options_.output_file.empty()) {
      return std::make_unique<FileSink>(options_.output_file, options_.format);
    }
    vm_ = std::make_unique<VmClient>(options_.vm, options_.vm_retry, stop_);
    return std::make_unique<VmSink>(*vm_);
  }

  // Checks that VictoriaMetrics answers, warns about flags that lose or duplicate data,
  // and learns what it already holds.
  void Preflight() {
    holdings_->Ping();
    if (!options_.quiet) {
      holdings_->CheckFlags(overall_.begin);
    }
    if (options_.resume || options_.repair) {
      FindReadStart();
    }
    holdings_->LoadEnergyCutoffs(overall_);
    gap_mode_ = gap_mode_ || options_.repair;
    LoadDerivedAnchors();
  }

  // Reading starts after the newest sample of every series this run can produce, unless
  // live samples among them call for gap mode.
  void FindReadStart() {
    const bool live = holdings_->LoadWrittenUntil(stop_);
    gap_mode_ = gap_mode_ || live;

    read_start_ = overall_.end;
    for (const auto& slot : slots_) {
      if (!IsEnergy(slot.kind) && Producible(slot)) {
        const int64_t next = slot.written_until_ms < 0
                                 ? overall_.begin
                                 : slot.written_until_ms / 1000 + kMinuteSeconds;
        read_start_ = std::min(read_start_, next);
      }
    }
    read_start_ = std::max(read_start_, overall_.begin);
    if (options_.repair) {
      read_start_ = overall_.begin;
    } else if (gap_mode_) {
      Note("live samples found in the backfilled series; looking for missing minutes",
           {{"from", FormatTime(overall_.begin)}});
      read_start_ = overall_.begin;
    } else {
      Note("resuming", {{"from", FormatTime(read_start_)}});
    }
  }

  // Derived energy counters continue from what VictoriaMetrics holds before the first
  // minute read.
  void LoadDerivedAnchors() {
    if (derived_slots_.empty()) {
      return;
    }
    if (gap_mode_) {
      // TODO: fill derived energy counters inside gaps from the samples around each gap.
      derived_energy_ = false;
      Note("derived energy is not backfilled when filling gaps");
      return;
    }
    const auto anchors = holdings_->LoadDerivedAnchors(derived_slots_, derived_energy_slots_,
                                                       std::max(read_start_, overall_.begin));
    for (size_t k = 0; k < anchors.size(); ++k) {
      derived_joules_[k] = anchors[k].joules;
      derived_negative_[k] = anchors[k].negative;
    }
  }

  void WriteWindows(backfill::Sink& sink) {
    std::vector<std::string> names;
    std::vector<int64_t> totals;
    for (const auto& device : devices_) {
      names.push_back(device.config->name);
      totals.push_back(device.range.minutes());
    }
    const ProgressStyle style = options_.quiet           ? ProgressStyle::kSilent
                                : options_.progress_bars ? ProgressStyle::kBars
                                                         : ProgressStyle::kLogLines;
    Progress progress(names, totals, style);

    for (const Span& window : SplitIntoWindows(overall_, options_.window_seconds)) {
      if (stop_.stopped() ||
          (options_.max_batches > 0 && summary_.batches >= uint64_t(options_.max_batches))) {
        summary_.complete = false;
        break;
      }
      if (window.end <= read_start_) {
        AdvanceProgress(progress, window, false);
        continue;
      }
      if (gap_mode_) {
        holdings_->LoadPresence(window);
      }
      ReadWindow(window);
      const Batch batch = BuildBatch(window);
      if (batch.samples() > 0) {
        sink.Write(batch);
        ++summary_.batches;
        summary_.samples += batch.samples();
        RecordNewest(batch);
      }
      AdvanceProgress(progress, window, true);
    }
    progress.Finish();
  }

  void RecordNewest(const Batch& batch) {
    for (const auto& series : batch.series) {
      if (!series.timestamps_ms.empty()) {
        summary_.newest_written_ms[SeriesKey(series.metric, series.labels)] =
            series.timestamps_ms.back();
      }
    }
  }

  void AdvanceProgress(Progress& progress, Span window, bool read) {
    for (size_t d = 0; d < devices_.size(); ++d) {
      const Span& range = devices_[d].range;
      const Span part{std::max(window.begin, range.begin), std::min(window.end, range.end)};
      if (read) {
        progress.Advance(d, part.minutes());
      } else {
        progress.Skip(d, part.minutes());
      }
    }
  }

  bool Wanted(const Slot& slot, int64_t time, Span window) const {
    const int64_t ms = time * 1000;
    if (IsEnergy(slot.kind) && ms >= slot.cutoff_ms) {
      return false;
    }
    if (gap_mode_) {
      return !slot.present[static_cast<size_t>((time - window.begin) / kMinuteSeconds)];
    }
    return ms > slot.written_until_ms;
  }

  // False for a derived series with an input on a device this run does not read.
  bool Producible(const Slot& slot) const {
    if (slot.kind != SlotKind::kDerived && slot.kind != SlotKind::kDerivedEnergy) {
      return true;
    }
    const auto& inputs = derived_.InputsOf(slot.derived);
    return std::all_of(inputs.begin(), inputs.end(),
                       [&](size_t input) { return inputs_[input].device < devices_.size(); });
  }

  bool RelevantTo(const Slot& slot, size_t device) const {
    if (slot.kind == SlotKind::kChannel) {
      return slot.device == device;
    }
    if (slot.kind == SlotKind::kDerived && Producible(slot)) {
      for (const size_t input : derived_.InputsOf(slot.derived)) {
        if (inputs_[input].device == device) {
          return true;
        }
      }
    }
    return false;  // energy gaps alone are not worth a device request
  }

  std::vector<Span> SpansToRead(size_t d, Span window) const {
    const Span& range = devices_[d].range;
    const Span part{std::max({window.begin, range.begin, read_start_}),
                    std::min(window.end, range.end)};
    if (part.empty()) {
      return {};
    }
    if (!gap_mode_) {
      return {part};
    }

    std::vector<bool> present(static_cast<size_t>(window.minutes()), true);
    for (const auto& slot : slots_) {
      if (RelevantTo(slot, d)) {
        for (size_t i = 0; i < present.size(); ++i) {
          present[i] = present[i] && slot.present[i];
        }
      }
    }
    std::vector<Span> spans;
    for (Span span : MissingSpans(window.begin, present, kMergeMinutes)) {
      span = {std::max(span.begin, part.begin), std::min(span.end, part.end)};
      if (!span.empty()) {
        spans.push_back(span);
      }
    }
    return spans;
  }

  void ReadWindow(Span window) {
    for (size_t d = 0; d < devices_.size(); ++d) {
      auto& device = devices_[d];
      device.rows.clear();
      device.energy_samples.assign(device.info.channels.size(), {});
      device.row_of_minute.assign(static_cast<size_t>(window.minutes()), -1);
      for (const Span& span : SpansToRead(d, window)) {
        ReadSpan(device, span);
      }
      for (size_t r = 0; r < device.rows.size(); ++r) {
        const int64_t index = (device.rows[r].time - window.begin) / kMinuteSeconds;
        device.row_of_minute[static_cast<size_t>(index)] = static_cast<int32_t>(r);
      }
    }
  }

  bool EnergyWanted(const DeviceState& device, int64_t from) const {
    for (size_t c = 0; c < device.energy_slots.size(); ++c) {
      if (device.energy_slots[c] && !device.negative[c] &&
          slots_[*device.energy_slots[c]].cutoff_ms > from * 1000) {
        return true;
      }
    }
    return false;
  }

  void ReadSpan(DeviceState& device, Span span) {
    const bool energy = EnergyWanted(device, span.begin);
    if (energy && device.energy_position != span.begin) {
      const auto wh = device.reader->ReadEnergyBaseline(span.begin);
      for (size_t c = 0; c < wh.size(); ++c) {
        device.energy_nwh[c] = std::llround(wh[c] * kNanoWhPerWh);
        // A net negative history has had negative minutes.
        if (device.energy_nwh[c] < 0) {
          MarkNegative(device, c, span.begin);
        }
      }
    }

    auto rows = device.reader->ReadMinutes(span);
    for (const auto& row : rows) {
      if (energy) {
        Integrate(device, row);
      }
    }
    device.energy_position = energy ? std::optional<int64_t>(span.end) : std::nullopt;
    std::move(rows.begin(), rows.end(), std::back_inserter(device.rows));
  }

  // The energy at the minute's start, then the minute's own energy added to it.
  void Integrate(DeviceState& device, const MinuteRow& row) {
    for (size_t c = 0; c < device.energy_slots.size(); ++c) {
      if (!device.energy_slots[c] || device.negative[c]) {
        continue;
      }
      if (row.values[c] < 0) {
        MarkNegative(device, c, row.time);
        continue;
      }
      device.energy_samples[c].emplace_back(
          row.time, static_cast<double>(device.energy_nwh[c]) * kJoulesPerNanoWh);
      const int64_t nwh = std::llround(row.values[c] * kNanoWhPerWh);
      device.energy_nwh[c] += std::max<int64_t>(0, nwh - kAllowanceNwhPerMinute);
    }
  }

  void MarkNegative(DeviceState& device, size_t channel, int64_t time) {
    device.negative[channel] = true;
    Note("channel has negative power; its energy counter is not backfilled",
         {{"device", device.config->name},
          {"channel", device.info.channels[channel].name},
          {"at", FormatTime(time)}});
  }

  Batch BuildBatch(Span window) {
    Batch batch;
    for (auto& device : devices_) {
      summary_.rows += device.rows.size();
      for (size_t c = 0; c < device.info.channels.size(); ++c) {
        AddChannel(batch, device, c, window);
        if (device.energy_slots[c]) {
          AddEnergy(batch, device, c, window);
        }
      }
    }
    AddDerived(batch, window);
    return batch;
  }

  Series& NewSeries(Batch& batch, const Slot& slot) {
    batch.series.push_back({slot.metric, slot.labels, {}, {}});
    return batch.series.back();
  }

  void AddChannel(Batch& batch, const DeviceState& device, size_t c, Span window) {
    const Slot& slot = slots_[device.channel_slots[c]];
    const bool power = device.info.channels[c].kind == ChannelKind::kPower;
    Series& series = NewSeries(batch, slot);
    for (const auto& row : device.rows) {
      if (Wanted(slot, row.time, window)) {
        series.timestamps_ms.push_back(row.time * 1000);
        series.values.push_back(power ? row.values[c] * kWattsPerWhPerMinute : row.values[c]);
      }
    }
  }

  void AddEnergy(Batch& batch, const DeviceState& device, size_t c, Span window) {
    const Slot& slot = slots_[*device.energy_slots[c]];
    Series& series = NewSeries(batch, slot);
    for (const auto& [time, joules] : device.energy_samples[c]) {
      if (Wanted(slot, time, window)) {
        series.timestamps_ms.push_back(time * 1000);
        series.values.push_back(joules);
      }
    }
  }

  // Evaluated for the minutes every input's device logged (NaN otherwise).
  void AddDerived(Batch& batch, Span window) {
    const size_t count = derived_.names().size();
    if (count == 0) {
      return;
    }
    const size_t first = batch.series.size();
    for (const size_t s : derived_slots_) {
      NewSeries(batch, slots_[s]);
    }
    const size_t first_energy = batch.series.size();
    for (const size_t s : derived_energy_slots_) {
      NewSeries(batch, slots_[s]);
    }

    std::vector<double> inputs(inputs_.size());
    std::vector<double> out(count);
    for (size_t i = 0; i < static_cast<size_t>(window.minutes()); ++i) {
      const int64_t time = window.begin + static_cast<int64_t>(i) * kMinuteSeconds;
      for (size_t k = 0; k < inputs_.size(); ++k) {
        inputs[k] = InputValue(inputs_[k], i);
      }
      derived_.Evaluate(inputs, out);
      for (size_t k = 0; k < count; ++k) {
        if (std::isnan(out[k])) {
          continue;
        }
        if (Wanted(slots_[derived_slots_[k]], time, window)) {
          batch.series[first + k].timestamps_ms.push_back(time * 1000);
          batch.series[first + k].values.push_back(out[k]);
        }
        IntegrateDerived(batch.series[first_energy + k], k, time, out[k], window);
      }
    }
  }

  // The energy at the minute's start, then the minute's own energy added to it.
  void IntegrateDerived(Series& series, size_t k, int64_t time, double watts, Span window) {
    if (!derived_energy_ || derived_negative_[k]) {
      return;
    }
    if (watts < 0) {
      derived_negative_[k] = true;
      Note("derived series has negative values; its energy counter is not backfilled",
           {{"series", derived_.names()[k]}, {"at", FormatTime(time)}});
      return;
    }
    if (Wanted(slots_[derived_energy_slots_[k]], time, window)) {
      series.timestamps_ms.push_back(time * 1000);
      series.values.push_back(derived_joules_[k]);
    }
    derived_joules_[k] += watts * kMinuteSeconds;
  }

  struct InputRef {
    size_t device = std::numeric_limits<size_t>::max();
    size_t channel = 0;
    ChannelKind kind = ChannelKind::kPower;
  };

  double InputValue(const InputRef& ref, size_t minute) const {
    if (ref.device >= devices_.size()) {
      return std::numeric_limits<double>::quiet_NaN();
    }
    const auto& device = devices_[ref.device];
    const int32_t row = device.row_of_minute[minute];
    if (row < 0) {
      return std::numeric_limits<double>::quiet_NaN();
    }
    const double value = device.rows[static_cast<size_t>(row)].values[ref.channel];
    return ref.kind == ChannelKind::kPower ? value * kWattsPerWhPerMinute : value;
  }

  void Summarise(std::chrono::steady_clock::time_point started) {
    for (const auto& device : devices_) {
      summary_.device_requests += device.reader->stats().requests;
      summary_.retries += device.reader->stats().retries;
    }
    if (vm_) {
      summary_.vm_requests = vm_->requests();
      summary_.retries += vm_->retries();
    }
    summary_.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    Note(summary_.complete ? "backfill complete" : "backfill stopped",
         {{"device_requests", summary_.device_requests},
          {"rows", summary_.rows},
          {"samples", summary_.samples},
          {"batches", summary_.batches},
          {"vm_requests", summary_.vm_requests},
          {"retries", summary_.retries},
          {"seconds", summary_.seconds}});
  }

  // Details of a run: at debug level in the rounds of --follow, which repeat them.
  void Note(std::string_view message, log::Fields fields = {}) const {
    if (options_.quiet) {
      kLog.Debug(message, fields);
    } else {
      kLog.Info(message, fields);
    }
  }

  const config::Config& config_;
  const Options& options_;
  const StopSignal& stop_;
  std::ostream& out_;
  std::vector<DeviceState> devices_;
  Span overall_;
  int64_t read_start_ = std::numeric_limits<int64_t>::min();
  bool gap_mode_ = false;
  derived::DerivedSet derived_;
  std::vector<InputRef> inputs_;
  std::vector<Slot> slots_;
  std::vector<size_t> derived_slots_;
  std::vector<size_t> derived_energy_slots_;
  // Derived energy (J) at the next minute read, and whether a negative minute was seen.
  std::vector<double> derived_joules_;
  std::vector<bool> derived_negative_;
  bool derived_energy_ = true;
  std::unique_ptr<VmClient> vm_;
  std::optional<VmHoldings> holdings_;
  Summary summary_;
};

}  // namespace

Summary Run(const config::Config& config, const Options& options, const StopSignal& stop,
            std::ostream& out) {
  Runner runner(config, options, stop, out);
  return runner.Run();
}

std::optional<std::chrono::seconds> ParseRetention(const std::string& text) {
  if (text.empty()) {
    return std::nullopt;
  }
  const char unit = text.back();
  const bool has_unit = unit == 'h' || unit == 'd' || unit == 'w' || unit == 'y';
  const std::string number = has_unit ? text.substr(0, text.size() - 1) : text;
  double value = 0;
  const auto result = std::from_chars(number.data(), number.data() + number.size(), value);
  if (number.empty() || result.ec != std::errc{} || result.ptr != number.data() + number.size()) {
    return std::nullopt;
  }
  // A bare number counts months (of 31 days, VictoriaMetrics' own rounding).
  double seconds_per_unit = 31.0 * kDaySeconds;
  if (unit == 'h') {
    seconds_per_unit = 3600;
  } else if (unit == 'd') {
    seconds_per_unit = kDaySeconds;
  } else if (unit == 'w') {
    seconds_per_unit = 7.0 * kDaySeconds;
  } else if (unit == 'y') {
    seconds_per_unit = 365.0 * kDaySeconds;
  }
  return std::chrono::seconds(static_cast<int64_t>(value * seconds_per_unit));
}

}  // namespace iwx::backfill
