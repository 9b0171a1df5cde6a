#include "core/phone_settings.h"

#include <algorithm>
#include <array>
#include <cctype>

#include <fmt/format.h>

namespace labcm {
namespace {

constexpr std::array kInfos{
    PhoneSettingInfo{"web_access", "bool", "true", "The phone's web page (vendorConfig webAccess)"},
    PhoneSettingInfo{"ssh_access", "bool", "false", "SSH to the phone (sshAccess)"},
    PhoneSettingInfo{"settings_access", "bool", "true", "The Settings menu on the phone (settingsAccess)"},
    PhoneSettingInfo{"pc_port", "bool", "true", "The PC port behind the phone (pcPort)"},
    PhoneSettingInfo{"span_to_pc", "bool", "true", "Mirror the phone's traffic to the PC port, for a capture there (spanToPCPort)"},
    PhoneSettingInfo{"bluetooth", "bool", "true", "Bluetooth on models that have it (bluetooth)"},
    PhoneSettingInfo{"peer_firmware_sharing", "bool", "false", "Phones of one model share firmware with each other (peerFirmwareSharing)"},
    PhoneSettingInfo{"load_server", "host-or-empty", "", "Where the phone fetches firmware images instead of labcm (loadServer; no fallback)"},
    PhoneSettingInfo{"problem_report_upload_url", "http-url-or-empty", "", "Where the phone uploads its problem report, http:// only, at most 255 characters (problemReportUploadURL; 78xx/88xx)"},
    PhoneSettingInfo{"display_on_time", "hhmm", "07:30", "Time of day the display turns on (displayOnTime, HH:MM)"},
    PhoneSettingInfo{"display_on_duration", "hhmm", "10:30", "How long it stays on from then (displayOnDuration, HH:MM)"},
    PhoneSettingInfo{"display_idle_timeout", "hhmm", "00:10", "Idle time before the display turns off outside that (displayIdleTimeout, HH:MM)"},
    PhoneSettingInfo{"date_format", "date-format", "D/M/Y", "Date format: D/M/Y, M/D/Y, Y/M/D, with / . or - (dateTemplate)"},
    PhoneSettingInfo{"time_format", "time-format", "24h", "Clock: 24h or 12h (dateTemplate's 'a')"},
};

[[noreturn]] void fail(std::string_view key, std::string message) {
    throw FieldErrorException({std::string(key), std::move(message)});
}

const PhoneSettingInfo* find(std::string_view key) {
    auto it = std::find_if(kInfos.begin(), kInfos.end(), [&](const auto& i) { return i.key == key; });
    return it == kInfos.end() ? nullptr : &*it;
}

bool printable(std::string_view v) {
    return std::all_of(v.begin(), v.end(), [](unsigned char c) { return c > 0x20 && c < 0x7f; });
}

} // namespace

std::span<const PhoneSettingInfo> phoneSettingInfos() { return kInfos; }

std::string canonicalPhoneSetting(std::string_view key, std::string_view value) {
    const auto* info = find(key);
    if (!info) fail(key, fmt::format("unknown phone setting '{}' (see 'labcm phone-setting list')", key));
    std::string v(value);
    std::string_view type = info->type;
    if (type == "bool") {
        std::string l;
        for (char c : v) l.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
        if (l == "true" || l == "on" || l == "yes" || l == "1") return "true";
        if (l == "false" || l == "off" || l == "no" || l == "0") return "false";
        fail(key, fmt::format("'{}' is not a boolean (true/false)", v));
    }
    if (type == "hhmm") {
        if (v.size() != 5 || v[2] != ':' || !std::isdigit(static_cast<unsigned char>(v[0])) ||
            !std::isdigit(static_cast<unsigned char>(v[1])) || !std::isdigit(static_cast<unsigned char>(v[3])) ||
            !std::isdigit(static_cast<unsigned char>(v[4])) || std::stoi(v.substr(0, 2)) > 23 || std::stoi(v.substr(3)) > 59)
            fail(key, fmt::format("'{}' is not a time HH:MM from 00:00 to 23:59", v));
        return v;
    }
    if (type == "date-format") {
        static constexpr std::string_view kOrders[] = {"DMY", "MDY", "YMD"};
        if (v.size() == 5 && v[1] == v[3] && (v[1] == '/' || v[1] == '.' || v[1] == '-')) {
            std::string order{v[0], v[2], v[4]};
            for (auto o : kOrders)
                if (order == o) return v;
        }
        fail(key, fmt::format("'{}' is not a date format: D/M/Y, M/D/Y or Y/M/D, with / . or -", v));
    }
    if (type == "time-format") {
        if (v == "24h" || v == "12h") return v;
        fail(key, fmt::format("'{}' is not 24h or 12h", v));
    }
    if (type == "http-url-or-empty") {
        if (v.empty()) return v;
        if (v.size() > 255 || !v.starts_with("http://") || v.size() == 7 || !printable(v))
            fail(key, fmt::format("'{}' is not an http:// URL of at most 255 characters (the phones upload over HTTP only)", v));
        return v;
    }
    if (type == "host-or-empty") {
        if (v.empty()) return v;
        if (v.size() > 50 || !printable(v) || !std::all_of(v.begin(), v.end(), [](unsigned char c) {
                return std::isalnum(c) || c == '.' || c == '-' || c == ':';
            }))
            fail(key, fmt::format("'{}' is not a host name or address", v));
        return v;
    }
    fail(key, "internal: unhandled phone setting type");
}

PhoneSettingValues effectivePhoneSettings(const PhoneSettingValues& lab, const PhoneSettingValues& model,
                                          const PhoneSettingValues& phone) {
    PhoneSettingValues out;
    for (const auto& info : kInfos) {
        std::string key(info.key);
        if (auto it = phone.find(key); it != phone.end()) out[key] = it->second;
        else if (auto m = model.find(key); m != model.end()) out[key] = m->second;
        else if (auto l = lab.find(key); l != lab.end()) out[key] = l->second;
        else out[key] = std::string(info.defaultValue);
    }
    return out;
}

std::map<std::string, std::string> phoneSettingTemplateValues(const PhoneSettingValues& e) {
    auto on = [&](const char* key) { return e.at(key) == "true"; };
    // Cisco's encodings: access switches are 0 = enabled, the others 1 = enabled.
    return {
        {"vc_web_access", on("web_access") ? "0" : "1"},
        {"vc_ssh_access", on("ssh_access") ? "0" : "1"},
        {"vc_settings_access", on("settings_access") ? "1" : "0"},
        {"vc_pc_port", on("pc_port") ? "0" : "1"},
        {"vc_span_to_pc", on("span_to_pc") ? "1" : "0"},
        {"vc_bluetooth", on("bluetooth") ? "1" : "0"},
        {"vc_peer_firmware_sharing", on("peer_firmware_sharing") ? "1" : "0"},
        {"vc_load_server", e.at("load_server")},
        {"vc_problem_report_upload_url", e.at("problem_report_upload_url")},
        {"vc_display_on_time", e.at("display_on_time")},
        {"vc_display_on_duration", e.at("display_on_duration")},
        {"vc_display_idle_timeout", e.at("display_idle_timeout")},
        {"date_template", e.at("date_format") + (e.at("time_format") == "12h" ? "a" : "")},
    };
}

} // namespace labcm
