#include "core/pktinfo.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <ctime>

namespace labcm::net {

namespace {
// One address, one buffer, room for control messages: the shape of every datagram here.
msghdr messageHeader(void* address, socklen_t addressSize, iovec* iov, char* control, std::size_t controlSize) {
    msghdr msg{};
    msg.msg_name = address;
    msg.msg_namelen = addressSize;
    msg.msg_iov = iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = controlSize;
    return msg;
}
} // namespace

std::optional<Datagram> receiveWithPktinfo(int fd, std::span<std::uint8_t> buf, const boost::asio::ip::address& fallbackDest) {
    namespace ip = boost::asio::ip;
    sockaddr_storage from{};
    iovec iov{buf.data(), buf.size()};
    alignas(cmsghdr) char control[256];
    msghdr msg = messageHeader(&from, sizeof from, &iov, control, sizeof control);
    auto n = ::recvmsg(fd, &msg, MSG_DONTWAIT);
    if (n < 0) return std::nullopt;
    Datagram d;
    d.size = static_cast<std::size_t>(n);
    d.dest = fallbackDest;
    for (auto* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
        if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
            in_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            d.dest = ip::address_v4(ntohl(info.ipi_addr.s_addr));
            d.specDst = ip::address_v4(ntohl(info.ipi_spec_dst.s_addr));
            d.ifindex = info.ipi_ifindex;
        } else if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
            in6_pktinfo info{};
            std::memcpy(&info, CMSG_DATA(c), sizeof info);
            ip::address_v6::bytes_type b;
            std::memcpy(b.data(), &info.ipi6_addr, 16);
            d.dest = ip::address_v6(b);
            d.ifindex = static_cast<int>(info.ipi6_ifindex);
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_TIMESTAMPNS) {
            timespec at{};
            std::memcpy(&at, CMSG_DATA(c), sizeof at);
            d.receivedAt = std::chrono::seconds(at.tv_sec) + std::chrono::nanoseconds(at.tv_nsec);
        } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
            std::uint32_t dropped = 0;
            std::memcpy(&dropped, CMSG_DATA(c), sizeof dropped);
            d.overflowSoFar = dropped;
        }
    }
    if (from.ss_family == AF_INET) {
        auto* s = reinterpret_cast<sockaddr_in*>(&from);
        d.from = ip::udp::endpoint(ip::address_v4(ntohl(s->sin_addr.s_addr)), ntohs(s->sin_port));
    } else if (from.ss_family == AF_INET6) {
        auto* s = reinterpret_cast<sockaddr_in6*>(&from);
        ip::address_v6::bytes_type b;
        std::memcpy(b.data(), &s->sin6_addr, 16);
        d.from = ip::udp::endpoint(ip::address_v6(b, s->sin6_scope_id), ntohs(s->sin6_port));
    } else {
        return std::nullopt;
    }
    return d;
}

std::string sendWithPktinfo(int fd, std::span<const std::uint8_t> data, const boost::asio::ip::udp::endpoint& to,
                            const boost::asio::ip::address_v4& from, int ifindex) {
    sockaddr_in dest{};
    dest.sin_family = AF_INET;
    dest.sin_addr.s_addr = htonl(to.address().to_v4().to_uint());
    dest.sin_port = htons(to.port());
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(in_pktinfo))]{};
    iovec iov{const_cast<std::uint8_t*>(data.data()), data.size()};
    msghdr msg = messageHeader(&dest, sizeof dest, &iov, control, sizeof control);
    auto* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = IPPROTO_IP;
    c->cmsg_type = IP_PKTINFO;
    c->cmsg_len = CMSG_LEN(sizeof(in_pktinfo));
    in_pktinfo info{};
    info.ipi_ifindex = ifindex;
    info.ipi_spec_dst.s_addr = htonl(from.to_uint());
    std::memcpy(CMSG_DATA(c), &info, sizeof info);
    if (::sendmsg(fd, &msg, 0) < 0) return std::strerror(errno);
    return {};
}

} // namespace labcm::net
