#include "phone_config.h"

#include <algorithm>
#include <charconv>
#include <climits>

#include <pugixml.hpp>

#include "core/text.h"

namespace labcm::phone {

namespace {

std::string textOf(const pugi::xml_node& n) { return std::string(text::trim(n.child_value())); }

int intOf(const pugi::xml_node& n, int fallback, int lo, int hi, const char* what) {
    if (!n) return fallback;
    std::string v = textOf(n);
    if (v.empty()) return fallback;
    int out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc() || p != v.data() + v.size() || out < lo || out > hi)
        throw ConfigError(std::string("bad <") + what + "> value '" + v + "'");
    return out;
}

} // namespace

PhoneConfig parsePhoneConfig(std::string_view xml, int typemodel) {
    pugi::xml_document doc;
    auto res = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!res) throw ConfigError(std::string("not well-formed XML: ") + res.description());
    PhoneConfig c;
    pugi::xml_node root = doc.document_element();
    pugi::xml_node group;
    if (std::string_view(root.name()) == "device") {
        group = root.child("devicePool").child("callManagerGroup");
    } else if (std::string_view(root.name()) == "Default") {
        c.isDefault = true;
        group = root.child("callManagerGroup");
    } else {
        throw ConfigError(std::string("unexpected root element <") + root.name() + ">");
    }

    // The members by priority number: the first is the primary call manager, the others its
    // standbys in order.
    std::vector<std::pair<int, pugi::xml_node>> members;
    for (auto member : group.child("members").children("member"))
        if (member.child("callManager")) members.emplace_back(member.attribute("priority").as_int(INT_MAX - 1), member.child("callManager"));
    std::stable_sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (members.empty()) throw ConfigError("no callManagerGroup member");
    for (const auto& [prio, cm] : members) {
        CallManagerConfig m{textOf(cm.child("processNodeName")), intOf(cm.child("ports").child("sipPort"), 5060, 1, 65535, "sipPort")};
        if (m.host.empty()) throw ConfigError("empty <processNodeName>");
        c.callManagers.push_back(std::move(m));
    }
    c.processNodeName = c.callManagers.front().host;
    c.sipPort = c.callManagers.front().sipPort;

    if (c.isDefault) {
        std::string name = "loadInformation" + std::to_string(typemodel);
        c.load = textOf(root.child(name.c_str()));
        c.versionStamp = textOf(root.child("versionStamp"));
        return c;
    }

    c.transportLayerProtocol = intOf(root.child("transportLayerProtocol"), 0, 0, 4, "transportLayerProtocol");
    auto profile = root.child("sipProfile");
    c.registerExpires =
        intOf(profile.child("sipStack").child("timerRegisterExpires"), 3600, 1, 86400, "timerRegisterExpires");
    for (auto line : profile.child("sipLines").children("line")) {
        if (textOf(line.child("featureID")) != "9") continue;
        LineConfig l;
        l.index = line.attribute("lineIndex").as_int(line.attribute("button").as_int(0));
        l.name = textOf(line.child("name"));
        l.displayName = textOf(line.child("displayName"));
        l.contact = textOf(line.child("contact"));
        l.authName = textOf(line.child("authName"));
        l.authPassword = textOf(line.child("authPassword"));
        if (l.name.empty()) throw ConfigError("a line has no <name>");
        c.lines.push_back(std::move(l));
    }
    std::stable_sort(c.lines.begin(), c.lines.end(), [](const auto& a, const auto& b) { return a.index < b.index; });
    c.load = textOf(root.child("loadInformation"));
    c.dialTemplate = textOf(profile.child("dialTemplate"));
    c.softKeyFile = textOf(profile.child("softKeyFile"));
    c.userLocale = textOf(root.child("userLocale").child("name"));
    c.networkLocale = textOf(root.child("networkLocale"));
    c.versionStamp = textOf(root.child("versionStamp"));
    c.problemReportUrl = textOf(root.child("vendorConfig").child("problemReportUploadURL"));
    return c;
}

std::optional<HttpUrl> parseHttpUrl(std::string_view url) {
    if (url.size() < 8 || !text::iequals(url.substr(0, 7), "http://")) return std::nullopt;
    auto rest = url.substr(7);
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    HttpUrl u;
    if (slash != std::string_view::npos) u.path = std::string(rest.substr(slash));
    if (authority.find('@') != std::string_view::npos) return std::nullopt; // no credentials in a phone's URL
    std::string_view host = authority, port;
    if (authority.starts_with("[")) {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        host = authority.substr(1, close - 1);
        auto after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') return std::nullopt;
            port = after.substr(1);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return std::nullopt;
    if (!port.empty()) {
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), u.port);
        if (ec != std::errc() || p != port.data() + port.size() || u.port < 1 || u.port > 65535) return std::nullopt;
    }
    u.host = std::string(host);
    return u;
}

std::vector<std::string> parseRingList(std::string_view xml) {
    pugi::xml_document doc;
    auto res = doc.load_buffer(xml.data(), xml.size(), pugi::parse_default, pugi::encoding_utf8);
    if (!res) throw ConfigError(std::string("not well-formed XML: ") + res.description());
    auto root = doc.document_element();
    if (std::string_view(root.name()) != "CiscoIPPhoneRingList")
        throw ConfigError(std::string("the root is <") + root.name() + ">, not <CiscoIPPhoneRingList>");
    std::vector<std::string> files;
    for (auto ring : root.children("Ring")) {
        std::string file = ring.child_value("FileName");
        if (file.empty()) throw ConfigError("a <Ring> without a <FileName>");
        files.push_back(std::move(file));
    }
    return files;
}

} // namespace labcm::phone
