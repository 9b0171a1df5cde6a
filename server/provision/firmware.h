// Firmware loads: `<load>.loads` lists the image files a phone fetches for that load.
// labcm never changes firmware files; it reads .loads files to check that every image a
// model default or device override needs is present, so a missing file is flagged instead
// of sending phones into a failing upgrade loop at every boot.
#pragma once

#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "provision/files_dir.h"

namespace labcm::provision {

struct LoadsFile {
    std::vector<std::string> images;   ///< file names listed, in order
    std::vector<std::string> metadata; ///< #HARDWARE_COMP..., [SECTION], key=value lines
};

/// @brief Parses a .loads file: skips the signed header (TLV: tag 1 version, tag 2 header
/// length as a big-endian u16 at offset 8) when present, then reads the text: CRLF or LF
/// lines, comments, trailing spaces. Pure; never throws on bad input (a truncated header
/// yields no images).
LoadsFile parseLoads(std::span<const std::uint8_t> bytes);

struct LoadCheck {
    std::string load;                 ///< load name, without .loads
    bool loadsFound = false;          ///< <load>.loads is in the files directory
    std::vector<std::string> images;  ///< what it lists
    std::vector<std::string> missing; ///< listed images that are not there
    bool complete() const { return loadsFound && missing.empty(); }
    std::string summary() const;      ///< one line for logs, events and the CLI
};

/// @brief The models whose load names start like `load` (case ignored): the models a
/// package's load is for ("sip88xx.14-2-1-0001-14" -> 8811, 8841, 8851, 8861).
std::vector<std::string> modelsOfLoad(std::string_view load);

/// @brief Checks one load against the files directory.
LoadCheck checkLoad(const FilesDir& files, const std::string& load);

} // namespace labcm::provision
