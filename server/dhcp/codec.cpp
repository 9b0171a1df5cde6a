#include "dhcp/codec.h"

#include <algorithm>
#include <cstdio>

#include <fmt/format.h>

#include "core/byte_reader.h"
#include "core/text.h"

namespace labcm::dhcp {

namespace {

constexpr std::array<std::uint8_t, 4> kCookie{99, 130, 83, 99};
constexpr std::size_t kHeader = 236; // through `file`
constexpr std::size_t kMinReply = 300;

std::string fieldString(std::span<const std::uint8_t> b) {
    std::string s(b.begin(), b.end());
    if (auto nul = s.find('\0'); nul != std::string::npos) s.resize(nul);
    return s;
}

// Reads options from one area into `out` (RFC 3396: a repeated code is concatenated).
// Returns the overload value (52) if the area carried one.
std::uint8_t readOptions(std::span<const std::uint8_t> area, std::vector<Option>& out, std::string_view where) {
    std::uint8_t overload = 0;
    std::size_t i = 0;
    while (i < area.size()) {
        std::uint8_t code = area[i++];
        if (code == opt::Pad) continue;
        if (code == opt::End) return overload;
        if (i >= area.size()) throw ParseError(fmt::format("option {} in {} has no length byte", code, where));
        std::size_t len = area[i++];
        if (i + len > area.size())
            throw ParseError(fmt::format("option {} in {} claims {} bytes, {} left", code, where, len, area.size() - i));
        auto data = area.subspan(i, len);
        i += len;
        if (code == opt::Overload) {
            if (len != 1 || data[0] < 1 || data[0] > 3) throw ParseError("option 52 (overload) must be one byte 1..3");
            overload = data[0];
            continue;
        }
        auto it = std::find_if(out.begin(), out.end(), [&](const Option& o) { return o.code == code; });
        if (it == out.end())
            out.push_back({code, {data.begin(), data.end()}});
        else
            it->data.insert(it->data.end(), data.begin(), data.end());
    }
    // No End: tolerated in the main area (many clients pad to the datagram end); the
    // overload areas end with the field.
    return overload;
}

void putIp(std::vector<std::uint8_t>& out, const Ipv4& a) { out.insert(out.end(), a.begin(), a.end()); }

} // namespace

std::string_view toString(MessageType t) {
    switch (t) {
    case MessageType::Discover: return "DISCOVER";
    case MessageType::Offer: return "OFFER";
    case MessageType::Request: return "REQUEST";
    case MessageType::Decline: return "DECLINE";
    case MessageType::Ack: return "ACK";
    case MessageType::Nak: return "NAK";
    case MessageType::Release: return "RELEASE";
    case MessageType::Inform: return "INFORM";
    }
    return "?";
}

const Option* Packet::find(std::uint8_t code) const {
    for (const auto& o : options)
        if (o.code == code) return &o;
    return nullptr;
}

std::optional<MessageType> Packet::messageType() const {
    auto* o = find(opt::MessageType);
    if (!o || o->data.size() != 1) return std::nullopt;
    return static_cast<MessageType>(o->data[0]);
}

std::string Packet::mac() const {
    if (htype != 1 || hlen != 6) return {};
    return fmt::format("{:02X}{:02X}{:02X}{:02X}{:02X}{:02X}", chaddr[0], chaddr[1], chaddr[2], chaddr[3], chaddr[4],
                       chaddr[5]);
}

void Packet::set(std::uint8_t code, std::vector<std::uint8_t> data) {
    for (auto& o : options)
        if (o.code == code) {
            o.data = std::move(data);
            return;
        }
    options.push_back({code, std::move(data)});
}

Packet parse(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < kHeader + 4)
        throw ParseError(fmt::format("{} bytes: shorter than the {}-byte header and cookie", bytes.size(), kHeader + 4));
    Packet p;
    p.options.reserve(16); // a phone's DISCOVER or REQUEST carries 6-10: one allocation
    try {
        ByteReader r(bytes);
        p.op = r.u8("op");
        p.htype = r.u8("htype");
        p.hlen = r.u8("hlen");
        p.hops = r.u8("hops");
        p.xid = r.u32("xid");
        p.secs = r.u16("secs");
        p.flags = r.u16("flags");
        for (auto* a : {&p.ciaddr, &p.yiaddr, &p.siaddr, &p.giaddr}) {
            auto b = r.bytes(4, "address");
            std::copy(b.begin(), b.end(), a->begin());
        }
        auto ch = r.bytes(16, "chaddr");
        std::copy(ch.begin(), ch.end(), p.chaddr.begin());
        auto sname = r.bytes(64, "sname");
        auto file = r.bytes(128, "file");
        auto cookie = r.bytes(4, "cookie");
        if (!std::equal(cookie.begin(), cookie.end(), kCookie.begin()))
            throw ParseError("no DHCP magic cookie (a plain BOOTP packet)");
        if (p.op != 1 && p.op != 2) throw ParseError(fmt::format("op {} is neither request nor reply", p.op));
        if (p.hlen > 16) throw ParseError(fmt::format("hlen {} exceeds the 16-byte chaddr", p.hlen));
        auto overload = readOptions(r.rest(), p.options, "options");
        if (overload & 1) readOptions(file, p.options, "file");
        else p.file = fieldString(file);
        if (overload & 2) readOptions(sname, p.options, "sname");
        else p.sname = fieldString(sname);
    } catch (const TruncatedError& e) {
        throw ParseError(e.what());
    }
    if (auto* t = p.find(opt::MessageType); t && (t->data.size() != 1 || t->data[0] < 1 || t->data[0] > 8))
        throw ParseError("option 53 (message type) is not one byte 1..8");
    return p;
}

std::vector<std::uint8_t> serialize(const Packet& p) {
    std::vector<std::uint8_t> out;
    out.reserve(576);
    out.push_back(p.op);
    out.push_back(p.htype);
    out.push_back(p.hlen);
    out.push_back(p.hops);
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>(p.xid >> s));
    out.push_back(static_cast<std::uint8_t>(p.secs >> 8));
    out.push_back(static_cast<std::uint8_t>(p.secs));
    out.push_back(static_cast<std::uint8_t>(p.flags >> 8));
    out.push_back(static_cast<std::uint8_t>(p.flags));
    for (const auto* a : {&p.ciaddr, &p.yiaddr, &p.siaddr, &p.giaddr}) putIp(out, *a);
    out.insert(out.end(), p.chaddr.begin(), p.chaddr.end());
    auto putField = [&](const std::string& s, std::size_t size) {
        auto n = std::min(s.size(), size - 1); // always NUL-terminated
        out.insert(out.end(), s.begin(), s.begin() + static_cast<std::ptrdiff_t>(n));
        out.insert(out.end(), size - n, 0);
    };
    putField(p.sname, 64);
    putField(p.file, 128);
    out.insert(out.end(), kCookie.begin(), kCookie.end());
    for (const auto& o : p.options) {
        std::size_t off = 0;
        do { // RFC 3396: longer than 255 bytes -> several options with the same code
            auto n = std::min<std::size_t>(255, o.data.size() - off);
            out.push_back(o.code);
            out.push_back(static_cast<std::uint8_t>(n));
            out.insert(out.end(), o.data.begin() + static_cast<std::ptrdiff_t>(off),
                       o.data.begin() + static_cast<std::ptrdiff_t>(off + n));
            off += n;
        } while (off < o.data.size());
    }
    out.push_back(opt::End);
    if (out.size() < kMinReply) out.resize(kMinReply, 0);
    return out;
}

std::vector<Ipv4> ipv4List(const std::vector<std::uint8_t>& data) {
    if (data.empty() || data.size() % 4 != 0)
        throw ParseError(fmt::format("{} bytes is not a list of IPv4 addresses", data.size()));
    std::vector<Ipv4> out;
    for (std::size_t i = 0; i < data.size(); i += 4) out.push_back({data[i], data[i + 1], data[i + 2], data[i + 3]});
    return out;
}

std::vector<std::uint8_t> ipv4ListData(const std::vector<Ipv4>& list) {
    std::vector<std::uint8_t> out;
    for (const auto& a : list) putIp(out, a);
    return out;
}

std::optional<std::string> modelFromVendorClass(std::string_view vc) {
    while (!vc.empty() && (vc.back() == '\0' || vc.back() == ' ')) vc.remove_suffix(1);
    if (vc.substr(0, 12) != "Cisco System") return std::nullopt;
    // "... IP Phone CP-8845", "... IP Phone CP-7941G-GE", "... IP Phone 7912", "Wireless Phone 7921"
    auto phone = vc.find("Phone ");
    if (phone == std::string_view::npos) return std::nullopt;
    auto m = vc.substr(phone + 6);
    if (m.substr(0, 3) == "CP-") m.remove_prefix(3);
    for (std::string_view suffix : {"-3PCC", "-GE"})
        if (m.size() > suffix.size() && m.substr(m.size() - suffix.size()) == suffix) m.remove_suffix(suffix.size());
    if (m.size() == 5 && m.back() == 'G') m.remove_suffix(1);
    if (m.size() != 4 || !std::all_of(m.begin(), m.end(), [](char c) { return c >= '0' && c <= '9'; })) return std::nullopt;
    return std::string(m);
}

} // namespace labcm::dhcp
