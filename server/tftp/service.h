// TFTP on UDP 69: read requests only. Each transfer runs on its own socket (new port, as
// RFC 1350 wants), bound to the address the request was sent to (IP_PKTINFO), so a
// multi-homed host answers from the right address. I/O only: packets go through
// tftp/codec, transfers through tftp/transfer, names through the file namespace.
#pragma once

#include <cstdint>
#include <memory>
#include <set>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "core/events.h"
#include "provision/client_macs.h"
#include "provision/file_namespace.h"

namespace labcm::tftp {

struct Counters {
    std::uint64_t requests = 0;
    std::uint64_t served = 0;
    std::uint64_t failed = 0;
    std::uint64_t dropped = 0;   ///< malformed datagrams
    std::uint64_t refused = 0;   ///< WRQ, bad mode, bad name, over the cap
};

class TftpService {
public:
    /// @throw boost::system::system_error when the endpoint cannot be bound.
    TftpService(boost::asio::io_context& io, const boost::asio::ip::udp::endpoint& endpoint,
                provision::FileNamespace& files, EventBus& bus, provision::ClientMacs& macs);
    ~TftpService();

    /// @brief Stops listening; transfers in flight are ended with an ERROR packet.
    void stop();
    boost::asio::ip::udp::endpoint localEndpoint() const;
    const Counters& counters() const { return counters_; }
    std::size_t active() const;

    class Session;

private:
    void doReceive();
    void onDatagram(std::span<const std::uint8_t> data, const boost::asio::ip::udp::endpoint& from,
                    const boost::asio::ip::address& localAddress);

    boost::asio::io_context& io_;
    boost::asio::ip::udp::socket socket_;
    provision::FileNamespace& files_;
    EventBus& bus_;
    provision::ClientMacs& macs_;
    Counters counters_;
    std::shared_ptr<std::set<Session*>> sessions_;
    std::vector<std::uint8_t> buffer_;
};

} // namespace labcm::tftp
