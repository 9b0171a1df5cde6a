// The Cisco enterprise-firmware SIP phone models labcm knows, in one table.
// Source: CUCM typemodel enum and load-name patterns (README "Models"; research notes
// kept with the project history).
#pragma once

#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace labcm {

struct ModelInfo {
    std::string_view name;        ///< short name used everywhere in labcm: "8845"
    int typemodel;                ///< CUCM typemodel enum = +u.sip!model.ccm.cisco.com value
    std::string_view displayName; ///< CUCM typemodel name: "Cisco 8845"
    std::string_view loadPrefix;  ///< firmware load names start with this: "sip8845_65."
    std::string_view family;      ///< "78xx", "88xx", "79xx", "89xx", "99xx", "69xx", "8821", ...
    std::string_view localeJar;   ///< user-locale jar the phone fetches ("" = not known)
    bool video = false;           ///< has a camera (8845/8865): videoCapability on
};

/// @brief All known models, ordered by name.
std::span<const ModelInfo> knownModels();

/// @brief Finds a model by its short name ("8845"), its CUCM display name ("Cisco 8845"),
/// its DHCP vendor-class form ("CP-8845", "CP-8845-3PCC" is not ours) or "CP8845".
std::optional<ModelInfo> findModel(std::string_view text);

/// @brief Finds a model by its CUCM typemodel number.
std::optional<ModelInfo> findModelByTypemodel(int typemodel);

} // namespace labcm
