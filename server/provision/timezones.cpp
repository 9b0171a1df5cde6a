#include "provision/timezones.h"

#include <array>
#include <utility>

namespace labcm::provision {
namespace {

// CUCM's phone time zones are named after the Windows zone IDs, with "Standard/Daylight
// Time" for zones that observe daylight saving. "Central Standard/Daylight Time" is
// confirmed from CUCM-generated files; the rest follow the same naming [I] and should be
// checked against a phone's Settings > Status when one is at hand. Phones on CUCM 9+
// firmware also read <olsonTimeZone>, which labcm always sends.
constexpr std::array<std::pair<std::string_view, std::string_view>, 64> kZones{{
    {"Africa/Cairo", "Egypt Standard/Daylight Time"},
    {"Africa/Johannesburg", "South Africa Standard Time"},
    {"Africa/Lagos", "W. Central Africa Standard Time"},
    {"Africa/Nairobi", "E. Africa Standard Time"},
    {"America/Anchorage", "Alaskan Standard/Daylight Time"},
    {"America/Argentina/Buenos_Aires", "Argentina Standard Time"},
    {"America/Bogota", "SA Pacific Standard Time"},
    {"America/Caracas", "Venezuela Standard Time"},
    {"America/Chicago", "Central Standard/Daylight Time"},
    {"America/Denver", "Mountain Standard/Daylight Time"},
    {"America/Halifax", "Atlantic Standard/Daylight Time"},
    {"America/Lima", "SA Pacific Standard Time"},
    {"America/Los_Angeles", "Pacific Standard/Daylight Time"},
    {"America/Mexico_City", "Mexico Standard/Daylight Time"},
    {"America/New_York", "Eastern Standard/Daylight Time"},
    {"America/Phoenix", "US Mountain Standard Time"},
    {"America/Regina", "Canada Central Standard Time"},
    {"America/Santiago", "Pacific SA Standard/Daylight Time"},
    {"America/Sao_Paulo", "E. South America Standard/Daylight Time"},
    {"America/St_Johns", "Newfoundland Standard/Daylight Time"},
    {"America/Toronto", "Eastern Standard/Daylight Time"},
    {"America/Vancouver", "Pacific Standard/Daylight Time"},
    {"Asia/Bangkok", "SE Asia Standard Time"},
    {"Asia/Dhaka", "Central Asia Standard Time"},
    {"Asia/Dubai", "Arabian Standard Time"},
    {"Asia/Hong_Kong", "China Standard Time"},
    {"Asia/Jakarta", "SE Asia Standard Time"},
    {"Asia/Jerusalem", "Israel Standard/Daylight Time"},
    {"Asia/Karachi", "Pakistan Standard Time"},
    {"Asia/Kolkata", "India Standard Time"},
    {"Asia/Manila", "Singapore Standard Time"},
    {"Asia/Riyadh", "Arab Standard Time"},
    {"Asia/Seoul", "Korea Standard Time"},
    {"Asia/Shanghai", "China Standard Time"},
    {"Asia/Singapore", "Singapore Standard Time"},
    {"Asia/Taipei", "Taipei Standard Time"},
    {"Asia/Tehran", "Iran Standard/Daylight Time"},
    {"Asia/Tokyo", "Tokyo Standard Time"},
    {"Atlantic/Reykjavik", "Greenwich Standard Time"},
    {"Australia/Adelaide", "Cen. Australia Standard/Daylight Time"},
    {"Australia/Brisbane", "E. Australia Standard Time"},
    {"Australia/Darwin", "AUS Central Standard Time"},
    {"Australia/Hobart", "Tasmania Standard/Daylight Time"},
    {"Australia/Melbourne", "AUS Eastern Standard/Daylight Time"},
    {"Australia/Perth", "W. Australia Standard Time"},
    {"Australia/Sydney", "AUS Eastern Standard/Daylight Time"},
    {"Etc/GMT", "Greenwich Standard Time"},
    {"Etc/UTC", "Greenwich Standard Time"},
    {"Europe/Amsterdam", "W. Europe Standard/Daylight Time"},
    {"Europe/Athens", "GTB Standard/Daylight Time"},
    {"Europe/Berlin", "W. Europe Standard/Daylight Time"},
    {"Europe/Brussels", "Romance Standard/Daylight Time"},
    {"Europe/Bucharest", "GTB Standard/Daylight Time"},
    {"Europe/Budapest", "Central Europe Standard/Daylight Time"},
    {"Europe/Helsinki", "FLE Standard/Daylight Time"},
    {"Europe/Istanbul", "Turkey Standard Time"},
    {"Europe/Lisbon", "GMT Standard/Daylight Time"},
    {"Europe/London", "GMT Standard/Daylight Time"},
    {"Europe/Madrid", "Romance Standard/Daylight Time"},
    {"Europe/Moscow", "Russian Standard Time"},
    {"Europe/Paris", "Romance Standard/Daylight Time"},
    {"Europe/Prague", "Central Europe Standard/Daylight Time"},
    {"Europe/Warsaw", "Central European Standard/Daylight Time"},
    {"Pacific/Auckland", "New Zealand Standard/Daylight Time"},
}};

} // namespace

std::optional<std::string_view> ciscoTimeZone(std::string_view olson) {
    if (olson == "UTC") return kFallbackCiscoTimeZone;
    for (const auto& [o, c] : kZones)
        if (o == olson) return c;
    return std::nullopt;
}

} // namespace labcm::provision
