// The DHCP server on UDP 67: socket I/O around dhcp/engine.h, which decides. Requests
// arrive broadcast on an interface (dhcp_interface) or relayed (giaddr) to a bound
// address; each reply leaves from the address the request came in on (IP_PKTINFO): to the
// relay agent's port 67, to a renewing client's address, else broadcast on the interface.
// A lease is committed through the writer before its ACK is sent, so a crash between the
// two can only lose an ACK, never give one address to two MACs.
//
// Threading: the service runs on its own thread (labcm-dhcp) with its own io_context, so a
// flood of DHCP does not delay TFTP, HTTP or SIP on the io thread. Every public member may be
// called from any other thread: it runs on the DHCP thread and waits for it (a batch at
// most), except status(), which reads the figures the thread last published. Overload: the
// socket's buffer is the bounded queue; each wake-up reads a batch, answers REQUESTs (and
// the rest) as read and DISCOVERs after them, and drops a DISCOVER older than
// limits::kDhcpDiscoverMaxAge (its client has sent another). Both drops are counted.
#pragma once

#include <chrono>
#include <functional>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
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

/// @brief What `labcm status` and /metrics show of the DHCP server.
struct ServiceStatus {
    boost::asio::ip::udp::endpoint at; ///< the socket's address
    Counters counters;
    std::size_t leases = 0;            ///< held by the allocator (any state)
    std::uint64_t overflow = 0;        ///< datagrams the kernel dropped: the socket buffer was full
    std::uint64_t staleDiscovers = 0;  ///< DISCOVERs dropped unanswered: too old when read
};

class DhcpService {
public:
    /// @brief Starts the DHCP thread; reads nothing and opens nothing: call configure().
    DhcpService(store::Writer& writer, EventBus& bus);
    /// @brief Closes the socket and joins the thread; commits in flight end without replies.
    ~DhcpService();
    DhcpService(const DhcpService&) = delete;
    DhcpService& operator=(const DhcpService&) = delete;

    /// @brief (Re)opens the socket when the config changed and takes the pools. The
    /// leases are loaded once, at the first call (`loadLeases` is called only then, on the
    /// calling thread).
    /// @throw std::runtime_error with a clear message (interface missing, no IPv4 address
    /// on it, the port taken or not permitted).
    void configure(const ServiceConfig& config, std::vector<Pool> pools,
                   const std::function<std::vector<Lease>()>& loadLeases);
    /// @brief Devices: reserved addresses and the MACs cisco-only mode admits.
    void setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs);
    /// @brief The admin freed an address.
    void forget(Addr address);
    /// @brief Closes the socket; commits in flight complete without replies.
    void stop();

    bool running();
    boost::asio::ip::udp::endpoint localEndpoint();
    /// @brief nullopt while the server is off. Does not wait for the DHCP thread: the figures
    /// as of its last batch, commit or sweep.
    std::optional<ServiceStatus> status() const;

private:
    /// @brief Runs `f` on the DHCP thread and returns its result (or throws its exception).
    template <class F>
    auto onThread(F f) -> decltype(f());
    void stopHere();
    /// @brief Copies the counters for status() (after each batch, commit, sweep, change).
    void publishStatus();
    void open(const ServiceConfig& config);
    void waitRead();
    void readAll();
    void carryOut(Decision d);
    /// @brief Commits the batch's leases in one writer job; their ACKs leave once it ended.
    void commitBatch();
    /// @brief Saves leases no reply waits on (released, declined, expired).
    void saveBehind(std::vector<Lease> leases, const char* what);
    void armSweep(std::chrono::steady_clock::duration in);
    void send(const Send& s);

    /// Shared with the writer's completions: they post the ACK here, and a completion that
    /// ends after the thread stopped only drops its handler.
    std::shared_ptr<boost::asio::io_context> io_;
    std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
    store::Writer& writer_;
    boost::asio::ip::udp::socket socket_;
    boost::asio::steady_timer sweepTimer_; ///< marks ended leases expired (limits::kDhcpSweepInterval)
    bool sweepArmed_ = false;
    ServiceConfig config_;
    bool leasesLoaded_ = false;
    Engine engine_;
    std::vector<Commit> commits_; ///< the read batch's, until commitBatch()
    std::uint32_t overflowSeen_ = 0; ///< the kernel's count at the last datagram (SO_RXQ_OVFL)
    std::uint64_t overflow_ = 0;
    std::uint64_t staleDiscovers_ = 0;
    bool stallDone_ = false; ///< test fault dhcp-stall: the first wake-up only
    mutable std::mutex statusMutex_;
    std::optional<ServiceStatus> status_; ///< for status(), under statusMutex_
    std::thread thread_; ///< last: starts once everything above exists
};

} // namespace labcm::dhcp
