// How energy counters allow for the device's rounding; the live exporter and the backfill
// count alike, so that their counters meet where history hands over to live data.
#pragma once

#include <cstdint>

namespace iwx::iotawatt {

/// Each positive 5-second record of a channel counts this many nWh less than the device
/// reported: more than the device's rounding of a record plus twice the error of reading
/// back its total. So a counter anchored on the device's total (after a restart, or where
/// live data follows backfilled history) never comes out below one integrated from
/// records, which would read as a counter reset. Cost: at most 0.13 Wh a year per channel.
inline constexpr int64_t kRoundingAllowanceNwh = 20;

/// Records of the device's 5-second log in one minute.
inline constexpr int64_t kRecordsPerMinute = 12;

}  // namespace iwx::iotawatt
