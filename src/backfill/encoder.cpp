#include "backfill/encoder.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include <zlib.h>

#include "util/strings.hpp"

namespace iwx::backfill {

namespace {

// zlib's windowBits for a gzip header and trailer instead of a zlib one.
constexpr int kGzipWindowBits = 15 + 16;
constexpr int kGzipMemLevel = 8;
// Typical JSON text of a sample (a value of up to 17 digits, a 13-digit timestamp, two
// commas) and of a series' labels: the output is usually allocated once.
constexpr size_t kBytesPerSample = 34;
constexpr size_t kBytesPerSeriesHead = 256;

struct FamilyText {
  std::string_view metric;
  std::string_view family;
  std::string_view type;
  std::string_view help;
};

constexpr std::array<FamilyText, 5> kFamilies = {{
    {kPowerMetric, kPowerMetric, "gauge", "Average real power of a channel over one minute."},
    {kVoltageMetric, kVoltageMetric, "gauge",
     "Average voltage of a voltage input over one minute."},
    {kDerivedMetric, kDerivedMetric, "gauge",
     "Average of a derived series over one minute, evaluated per 1-minute record."},
    {kEnergyMetric, "iotawatt_energy_joules", "counter",
     "Energy of a channel since the device's history log began."},
    {kDerivedEnergyMetric, "iotawatt_derived_energy_joules", "counter",
     "Energy of a derived series, integrated per 1-minute record."},
}};

void AppendJsonString(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char escaped[8];
      std::snprintf(escaped, sizeof(escaped), "\\u%04x", static_cast<unsigned>(c));
      out += escaped;
    } else {
      out += c;
    }
  }
  out += '"';
}

// Longest text of a number: a double's shortest round-trip form
// ("-2.2250738585072014e-308") or an int64_t.
constexpr size_t kMaxNumberChars = 24;

char* WriteNumber(char* out, double value) {
  // The text of util::FormatDouble.
  if (std::isnan(value)) {
    return std::copy_n("NaN", 3, out);
  }
  if (std::isinf(value)) {
    return std::copy_n(value > 0 ? "+Inf" : "-Inf", 4, out);
  }
  return std::to_chars(out, out + kMaxNumberChars, value).ptr;
}

char* WriteNumber(char* out, int64_t value) {
  return std::to_chars(out, out + kMaxNumberChars, value).ptr;
}

// A comma-separated list written straight into `out`: a window of one unit is some 27,000
// samples, and a temporary string per number (util::FormatDouble, std::to_string) took a
// third of the encoding time.
template <typename Number>
void AppendNumbers(std::string& out, const std::vector<Number>& numbers) {
  const size_t start = out.size();
  out.resize(start + numbers.size() * (kMaxNumberChars + 1));
  char* cursor = out.data() + start;
  for (size_t i = 0; i < numbers.size(); ++i) {
    if (i > 0) {
      *cursor++ = ',';
    }
    cursor = WriteNumber(cursor, numbers[i]);
  }
  out.resize(static_cast<size_t>(cursor - out.data()));
}

void AppendLabelValue(std::string& out, std::string_view text) {
  out += '"';
  for (const char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += '"';
}

const FamilyText& FamilyOf(const std::string& metric) {
  for (const auto& family : kFamilies) {
    if (family.metric == metric) {
      return family;
    }
  }
  throw std::invalid_argument("unknown metric \"" + metric + "\"; expected a backfill metric");
}

// `name{l="v",...} value seconds` lines of one series.
std::string OpenMetricsLines(const Series& series) {
  std::string labels;
  for (const auto& [name, value] : series.labels) {
    labels += labels.empty() ? "{" : ",";
    labels += name + "=";
    AppendLabelValue(labels, value);
  }
  labels += labels.empty() ? "" : "}";

  std::string out;
  for (size_t i = 0; i < series.values.size(); ++i) {
    const double seconds = static_cast<double>(series.timestamps_ms[i]) / 1000;
    out += series.metric + labels + " " + util::FormatDouble(series.values[i]) + " " +
           util::FormatDouble(seconds) + "\n";
  }
  return out;
}

std::runtime_error FileError(const std::string& path, const std::string& action) {
  return std::runtime_error("cannot " + action + " output file \"" + path +
                            "\": " + std::strerror(errno));
}

}  // namespace

size_t Batch::samples() const {
  size_t count = 0;
  for (const auto& one : series) {
    count += one.values.size();
  }
  return count;
}

std::string EncodeJsonLines(const Batch& batch) {
  std::string out;
  out.reserve(batch.samples() * kBytesPerSample + batch.series.size() * kBytesPerSeriesHead);
  for (const auto& series : batch.series) {
    if (series.values.empty()) {
      continue;
    }
    out += "{\"metric\":{\"__name__\":";
    AppendJsonString(out, series.metric);
    for (const auto& [name, value] : series.labels) {
      out += ',';
      AppendJsonString(out, name);
      out += ':';
      AppendJsonString(out, value);
    }
    out += "},\"values\":[";
    AppendNumbers(out, series.values);
    out += "],\"timestamps\":[";
    AppendNumbers(out, series.timestamps_ms);
    out += "]}\n";
  }
  return out;
}

std::string Gzip(std::string_view text) {
  z_stream stream{};
  if (deflateInit2(&stream, Z_BEST_SPEED, Z_DEFLATED, kGzipWindowBits, kGzipMemLevel,
                   Z_DEFAULT_STRATEGY) != Z_OK) {
    throw std::runtime_error("gzip: cannot initialise zlib");
  }
  std::string out(deflateBound(&stream, static_cast<uLong>(text.size())) + 32, '\0');
  // zlib's interface is not const-correct; it never writes through next_in.
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  stream.avail_in = static_cast<uInt>(text.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data());
  stream.avail_out = static_cast<uInt>(out.size());
  const int result = deflate(&stream, Z_FINISH);
  out.resize(stream.total_out);
  deflateEnd(&stream);
  if (result != Z_STREAM_END) {
    throw std::runtime_error("gzip: compression of " + std::to_string(text.size()) +
                             " bytes failed");
  }
  return out;
}

FileSink::FileSink(std::string path, FileFormat format) : path_(std::move(path)), format_(format) {
  if (path_.ends_with(".gz")) {
    gz_ = gzopen(path_.c_str(), "wb1");
    if (gz_ == nullptr) {
      throw FileError(path_, "create");
    }
  } else {
    file_ = std::fopen(path_.c_str(), "wb");
    if (file_ == nullptr) {
      throw FileError(path_, "create");
    }
  }
}

FileSink::~FileSink() {
  for (auto& [metric, file] : families_) {
    std::fclose(file);
  }
  if (gz_ != nullptr) {
    gzclose(static_cast<gzFile>(gz_));
  }
  if (file_ != nullptr) {
    std::fclose(file_);
  }
}

void FileSink::WriteOut(std::string_view text) {
  if (text.empty()) {
    return;
  }
  if (gz_ != nullptr) {
    if (gzwrite(static_cast<gzFile>(gz_), text.data(), static_cast<unsigned>(text.size())) <= 0) {
      throw FileError(path_, "write");
    }
  } else if (std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    throw FileError(path_, "write");
  }
}

void FileSink::Write(const Batch& batch) {
  if (format_ == FileFormat::kVmJsonLines) {
    WriteOut(EncodeJsonLines(batch));
    return;
  }
  for (const auto& series : batch.series) {
    FamilyOf(series.metric);
    auto& family = families_[series.metric];
    if (family == nullptr && (family = std::tmpfile()) == nullptr) {
      throw FileError(path_, "create a temporary file for");
    }
    const std::string lines = OpenMetricsLines(series);
    if (std::fwrite(lines.data(), 1, lines.size(), family) != lines.size()) {
      throw FileError(path_, "write a temporary file for");
    }
  }
}

void FileSink::Finish() {
  if (format_ == FileFormat::kOpenMetrics) {
    for (const auto& text : kFamilies) {
      const auto found = families_.find(std::string(text.metric));
      if (found == families_.end()) {
        continue;
      }
      WriteOut("# HELP " + std::string(text.family) + " " + std::string(text.help) + "\n");
      WriteOut("# TYPE " + std::string(text.family) + " " + std::string(text.type) + "\n");
      std::rewind(found->second);
      std::array<char, 65536> buffer;
      size_t count = 0;
      while ((count = std::fread(buffer.data(), 1, buffer.size(), found->second)) > 0) {
        WriteOut(std::string_view(buffer.data(), count));
      }
    }
    WriteOut("# EOF\n");
  }
  const bool failed =
      gz_ != nullptr ? gzclose(static_cast<gzFile>(gz_)) != Z_OK : std::fclose(file_) != 0;
  gz_ = nullptr;
  file_ = nullptr;
  if (failed) {
    throw FileError(path_, "finish");
  }
}

}  // namespace iwx::backfill
