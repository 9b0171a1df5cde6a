#include "dhcp/pool.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include <fmt/format.h>

#include "core/text.h"

namespace labcm::dhcp {

Addr toAddr(const Ipv4& a) {
    return (Addr{a[0]} << 24) | (Addr{a[1]} << 16) | (Addr{a[2]} << 8) | Addr{a[3]};
}

Ipv4 toIpv4(Addr a) {
    return {static_cast<std::uint8_t>(a >> 24), static_cast<std::uint8_t>(a >> 16), static_cast<std::uint8_t>(a >> 8),
            static_cast<std::uint8_t>(a)};
}

std::string addrText(Addr a) { return toString(toIpv4(a)); }

std::optional<Addr> parseAddr(std::string_view text) {
    auto a = parseIpv4(text::trim(text));
    if (!a) return std::nullopt;
    return toAddr(*a);
}

namespace {

std::optional<std::vector<Addr>> parseList(std::string_view text) {
    std::vector<Addr> out;
    if (text::trim(text).empty()) return out;
    while (true) {
        auto comma = text.find(',');
        auto a = parseAddr(text.substr(0, comma));
        if (!a) return std::nullopt;
        out.push_back(*a);
        if (comma == std::string_view::npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

std::string listText(const std::vector<Addr>& list) {
    std::string out;
    for (auto a : list) {
        if (!out.empty()) out += ',';
        out += addrText(a);
    }
    return out;
}

} // namespace

std::optional<FieldError> canonicalAddressList(const std::string& field, std::string& value) {
    auto list = parseList(value);
    if (!list) return FieldError{field, fmt::format("'{}' is not a comma-separated list of IPv4 addresses", value)};
    if (list->size() > 8) return FieldError{field, "at most 8 addresses"};
    value = listText(*list);
    return std::nullopt;
}

std::optional<FieldError> buildPool(const PoolSpec& spec, Pool& out) {
    Pool p;
    p.name = spec.name;
    if (p.name.empty() || p.name.size() > 32 ||
        !std::all_of(p.name.begin(), p.name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.'; }))
        return FieldError{"name", "1-32 characters: letters, digits, '-', '_', '.'"};

    auto slash = spec.subnet.find('/');
    auto net = parseAddr(std::string_view(spec.subnet).substr(0, slash));
    int prefix = -1;
    if (slash != std::string::npos) {
        auto s = std::string_view(spec.subnet).substr(slash + 1);
        auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), prefix);
        if (ec != std::errc{} || ptr != s.data() + s.size()) prefix = -1;
    }
    if (!net || prefix < 8 || prefix > 30)
        return FieldError{"subnet", fmt::format("'{}' is not a subnet like 10.150.0.0/24 (prefix 8..30)", spec.subnet)};
    p.prefix = prefix;
    p.network = *net & p.mask();
    if (p.network != *net)
        return FieldError{"subnet", fmt::format("'{}' has host bits set; the network is {}/{}", spec.subnet,
                                                addrText(p.network), prefix)};

    auto first = parseAddr(spec.rangeFirst), last = parseAddr(spec.rangeLast);
    if (!first || !last)
        return FieldError{"range", fmt::format("'{}-{}' is not a range of two IPv4 addresses", spec.rangeFirst, spec.rangeLast)};
    if (*first > *last) return FieldError{"range", "the first address is after the last"};
    if (!p.inSubnet(*first) || !p.inSubnet(*last))
        return FieldError{"range", fmt::format("{}-{} is not inside {}", spec.rangeFirst, spec.rangeLast, spec.subnet)};
    if (*first == p.network || *last == p.broadcast())
        return FieldError{"range", "the range must not hold the network or the broadcast address"};
    p.first = *first;
    p.last = *last;

    struct ListField {
        const char* name;
        const std::string& text;
        std::vector<Addr>& into;
    };
    for (const auto& f : {ListField{"routers", spec.routers, p.routers}, ListField{"dns", spec.dns, p.dns},
                          ListField{"ntp", spec.ntp, p.ntp}, ListField{"tftp", spec.tftp, p.tftp}}) {
        auto list = parseList(f.text);
        if (!list) return FieldError{f.name, fmt::format("'{}' is not a comma-separated list of IPv4 addresses", f.text)};
        if (list->size() > 8) return FieldError{f.name, "at most 8 addresses"};
        f.into = *list;
    }
    if (auto e = checkText(spec.domain, 253)) return FieldError{"domain", *e};
    if (auto e = checkText(spec.option66, 253)) return FieldError{"option66", *e};
    if (std::any_of(spec.domain.begin(), spec.domain.end(), [](char c) { return c == ' ' || static_cast<unsigned char>(c) >= 0x80; }))
        return FieldError{"domain", "ASCII without spaces"};
    if (std::any_of(spec.option66.begin(), spec.option66.end(), [](char c) { return c == ' ' || static_cast<unsigned char>(c) >= 0x80; }))
        return FieldError{"option66", "a host name or address: ASCII without spaces"};
    p.domain = spec.domain;
    p.option66 = spec.option66;
    if (spec.leaseSeconds < 60 || spec.leaseSeconds > 366 * 86400)
        return FieldError{"lease_time", "seconds, 60 .. 31622400 (a year)"};
    p.leaseSeconds = static_cast<std::uint32_t>(spec.leaseSeconds);
    out = std::move(p);
    return std::nullopt;
}

std::vector<Pool> buildPools(const std::vector<PoolSpec>& specs, std::vector<PoolProblem>& skipped) {
    std::vector<Pool> pools;
    for (const auto& spec : specs) {
        Pool p;
        if (auto e = buildPool(spec, p)) {
            skipped.push_back({spec.name, *e});
            continue;
        }
        pools.push_back(std::move(p));
    }
    return pools;
}

bool overlaps(const Pool& a, const Pool& b) {
    return a.inSubnet(b.network) || b.inSubnet(a.network);
}

} // namespace labcm::dhcp
