#include "dhcp_client.h"

#include <net/if.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <bit>
#include <random>
#include <variant>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ip/udp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>

#include "dhcp/codec.h"

extern char** environ;

namespace labcm::phone {

namespace asio = boost::asio;
using asio::ip::udp;
using namespace asio::experimental::awaitable_operators;

std::string DhcpLease::tftpServer() const {
    if (!tftp150.empty()) return tftp150.front();
    if (!tftp66.empty() && dhcp::parseIpv4(tftp66)) return tftp66;
    return siaddr == "0.0.0.0" ? "" : siaddr;
}

namespace {

/// DHCP phases are retried this often (a phone retries forever; the simulator gives up).
constexpr int kDhcpTries = 3;

dhcp::Packet request(const std::string& mac, std::uint32_t xid, const std::string& vendorClass, dhcp::MessageType t) {
    dhcp::Packet p;
    p.op = 1;
    p.xid = xid;
    p.flags = 0x8000; // no address yet: ask for broadcast replies
    for (int i = 0; i < 6; ++i) p.chaddr[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(std::stoul(mac.substr(static_cast<std::size_t>(i) * 2, 2), nullptr, 16));
    p.set(dhcp::opt::MessageType, {static_cast<std::uint8_t>(t)});
    std::vector<std::uint8_t> cid{1};
    cid.insert(cid.end(), p.chaddr.begin(), p.chaddr.begin() + 6);
    p.set(dhcp::opt::ClientId, cid);
    p.set(dhcp::opt::VendorClass, {vendorClass.begin(), vendorClass.end()});
    // The fingerprint tables' Cisco phone list (1,66,6,3,15,150,35) plus NTP (42).
    p.set(dhcp::opt::ParameterList, {1, 66, 6, 3, 15, 150, 35, 42});
    return p;
}

// One exchange: broadcast `out` (re-sent on timeout), wait for a reply of one of the types
// with our xid and MAC.
asio::awaitable<std::optional<dhcp::Packet>> dhcpExchange(udp::socket& sock, asio::steady_timer& timer, dhcp::Packet out,
                                                          std::vector<dhcp::MessageType> want, std::string mac,
                                                          std::chrono::milliseconds timeout, udp::endpoint to) {
    constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
    std::vector<std::uint8_t> buf(1500);
    auto bytes = dhcp::serialize(out);
    for (int attempt = 0; attempt < kDhcpTries; ++attempt) {
        co_await sock.async_send_to(asio::buffer(bytes), to, kTuple);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            timer.expires_at(deadline);
            udp::endpoint from;
            auto r = co_await (sock.async_receive_from(asio::buffer(buf), from, kTuple) || timer.async_wait(kTuple));
            if (r.index() == 1) break;
            auto result = std::get<0>(r);
            if (std::get<0>(result)) break;
            try {
                auto p = dhcp::parse(std::span<const std::uint8_t>(buf.data(), std::get<1>(result)));
                if (p.op != 2 || p.xid != out.xid || p.mac() != mac) continue; // another client's
                auto t = p.messageType();
                for (auto w : want)
                    if (t == w) co_return p;
            } catch (const dhcp::ParseError&) {
                continue; // malformed: dropped
            }
        }
    }
    co_return std::nullopt;
}

// What the phone takes from the ACK (a plain function: GCC 12 mis-compiles some array
// temporaries inside coroutines).
DhcpLease leaseFrom(const dhcp::Packet& packet) {
    const dhcp::Packet* ack = &packet;
    DhcpLease l;
    l.ip = dhcp::toString(ack->yiaddr);
    l.siaddr = dhcp::toString(ack->siaddr);
    if (auto* m = ack->find(dhcp::opt::SubnetMask); m && m->data.size() == 4) {
        std::uint32_t mask = (std::uint32_t(m->data[0]) << 24) | (std::uint32_t(m->data[1]) << 16) |
                             (std::uint32_t(m->data[2]) << 8) | m->data[3];
        l.prefix = std::popcount(mask);
    }
    if (auto* s = ack->find(dhcp::opt::ServerId); s && s->data.size() == 4) l.server = dhcp::toString({s->data[0], s->data[1], s->data[2], s->data[3]});
    if (auto* t = ack->find(dhcp::opt::TftpServers)) {
        try {
            for (const auto& a : dhcp::ipv4List(t->data)) l.tftp150.push_back(dhcp::toString(a));
        } catch (const dhcp::ParseError&) {
        }
    }
    if (auto* t = ack->find(dhcp::opt::TftpServerName)) {
        l.tftp66.assign(t->data.begin(), t->data.end());
        while (!l.tftp66.empty() && l.tftp66.back() == '\0') l.tftp66.pop_back();
    }
    std::string list150;
    for (const auto& a : l.tftp150) list150 += (list150.empty() ? "" : ",") + a;
    l.summary = fmt::format("{}/{} from {}, option 150 [{}], option 66 '{}'", l.ip, l.prefix, l.server, list150, l.tftp66);
    return l;
}

} // namespace

asio::awaitable<std::optional<DhcpLease>> dhcpLease(DhcpPath path, std::string mac, std::string vendorClass,
                                                    std::chrono::milliseconds timeout, std::string& why) {
    auto ex = co_await asio::this_coro::executor;
    udp::socket sock(ex);
    boost::system::error_code ec;
    const bool relay = !path.relayServer.empty();
    udp::endpoint to(asio::ip::address_v4::broadcast(), path.port);
    asio::ip::address_v4 giaddr;
    sock.open(udp::v4(), ec);
    if (!ec) sock.set_option(udp::socket::reuse_address(true), ec);
    if (relay) {
        // The phone is its own relay agent: the server answers giaddr:67 (RFC 2131 §4.1).
        auto server = asio::ip::make_address_v4(path.relayServer, ec);
        if (!ec) giaddr = asio::ip::make_address_v4(path.relayIp, ec);
        if (!ec) sock.bind(udp::endpoint(giaddr, path.port), ec);
        to = udp::endpoint(server, path.port);
        if (ec) {
            why = fmt::format("cannot be a relay agent at {}:{}: {}", path.relayIp, path.port, ec.message());
            co_return std::nullopt;
        }
    } else {
        if (!ec) sock.set_option(asio::socket_base::broadcast(true), ec);
        if (!ec && setsockopt(sock.native_handle(), SOL_SOCKET, SO_BINDTODEVICE, path.iface.c_str(),
                              static_cast<socklen_t>(path.iface.size())) != 0)
            ec = boost::system::error_code(errno, boost::system::system_category());
        const auto clientPort = static_cast<std::uint16_t>(path.port + 1);
        if (!ec) sock.bind(udp::endpoint(asio::ip::address_v4::any(), clientPort), ec);
        if (ec) {
            why = fmt::format("cannot open DHCP client port {} on {}: {} (root in a network namespace?)", clientPort,
                              path.iface, ec.message());
            co_return std::nullopt;
        }
    }
    std::mt19937 rng(std::random_device{}());
    const std::uint32_t xid = static_cast<std::uint32_t>(rng());
    asio::steady_timer timer(ex);
    auto exchange = [&](dhcp::Packet out, std::vector<dhcp::MessageType> want) {
        if (relay) {
            auto b = giaddr.to_bytes();
            std::copy(b.begin(), b.end(), out.giaddr.begin());
            out.hops = 1;
            out.flags = 0;
        }
        return dhcpExchange(sock, timer, std::move(out), std::move(want), mac, timeout, to);
    };
    const std::string where = relay ? fmt::format("via relay {} to {}", path.relayIp, path.relayServer) : "on " + path.iface;

    // (No braced lists in this coroutine: GCC 12 rejects initializer_list temporaries here.)
    std::vector<dhcp::MessageType> wantOffer(1, dhcp::MessageType::Offer), wantAck(1, dhcp::MessageType::Ack);
    wantAck.push_back(dhcp::MessageType::Nak);
    auto offer = co_await exchange(request(mac, xid, vendorClass, dhcp::MessageType::Discover), wantOffer);
    if (!offer) {
        why = fmt::format("no DHCPOFFER {} after {} DISCOVERs", where, kDhcpTries);
        co_return std::nullopt;
    }
    auto req = request(mac, xid, vendorClass, dhcp::MessageType::Request);
    req.set(dhcp::opt::RequestedIp, std::vector<std::uint8_t>(offer->yiaddr.begin(), offer->yiaddr.end()));
    if (auto* sid = offer->find(dhcp::opt::ServerId)) req.set(dhcp::opt::ServerId, sid->data);
    auto ack = co_await exchange(req, wantAck);
    if (!ack) {
        why = fmt::format("no DHCPACK after {} REQUESTs for {}", kDhcpTries, dhcp::toString(offer->yiaddr));
        co_return std::nullopt;
    }
    if (ack->messageType() == dhcp::MessageType::Nak) {
        why = "DHCPNAK for " + dhcp::toString(offer->yiaddr);
        co_return std::nullopt;
    }
    auto lease = leaseFrom(*ack);
    if (relay) lease.summary += " (" + where + ")";
    co_return lease;
}

std::string configureAddress(const std::string& iface, const DhcpLease& lease) {
    std::string cidr = fmt::format("{}/{}", lease.ip, lease.prefix);
    const char* argv[] = {"ip", "addr", "replace", cidr.c_str(), "dev", iface.c_str(), nullptr};
    pid_t pid = 0;
    if (int rc = posix_spawnp(&pid, "ip", nullptr, nullptr, const_cast<char* const*>(argv), environ); rc != 0)
        return fmt::format("cannot run ip: {}", std::strerror(rc));
    int status = 0;
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return fmt::format("'ip addr replace {} dev {}' failed", cidr, iface);
    return {};
}

} // namespace labcm::phone
