#include "dhcp/service.h"

#include "core/clock.h"
#include "core/test_faults.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <boost/asio/post.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/pktinfo.h"
#include "dhcp/dhcp_store.h"
#include "store/seen_phone_store.h"

namespace labcm::dhcp {

namespace asio = boost::asio;
using udp = asio::ip::udp;

struct DhcpService::Incoming {
    Packet packet;
    MessageType type = MessageType::Discover;
    std::string mac;
    udp::endpoint from;
    Addr local = 0;      ///< the address the request came in on (IP_PKTINFO ipi_spec_dst)
    int ifindex = 0;
    bool relayed = false;
    std::string vendorClass; ///< option 60, trailing NULs removed
    std::string model;       ///< from the vendor class, "" when not a Cisco phone
    std::string hostname;
    std::string who() const { return model.empty() ? "client" : "CP-" + model; }
};

namespace {


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

// Every IPv4 address of the host (for the server-identifier check).
std::set<Addr> hostAddresses() {
    std::set<Addr> out;
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return out;
    for (auto* i = list; i; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET)
            out.insert(ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr));
    ::freeifaddrs(list);
    return out;
}

std::optional<Addr> interfaceAddress(const std::string& name) {
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) != 0) return std::nullopt;
    std::optional<Addr> out;
    for (auto* i = list; i && !out; i = i->ifa_next)
        if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET && name == i->ifa_name)
            out = ntohl(reinterpret_cast<sockaddr_in*>(i->ifa_addr)->sin_addr.s_addr);
    ::freeifaddrs(list);
    return out;
}

} // namespace

DhcpService::DhcpService(asio::io_context& io, store::Writer& writer, EventBus& bus)
    : io_(io), writer_(writer), bus_(bus), socket_(io), allocator_(std::chrono::duration_cast<std::chrono::milliseconds>(limits::kDhcpOfferHold).count()),
      alive_(std::make_shared<bool>(true)) {}

DhcpService::~DhcpService() {
    *alive_ = false;
    stop();
}

bool DhcpService::running() const { return socket_.is_open(); }

udp::endpoint DhcpService::localEndpoint() const {
    boost::system::error_code ec;
    return socket_.local_endpoint(ec);
}

void DhcpService::stop() {
    boost::system::error_code ec;
    socket_.close(ec);
}

void DhcpService::open(const ServiceConfig& config) {
    stop();
    udp::socket s(io_);
    s.open(udp::v4());
    s.set_option(asio::socket_base::reuse_address(true));
    s.set_option(asio::socket_base::broadcast(true));
    int on = 1;
    if (::setsockopt(s.native_handle(), IPPROTO_IP, IP_PKTINFO, &on, sizeof on) != 0)
        throw std::runtime_error(fmt::format("DHCP: IP_PKTINFO: {}", std::strerror(errno)));
    udp::endpoint at;
    if (!config.interface.empty()) {
        if (::if_nametoindex(config.interface.c_str()) == 0)
            throw std::runtime_error(fmt::format("DHCP: interface '{}' does not exist (setting dhcp_interface)", config.interface));
        if (!interfaceAddress(config.interface))
            throw std::runtime_error(fmt::format("DHCP: interface '{}' has no IPv4 address; give it the address of the "
                                                 "phones' network (setting dhcp_interface)", config.interface));
        if (::setsockopt(s.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, config.interface.c_str(),
                         static_cast<socklen_t>(config.interface.size())) != 0)
            throw std::runtime_error(fmt::format("DHCP: cannot bind to interface '{}': {} (needs root or CAP_NET_RAW)",
                                                 config.interface, std::strerror(errno)));
        at = udp::endpoint(asio::ip::address_v4::any(), config.port);
    } else {
        boost::system::error_code ec;
        auto a = asio::ip::make_address_v4(config.bindAddress, ec);
        if (ec) throw std::runtime_error(fmt::format("DHCP: bind address '{}' is not IPv4", config.bindAddress));
        at = udp::endpoint(a, config.port);
    }
    boost::system::error_code ec;
    s.bind(at, ec);
    if (ec)
        throw std::runtime_error(fmt::format("DHCP: cannot listen on {}:{}{}: {}{}", at.address().to_string(), at.port(),
                                             config.interface.empty() ? "" : " on " + config.interface, ec.message(),
                                             at.port() < 1024 ? " (port 67 needs root or CAP_NET_BIND_SERVICE; is another "
                                                                "DHCP server running?)"
                                                              : ""));
    s.non_blocking(true);
    socket_ = std::move(s);
    config_ = config;
    waitRead();
}

void DhcpService::configure(const ServiceConfig& config, std::vector<Pool> pools,
                            const std::function<std::vector<Lease>()>& loadLeases) {
    if (!leasesLoaded_) {
        allocator_.load(loadLeases());
        leasesLoaded_ = true;
    }
    if (!running() || !(config == config_)) {
        if (running() && config.interface == config_.interface && config.bindAddress == config_.bindAddress &&
            config.port == config_.port)
            config_ = config; // only cisco-only / the TFTP default changed: keep the socket
        else
            open(config);
    }
    allocator_.setPools(std::move(pools));
}

void DhcpService::setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs) {
    allocator_.setReservations(std::move(reservations));
    knownMacs_ = std::move(knownMacs);
}

void DhcpService::waitRead() {
    socket_.async_wait(udp::socket::wait_read, [this, alive = alive_](boost::system::error_code ec) {
        if (ec || !*alive) return;
        readAll();
        if (socket_.is_open()) waitRead();
    });
}

void DhcpService::readAll() {
    // Bounded per wake-up so one flood cannot starve the other services on the io thread.
    for (int n = 0; n < limits::kDhcpReadBatch; ++n) {
        std::array<std::uint8_t, 1500> buf{};
        auto d = net::receiveWithPktinfo(socket_.native_handle(), buf, {});
        if (!d) return; // drained
        if (!d->from.address().is_v4()) continue;
        const auto got = d->size;
        Incoming in;
        in.from = d->from;
        in.local = d->specDst.to_uint();
        in.ifindex = d->ifindex;
        ++counters_.received;
        try {
            in.packet = parse(std::span<const std::uint8_t>(buf.data(), static_cast<std::size_t>(got)));
            if (in.packet.op != 1) throw ParseError("not a BOOTREQUEST (op 2 is a server's reply)");
            auto type = in.packet.messageType();
            if (!type) throw ParseError("no DHCP message type (option 53): plain BOOTP is not served");
            in.type = *type;
            in.mac = in.packet.mac();
            if (in.mac.empty()) throw ParseError("not an Ethernet client (htype 1, hlen 6)");
        } catch (const ParseError& e) {
            ++counters_.dropped;
            auto now = std::chrono::steady_clock::now();
            if (now >= nextDropLog_) { // at most one line a second
                nextDropLog_ = now + std::chrono::seconds(1);
                spdlog::warn("dhcp: dropped a datagram from {} ({} bytes): {} ({} dropped so far)",
                             in.from.address().to_string(), got, e.what(), counters_.dropped);
            }
            continue;
        }
        try {
            onDatagram(in);
        } catch (const std::exception& e) {
            ++counters_.dropped;
            spdlog::error("dhcp mac={}: request not handled: {}", in.mac, e.what());
        }
    }
}

void DhcpService::ignore(const Incoming& in, const std::string& why) {
    ++counters_.ignored;
    // One event per client per minute: a PC retrying every few seconds must not flood the log.
    auto now = std::chrono::steady_clock::now();
    auto& until = quietUntil_[in.mac];
    if (now < until) return;
    until = now + std::chrono::minutes(1);
    if (quietUntil_.size() > limits::kDhcpQuietClients) std::erase_if(quietUntil_, [&](const auto& kv) { return kv.second <= now; });
    bus_.publish(Service::Dhcp, EventKind::DhcpIgnored, Severity::Info, in.mac, in.from.address().to_string(),
                 fmt::format("{} {} not answered: {}", toString(in.type), in.who(), why));
}

void DhcpService::onDatagram(const Incoming& input) {
    Incoming in = input;
    in.relayed = toAddr(in.packet.giaddr) != 0;
    in.vendorClass = optionText(in.packet, opt::VendorClass);
    in.model = modelFromVendorClass(in.vendorClass).value_or("");
    in.hostname = optionText(in.packet, opt::HostName);
    if (config_.ciscoOnly)
        if (auto why = ciscoOnlyRefusal(in.vendorClass, knownMacs_.contains(in.mac)); !why.empty()) return ignore(in, why);

    Addr link = in.relayed ? toAddr(in.packet.giaddr) : in.local;
    const Pool* pool = allocator_.poolFor(link);
    if (in.type == MessageType::Release) return onRelease(in);
    if (!pool)
        return ignore(in, fmt::format("no pool for the network of {} ({})", addrText(link),
                                      in.relayed ? "the relay agent's giaddr" : "the address the request came in on"));
    switch (in.type) {
    case MessageType::Discover: return onDiscover(in, *pool);
    case MessageType::Request: return onRequest(in, *pool);
    case MessageType::Decline: return onDecline(in, *pool);
    case MessageType::Inform: return onInform(in, *pool);
    default: ++counters_.dropped; return; // OFFER/ACK/NAK are a server's
    }
}

Packet DhcpService::reply(const Incoming& in, const Pool& pool, MessageType type) const {
    const auto& q = in.packet;
    Packet p;
    p.op = 2;
    p.htype = q.htype;
    p.hlen = q.hlen;
    p.xid = q.xid;
    p.flags = q.flags;
    p.giaddr = q.giaddr;
    p.chaddr = q.chaddr;
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
        auto own = parseAddr(config_.tftpDefault);
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
    if (auto* o = q.find(opt::RelayAgent)) p.set(opt::RelayAgent, o->data); // RFC 3046: echoed, last
    return p;
}

void DhcpService::send(const Incoming& in, const Packet& reply, bool forceBroadcast) {
    using Address = boost::asio::ip::address_v4;
    const auto clientPort = static_cast<std::uint16_t>(config_.port + 1);
    udp::endpoint to;
    int ifindex = 0;
    if (in.relayed) { // to the relay agent's server port (RFC 2131 4.1)
        to = udp::endpoint(Address(toAddr(in.packet.giaddr)), config_.port);
    } else if (!forceBroadcast && toAddr(in.packet.ciaddr) != 0) { // renewing / informing: the client's address
        to = udp::endpoint(Address(toAddr(in.packet.ciaddr)), clientPort);
    } else { // a client without an address: broadcast on the interface the request came in on
        to = udp::endpoint(Address::broadcast(), clientPort);
        ifindex = in.ifindex;
    }
    auto bytes = serialize(reply);
    if (auto err = net::sendWithPktinfo(socket_.native_handle(), bytes, to, Address(in.local), ifindex); !err.empty())
        spdlog::warn("dhcp mac={}: {} not sent to {}: {}", in.mac, toString(*reply.messageType()), to.address().to_string(), err);
}

void DhcpService::onDiscover(const Incoming& in, const Pool& pool) {
    std::string why;
    auto requested = optionAddr(in.packet, opt::RequestedIp);
    auto a = allocator_.offer(pool, in.mac, requested, in.local, wallClockMs(), why);
    if (!a) {
        ++counters_.exhausted;
        bus_.publish(Service::Dhcp, EventKind::DhcpExhausted, Severity::Warning, in.mac, "",
                     fmt::format("DISCOVER from {}: no offer: {}", in.who(), why));
        return;
    }
    auto p = reply(in, pool, MessageType::Offer);
    p.yiaddr = toIpv4(*a);
    p.set(opt::LeaseTime, u32Data(pool.leaseSeconds));
    send(in, p, false);
    ++counters_.offers;
    bus_.publish(Service::Dhcp, EventKind::DhcpOffered, Severity::Info, in.mac, addrText(*a),
                 fmt::format("offered {} (pool {}) to {}{}{}", addrText(*a), pool.name, in.who(),
                             in.relayed ? " via relay " + toString(in.packet.giaddr) : "",
                             in.vendorClass.empty() ? "" : ", vendor class '" + in.vendorClass + "'"));
}

bool DhcpService::ownAddress(Addr a, const Incoming& in) const {
    return a == in.local || hostAddresses().contains(a);
}

void DhcpService::onRequest(const Incoming& in, const Pool& pool) {
    auto serverId = optionAddr(in.packet, opt::ServerId);
    auto requested = optionAddr(in.packet, opt::RequestedIp);
    Addr ciaddr = toAddr(in.packet.ciaddr);
    if (serverId && !ownAddress(*serverId, in)) {
        allocator_.dropOffer(in.mac);
        return ignore(in, fmt::format("the client chose the DHCP server {}", addrText(*serverId)));
    }
    Addr address = requested ? *requested : ciaddr;
    if (address == 0) {
        ++counters_.dropped;
        spdlog::warn("dhcp mac={}: REQUEST without a requested address or ciaddr dropped", in.mac);
        return;
    }
    auto now = wallClockMs();
    auto verdict = allocator_.check(pool, in.mac, address, in.local, now);
    if (verdict.kind == Verdict::Nak) {
        auto p = reply(in, pool, MessageType::Nak);
        p.set(opt::Message, textData(verdict.why));
        send(in, p, true);
        ++counters_.naks;
        bus_.publish(Service::Dhcp, EventKind::DhcpNaked, Severity::Warning, in.mac, addrText(address),
                     fmt::format("NAK to {} for {}: {}", in.who(), addrText(address), verdict.why));
        return;
    }
    Lease l;
    l.address = address;
    l.mac = in.mac;
    l.vendorClass = in.vendorClass;
    l.model = in.model;
    l.hostname = in.hostname;
    commitAndAck(in, pool, allocator_.grant(pool, l, now));
}

void DhcpService::commitAndAck(const Incoming& in, const Pool& pool, Allocator::Granted g) {
    const Lease lease = g.save.front();
    bool known = knownMacs_.contains(in.mac);
    auto job = [save = g.save, known, in](store::Db& db) {
        dhcp::DhcpStore ds(db);
        for (const auto& l : save) ds.saveLease(l);
        // Option 60 names the model: auto-registration and the admin page use it.
        if (!known && !in.model.empty())
            store::SeenPhoneStore(db).record({in.mac, in.model, "dhcp", in.vendorClass, addrText(save.front().address), 0, 0},
                                             save.front().updatedMs);
    };
    auto done = [this, alive = alive_, in, pool, g](store::Outcome<std::monostate> o) {
        if (!o.error && test_faults::active(test_faults::Fault::DhcpAfterCommit)) {
            spdlog::critical("dhcp: LABCM_TEST_FAULT=dhcp-after-commit: exiting after the commit, before the ACK");
            std::_Exit(86);
        }
        asio::post(io_, [this, alive, in, pool, g, failed = static_cast<bool>(o.error)] {
            if (!*alive) return;
            const auto& l = g.save.front();
            if (failed) {
                allocator_.revert(g);
                ++counters_.commitFailures;
                spdlog::error("dhcp mac={}: lease {} not saved; no ACK sent (the client will retry)", in.mac,
                              addrText(l.address));
                return;
            }
            if (!socket_.is_open()) return;
            auto p = reply(in, pool, MessageType::Ack);
            p.yiaddr = toIpv4(l.address);
            p.ciaddr = in.packet.ciaddr;
            p.set(opt::LeaseTime, u32Data(pool.leaseSeconds));
            p.set(opt::RenewalTime, u32Data(pool.leaseSeconds / 2));
            p.set(opt::RebindingTime, u32Data(static_cast<std::uint32_t>(std::uint64_t{pool.leaseSeconds} * 7 / 8)));
            send(in, p, false);
            ++counters_.acks;
            bus_.publish(Service::Dhcp, EventKind::DhcpAcked, Severity::Info, in.mac, addrText(l.address),
                         fmt::format("ACK {} to {} for {} s (pool {}){}", addrText(l.address), in.who(), pool.leaseSeconds,
                                     pool.name, in.vendorClass.empty() ? "" : ", vendor class '" + in.vendorClass + "'"));
        });
    };
    try {
        writer_.submit(std::move(job), std::move(done));
    } catch (const std::exception& e) { // the writer's queue is full: no ACK, the client retries
        allocator_.revert(g);
        ++counters_.commitFailures;
        spdlog::warn("dhcp mac={}: lease {} not saved: {}", in.mac, addrText(lease.address), e.what());
    }
}

void DhcpService::saveBehind(const Lease& l, const char* what) {
    // No reply waits on these: a lost release or decline only keeps an address out longer.
    try {
        writer_.submit([l](store::Db& db) { dhcp::DhcpStore(db).saveLease(l); },
                       [mac = l.mac, what](store::Outcome<std::monostate> o) {
                           if (o.error) spdlog::error("dhcp mac={}: {} not saved", mac, what);
                       });
    } catch (const std::exception& e) {
        spdlog::error("dhcp mac={}: {} not saved: {}", l.mac, what, e.what());
    }
}

void DhcpService::onRelease(const Incoming& in) {
    Addr ciaddr = toAddr(in.packet.ciaddr);
    auto l = allocator_.release(in.mac, ciaddr, wallClockMs());
    if (!l) return ignore(in, fmt::format("RELEASE of {}, which this MAC does not hold", addrText(ciaddr)));
    ++counters_.releases;
    saveBehind(*l, "release");
    bus_.publish(Service::Dhcp, EventKind::DhcpReleased, Severity::Info, in.mac, addrText(ciaddr),
                 fmt::format("{} released {}", in.who(), addrText(ciaddr)));
}

void DhcpService::onDecline(const Incoming& in, const Pool&) {
    auto requested = optionAddr(in.packet, opt::RequestedIp);
    if (!requested) return ignore(in, "DECLINE without a requested address (option 50)");
    auto l = allocator_.decline(in.mac, *requested,
                                std::chrono::duration_cast<std::chrono::milliseconds>(limits::kDhcpDeclineHold).count(), wallClockMs());
    if (!l) return ignore(in, fmt::format("DECLINE of {}, which was not given to this MAC", addrText(*requested)));
    ++counters_.declines;
    saveBehind(*l, "decline");
    bus_.publish(Service::Dhcp, EventKind::DhcpDeclined, Severity::Warning, in.mac, addrText(*requested),
                 fmt::format("{} declined {}: another host uses it; kept out of the pool for {} min", in.who(),
                             addrText(*requested),
                             std::chrono::duration_cast<std::chrono::minutes>(limits::kDhcpDeclineHold).count()));
}

void DhcpService::onInform(const Incoming& in, const Pool& pool) {
    auto p = reply(in, pool, MessageType::Ack);
    p.ciaddr = in.packet.ciaddr;
    send(in, p, false);
    ++counters_.informs;
    bus_.publish(Service::Dhcp, EventKind::DhcpAcked, Severity::Info, in.mac, toString(in.packet.ciaddr),
                 fmt::format("INFORM from {}: options sent (no lease)", in.who()));
}

} // namespace labcm::dhcp
