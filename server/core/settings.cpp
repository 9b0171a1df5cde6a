#include "core/settings.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cctype>

#include <fmt/format.h>

namespace labcm {
namespace {

constexpr std::array kInfos{
    SettingInfo{"registrar_address", "host", "Address phones register to (processNodeName); 'auto' = this host's first non-loopback IPv4"},
    SettingInfo{"bind_address", "address", "Address the phone-facing services (TFTP, HTTP 6970, SIP) bind"},
    SettingInfo{"sip_port", "port", "SIP registrar port, UDP and TCP"},
    SettingInfo{"http_port", "port", "Phone configuration over HTTP"},
    SettingInfo{"tftp_port", "port", "Phone configuration over TFTP"},
    SettingInfo{"admin_bind", "address", "Address the admin web page and API bind"},
    SettingInfo{"admin_port", "port", "Admin web page and API port"},
    SettingInfo{"timezone", "olson", "Phones' time zone as an Olson name, e.g. Europe/Berlin"},
    SettingInfo{"ntp_servers", "host-list", "NTP servers for the phones, comma separated (may be empty)"},
    SettingInfo{"call_managers", "call-managers", "The phones' call managers in priority order, comma separated, at most 3: 'self' (labcm: registrar_address, sip_port), 'host' or 'host:port' (port 5060 when left out; another labcm or a CUCM); a phone registers to the first that answers and keeps the others as standby"},
    SettingInfo{"auto_registration", "bool", "Create unknown phones that ask for their config file"},
    SettingInfo{"auto_reg_dn_first", "dn", "First directory number auto-registration hands out"},
    SettingInfo{"auto_reg_dn_last", "dn", "Last directory number auto-registration hands out"},
    SettingInfo{"voicemail_number", "dn-or-empty", "Number the phones' Messages button dials (empty: none)"},
    SettingInfo{"user_locale", "folder", "User locale folder under <data-dir>/files (sent to phones only if present)"},
    SettingInfo{"network_locale", "folder", "Network locale (tones) folder under <data-dir>/files (sent only if present)"},
    SettingInfo{"sip_nat", "bool", "Phones reach labcm through NAT: accept a REGISTER whose Contact host is not its source address (otherwise refused, so no request is ever sent to a third party). Read at start"},
    SettingInfo{"register_expires", "expires", "Seconds a phone's registration lasts before it must refresh (25-3600; CUCM: 120)"},
    SettingInfo{"dhcp_interface", "interface-or-empty", "Interface the DHCP server answers broadcasts on (empty: relayed requests to bind_address only, or every interface when bind_address is 0.0.0.0). DHCP runs when a pool exists ('labcm dhcp pool set')"},
    SettingInfo{"dhcp_port", "port", "DHCP server port (67; the client port is this + 1)"},
    SettingInfo{"dhcp_cisco_only", "bool", "Answer only Cisco phones (option 60) and configured devices; stay silent for PCs"},
    SettingInfo{"sip_require_digest", "bool", "Every phone must pass digest authentication with its lines' auth name and password (CUCM's secure device profile, without TLS); a device's own digest setting can only add it. Read at start"},
    SettingInfo{"sip_trunk", "trunk", "Calls to numbers no phone has go to this SIP URI, e.g. sip:pbx.lab:5060;transport=tcp (a PBX, a gateway, a test tool); empty = off (404). Read at start"},
    SettingInfo{"diagnosis_wait", "seconds", "Seconds labcm waits for a phone's next boot step (its config after a lease, its REGISTER after its config) before the verdict (labcm device why) calls it stuck (1-3600)"},
    SettingInfo{"prt_kept", "prt-count", "Problem reports (PRT) kept per phone, the newest (1-100); applied to every phone at start and to one whenever its reports are listed (an upload applies the value labcm started with)"},
    SettingInfo{"prt_max_days", "days", "Problem reports older than this many days are removed (0 = kept however old; up to 3650); applied as prt_kept"},
    SettingInfo{"sip_trace_messages", "trace-count", "SIP messages kept per phone, in full, for its trace and pcap (page, labcm device trace, labcm device pcap); all phones together keep at most 64 MiB, the oldest going first (0 = no trace, up to 10000). Read at start"},
    SettingInfo{"sip_trace_max_days", "trace-days", "SIP trace messages older than this many days are not shown and not kept across a restart (0 = however old; up to 365). Read at start"},
    SettingInfo{"connections_per_address", "count", "TCP connections one address may hold open on the SIP port and on HTTP 6970 at once; more are refused (a phone needs one or two; 0 = no cap, e.g. for a test tool or phones behind NAT). Read at start"},
};

[[noreturn]] void fail(std::string_view key, std::string message) {
    throw FieldErrorException({std::string(key), std::move(message)});
}

/// @brief `v` as a whole decimal number from `lo` to `hi`, nullopt otherwise.
std::optional<int> intIn(std::string_view v, int lo, int hi) {
    int n = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || p != v.data() + v.size() || n < lo || n > hi) return std::nullopt;
    return n;
}

// A host name (RFC 1123 labels) or an IPv4/IPv6 literal; at most 50 characters because the
// SEP file's processNodeName is limited to 50.
bool isHost(std::string_view v) {
    if (v.empty() || v.size() > 50) return false;
    if (v.find(':') != std::string_view::npos)
        return std::all_of(v.begin(), v.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.'; });
    std::size_t label = 0;
    for (char c : v) {
        if (c == '.') {
            if (label == 0) return false;
            label = 0;
        } else if (std::isalnum(static_cast<unsigned char>(c)) || c == '-') {
            if (++label > 63) return false;
        } else {
            return false;
        }
    }
    return label > 0;
}

bool isAddress(std::string_view v) {
    if (v.find(':') != std::string_view::npos) return isHost(v);
    int parts = 0;
    std::size_t pos = 0;
    while (pos <= v.size()) {
        auto dot = v.find('.', pos);
        auto part = v.substr(pos, dot == std::string_view::npos ? std::string_view::npos : dot - pos);
        int n = -1;
        auto [p, ec] = std::from_chars(part.data(), part.data() + part.size(), n);
        if (part.empty() || part.size() > 3 || ec != std::errc{} || p != part.data() + part.size() || n > 255) return false;
        ++parts;
        if (dot == std::string_view::npos) break;
        pos = dot + 1;
    }
    return parts == 4;
}

// An Olson name: "UTC", "Etc/UTC", "America/Argentina/Buenos_Aires", "Etc/GMT+5".
bool isOlson(std::string_view v) {
    if (v == "UTC") return true;
    if (v.empty() || v.size() > 64 || v.front() == '/' || v.back() == '/' || v.find("..") != std::string_view::npos ||
        v.find('/') == std::string_view::npos)
        return false;
    return std::all_of(v.begin(), v.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '/' || c == '_' || c == '-' || c == '+';
    });
}

} // namespace

std::optional<SipTrunk> parseSipTrunk(std::string_view v) {
    if (!v.starts_with("sip:") || v.size() > 200) return std::nullopt;
    v.remove_prefix(4);
    SipTrunk t;
    if (auto semi = v.find(';'); semi != std::string_view::npos) {
        auto param = v.substr(semi + 1);
        v = v.substr(0, semi);
        if (param == "transport=udp") t.transport = "udp";
        else if (param == "transport=tcp") t.transport = "tcp";
        else return std::nullopt;
    }
    std::string_view host = v, port;
    if (v.starts_with('[')) {
        auto close = v.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = v.substr(1, close - 1);
        auto rest = v.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
        if (!rest.empty()) port = rest.substr(1);
        if (host.find(':') == std::string_view::npos) return std::nullopt;
    } else if (auto colon = v.find(':'); colon != std::string_view::npos) {
        host = v.substr(0, colon);
        port = v.substr(colon + 1);
    }
    if (!isHost(host)) return std::nullopt;
    if (v.starts_with('[') == false && host.find(':') != std::string_view::npos) return std::nullopt;
    if (!port.empty() || v.ends_with(':')) {
        int n = 0;
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), n);
        if (ec != std::errc{} || p != port.data() + port.size() || n < 1 || n > 65535) return std::nullopt;
        t.port = static_cast<std::uint16_t>(n);
    }
    t.host = std::string(host);
    return t;
}

namespace {

std::string canonical(std::string_view key, std::string_view value) {
    const auto* info = std::find_if(kInfos.begin(), kInfos.end(), [&](const SettingInfo& i) { return i.key == key; });
    if (info == kInfos.end()) fail(key, fmt::format("unknown setting '{}' (see 'labcm setting list')", key));
    std::string_view type = info->type;
    std::string v(value);
    if (type == "port") {
        auto n = intIn(v, 1, 65535);
        if (!n) fail(key, fmt::format("'{}' is not a port number (1-65535)", v));
        return std::to_string(*n);
    }
    if (type == "bool") {
        std::string l = v;
        for (auto& c : l) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        if (l == "true" || l == "on" || l == "yes" || l == "1") return "true";
        if (l == "false" || l == "off" || l == "no" || l == "0") return "false";
        fail(key, fmt::format("'{}' is not a boolean (true/false)", v));
    }
    if (type == "host") {
        if (v != "auto" && !isHost(v)) fail(key, fmt::format("'{}' is not a host name or address (or 'auto')", v));
        return v;
    }
    if (type == "trunk") {
        if (!v.empty() && !parseSipTrunk(v))
            fail(key, fmt::format("'{}' is not sip:host[:port][;transport=udp|tcp] (or empty: no trunk)", v));
        return v;
    }
    if (type == "address") {
        if (!isAddress(v)) fail(key, fmt::format("'{}' is not an IP address", v));
        return v;
    }
    if (type == "olson") {
        if (!isOlson(v)) fail(key, fmt::format("'{}' is not an Olson time zone name such as Europe/Berlin", v));
        return v;
    }
    if (type == "host-list") {
        std::string out;
        std::size_t pos = 0;
        while (pos < v.size()) {
            auto comma = v.find(',', pos);
            std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            item.erase(0, item.find_first_not_of(' '));
            item.erase(item.find_last_not_of(' ') + 1);
            if (!isHost(item)) fail(key, fmt::format("'{}' is not a host name or address", item));
            out += (out.empty() ? "" : ",") + item;
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        return out;
    }
    if (type == "call-managers") {
        std::vector<std::string> items;
        std::size_t pos = 0;
        while (pos <= v.size()) {
            auto comma = v.find(',', pos);
            std::string item = v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
            item.erase(0, item.find_first_not_of(' '));
            item.erase(item.find_last_not_of(' ') + 1);
            if (item != "self") {
                auto host = callManagerHost(item);
                auto port = callManagerPort(item);
                if (!isHost(host) || !port)
                    fail(key, fmt::format("'{}' is not 'self', a host, or host:port (port 1-65535; an IPv6 address with a "
                                          "port in brackets: [2001:db8::1]:5060)", item));
            }
            if (std::find(items.begin(), items.end(), item) != items.end()) fail(key, fmt::format("'{}' is given twice", item));
            items.push_back(item);
            if (comma == std::string::npos) break;
            pos = comma + 1;
        }
        if (items.size() > 3) fail(key, fmt::format("{} call managers: a phone's group holds at most 3", items.size()));
        std::string out;
        for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
        return out;
    }
    if (type == "expires") {
        auto n = intIn(v, 25, 3600);
        if (!n) fail(key, fmt::format("'{}' is not a number of seconds from 25 to 3600 (a phone refreshes 5 s early "
                                      "and fails below 20 s)", v));
        return std::to_string(*n);
    }
    if (type == "folder") {
        if (v.empty() || v.size() > 64 || !std::all_of(v.begin(), v.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
            }))
            fail(key, fmt::format("'{}' is not a folder name (letters, digits, _ and -)", v));
        return v;
    }
    if (type == "interface-or-empty") {
        if (v.size() > 15 || v == "." || v == ".." || !std::all_of(v.begin(), v.end(), [](char c) {
                return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == '@';
            }))
            fail(key, fmt::format("'{}' is not a network interface name", v));
        return v;
    }
    // The whole-number types: their range and how a value outside it is told.
    struct Whole {
        std::string_view type;
        int lo, hi;
        std::string_view what;
    };
    static constexpr Whole kWhole[] = {
        {"seconds", 1, 3600, "a number of seconds from 1 to 3600"},
        {"prt-count", 1, 100, "a count from 1 to 100"},
        {"days", 0, 3650, "a number of days from 0 to 3650 (0: no limit)"},
        {"trace-days", 0, 365, "a number of days from 0 to 365 (0: no limit)"},
        {"trace-count", 0, 10'000, "a count from 0 to 10000 (0: no trace)"},
        {"count", 0, 1'000'000, "a count from 0 to 1000000 (0: no cap)"},
    };
    for (const auto& w : kWhole) {
        if (type != w.type) continue;
        auto n = intIn(v, w.lo, w.hi);
        if (!n) fail(key, fmt::format("'{}' is not {}", v, w.what));
        return std::to_string(*n);
    }
    if (type == "dn-or-empty" && v.empty()) return v;
    if (type == "dn" || type == "dn-or-empty") {
        if (v.empty() || v.size() > 30 || !std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }))
            fail(key, fmt::format("'{}' is not a numeric directory number", v));
        return v;
    }
    fail(key, "internal: unhandled setting type");
}

std::uint16_t toPort(const std::string& v) { return static_cast<std::uint16_t>(std::stoi(v)); }

} // namespace

std::string callManagerHost(std::string_view item) {
    if (item.starts_with('[')) {
        auto close = item.find(']');
        return std::string(item.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1));
    }
    if (std::count(item.begin(), item.end(), ':') > 1) return std::string(item); // a bare IPv6 address
    return std::string(item.substr(0, item.find(':')));
}

std::optional<std::uint16_t> callManagerPort(std::string_view item) {
    std::string_view rest;
    if (item.starts_with('[')) {
        auto close = item.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        rest = item.substr(close + 1);
        if (rest.empty()) return 5060;
        if (rest.front() != ':') return std::nullopt;
        rest.remove_prefix(1);
    } else {
        auto colon = item.find(':');
        if (colon == std::string_view::npos || std::count(item.begin(), item.end(), ':') > 1) return 5060;
        rest = item.substr(colon + 1);
    }
    int n = 0;
    auto [p, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), n);
    if (ec != std::errc{} || p != rest.data() + rest.size() || n < 1 || n > 65535) return std::nullopt;
    return static_cast<std::uint16_t>(n);
}

FieldErrorException::FieldErrorException(FieldError e)
    : std::runtime_error(e.field + ": " + e.message), error(std::move(e)) {}

std::span<const SettingInfo> settingInfos() { return kInfos; }

std::string canonicalSetting(std::string_view key, std::string_view value) { return canonical(key, value); }

Settings settingsFromRows(const std::map<std::string, std::string>& rows) {
    Settings s;
    for (const auto& row : rows) {
        const std::string& key = row.first;
        const std::string& raw = row.second;
        // A key this build does not know (written by hand) is ignored, not fatal.
        if (std::none_of(kInfos.begin(), kInfos.end(), [&](const SettingInfo& i) { return i.key == key; })) continue;
        std::string v = canonical(key, raw);
        if (key == "registrar_address") s.registrarAddress = v;
        else if (key == "bind_address") s.bindAddress = v;
        else if (key == "sip_port") s.sipPort = toPort(v);
        else if (key == "http_port") s.httpPort = toPort(v);
        else if (key == "tftp_port") s.tftpPort = toPort(v);
        else if (key == "admin_bind") s.adminBind = v;
        else if (key == "admin_port") s.adminPort = toPort(v);
        else if (key == "timezone") s.timezone = v;
        else if (key == "ntp_servers") {
            s.ntpServers.clear();
            std::size_t pos = 0;
            while (!v.empty() && pos <= v.size()) {
                auto comma = v.find(',', pos);
                s.ntpServers.push_back(v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
                if (comma == std::string::npos) break;
                pos = comma + 1;
            }
        } else if (key == "call_managers") {
            s.callManagers.clear();
            for (std::size_t pos = 0; pos <= v.size();) {
                auto comma = v.find(',', pos);
                s.callManagers.push_back(v.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
                if (comma == std::string::npos) break;
                pos = comma + 1;
            }
        } else if (key == "auto_registration") s.autoRegistration = v == "true";
        else if (key == "auto_reg_dn_first") s.autoRegDnFirst = v;
        else if (key == "auto_reg_dn_last") s.autoRegDnLast = v;
        else if (key == "voicemail_number") s.voicemailNumber = v;
        else if (key == "user_locale") s.userLocale = v;
        else if (key == "network_locale") s.networkLocale = v;
        else if (key == "register_expires") s.registerExpires = std::stoi(v);
        else if (key == "dhcp_interface") s.dhcpInterface = v;
        else if (key == "dhcp_port") s.dhcpPort = toPort(v);
        else if (key == "dhcp_cisco_only") s.dhcpCiscoOnly = v == "true";
        else if (key == "sip_nat") s.sipNat = v == "true";
        else if (key == "connections_per_address") s.connectionsPerAddress = std::stoi(v);
        else if (key == "diagnosis_wait") s.diagnosisWait = std::stoi(v);
        else if (key == "sip_trace_messages") s.sipTraceMessages = std::stoi(v);
        else if (key == "prt_kept") s.prtKept = std::stoi(v);
        else if (key == "sip_trace_max_days") s.sipTraceMaxDays = std::stoi(v);
        else if (key == "prt_max_days") s.prtMaxDays = std::stoi(v);
        else if (key == "sip_trunk") s.sipTrunk = v;
        else if (key == "sip_require_digest") s.sipRequireDigest = v == "true";
    }
    // Cross-field rule: compare as numbers of equal width, e.g. 1000..1999.
    if (s.autoRegDnFirst.size() != s.autoRegDnLast.size())
        fail("auto_reg_dn_last", fmt::format("'{}' and first DN '{}' must have the same number of digits",
                                             s.autoRegDnLast, s.autoRegDnFirst));
    if (s.autoRegDnFirst > s.autoRegDnLast)
        fail("auto_reg_dn_last", fmt::format("'{}' is before the first DN '{}'", s.autoRegDnLast, s.autoRegDnFirst));
    return s;
}

std::string settingValue(const Settings& s, std::string_view key) {
    if (key == "registrar_address") return s.registrarAddress;
    if (key == "bind_address") return s.bindAddress;
    if (key == "sip_port") return std::to_string(s.sipPort);
    if (key == "http_port") return std::to_string(s.httpPort);
    if (key == "tftp_port") return std::to_string(s.tftpPort);
    if (key == "admin_bind") return s.adminBind;
    if (key == "admin_port") return std::to_string(s.adminPort);
    if (key == "timezone") return s.timezone;
    if (key == "ntp_servers") {
        std::string out;
        for (const auto& n : s.ntpServers) out += (out.empty() ? "" : ",") + n;
        return out;
    }
    if (key == "call_managers") {
        std::string out;
        for (const auto& c : s.callManagers) out += (out.empty() ? "" : ",") + c;
        return out;
    }
    if (key == "auto_registration") return s.autoRegistration ? "true" : "false";
    if (key == "auto_reg_dn_first") return s.autoRegDnFirst;
    if (key == "auto_reg_dn_last") return s.autoRegDnLast;
    if (key == "voicemail_number") return s.voicemailNumber;
    if (key == "user_locale") return s.userLocale;
    if (key == "network_locale") return s.networkLocale;
    if (key == "register_expires") return std::to_string(s.registerExpires);
    if (key == "dhcp_interface") return s.dhcpInterface;
    if (key == "dhcp_port") return std::to_string(s.dhcpPort);
    if (key == "dhcp_cisco_only") return s.dhcpCiscoOnly ? "true" : "false";
    if (key == "sip_nat") return s.sipNat ? "true" : "false";
    if (key == "connections_per_address") return std::to_string(s.connectionsPerAddress);
    if (key == "diagnosis_wait") return std::to_string(s.diagnosisWait);
    if (key == "sip_trace_messages") return std::to_string(s.sipTraceMessages);
    if (key == "prt_kept") return std::to_string(s.prtKept);
    if (key == "sip_trace_max_days") return std::to_string(s.sipTraceMaxDays);
    if (key == "prt_max_days") return std::to_string(s.prtMaxDays);
    if (key == "sip_trunk") return s.sipTrunk;
    if (key == "sip_require_digest") return s.sipRequireDigest ? "true" : "false";
    fail(key, fmt::format("unknown setting '{}'", key));
}

} // namespace labcm
