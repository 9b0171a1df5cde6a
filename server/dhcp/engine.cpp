#include "dhcp/engine.h"

#include <algorithm>
#include <chrono>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"

namespace labcm::dhcp {

namespace {

constexpr std::int64_t msOf(auto d) { return std::chrono::duration_cast<std::chrono::milliseconds>(d).count(); }

std::optional<Addr> optionAddr(const Packet& p, std::uint8_t code) {
    auto* o = p.find(code);
    if (!o || o->data.size() != 4) return std::nullopt;
    return toAddr(Ipv4{o->data[0], o->data[1], o->data[2], o->data[3]});
}

std::string optionText(const Packet& p, std::uint8_t code) {
    auto* o = p.find(code);
    if (!o) return {};
    std::string s(o->data.begin(), o->data.end());
    while (!s.empty() && s.back() == '\0') s.pop_back();
    // Printable ASCII only: it goes into logs, events and the database.
    for (auto& c : s)
        if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) c = '?';
    return s.substr(0, 128);
}

std::vector<std::uint8_t> u32Data(std::uint32_t v) {
    return {static_cast<std::uint8_t>(v >> 24), static_cast<std::uint8_t>(v >> 16), static_cast<std::uint8_t>(v >> 8),
            static_cast<std::uint8_t>(v)};
}

std::vector<std::uint8_t> addrListData(const std::vector<Addr>& list) {
    std::vector<Ipv4> v;
    for (auto a : list) v.push_back(toIpv4(a));
    return ipv4ListData(v);
}

std::vector<std::uint8_t> textData(const std::string& s) { return {s.begin(), s.end()}; }

// Parses and checks a datagram. @throw ParseError naming what is wrong.
Request read(const Datagram& d) {
    Request in;
    in.from = d.from;
    in.local = d.local;
    in.ifindex = d.ifindex;
    in.packet = parse(d.bytes);
    if (in.packet.op != 1) throw ParseError("not a BOOTREQUEST (op 2 is a server's reply)");
    auto type = in.packet.messageType();
    if (!type) throw ParseError("no DHCP message type (option 53): plain BOOTP is not served");
    in.type = *type;
    in.mac = in.packet.mac();
    if (in.mac.empty()) throw ParseError("not an Ethernet client (htype 1, hlen 6)");
    in.relayed = toAddr(in.packet.giaddr) != 0;
    in.vendorClass = optionText(in.packet, opt::VendorClass);
    in.model = modelFromVendorClass(in.vendorClass).value_or("");
    in.hostname = optionText(in.packet, opt::HostName);
    return in;
}

} // namespace

Engine::Engine(EventBus& bus, WallClock clock, std::function<bool(Addr)> isHostAddress)
    : bus_(bus), clock_(std::move(clock)), isHostAddress_(std::move(isHostAddress)), allocator_(msOf(limits::kDhcpOfferHold)) {}

void Engine::setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs) {
    allocator_.setReservations(std::move(reservations));
    knownMacs_ = std::move(knownMacs);
}

Decision Engine::onDatagram(const Datagram& d) {
    auto in = accept(d);
    return in ? answer(*in) : Decision{};
}

std::optional<Request> Engine::accept(const Datagram& d) {
    ++counters_.received;
    try {
        return read(d);
    } catch (const ParseError& e) {
        ++counters_.dropped;
        auto now = clock_();
        if (now >= nextDropLogMs_) { // at most one line a second
            nextDropLogMs_ = now + 1000;
            spdlog::warn("dhcp: dropped a datagram from {} ({} bytes): {} ({} dropped so far)", addrText(d.from),
                         d.bytes.size(), e.what(), counters_.dropped);
        }
        return std::nullopt;
    }
}

Decision Engine::answer(const Request& in) {
    try {
        return decide(in);
    } catch (const std::exception& e) {
        ++counters_.dropped;
        spdlog::error("dhcp mac={}: request not handled: {}", in.mac, e.what());
        return {};
    }
}

Decision Engine::ignore(const Request& in, const std::string& why) {
    ++counters_.ignored;
    // One event per client per minute: a PC retrying every few seconds must not flood the log.
    auto now = clock_();
    auto& until = quietUntil_[in.mac];
    if (now < until) return {};
    until = now + 60'000;
    if (quietUntil_.size() > limits::kDhcpQuietClients) std::erase_if(quietUntil_, [&](const auto& kv) { return kv.second <= now; });
    bus_.publish(Service::Dhcp, EventKind::DhcpIgnored, Severity::Info, in.mac, addrText(in.from),
                 fmt::format("{} {} not answered: {}", toString(in.type), in.who(), why));
    return {};
}

Decision Engine::decide(const Request& in) {
    if (policy_.ciscoOnly)
        if (auto why = ciscoOnlyRefusal(in.vendorClass, knownMacs_.contains(in.mac)); !why.empty()) return ignore(in, why);
    Addr link = in.relayed ? toAddr(in.packet.giaddr) : in.local;
    const Pool* pool = allocator_.poolFor(link);
    if (in.type == MessageType::Release) return release(in);
    if (!pool)
        return ignore(in, fmt::format("no pool for the network of {} ({})", addrText(link),
                                      in.relayed ? "the relay agent's giaddr" : "the address the request came in on"));
    switch (in.type) {
    case MessageType::Discover: return discover(in, *pool);
    case MessageType::Request: return request(in, *pool);
    case MessageType::Decline: return decline(in);
    case MessageType::Inform: return inform(in, *pool);
    default: ++counters_.dropped; return {}; // OFFER/ACK/NAK are a server's
    }
}

Packet Engine::reply(const Request& in, const Pool& pool, MessageType type) const {
    const auto& q = in.packet;
    Packet p;
    p.op = 2;
    p.htype = q.htype;
    p.hlen = q.hlen;
    p.xid = q.xid;
    p.flags = q.flags;
    p.giaddr = q.giaddr;
    p.chaddr = q.chaddr;
    p.options.reserve(16); // every option below and the ACK's three: one allocation
    p.set(opt::MessageType, {static_cast<std::uint8_t>(type)});
    p.set(opt::ServerId, u32Data(in.local));
    if (type == MessageType::Nak) {
        if (in.relayed) p.flags |= 0x8000; // RFC 2131 4.3.2: the relay broadcasts a NAK
        if (auto* o = q.find(opt::RelayAgent)) p.set(opt::RelayAgent, o->data);
        return p;
    }
    // Option 150 (and siaddr): the pool's TFTP servers, else labcm's own address.
    std::vector<Addr> tftp = pool.tftp;
    if (tftp.empty()) {
        auto own = parseAddr(policy_.tftpDefault);
        tftp.push_back(own && *own != 0 ? *own : in.local);
    }
    p.siaddr = toIpv4(tftp.front());
    p.set(opt::SubnetMask, u32Data(pool.mask()));
    if (!pool.routers.empty()) p.set(opt::Router, addrListData(pool.routers));
    if (!pool.dns.empty()) p.set(opt::Dns, addrListData(pool.dns));
    if (!pool.domain.empty()) p.set(opt::DomainName, textData(pool.domain));
    if (!pool.ntp.empty()) p.set(opt::Ntp, addrListData(pool.ntp));
    p.set(opt::TftpServers, addrListData(tftp));
    p.set(opt::TftpServerName, textData(pool.option66.empty() ? addrText(tftp.front()) : pool.option66));
    if (auto* o = q.find(opt::RelayAgent)) p.set(opt::RelayAgent, o->data); // RFC 3046: echoed (sendTo puts it last)
    return p;
}

Send Engine::sendTo(const Request& in, Packet reply, bool forceBroadcast) const {
    // RFC 3046 2.2: the relay agent information is the last option of a reply.
    auto& o = reply.options;
    std::stable_partition(o.begin(), o.end(), [](const Option& x) { return x.code != opt::RelayAgent; });
    Send s{std::move(reply), 0, static_cast<std::uint16_t>(policy_.port + 1), in.local, 0, in.mac};
    if (in.relayed) { // to the relay agent's server port (RFC 2131 4.1)
        s.to = toAddr(in.packet.giaddr);
        s.port = policy_.port;
    } else if (!forceBroadcast && toAddr(in.packet.ciaddr) != 0) { // renewing / informing: the client's address
        s.to = toAddr(in.packet.ciaddr);
    } else { // a client without an address: broadcast on the interface the request came in on
        s.to = 0xFFFFFFFFu;
        s.ifindex = in.ifindex;
    }
    return s;
}

Decision Engine::discover(const Request& in, const Pool& pool) {
    std::string why;
    auto requested = optionAddr(in.packet, opt::RequestedIp);
    auto a = allocator_.offer(pool, in.mac, requested, in.local, clock_(), why);
    if (!a) {
        ++counters_.exhausted;
        bus_.publish(Service::Dhcp, EventKind::DhcpExhausted, Severity::Warning, in.mac, "",
                     fmt::format("DISCOVER from {}: no offer: {}", in.who(), why));
        return {};
    }
    auto p = reply(in, pool, MessageType::Offer);
    p.yiaddr = toIpv4(*a);
    p.set(opt::LeaseTime, u32Data(pool.leaseSeconds));
    ++counters_.offers;
    bus_.publish(Service::Dhcp, EventKind::DhcpOffered, Severity::Info, in.mac, addrText(*a),
                 fmt::format("offered {} (pool {}) to {}{}{}", addrText(*a), pool.name, in.who(),
                             in.relayed ? " via relay " + toString(in.packet.giaddr) : "",
                             in.vendorClass.empty() ? "" : ", vendor class '" + in.vendorClass + "'"));
    return {.send = sendTo(in, std::move(p), false)};
}

Decision Engine::request(const Request& in, const Pool& pool) {
    auto serverId = optionAddr(in.packet, opt::ServerId);
    auto requested = optionAddr(in.packet, opt::RequestedIp);
    Addr ciaddr = toAddr(in.packet.ciaddr);
    if (serverId && *serverId != in.local && !isHostAddress_(*serverId)) {
        allocator_.dropOffer(in.mac);
        return ignore(in, fmt::format("the client chose the DHCP server {}", addrText(*serverId)));
    }
    Addr address = requested ? *requested : ciaddr;
    if (address == 0) {
        ++counters_.dropped;
        spdlog::warn("dhcp mac={}: REQUEST without a requested address or ciaddr dropped", in.mac);
        return {};
    }
    auto now = clock_();
    auto verdict = allocator_.check(pool, in.mac, address, in.local, now);
    if (verdict.kind == Verdict::Nak) {
        auto p = reply(in, pool, MessageType::Nak);
        p.set(opt::Message, textData(verdict.why));
        ++counters_.naks;
        bus_.publish(Service::Dhcp, EventKind::DhcpNaked, Severity::Warning, in.mac, addrText(address),
                     fmt::format("NAK to {} for {}: {}", in.who(), addrText(address), verdict.why));
        return {.send = sendTo(in, std::move(p), true)};
    }
    Lease l;
    l.address = address;
    l.mac = in.mac;
    l.vendorClass = in.vendorClass;
    l.model = in.model;
    l.hostname = in.hostname;
    // Option 60 names the model: auto-registration and the admin page use it.
    bool sighting = !knownMacs_.contains(in.mac) && !in.model.empty();
    return {.commit = Commit{allocator_.grant(pool, l, now), in, pool, sighting}};
}

std::optional<Send> Engine::committed(const Commit& c, bool ok) {
    const auto& in = c.request;
    const auto& l = c.granted.save.front();
    if (!ok) {
        allocator_.revert(c.granted);
        ++counters_.commitFailures;
        spdlog::error("dhcp mac={}: lease {} not saved; no ACK sent (the client will retry)", in.mac, addrText(l.address));
        return std::nullopt;
    }
    const auto& pool = c.pool;
    auto p = reply(in, pool, MessageType::Ack);
    p.yiaddr = toIpv4(l.address);
    p.ciaddr = in.packet.ciaddr;
    p.set(opt::LeaseTime, u32Data(pool.leaseSeconds));
    p.set(opt::RenewalTime, u32Data(pool.leaseSeconds / 2));
    p.set(opt::RebindingTime, u32Data(static_cast<std::uint32_t>(std::uint64_t{pool.leaseSeconds} * 7 / 8)));
    ++counters_.acks;
    bus_.publish(Service::Dhcp, EventKind::DhcpAcked, Severity::Info, in.mac, addrText(l.address),
                 fmt::format("ACK {} to {} for {} s (pool {}){}", addrText(l.address), in.who(), pool.leaseSeconds, pool.name,
                             in.vendorClass.empty() ? "" : ", vendor class '" + in.vendorClass + "'"));
    return sendTo(in, std::move(p), false);
}

std::vector<Lease> Engine::sweep(std::size_t max) {
    auto ended = allocator_.expire(clock_(), max);
    counters_.expired += ended.size();
    for (const auto& l : ended)
        bus_.publish(Service::Dhcp, EventKind::DhcpExpired, Severity::Info, l.mac, addrText(l.address),
                     fmt::format("the lease of {} (pool {}) ended without a renewal", addrText(l.address), l.pool));
    return ended;
}

Decision Engine::release(const Request& in) {
    Addr ciaddr = toAddr(in.packet.ciaddr);
    auto l = allocator_.release(in.mac, ciaddr, clock_());
    if (!l) return ignore(in, fmt::format("RELEASE of {}, which this MAC does not hold", addrText(ciaddr)));
    ++counters_.releases;
    bus_.publish(Service::Dhcp, EventKind::DhcpReleased, Severity::Info, in.mac, addrText(ciaddr),
                 fmt::format("{} released {}", in.who(), addrText(ciaddr)));
    return {.saveBehind = std::move(l)};
}

Decision Engine::decline(const Request& in) {
    auto requested = optionAddr(in.packet, opt::RequestedIp);
    if (!requested) return ignore(in, "DECLINE without a requested address (option 50)");
    auto l = allocator_.decline(in.mac, *requested, msOf(limits::kDhcpDeclineHold), clock_());
    if (!l) return ignore(in, fmt::format("DECLINE of {}, which was not given to this MAC", addrText(*requested)));
    ++counters_.declines;
    bus_.publish(Service::Dhcp, EventKind::DhcpDeclined, Severity::Warning, in.mac, addrText(*requested),
                 fmt::format("{} declined {}: another host uses it; kept out of the pool for {} min", in.who(),
                             addrText(*requested),
                             std::chrono::duration_cast<std::chrono::minutes>(limits::kDhcpDeclineHold).count()));
    return {.saveBehind = std::move(l)};
}

Decision Engine::inform(const Request& in, const Pool& pool) {
    auto p = reply(in, pool, MessageType::Ack);
    p.ciaddr = in.packet.ciaddr;
    ++counters_.informs;
    bus_.publish(Service::Dhcp, EventKind::DhcpAcked, Severity::Info, in.mac, toString(in.packet.ciaddr),
                 fmt::format("INFORM from {}: options sent (no lease)", in.who()));
    return {.send = sendTo(in, std::move(p), false)};
}

} // namespace labcm::dhcp
