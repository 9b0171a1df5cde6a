// The device CSV used by `labcm import` / `export` and the admin API: one row per device,
// line columns in groups as CUCM's bulk tool does:
//   mac,model,description,load,transport,line1_dn,line1_display_name,line1_label,line1_auth_name,
//   line1_auth_password,line1_contact,line2_dn,...
// Only mac and model are required columns; a line exists where its lineN_dn is not empty.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"

namespace labcm {

struct DeviceCsvRow {
    std::size_t row; ///< CSV row number (header = 1)
    Device device;
};

struct CsvRowError {
    std::size_t row;
    std::string field;
    std::string message;
};

struct DeviceCsv {
    std::vector<DeviceCsvRow> devices;
    std::vector<CsvRowError> errors; ///< every problem found, in row order; empty = valid
};

/// @brief Parses and validates every row; never stops at the first problem, so a dry run
/// can report them all. Duplicate MACs inside the file are errors.
DeviceCsv parseDeviceCsv(std::string_view text);

/// @brief The CSV for these devices, with as many line groups as the longest device needs.
std::string formatDeviceCsv(const std::vector<Device>& devices);

} // namespace labcm
