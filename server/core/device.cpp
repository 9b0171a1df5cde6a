#include "core/device.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/limits.h"
#include "core/models.h"
#include "core/ipv4.h"

namespace labcm {
namespace {

// Counts UTF-8 code points; returns nullopt on malformed UTF-8 (overlong forms, surrogates
// and code points past U+10FFFF included).
std::optional<std::size_t> utf8Length(const std::string& s) {
    std::size_t count = 0;
    for (std::size_t i = 0; i < s.size();) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
        if (len == 0 || i + len > s.size()) return std::nullopt;
        std::uint32_t cp = len == 1 ? c : len == 2 ? (c & 0x1F) : len == 3 ? (c & 0x0F) : (c & 0x07);
        for (std::size_t k = 1; k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc >> 6) != 0x2) return std::nullopt;
            cp = (cp << 6) | (cc & 0x3F);
        }
        static constexpr std::uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return std::nullopt;
        // XML 1.0 forbids U+FFFE and U+FFFF.
        if (cp == 0xFFFE || cp == 0xFFFF) return std::nullopt;
        i += len;
        ++count;
    }
    return count;
}

} // namespace

std::optional<std::string> checkText(const std::string& value, std::size_t maxChars) {
    for (char c : value) {
        auto u = static_cast<unsigned char>(c);
        if ((u < 0x20 && u != '\t') || u == 0x7F)
            return fmt::format("contains control character 0x{:02X}", u);
    }
    auto len = utf8Length(value);
    if (!len) return std::string("is not valid UTF-8");
    if (*len > maxChars) return fmt::format("is {} characters long, at most {} allowed", *len, maxChars);
    return std::nullopt;
}

std::optional<FieldError> validateDevice(Device& d) {
    if (d.mac.size() != 12) return FieldError{"mac", "must be 12 hex digits"};
    auto model = findModel(d.model);
    if (!model)
        return FieldError{"model", fmt::format("unknown model '{}' (see 'labcm model list')", d.model)};
    d.model = std::string(model->name);
    if (auto e = checkText(d.description, limits::kMaxDescription)) return FieldError{"description", *e};
    if (auto e = checkText(d.loadOverride, limits::kMaxLoadName)) return FieldError{"load", *e};
    if (d.loadOverride.find_first_of(" /\\") != std::string::npos)
        return FieldError{"load", "must be a load name such as sip8845_65.14-2-1-0001-14, without spaces or slashes"};
    if (d.loadOverride.ends_with(".loads"))
        return FieldError{"load", "give the load name without '.loads'"};
    for (auto& c : d.transport) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (d.transport.empty()) d.transport = "tcp";
    if (d.transport != "tcp" && d.transport != "udp")
        return FieldError{"transport", fmt::format("'{}' is not a SIP transport (tcp or udp)", d.transport)};
    if (!d.dhcpAddress.empty()) {
        auto a = parseIpv4(d.dhcpAddress);
        if (!a || (*a)[0] == 0 || (*a)[0] >= 224)
            return FieldError{"dhcp_address", fmt::format("'{}' is not a unicast IPv4 address", d.dhcpAddress)};
        d.dhcpAddress = toString(*a);
    }
    return std::nullopt;
}

namespace {

std::optional<FieldError> checkButton(int button, const std::string& field) {
    if (button < 1 || button > limits::kMaxLinesPerDevice)
        return FieldError{field, fmt::format("must be between 1 and {}", limits::kMaxLinesPerDevice)};
    return std::nullopt;
}

// A DN or a number to dial: the user part of a SIP URI, so digits, letters and the few
// characters dial plans use, plus `extra` (',' = pause, for speed dials).
std::optional<FieldError> checkDialString(const std::string& value, const std::string& field, std::string_view extra) {
    if (value.empty()) return FieldError{field, "is required"};
    if (value.size() > limits::kMaxDn) return FieldError{field, fmt::format("is longer than {} characters", limits::kMaxDn)};
    for (char c : value)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("*#+.-_").find(c) != std::string_view::npos ||
              extra.find(c) != std::string_view::npos))
            return FieldError{field, fmt::format("contains '{}': use digits, letters, * # + . - _{}{}", c < 0x20 ? '?' : c,
                                                 extra.empty() ? "" : " ", extra)};
    return std::nullopt;
}

} // namespace

int firstFreeButton(const Device& d) {
    int b = 1;
    auto taken = [&](int n) {
        return std::any_of(d.lines.begin(), d.lines.end(), [n](const Line& l) { return l.index == n; }) ||
               std::any_of(d.speedDials.begin(), d.speedDials.end(), [n](const SpeedDial& s) { return s.button == n; });
    };
    while (taken(b)) ++b;
    return b;
}

std::optional<FieldError> validateSpeedDial(const SpeedDial& s, const std::string& prefix) {
    if (auto e = checkButton(s.button, prefix + ".button")) return e;
    if (auto e = checkDialString(s.number, prefix + ".number", ",")) return e;
    if (auto e = checkText(s.label, limits::kMaxLabel)) return FieldError{prefix + ".label", *e};
    return std::nullopt;
}

std::optional<FieldError> validateDn(const std::string& dn, const std::string& field) {
    return checkDialString(dn, field, "");
}

std::optional<FieldError> validateLine(const Line& l, const std::string& prefix) {
    if (auto e = checkButton(l.index, prefix + ".index")) return e;
    if (auto e = checkDialString(l.dn, prefix + ".dn", "")) return e;
    if (auto e = checkText(l.displayName, limits::kMaxDisplayName)) return FieldError{prefix + ".display_name", *e};
    if (auto e = checkText(l.label, limits::kMaxLabel)) return FieldError{prefix + ".label", *e};
    if (auto e = checkText(l.authName, limits::kMaxAuthField)) return FieldError{prefix + ".auth_name", *e};
    if (auto e = checkText(l.authPassword, limits::kMaxAuthField)) return FieldError{prefix + ".auth_password", *e};
    if (!l.authPassword.empty() && l.authName.empty())
        return FieldError{prefix + ".auth_name", "is required when a password is set"};
    if (auto e = checkText(l.contact, limits::kMaxContact)) return FieldError{prefix + ".contact", *e};
    for (char c : l.contact)
        if (c == ' ' || c == '@' || c == '<' || c == '>' || c == ';' || c == ':')
            return FieldError{prefix + ".contact", "must be a plain SIP user part (no spaces, @ < > ; :)"};
    return std::nullopt;
}

} // namespace labcm
