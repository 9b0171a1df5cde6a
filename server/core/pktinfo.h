// Socket helpers for UDP services that must know the interface and local address a
// datagram came in on, and answer from it (TFTP, DHCP): IP_PKTINFO in and out.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include <boost/asio/ip/udp.hpp>

namespace labcm::net {

/// @brief One datagram read with its IP_PKTINFO / IPV6_PKTINFO (the socket has the option on).
struct Datagram {
    std::size_t size = 0;
    boost::asio::ip::udp::endpoint from;
    boost::asio::ip::address dest;        ///< the packet's destination address (ipi_addr / ipi6_addr)
    boost::asio::ip::address_v4 specDst;  ///< IPv4: the local address of the interface it came in on
    int ifindex = 0;                      ///< the interface it came in on
    /// When the kernel received it (CLOCK_REALTIME), when the socket has SO_TIMESTAMPNS on.
    std::optional<std::chrono::nanoseconds> receivedAt;
    /// Datagrams the kernel dropped so far on this socket for want of buffer space, when the
    /// socket has SO_RXQ_OVFL on (the kernel sends it once the count is not 0).
    std::optional<std::uint32_t> overflowSoFar;
};

/// @brief recvmsg(MSG_DONTWAIT) into `buf`; nullopt when nothing is waiting (or the read
/// failed, or the sender is neither IPv4 nor IPv6). `dest` defaults to `fallbackDest`.
std::optional<Datagram> receiveWithPktinfo(int fd, std::span<std::uint8_t> buf, const boost::asio::ip::address& fallbackDest);

/// @brief sendmsg from the IPv4 address `from` (IP_PKTINFO ipi_spec_dst), out of interface
/// `ifindex` when it is not 0 (a limited broadcast leaves there). @return "" or the error.
std::string sendWithPktinfo(int fd, std::span<const std::uint8_t> data, const boost::asio::ip::udp::endpoint& to,
                            const boost::asio::ip::address_v4& from, int ifindex);

} // namespace labcm::net
