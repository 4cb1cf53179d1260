// GET /query of one unit: argument parsing, the group walk over the logs and both output
// formats, reproducing the firmware's rules (see docs/simulator.md).
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "simulator/simulator.hpp"

namespace iwx::sim {

/// Query arguments after URL decoding; for a repeated name the first value counts.
using QueryArgs = std::multimap<std::string, std::string>;

struct QueryResponse {
  int status = 200;
  std::string content_type;
  std::string body;
  bool is_series = false;  // a show=series answer (else a select or an error)
  size_t rows = 0;         // data rows written (for the per-row delay)
};

/// Answers /query at the model clock's present. Never throws for bad arguments: those
/// are 400 answers with the firmware's reason texts.
QueryResponse RunQuery(const UnitModel& model, const QueryArgs& args);

/// Parses a begin/end time specifier at `now` (UTC seconds) for a device whose local time
/// is UTC + timezone_minutes; 0 when it cannot be parsed (the firmware's convention).
int64_t ParseTimeSpecifier(const std::string& text, int64_t now, int timezone_minutes);

}  // namespace iwx::sim
