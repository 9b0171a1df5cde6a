// The simulated phone's DHCP step (boot step 3): DISCOVER/OFFER/REQUEST/ACK on one
// interface, as a Cisco phone sends it (option 60 vendor class, a parameter request list
// with 150 and 66), then the address is put on the interface as the phone's own. Needs
// CAP_NET_ADMIN and raw-ish UDP on port 68: run it in a network namespace of your own.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

namespace labcm::phone {

struct DhcpLease {
    std::string ip;                   ///< yiaddr
    int prefix = 24;                  ///< from option 1
    std::string server;               ///< option 54
    std::vector<std::string> tftp150; ///< option 150, in preference order
    std::string tftp66;               ///< option 66
    std::string siaddr;
    std::string summary;              ///< one line for the step log
    /// @brief The TFTP server the phone uses: 150 first, then 66 (when an address), then siaddr.
    std::string tftpServer() const;
};

/// How the phone reaches a DHCP server.
struct DhcpPath {
    std::string iface;       ///< broadcast from port 68 on this interface (when relayServer is "")
    std::string relayServer; ///< relay mode: unicast to this server, the phone acting as its own
    std::string relayIp;     ///< relay agent at this address (giaddr), replies come to relayIp:67
    std::uint16_t port = 67; ///< the server (and relay agent) port; the client port is port + 1
};

/// @brief Runs DORA for `mac`; nullopt with `why` set on failure (no offer, NAK). No TFTP
/// server offered is *not* a failure here: the caller decides.
boost::asio::awaitable<std::optional<DhcpLease>> dhcpLease(DhcpPath path, std::string mac, std::string vendorClass,
                                                           std::chrono::milliseconds timeout, std::string& why);

/// @brief `ip addr replace <ip>/<prefix> dev <iface>`: the phone takes its address.
/// @return "" on success, else the reason.
std::string configureAddress(const std::string& iface, const DhcpLease& lease);

} // namespace labcm::phone
