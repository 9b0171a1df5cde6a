// The DHCP server on UDP 67: socket I/O around the pure codec and allocator. Requests
// arrive broadcast on an interface (dhcp_interface) or relayed (giaddr) to a bound
// address; each reply leaves from the address the request came in on (IP_PKTINFO): to the
// relay agent's port 67, to a renewing client's address, else broadcast on the interface.
// A lease is committed through the writer before its ACK is sent, so a crash between the
// two can only lose an ACK, never give one address to two MACs.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/udp.hpp>

#include "core/events.h"
#include "dhcp/allocator.h"
#include "store/writer.h"

namespace labcm::dhcp {

struct Counters {
    std::uint64_t received = 0;
    std::uint64_t dropped = 0;   ///< malformed: not parsed, no message type, no MAC
    std::uint64_t ignored = 0;   ///< cisco-only, no pool for the network, another server chosen
    std::uint64_t offers = 0;
    std::uint64_t acks = 0;
    std::uint64_t naks = 0;
    std::uint64_t releases = 0;
    std::uint64_t declines = 0;
    std::uint64_t informs = 0;
    std::uint64_t exhausted = 0;
    std::uint64_t commitFailures = 0;
};

struct ServiceConfig {
    std::string interface;   ///< answer broadcasts here ("" = none: bind bindAddress)
    std::string bindAddress; ///< used when interface is ""
    std::uint16_t port = 67; ///< clients are on port + 1; relay agents on port
    bool ciscoOnly = false;
    std::string tftpDefault; ///< option 150 when a pool has none; "" = the address the request came in on
    bool operator==(const ServiceConfig&) const = default;
};

class DhcpService {
public:
    /// @brief Reads nothing and opens nothing: call configure() with the pools.
    DhcpService(boost::asio::io_context& io, store::Writer& writer, EventBus& bus);
    ~DhcpService();

    /// @brief (Re)opens the socket when the config changed and takes the pools. The
    /// leases are loaded once, at the first call (`loadLeases` is called only then).
    /// @throw std::runtime_error with a clear message (interface missing, no IPv4 address
    /// on it, the port taken or not permitted).
    void configure(const ServiceConfig& config, std::vector<Pool> pools,
                   const std::function<std::vector<Lease>()>& loadLeases);
    /// @brief Devices: reserved addresses and the MACs cisco-only mode admits.
    void setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs);
    /// @brief The admin freed an address.
    void forget(Addr address) { allocator_.forget(address); }
    /// @brief Closes the socket; commits in flight complete without replies.
    void stop();

    bool running() const;
    boost::asio::ip::udp::endpoint localEndpoint() const;
    const Counters& counters() const { return counters_; }
    const Allocator& allocator() const { return allocator_; }

private:
    struct Incoming;
    void open(const ServiceConfig& config);
    void waitRead();
    void readAll();
    void onDatagram(const Incoming& in);
    void onDiscover(const Incoming& in, const Pool& pool);
    void onRequest(const Incoming& in, const Pool& pool);
    void onRelease(const Incoming& in);
    void onDecline(const Incoming& in, const Pool& pool);
    void onInform(const Incoming& in, const Pool& pool);
    void saveBehind(const Lease& l, const char* what);
    void commitAndAck(const Incoming& in, const Pool& pool, Allocator::Granted g);
    Packet reply(const Incoming& in, const Pool& pool, MessageType type) const;
    void send(const Incoming& in, const Packet& reply, bool forceBroadcast);
    void ignore(const Incoming& in, const std::string& why);
    bool ownAddress(Addr a, const Incoming& in) const;

    boost::asio::io_context& io_;
    store::Writer& writer_;
    EventBus& bus_;
    boost::asio::ip::udp::socket socket_;
    ServiceConfig config_;
    bool leasesLoaded_ = false;
    Allocator allocator_;
    std::set<std::string> knownMacs_;
    std::map<std::string, std::chrono::steady_clock::time_point> quietUntil_; ///< ignored-event limiter
    std::chrono::steady_clock::time_point nextDropLog_{};
    Counters counters_;
    std::shared_ptr<bool> alive_;
};

} // namespace labcm::dhcp
