#include "state/counter_file.hpp"

#include <cerrno>
#include <cmath>
#include <cstring>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace iwx::state {

namespace {

using nlohmann::json;

constexpr int kFormatVersion = 1;

CounterFileError SystemError(const std::string& action, const std::filesystem::path& path) {
  return CounterFileError("cannot " + action + " " + path.string() + ": " + std::strerror(errno));
}

double FiniteNonNegative(const json& value, const std::string& where) {
  const double number = value.get<double>();
  if (!std::isfinite(number) || number < 0) {
    throw CounterFileError(where + " is " + value.dump() + ": expected a number >= 0");
  }
  return number;
}

int64_t NonNegativeInteger(const json& value, const std::string& where) {
  if (!value.is_number_integer() || value.get<int64_t>() < 0) {
    throw CounterFileError(where + " is " + value.dump() + ": expected an integer >= 0");
  }
  return value.get<int64_t>();
}

Counters FromJson(const json& document) {
  if (document.value("version", 0) != kFormatVersion) {
    throw CounterFileError("unsupported format version " +
                           document.value("version", json()).dump() + ": expected " +
                           std::to_string(kFormatVersion));
  }

  Counters counters;
  for (const auto& [name, device] : document.at("devices").items()) {
    auto& out = counters.devices[name];
    out.next_record = device.at("next_record").get<int64_t>();
    for (const auto& [channel, value] : device.at("negative_nwh").items()) {
      out.negative_nwh[channel] =
          NonNegativeInteger(value, "devices." + name + ".negative_nwh." + channel);
    }
  }
  for (const auto& [name, series] : document.at("derived").items()) {
    auto& out = counters.derived[name];
    out.next_record = series.at("next_record").get<int64_t>();
    out.positive_joules = FiniteNonNegative(series.at("positive_joules"), "derived." + name);
    out.negative_joules = FiniteNonNegative(series.at("negative_joules"), "derived." + name);
  }
  return counters;
}

json ToJson(const Counters& counters) {
  json document = {
      {"version", kFormatVersion}, {"devices", json::object()}, {"derived", json::object()}};
  for (const auto& [name, device] : counters.devices) {
    document["devices"][name] = {{"next_record", device.next_record},
                                 {"negative_nwh", device.negative_nwh}};
  }
  for (const auto& [name, series] : counters.derived) {
    document["derived"][name] = {{"next_record", series.next_record},
                                 {"positive_joules", series.positive_joules},
                                 {"negative_joules", series.negative_joules}};
  }
  return document;
}

void WriteAll(int fd, const std::string& text, const std::filesystem::path& path) {
  size_t written = 0;
  while (written < text.size()) {
    const ssize_t count = ::write(fd, text.data() + written, text.size() - written);
    if (count < 0 && errno == EINTR) {
      continue;
    }
    if (count < 0) {
      throw SystemError("write", path);
    }
    written += static_cast<size_t>(count);
  }
}

}  // namespace

Counters LoadCounters(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) {
    throw SystemError("open", path);
  }
  std::ostringstream text;
  text << in.rdbuf();

  try {
    return FromJson(json::parse(text.str()));
  } catch (const CounterFileError& error) {
    throw CounterFileError(path.string() + ": " + error.what());
  } catch (const json::exception& error) {
    throw CounterFileError(path.string() + ": not a counter state file: " + error.what());
  }
}

void SaveCounters(const std::filesystem::path& path, const Counters& counters) {
  const std::string text = ToJson(counters).dump(1) + "\n";
  const std::filesystem::path temporary = path.string() + ".tmp";

  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    throw SystemError("create", temporary);
  }
  try {
    WriteAll(fd, text, temporary);
    if (::fsync(fd) != 0) {
      throw SystemError("fsync", temporary);
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);

  if (::rename(temporary.c_str(), path.c_str()) != 0) {
    throw SystemError("rename " + temporary.string() + " to", path);
  }

  // The rename itself is durable only once the folder is synced.
  const auto folder = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  const int folder_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (folder_fd >= 0) {
    ::fsync(folder_fd);
    ::close(folder_fd);
  }
}

}  // namespace iwx::state
