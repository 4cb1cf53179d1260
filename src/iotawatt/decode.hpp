// Decoding of IoTaWatt response bodies. Pure functions: no I/O.
#pragma once

#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "iotawatt/types.hpp"

namespace iwx::iotawatt {

/// A body that is not what the endpoint documents. what() names the endpoint, the
/// offending part and what was expected.
class DecodeError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// `/status?...`. Tolerates every quirk of real firmware: Watts as padded strings (and as
/// numbers, which some captures contain), missing sections, both uploader forms.
StatusReport DecodeStatus(std::string_view body);

/// `/query?show=series`.
std::vector<SeriesInfo> DecodeSeriesList(std::string_view body);

/// `/query?select=[time.utc.unix,...]&header=yes` in JSON; expected_columns counts the
/// columns after the time column. Checks every row's width.
QueryPage DecodeQueryPage(std::string_view body, size_t expected_columns);

/// Path and query string for a select request, correctly percent-encoded, e.g.
/// "/query?select=%5Btime.utc.unix%2CMains.wh.d6%5D&begin=...&end=...&group=5s"
/// "&header=yes&limit=1000".
/// \throw std::invalid_argument when begin or end is not a 10-digit epoch or limit < 1.
std::string BuildQueryTarget(const QueryRequest& request);

}  // namespace iwx::iotawatt
