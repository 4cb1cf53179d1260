#include "backfill/holdings.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>

#include "backfill/encoder.hpp"
#include "log/log.hpp"

namespace iwx::backfill::detail {

namespace {

const log::Logger kLog("backfill");

constexpr int64_t kMsPerMinute = kMinuteSeconds * 1000;
constexpr const char* kMetricsRegex =
    "iotawatt_power_watts|iotawatt_voltage_volts|iotawatt_derived_power_watts|"
    "iotawatt_energy_joules_total|iotawatt_derived_energy_joules_total";
constexpr const char* kEnergyRegex =
    "iotawatt_energy_joules_total|iotawatt_derived_energy_joules_total";
// How long a resume waits for samples VictoriaMetrics accepted to become visible (it
// flushes every second; new series can stay hidden for up to 10 s).
constexpr auto kVisibilityWait = std::chrono::seconds{15};
constexpr auto kVisibilityPoll = std::chrono::milliseconds{200};

std::string LabelKey(config::Labels labels) {
  std::sort(labels.begin(), labels.end());
  std::string key;
  for (const auto& [name, value] : labels) {
    key += name + '\x1f' + value + '\x1e';
  }
  return key;
}

std::string Selector(const std::string& name_matcher, const config::Labels& labels) {
  std::string selector = "{" + name_matcher;
  for (const auto& [name, value] : labels) {
    std::string escaped;
    for (const char c : value) {
      escaped += (c == '"' || c == '\\') ? std::string{'\\', c} : std::string{c};
    }
    selector += "," + name + "=\"" + escaped + "\"";
  }
  return selector + "}";
}

int64_t NowSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

double ParseNumber(const nlohmann::json& text) {
  return std::stod(text.get<std::string>());
}

// Any sample inside a minute makes it present: a minute the live exporter was scraped in
// needs no backfilled average on top of its own samples.
void MarkPresent(Slot& slot, Span window, const nlohmann::json& line) {
  for (const auto& timestamp : line.at("timestamps")) {
    const int64_t ms = timestamp.get<int64_t>();
    if (ms % kMsPerMinute != 0 && IsEnergy(slot.kind)) {
      // Where the live counter begins.
      slot.cutoff_ms = std::min(slot.cutoff_ms, ms);
    }
    const int64_t offset_ms = ms - window.begin * 1000;
    if (offset_ms >= 0 && offset_ms < static_cast<int64_t>(slot.present.size()) * kMsPerMinute) {
      slot.present[static_cast<size_t>(offset_ms / kMsPerMinute)] = true;
    }
  }
}

}  // namespace

std::string SeriesKey(const std::string& metric, const config::Labels& labels) {
  return Selector("__name__=\"" + metric + "\"", labels);
}

VmHoldings::VmHoldings(VmClient& vm, const Options& options, std::vector<Slot>& slots)
    : vm_(vm), options_(options), slots_(slots) {
  for (size_t s = 0; s < slots_.size(); ++s) {
    slot_by_key_[LabelKey(slots_[s].labels)] = s;
  }
}

void VmHoldings::Ping() {
  vm_.Query("1", static_cast<double>(NowSeconds()));
}

void VmHoldings::CheckFlags(int64_t oldest) {
  const auto flags = vm_.Flags();
  if (flags.empty()) {
    return;
  }
  // /flags lists the flags that were set. A single node without -retentionPeriod keeps
  // one month; in a cluster, the retention is vmstorage's, which is not asked here.
  const bool cluster = options_.vm.import_url.find("/insert/") != std::string::npos;
  const auto retention = flags.find("-retentionPeriod");
  const std::string period_text = retention != flags.end() ? retention->second : "1";
  const auto period = cluster ? std::nullopt : ParseRetention(period_text);
  const int64_t age = NowSeconds() - oldest;
  if (period && age > period->count()) {
    kLog.Warning(
        "range is older than the retention of victoriametrics, which drops such "
        "samples silently; raise -retentionPeriod",
        {{"retention", period_text}, {"from", FormatTime(oldest)}});
  }

  const auto dedup = flags.find("-dedup.minScrapeInterval");
  if (dedup == flags.end() || dedup->second == "0s" || dedup->second == "0") {
    kLog.Warning(
        "victoriametrics runs without deduplication: a re-run stores duplicates; "
        "start it with -dedup.minScrapeInterval=1ms");
  }
}

// The newest sample of every series. Minute-aligned newest samples are the backfill's
// own: continue after them. Any other newest sample was scraped from the live exporter;
// then what is missing is found per window from counts (gap mode).
bool VmHoldings::LoadWrittenUntil(const StopSignal& stop) {
  const auto deadline = std::chrono::steady_clock::now() + kVisibilityWait;
  while (!LoadNewestSamples()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      kLog.Warning("victoriametrics does not show samples it accepted; writing them again",
                   {{"waited_seconds", static_cast<int64_t>(kVisibilityWait.count())}});
      break;
    }
    if (!stop.SleepFor(kVisibilityPoll)) {
      throw Interrupted("stopped while waiting for victoriametrics to show written samples");
    }
  }
  return live_found_;
}

// The newest sample of every series; false while a sample this process wrote earlier
// (options_.acknowledged_ms) is not visible yet.
bool VmHoldings::LoadNewestSamples() {
  const auto result = vm_.Query("tlast_over_time(" + AllSeriesSelector() + "[3650d])",
                                static_cast<double>(NowSeconds()));
  for (const auto& entry : result) {
    Slot* slot = FindSlot(entry.at("metric"));
    if (slot == nullptr) {
      continue;
    }
    slot->written_until_ms = std::llround(ParseNumber(entry.at("value").at(1)) * 1000);
    slot->live = slot->written_until_ms % kMsPerMinute != 0;
    live_found_ = live_found_ || slot->live;
  }

  for (const auto& slot : slots_) {
    const auto acknowledged = options_.acknowledged_ms.find(SeriesKey(slot.metric, slot.labels));
    if (acknowledged != options_.acknowledged_ms.end() &&
        slot.written_until_ms < acknowledged->second) {
      return false;
    }
  }
  return true;
}

// The live exporter's energy counters integrate on their own; two integrations in one
// series can seem to decrease (a counter reset), so the backfill stops at the first live
// sample.
void VmHoldings::LoadEnergyCutoffs(Span range) {
  const int64_t span = range.end - range.begin + kMinuteSeconds;
  const auto result = vm_.Query(
      "tfirst_over_time(" +
          Selector("__name__=~\"" + std::string(kEnergyRegex) + "\"", options_.extra_labels) + "[" +
          std::to_string(span) + "s])",
      static_cast<double>(range.end));
  for (const auto& entry : result) {
    Slot* slot = FindSlot(entry.at("metric"));
    const int64_t first_ms = std::llround(ParseNumber(entry.at("value").at(1)) * 1000);
    if (slot != nullptr && first_ms % kMsPerMinute != 0) {
      slot->cutoff_ms = first_ms;
    }
  }
}

// A derived counter integrates the minutes the backfill reads, so it continues from the
// newest sample VictoriaMetrics holds before the first minute read: that sample's value
// plus the energy of its minute (the derived power written with it).
std::vector<DerivedAnchor> VmHoldings::LoadDerivedAnchors(const std::vector<size_t>& power_slots,
                                                          const std::vector<size_t>& energy_slots,
                                                          int64_t first_read) {
  const double before = static_cast<double>(first_read) - 0.001;
  const auto energy = NewestSamples(kDerivedEnergyMetric, before);
  const auto power = NewestSamples(kDerivedMetric, before);

  std::vector<DerivedAnchor> anchors(power_slots.size());
  for (size_t k = 0; k < power_slots.size(); ++k) {
    const auto counted = energy.find(energy_slots[k]);
    const auto watts = power.find(power_slots[k]);
    if (counted == energy.end()) {
      continue;  // nothing earlier: the counter starts at zero
    }
    const bool same_minute = watts != power.end() && watts->second.ms == counted->second.ms;
    anchors[k].joules =
        counted->second.value + (same_minute ? watts->second.value * kMinuteSeconds : 0);
    // Power went on where energy stopped: an earlier run saw a negative minute.
    anchors[k].negative = watts != power.end() && watts->second.ms > counted->second.ms;
  }
  return anchors;
}

// The newest sample before `time` of each series of `metric`, by slot.
std::map<size_t, VmHoldings::Sample> VmHoldings::NewestSamples(const char* metric, double time) {
  const std::string selector =
      Selector("__name__=\"" + std::string(metric) + "\"", options_.extra_labels) + "[3650d]";
  std::map<size_t, Sample> samples;
  for (const auto& entry : vm_.Query("last_over_time(" + selector + ")", time)) {
    if (const Slot* slot = FindSlot(entry.at("metric"))) {
      samples[IndexOf(*slot)].value = ParseNumber(entry.at("value").at(1));
    }
  }
  for (const auto& entry : vm_.Query("tlast_over_time(" + selector + ")", time)) {
    if (const Slot* slot = FindSlot(entry.at("metric"))) {
      samples[IndexOf(*slot)].ms = std::llround(ParseNumber(entry.at("value").at(1)) * 1000);
    }
  }
  return samples;
}

// Gap mode: which minutes of the window VictoriaMetrics holds, per series; first coarse
// (one count per series), then exact (an export) only for incomplete series.
void VmHoldings::LoadPresence(Span window) {
  const size_t minutes = static_cast<size_t>(window.minutes());
  std::vector<int64_t> counts(slots_.size(), 0);
  const auto result = vm_.Query("count_over_time(" + AllSeriesSelector() + "[" +
                                    std::to_string(window.end - window.begin) + "s])",
                                static_cast<double>(window.end) - 0.001);
  for (const auto& entry : result) {
    if (const Slot* slot = FindSlot(entry.at("metric"))) {
      counts[IndexOf(*slot)] = std::llround(ParseNumber(entry.at("value").at(1)));
    }
  }

  for (size_t s = 0; s < slots_.size(); ++s) {
    Slot& slot = slots_[s];
    // One sample per minute is complete, unless live samples (several per minute) may
    // add up to the same count with minutes missing.
    const bool complete = counts[s] == static_cast<int64_t>(minutes) && !slot.live;
    slot.present.assign(minutes, complete);
    if (counts[s] == 0 || complete) {
      continue;
    }
    vm_.Export(Selector("__name__=\"" + slot.metric + "\"", slot.labels),
               static_cast<double>(window.begin), static_cast<double>(window.end) - 0.001,
               [&](const nlohmann::json& line) { MarkPresent(slot, window, line); });
  }
}

std::string VmHoldings::AllSeriesSelector() const {
  return Selector("__name__=~\"" + std::string(kMetricsRegex) + "\"", options_.extra_labels);
}

Slot* VmHoldings::FindSlot(const nlohmann::json& metric) {
  config::Labels labels;
  for (const auto& [name, value] : metric.items()) {
    if (name != "__name__") {
      labels.emplace_back(name, value.get<std::string>());
    }
  }
  const auto found = slot_by_key_.find(LabelKey(labels));
  return found == slot_by_key_.end() ? nullptr : &slots_[found->second];
}

size_t VmHoldings::IndexOf(const Slot& slot) const {
  return static_cast<size_t>(&slot - slots_.data());
}

}  // namespace iwx::backfill::detail
