#include "iotawatt/types.hpp"

#include <algorithm>

namespace iwx::iotawatt {

const DatalogInfo* StatusReport::FindLog(const std::string& id) const {
  if (!datalogs) {
    return nullptr;
  }
  const auto found = std::find_if(datalogs->begin(), datalogs->end(),
                                  [&](const DatalogInfo& log) { return log.id == id; });
  return found == datalogs->end() ? nullptr : &*found;
}

bool QueryRow::missing() const {
  // The decoder leaves `values` empty for a missing row; a row built by hand with only
  // nulls means the same.
  return std::all_of(values.begin(), values.end(),
                     [](const std::optional<double>& value) { return !value.has_value(); });
}

}  // namespace iwx::iotawatt
