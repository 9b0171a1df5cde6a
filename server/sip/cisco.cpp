#include "sip/cisco.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "core/mac.h"
#include "core/text.h"

namespace labcm::sip {
namespace {

using text::iequals;
using text::toLower;
using text::trim;

std::string unquote(std::string_view v) {
    v = trim(v);
    if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
        std::string out;
        for (std::size_t i = 1; i + 1 < v.size(); ++i) {
            if (v[i] == '\\' && i + 2 < v.size()) ++i;
            out.push_back(v[i]);
        }
        return out;
    }
    return std::string(v);
}

} // namespace

std::string stripLoadsSuffix(std::string_view load) {
    load = trim(load);
    if (load.size() >= 6 && iequals(load.substr(load.size() - 6), ".loads")) load.remove_suffix(6);
    return std::string(trim(load));
}

std::optional<CiscoReason> parseCiscoReasonText(std::string_view text) {
    auto t = unquote(text);
    std::string_view s = trim(t);
    if (s.size() < 12 || !iequals(s.substr(0, 12), "cisco-alarm:")) return std::nullopt;
    CiscoReason r;
    s.remove_prefix(12);
    auto sp = s.find(' ');
    auto num = s.substr(0, sp);
    int n = 0;
    if (auto [p, ec] = std::from_chars(num.data(), num.data() + num.size(), n); ec == std::errc{} && p == num.data() + num.size())
        r.alarm = n;
    s = sp == std::string_view::npos ? std::string_view() : s.substr(sp + 1);
    // Space-separated key=value tokens; values have no spaces.
    while (!s.empty()) {
        s = trim(s);
        auto end = s.find(' ');
        auto token = s.substr(0, end);
        s = end == std::string_view::npos ? std::string_view() : s.substr(end + 1);
        auto eq = token.find('=');
        if (eq == std::string_view::npos) continue;
        auto key = token.substr(0, eq);
        auto value = token.substr(eq + 1);
        // Values end up in the database and on the admin page: none with control characters.
        if (std::any_of(value.begin(), value.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7F; }))
            continue;
        if (iequals(key, "Name")) r.name = std::string(value);
        else if (iequals(key, "ActiveLoad") || iequals(key, "Load")) r.activeLoad = stripLoadsSuffix(value);
        else if (iequals(key, "InactiveLoad")) r.inactiveLoad = stripLoadsSuffix(value);
        else if (iequals(key, "Last")) r.last = std::string(value);
    }
    return r;
}

std::optional<CiscoReason> parseReasonHeader(std::string_view value) {
    // protocol *( ";" param ), param = token [ "=" ( token / quoted-string ) ]
    auto semi = value.find(';');
    if (semi == std::string_view::npos || !iequals(trim(value.substr(0, semi)), "SIP")) return std::nullopt;
    for (const auto& [name, v] : parseContactParamList(value.substr(semi + 1)))
        if (name == "text") return parseCiscoReasonText(v);
    return std::nullopt;
}

std::vector<std::pair<std::string, std::string>> parseContactParamList(std::string_view params) {
    std::vector<std::pair<std::string, std::string>> out;
    std::size_t i = 0;
    while (i < params.size()) {
        // One parameter: up to the next ';' outside quotes.
        std::size_t start = i;
        bool quoted = false;
        for (; i < params.size(); ++i) {
            if (params[i] == '"' && (i == 0 || params[i - 1] != '\\')) quoted = !quoted;
            else if (params[i] == ';' && !quoted) break;
        }
        auto p = trim(params.substr(start, i - start));
        ++i;
        if (p.empty()) continue;
        auto eq = p.find('=');
        if (eq == std::string_view::npos) out.emplace_back(toLower(p), "");
        else out.emplace_back(toLower(trim(p.substr(0, eq))), unquote(p.substr(eq + 1)));
        if (out.size() >= 64) break; // bounded: no header has more
    }
    return out;
}

CiscoContact parseContactParams(const std::vector<std::pair<std::string, std::string>>& params) {
    CiscoContact c;
    for (const auto& [rawName, rawValue] : params) {
        auto name = toLower(rawName);
        auto value = unquote(rawValue);
        if (name == "+u.sip!devicename.ccm.cisco.com" || name == "+u.sip!devicename.ccm.features.cisco.com") {
            if (c.deviceName.empty()) c.deviceName = value;
        } else if (name == "+u.sip!model.ccm.cisco.com") {
            int m = 0;
            if (auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), m);
                ec == std::errc{} && p == value.data() + value.size())
                c.model = m;
        } else if (name == "+sip.instance") {
            // "<urn:uuid:00000000-0000-0000-0000-001122aabbcc>": the MAC is the last 12 hex.
            if (!c.instanceMac.empty()) continue; // CIPC sends it twice: the first wins
            std::string_view v = value;
            if (!v.empty() && v.front() == '<') v.remove_prefix(1);
            if (!v.empty() && v.back() == '>') v.remove_suffix(1);
            if (v.size() >= 12)
                if (auto mac = normalizeMac(v.substr(v.size() - 12))) c.instanceMac = *mac;
        } else if (name == "cisco-keep-alive") {
            c.keepAlive = true;
        } else if (name == "expires") {
            long e = 0;
            if (auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), e);
                ec == std::errc{} && p == value.data() + value.size() && e >= 0)
                c.expires = e;
        }
    }
    return c;
}

std::optional<std::string> macFromDeviceName(std::string_view name) {
    if (name.size() != 15 || !iequals(name.substr(0, 3), "SEP")) return std::nullopt;
    return normalizeMac(name);
}

std::optional<std::string> identifyDevice(const CiscoContact& contact, const std::optional<CiscoReason>& reason) {
    if (auto mac = macFromDeviceName(contact.deviceName)) return mac;
    if (reason)
        if (auto mac = macFromDeviceName(reason->name)) return mac;
    if (!contact.instanceMac.empty()) return contact.instanceMac;
    return std::nullopt;
}

std::optional<std::pair<std::string, std::string>> parseCiscoUserAgent(std::string_view ua) {
    ua = trim(ua);
    if (ua.size() < 9 || !iequals(ua.substr(0, 8), "Cisco-CP")) return std::nullopt;
    ua.remove_prefix(8);
    auto slash = ua.find('/');
    auto model = ua.substr(0, slash);
    if (model.empty() || model.size() > 16) return std::nullopt;
    std::string version = slash == std::string_view::npos ? "" : std::string(ua.substr(slash + 1));
    return std::pair{std::string(model), version};
}

std::string optionsIndResponse() {
    // The subset CUCM 11.5-14 grants: combined remotecc status + service-control, unsolicited
    // hook-status and shared-line dialog NOTIFYs, BLF presence, join.
    return "<x-cisco-remotecc-response><response><code>200</code><optionsind>"
           "<combine max=\"6\"><remotecc><status/></remotecc><service-control/></combine>"
           "<dialog usage=\"hook status\"><unot/></dialog>"
           "<dialog usage=\"shared line\"><unot/></dialog>"
           "<presence usage=\"blf speed dial\"><unot/></presence>"
           "<joinreq></joinreq>"
           "</optionsind></response></x-cisco-remotecc-response>";
}

std::optional<PhoneAction> parsePhoneAction(std::string_view text) {
    auto t = toLower(trim(text));
    if (t == "restart") return PhoneAction::Restart;
    if (t == "reset") return PhoneAction::Reset;
    if (t == "apply-config") return PhoneAction::ApplyConfig;
    if (t == "check-version") return PhoneAction::CheckVersion;
    if (t == "prt-report") return PhoneAction::PrtReport;
    return std::nullopt;
}

std::string_view toString(PhoneAction a) {
    switch (a) {
    case PhoneAction::Restart: return "restart";
    case PhoneAction::Reset: return "reset";
    case PhoneAction::ApplyConfig: return "apply-config";
    case PhoneAction::CheckVersion: return "check-version";
    case PhoneAction::PrtReport: return "prt-report";
    }
    return "restart";
}

std::string_view toString(LineState s) {
    switch (s) {
    case LineState::Idle: return "idle";
    case LineState::Ringing: return "ringing";
    case LineState::Busy: return "busy";
    case LineState::Unregistered: return "unregistered";
    }
    return "?";
}

std::string presenceBody(std::string_view dn, std::string_view host, LineState state) {
    const char* basic = state == LineState::Unregistered ? "closed" : "open";
    std::string activities;
    if (state == LineState::Ringing) activities = "<ce:alerting/>";
    if (state == LineState::Busy) activities = "<e:on-the-phone/><e:busy/>";
    return fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<presence xmlns=\"urn:ietf:params:xml:ns:pidf\" xmlns:dm=\"urn:ietf:params:xml:ns:pidf:data-model\" "
        "xmlns:e=\"urn:ietf:params:xml:ns:pidf:status:rpid\" xmlns:ce=\"urn:cisco:params:xml:ns:pidf:rpid\" "
        "entity=\"sip:{0}@{1}\">\n"
        "<dm:person id=\"p-{0}\"><status><basic>{2}</basic></status><e:activities>{3}</e:activities></dm:person>\n"
        "<tuple id=\"{0}\"><status><basic>{2}</basic></status></tuple>\n"
        "</presence>\n",
        dn, host, basic, activities);
}

std::string messageSummaryBody(int newMessages, int oldMessages, std::string_view account) {
    return fmt::format("Messages-Waiting: {}\r\nMessage-Account: {}\r\nVoice-Message: {}/{}\r\n",
                       newMessages > 0 ? "yes" : "no", account, newMessages, oldMessages);
}

std::string serviceControlBody(PhoneAction action, std::string_view registerCallId, std::string_view configStamp) {
    return fmt::format("action={}\r\nRegisterCallId={{{}}}\r\nConfigVersionStamp={{{}}}\r\nDialplanVersionStamp={{}}\r\n"
                       "SoftkeyVersionStamp={{}}\r\nFeatureControlVersionStamp={{}}\r\n",
                       toString(action), registerCallId, configStamp);
}

bool isBulkRegister(std::string_view body) {
    return body.find("bulkregisterreq") != std::string_view::npos;
}

std::optional<std::string> remoteccSoftkey(std::string_view body) {
    if (body.find("<softkeyeventmsg>") == std::string_view::npos) return std::nullopt;
    constexpr std::string_view open = "<softkeyevent>", close = "</softkeyevent>";
    auto start = body.find(open);
    if (start == std::string_view::npos) return std::nullopt;
    start += open.size();
    auto end = body.find(close, start);
    if (end == std::string_view::npos) return std::nullopt;
    auto key = body.substr(start, end - start);
    while (!key.empty() && (key.front() == ' ' || key.front() == '\n' || key.front() == '\r' || key.front() == '\t')) key.remove_prefix(1);
    while (!key.empty() && (key.back() == ' ' || key.back() == '\n' || key.back() == '\r' || key.back() == '\t')) key.remove_suffix(1);
    if (key.empty() || key.size() > 64) return std::nullopt;
    return std::string(key);
}

} // namespace labcm::sip
