// DHCPv4 packets, pure (bytes <-> struct; no sockets): the BOOTP header (RFC 951/2131),
// the magic cookie, options (RFC 2132) with pad/end and option overload (52) into the
// file/sname fields, long options split and concatenated (RFC 3396), replies padded to at
// least 300 bytes. Option 150 (Cisco TFTP servers, RFC 5859) is a list of IPv4 addresses.
// Shared by labcm's DHCP server and labcm-phone's DHCP client.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/ipv4.h"

namespace labcm::dhcp {

class ParseError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class MessageType : std::uint8_t { Discover = 1, Offer, Request, Decline, Ack, Nak, Release, Inform };
std::string_view toString(MessageType t);

namespace opt {
inline constexpr std::uint8_t Pad = 0, SubnetMask = 1, Router = 3, Dns = 6, HostName = 12, DomainName = 15,
                              Ntp = 42, RequestedIp = 50, LeaseTime = 51, Overload = 52, MessageType = 53,
                              ServerId = 54, ParameterList = 55, Message = 56, MaxSize = 57, RenewalTime = 58,
                              RebindingTime = 59, VendorClass = 60, ClientId = 61, TftpServerName = 66,
                              RelayAgent = 82, TftpServers = 150, End = 255;
}

using labcm::Ipv4; // core/ipv4.h
using labcm::parseIpv4;
using labcm::toString;

struct Option {
    std::uint8_t code;
    std::vector<std::uint8_t> data;
};

struct Packet {
    std::uint8_t op = 1;        ///< 1 BOOTREQUEST, 2 BOOTREPLY
    std::uint8_t htype = 1;     ///< 1 Ethernet
    std::uint8_t hlen = 6;
    std::uint8_t hops = 0;
    std::uint32_t xid = 0;
    std::uint16_t secs = 0;
    std::uint16_t flags = 0;    ///< 0x8000 = broadcast
    Ipv4 ciaddr{}, yiaddr{}, siaddr{}, giaddr{};
    std::array<std::uint8_t, 16> chaddr{};
    std::string sname;          ///< when not overloaded with options
    std::string file;
    std::vector<Option> options; ///< in order; one entry per code (split options concatenated)

    const Option* find(std::uint8_t code) const;
    std::optional<MessageType> messageType() const;
    /// @brief The client's MAC as 12 upper-case hex digits (htype 1, hlen 6), else "".
    std::string mac() const;
    void set(std::uint8_t code, std::vector<std::uint8_t> data); ///< replaces or appends
};

/// @brief Parses a datagram. @throw ParseError naming what is wrong (short header, bad
/// cookie, an option running past the end, overload into fields that do not hold options,
/// a DHCP message type that is not 1..8, hlen > 16).
Packet parse(std::span<const std::uint8_t> bytes);

/// @brief Serialises: options in order (each over 255 bytes split, RFC 3396), End, padded
/// to at least 300 bytes (BOOTP minimum; some clients drop shorter replies).
std::vector<std::uint8_t> serialize(const Packet& p);

/// @brief Option 150 / 3 / 6 / 42 payload: n x 4 bytes. @throw ParseError when not a
/// non-empty multiple of 4.
std::vector<Ipv4> ipv4List(const std::vector<std::uint8_t>& data);
std::vector<std::uint8_t> ipv4ListData(const std::vector<Ipv4>& list);

/// @brief The model a Cisco phone's option 60 names: "Cisco Systems, Inc. IP Phone CP-8845"
/// -> "8845"; trailing NULs, "-3PCC", "-GE" and a 79xx "G" stripped; nullopt when the
/// vendor class is not a Cisco phone's.
std::optional<std::string> modelFromVendorClass(std::string_view vendorClass);

} // namespace labcm::dhcp
