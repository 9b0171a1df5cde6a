#include "provision/names.h"

#include <cctype>
#include <utility>

#include <fmt/format.h>

#include "core/limits.h"
#include "core/text.h"
#include "provision/backgrounds.h"

namespace labcm::provision {
namespace {

bool isHex12(std::string_view s) {
    if (s.size() != 12) return false;
    for (char c : s)
        if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
    return true;
}

} // namespace

RequestName parseRequestName(std::string_view raw) {
    RequestName r;
    if (raw.size() > limits::kMaxRequestName) {
        r.reason = fmt::format("name longer than {} bytes", limits::kMaxRequestName);
        return r;
    }
    for (char c : raw) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7F) {
            r.reason = "control character in name";
            return r;
        }
        if (c == '\\') {
            r.reason = "backslash in name";
            return r;
        }
    }
    while (!raw.empty() && raw.front() == '/') raw.remove_prefix(1);
    if (raw.empty()) {
        r.reason = "empty name";
        return r;
    }
    std::size_t pos = 0;
    while (pos <= raw.size()) {
        auto slash = raw.find('/', pos);
        auto part = raw.substr(pos, slash == std::string_view::npos ? std::string_view::npos : slash - pos);
        if (part.empty() || part == "." || part == "..") {
            r.reason = part.empty() ? "empty path component" : "'.' or '..' in path";
            return r;
        }
        r.parts.emplace_back(part);
        if (slash == std::string_view::npos) break;
        pos = slash + 1;
    }
    r.lower = text::toLower(raw);
    r.ok = true;

    std::string_view base = r.lower;
    if (auto s = base.rfind('/'); s != std::string_view::npos) base.remove_prefix(s + 1);
    const bool topLevel = r.parts.size() == 1;

    if ((base.starts_with("ctl") || base.starts_with("itl")) && base.ends_with(".tlv")) {
        r.kind = NameKind::TrustList;
        auto mid = base.substr(3, base.size() - 7);
        if (mid.starts_with("sep") && isHex12(mid.substr(3))) r.mac = text::toUpper(mid.substr(3));
    } else if (base.ends_with(".xml.sgn") || base.ends_with(".tlv.sgn")) {
        // A signed config file: labcm signs nothing. Signed firmware images (*.zz.sgn,
        // *.sgn of a load) are files like any other (issue 20).
        r.kind = NameKind::Signed;
        if (base.starts_with("sep") && base.size() >= 15 && isHex12(base.substr(3, 12))) r.mac = text::toUpper(base.substr(3, 12));
    } else if (topLevel && base.size() == 23 && base.starts_with("sep") && base.ends_with(".cnf.xml") &&
               isHex12(base.substr(3, 12))) {
        r.kind = NameKind::DeviceConfig;
        r.mac = text::toUpper(base.substr(3, 12));
    } else if (topLevel && base == "xmldefault.cnf.xml") {
        r.kind = NameKind::DefaultConfig;
    } else if (r.parts.size() == 3 && text::toLower(r.parts[0]) == "desktops" && base == "list.xml" &&
               backgroundResolution(r.parts[1])) {
        r.kind = NameKind::Template;
        r.templateName = "Desktops-List.xml";
        r.resolution = text::toLower(r.parts[1]);
    } else if (topLevel) {
        // The rendered files besides the configs, by the names phones ask for.
        static constexpr std::pair<std::string_view, std::string_view> kTemplates[] = {
            {"dialplan.xml", "dialplan.xml"},       {"softkeys.xml", "softkeys.xml"},
            {"appdialrules.xml", "AppDialRules.xml"}, {"ringlist.xml", "Ringlist.xml"},
            {"distinctiveringlist.xml", "Ringlist.xml"}, {"ringlist-wb.xml", "Ringlist-wb.xml"},
            {"featurepolicy.xml", "FeaturePolicy.xml"},
        };
        for (const auto& [asked, tpl] : kTemplates)
            if (base == asked) {
                r.kind = NameKind::Template;
                r.templateName = tpl;
            }
    }
    return r;
}

} // namespace labcm::provision
