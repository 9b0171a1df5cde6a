// The DHCP server on UDP 67: socket I/O around dhcp/engine.h, which decides. Requests
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
#include <boost/asio/steady_timer.hpp>

#include "core/events.h"
#include "dhcp/engine.h"
#include "store/writer.h"

namespace labcm::dhcp {

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
    void setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs) {
        engine_.setDevices(std::move(reservations), std::move(knownMacs));
    }
    /// @brief The admin freed an address.
    void forget(Addr address) { engine_.forget(address); }
    /// @brief Closes the socket; commits in flight complete without replies.
    void stop();

    bool running() const;
    boost::asio::ip::udp::endpoint localEndpoint() const;
    const Counters& counters() const { return engine_.counters(); }
    const Allocator& allocator() const { return engine_.allocator(); }

private:
    void open(const ServiceConfig& config);
    void waitRead();
    void readAll();
    void carryOut(Decision d);
    void commit(Commit c);
    /// @brief Saves leases no reply waits on (released, declined, expired).
    void saveBehind(std::vector<Lease> leases, const char* what);
    void armSweep(std::chrono::steady_clock::duration in);
    void send(const Send& s);

    boost::asio::io_context& io_;
    store::Writer& writer_;
    boost::asio::ip::udp::socket socket_;
    boost::asio::steady_timer sweepTimer_; ///< marks ended leases expired (limits::kDhcpSweepInterval)
    bool sweepArmed_ = false;
    ServiceConfig config_;
    bool leasesLoaded_ = false;
    Engine engine_;
    std::shared_ptr<bool> alive_;
};

} // namespace labcm::dhcp
