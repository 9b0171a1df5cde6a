// Phone settings an admin changes per lab, per model or per phone (CUCM's Product Specific
// Configuration): web and SSH access, the PC port, display timers, date and time format, the
// problem-report upload URL... Each key has a type, a range and a default; the value a phone
// gets is its own, else its model's, else the lab's, else the default. Pure.
#pragma once

#include <map>
#include <span>
#include <string>
#include <string_view>

#include "core/settings.h"

namespace labcm {

struct PhoneSettingInfo {
    std::string_view key;
    std::string_view type; ///< "bool", "hhmm", "date-format", "time-format", "http-url-or-empty", "host-or-empty"
    std::string_view defaultValue;
    std::string_view help;
};

std::span<const PhoneSettingInfo> phoneSettingInfos();

/// @brief The canonical text of a value. @throw FieldErrorException naming the key (an
/// unknown key included).
std::string canonicalPhoneSetting(std::string_view key, std::string_view value);

/// key -> canonical value, for the keys that are set at one level.
using PhoneSettingValues = std::map<std::string, std::string>;

/// @brief The values a phone gets: each key from the first level that sets it (phone, model,
/// lab), else its default.
PhoneSettingValues effectivePhoneSettings(const PhoneSettingValues& lab, const PhoneSettingValues& model,
                                          const PhoneSettingValues& phone);

/// @brief What the SEP file's template takes from them (vendorConfig's own encodings: webAccess
/// 0 = on, dateTemplate with 'a' for a 12-hour clock...), by template value name.
std::map<std::string, std::string> phoneSettingTemplateValues(const PhoneSettingValues& effective);

} // namespace labcm
