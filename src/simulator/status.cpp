#include "simulator/status.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <optional>
#include <vector>

#include "simulator/number_format.hpp"
#include "simulator/script.hpp"
#include "simulator/signals.hpp"

namespace iwx::sim {

namespace {

// What the device's statistics service holds for one channel at the moment.
struct Instant {
  double watts = 0;
  double va = 0;
  double volts = 0;
  double hertz = 0;
  bool reversed = false;
};

std::vector<Instant> InstantValues(const UnitModel& model) {
  const UnitSpec& spec = model.spec();
  // The newest complete 5-s interval stands in for the device's smoothed 1-s values.
  const int64_t t = model.CurrentLastKey() - 5;
  std::vector<Instant> values(spec.inputs.size());
  double reference_volts = 0;
  double hertz = 0;
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    const std::optional<IntervalValue> interval = model.IntervalAt(i, t);
    if (!interval) {
      continue;
    }
    values[i].watts = interval->value;
    values[i].va = interval->va;
    values[i].hertz = interval->hertz;
    values[i].reversed = interval->reversed;
    hertz = interval->hertz;
    if (spec.inputs[i].kind == InputKind::kVoltage && reference_volts == 0) {
      reference_volts = interval->value;
    }
  }
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    values[i].volts =
        spec.inputs[i].kind == InputKind::kVoltage ? values[i].watts : reference_volts;
    values[i].hertz = hertz;
  }
  return values;
}

std::string Quote(const std::string& text) {
  return "\"" + text + "\"";
}

std::string Bool(bool value) {
  return value ? "true" : "false";
}

std::string DeviceSection(const UnitModel& model) {
  const UnitSpec& spec = model.spec();
  return "\"device\":{\"name\":" + Quote(spec.name) +
         ",\"timediff\":" + std::to_string(spec.timezone_minutes) +
         ",\"allowdst\":false,\"update\":\"MINOR\"}";
}

std::string StatsSection(const UnitModel& model, const StatusContext& context, int64_t now,
                         double hertz) {
  const uint64_t jitter = Mix(HashText(model.spec().name), static_cast<uint64_t>(now / 5));
  const double wobble = static_cast<double>(jitter % 1000) / 1000.0;
  const double cyclerate = (hertz > 55 ? 640 : 770) + 3 * wobble;
  const double chanrate = (hertz > 55 ? 38 : 33) + 0.4 * wobble;
  const int64_t start = std::min(context.start_time, now);
  return "\"stats\":{\"cyclerate\":" + FormatStatusFloat(cyclerate) +
         ",\"chanrate\":" + FormatStatusFloat(chanrate) +
         ",\"starttime\":" + std::to_string(start) + ",\"currenttime\":" + std::to_string(now) +
         ",\"runseconds\":" + std::to_string(now - start) +
         ",\"stack\":" + std::to_string(20000 + jitter % 6000) +
         ",\"version\":" + Quote(model.spec().firmware) +
         ",\"frequency\":" + FormatStatusFloat(hertz) + ",\"lowbat\":false}";
}

std::string InputsSection(const UnitModel& model, const std::vector<Instant>& values) {
  const UnitSpec& spec = model.spec();
  std::string text = "\"inputs\":[";
  for (size_t i = 0; i < spec.inputs.size(); ++i) {
    text += i == 0 ? "{" : ",{";
    text += "\"channel\":" + std::to_string(i);
    const Instant& value = values[i];
    if (spec.inputs[i].kind == InputKind::kVoltage) {
      text += ",\"Vrms\":" + FormatStatusFloat(value.watts) +
              ",\"Hz\":" + FormatStatusFloat(value.hertz) + ",\"phase\":2.1}";
      continue;
    }
    const double pf = value.va == 0 ? 0 : value.watts / value.va;
    text += ",\"Watts\":" + Quote(FormatStatusWatts(value.watts)) +
            ",\"Pf\":" + FormatStatusFloat(std::abs(value.watts) < 2 ? 0 : pf);
    if (value.reversed) {
      text += ",\"reversed\":true";
    }
    text += ",\"phase\":1.5,\"lastphase\":" + FormatStatusFloat(1.5 - 0.01 * (i % 5)) + "}";
  }
  return text + "]";
}

// Outputs evaluate their scripts on the instantaneous values as if over one hour, so Wh
// outputs show watts and kWh outputs kilowatts.
double OutputValue(const OutputSpec& output, const std::vector<Instant>& values) {
  const Script script = Script::Parse(output.script);
  auto run = [&](auto pick) {
    return script.Evaluate([&](int input) {
      return static_cast<size_t>(input) < values.size() ? pick(values[static_cast<size_t>(input)])
                                                        : 0.0;
    });
  };
  const std::string& units = output.units;
  auto watts = [](const Instant& v) { return v.watts; };
  auto va = [](const Instant& v) { return v.va; };
  if (units == "Volts") {
    return run([](const Instant& v) { return v.volts; });
  }
  if (units == "Amps") {
    return run([](const Instant& v) { return v.volts == 0 ? 0 : v.va / v.volts; });
  }
  if (units == "VA" || units == "VAh") {
    return run(va);
  }
  if (units == "Hz") {
    return run([](const Instant& v) { return v.hertz; });
  }
  if (units == "kWh") {
    return run(watts) / 1000;
  }
  if (units == "PF") {
    const double total_va = run(va);
    return total_va == 0 ? 0 : run(watts) / total_va;
  }
  if (units == "VAR" || units == "VARh") {
    return run([](const Instant& v) {
      const double var = std::sqrt(v.va * v.va - v.watts * v.watts);
      return std::isnan(var) ? 0 : var;
    });
  }
  return run(watts);
}

std::string OutputsSection(const UnitModel& model, const std::vector<Instant>& values) {
  std::string text = "\"outputs\":[";
  bool first = true;
  for (const OutputSpec& output : model.spec().outputs) {
    text += first ? "{" : ",{";
    first = false;
    text += "\"name\":" + Quote(output.name) + ",\"units\":" + Quote(output.units) +
            ",\"value\":" + FormatStatusFloat(OutputValue(output, values)) + "}";
  }
  return text + "]";
}

std::string DatalogsSection(const UnitModel& model) {
  const int64_t current_first = model.CurrentFirstKey();
  const int64_t current_last = model.CurrentLastKey();
  const int64_t history_first = model.HistoryFirstKey();
  const int64_t history_last = model.HistoryLastKey();
  const int64_t current_size = ((current_last - current_first) / 5 + 1) * 256;
  const int64_t history_size = ((history_last - history_first) / 60 + 1) * 256;
  return "\"datalogs\":[{\"id\":\"Current\",\"firstkey\":" + std::to_string(current_first) +
         ",\"lastkey\":" + std::to_string(current_last) +
         ",\"size\":" + std::to_string(current_size) +
         ",\"interval\":5},{\"id\":\"History\",\"firstkey\":" + std::to_string(history_first) +
         ",\"lastkey\":" + std::to_string(history_last) +
         ",\"size\":" + std::to_string(history_size) + ",\"interval\":60}]";
}

std::string MacAddress(const std::string& name) {
  const uint64_t hash = HashText(name);
  char text[32];
  std::snprintf(text, sizeof text, "A4:CF:12:%02X:%02X:%02X", static_cast<unsigned>(hash & 0xFF),
                static_cast<unsigned>((hash >> 8) & 0xFF),
                static_cast<unsigned>((hash >> 16) & 0xFF));
  return text;
}

std::string WifiSection(const UnitModel& model, const StatusContext& context, int64_t now) {
  const int64_t connect_time = std::min(context.start_time + 12, now);
  const int rssi = -50 - static_cast<int>(Mix(HashText(model.spec().name), 1) % 15);
  return "\"wifi\":{\"connecttime\":" + std::to_string(connect_time) +
         ",\"SSID\":\"iwx-sim\",\"IP\":" + Quote(context.ip) +
         ",\"channel\":6,\"RSSI\":" + std::to_string(rssi) +
         ",\"mac\":" + Quote(MacAddress(model.spec().name)) + "}";
}

std::string PasswordsSection(const UnitModel& model) {
  const bool protected_unit = !model.spec().user_password.empty();
  return "\"passwords\":{\"admin\":" + Bool(protected_unit) + ",\"user\":" + Bool(protected_unit) +
         ",\"localAccess\":false}";
}

}  // namespace

std::string RenderStatus(const UnitModel& model, const StatusContext& context,
                         const std::function<bool(const std::string&)>& has_arg) {
  const int64_t now = model.clock()->NowSeconds();
  const bool needs_values = has_arg("stats") || has_arg("inputs") || has_arg("outputs");
  const std::vector<Instant> values = needs_values ? InstantValues(model) : std::vector<Instant>{};
  const double hertz = values.empty() ? 60 : values[0].hertz;

  std::vector<std::string> sections;
  if (has_arg("device")) {
    sections.push_back(DeviceSection(model));
  }
  if (has_arg("stats")) {
    sections.push_back(StatsSection(model, context, now, hertz));
  }
  if (has_arg("inputs")) {
    sections.push_back(InputsSection(model, values));
  }
  if (has_arg("outputs")) {
    sections.push_back(OutputsSection(model, values));
  }
  for (const char* uploader : {"influx1", "influx2", "emoncms", "pvoutput"}) {
    if (has_arg(uploader)) {
      sections.push_back("\"" + std::string(uploader) + "\":{\"state\":\"not running\"}");
    }
  }
  if (has_arg("datalogs")) {
    sections.push_back(DatalogsSection(model));
  }
  if (has_arg("wifi")) {
    sections.push_back(WifiSection(model, context, now));
  }
  if (has_arg("passwords")) {
    sections.push_back(PasswordsSection(model));
  }
  std::string body = "{";
  for (size_t i = 0; i < sections.size(); ++i) {
    body += (i == 0 ? "" : ",") + sections[i];
  }
  return body + "}";
}

}  // namespace iwx::sim
