// Limits on the TCP connections sofia-sip accepts on the SIP port (issue 19).
//
// sofia-sip has neither a limit nor a hook on accept(2): an idle connection holds a descriptor
// for ever (its idle timer starts only after traffic), and at descriptor exhaustion its
// listening socket stays readable, so it retried and logged every failed accept. labcm defines
// `accept` itself (connection_guard.cpp): the dynamic linker binds sofia's call to it, and a
// descriptor other than the guarded listening socket goes straight on to accept4(2). For the
// SIP listener it
//   - refuses (closes at once) a connection past the total or the per-address cap,
//   - at descriptor exhaustion accepts and closes the connection on a spare descriptor kept
//     for that (nginx's and libev's way out of an EMFILE loop),
//   - logs a refusal at most once a second, with the count left out,
// and returns -1 with errno 0 for a refused one, which sofia ignores without a log line.
// The SIP thread's sweep then shuts down (both ways; sofia sees the peer's close) a
// connection that holds no registration kUnregistered after it was accepted, or whose
// registration lapsed.
//
// Threads: accept() runs on every thread that accepts (Asio's acceptors too), and reads one
// atomic before it passes those on; the guarded socket is accepted on the SIP thread, which
// also runs every member below.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "core/connection_caps.h"

struct sockaddr;

namespace labcm::sip {

struct ConnectionGuardCounters {
    std::uint64_t open = 0;              ///< connections accepted and not yet seen closed
    std::uint64_t refusedTotal = 0;      ///< refused: the total cap was reached
    std::uint64_t refusedPerAddress = 0; ///< refused: that address had its cap
    std::uint64_t refusedNoDescriptor = 0; ///< accepted on the spare descriptor and closed (EMFILE)
    std::uint64_t closedUnregistered = 0;  ///< shut down holding no registration
};

class ConnectionGuard {
public:
    using Clock = std::chrono::steady_clock;
    /// @param total connections at most (0: no cap); @param perAddress from one address (0: no cap)
    ConnectionGuard(std::size_t total, std::size_t perAddress, std::chrono::milliseconds unregistered);
    ~ConnectionGuard();
    ConnectionGuard(const ConnectionGuard&) = delete;
    ConnectionGuard& operator=(const ConnectionGuard&) = delete;

    /// @brief Guards the accepts on `listenFds` (up to 4) from now on (one guard per process;
    /// a second one while one is active stays inactive and says so in the log).
    void guard(const std::vector<int>& listenFds);
    /// @brief Stops guarding (before the listeners close) and forgets the connections.
    void unguard();
    /// @brief The total cap (0: none); the descriptor limit is known only at start.
    void setTotal(std::size_t total) { caps_.setLimits(total, perAddress_); }
    /// @brief The connection from `peer` (address and port) answered a REGISTER with 200: it
    /// may stay open until `until` (the registration's expiry and grace; refreshed by each).
    void registered(const sockaddr* peer, Clock::time_point until);
    /// @brief Forgets closed connections and shuts down those that hold no registration past
    /// their time. @return how many it shut down.
    std::size_t sweep(Clock::time_point now);
    ConnectionGuardCounters counters() const;

    /// @brief The guarded accept (called by `accept` for the guarded socket).
    int accept(int fd, sockaddr* addr, unsigned* len);

private:
    struct Peer {
        net::PeerAddress address;
        std::uint16_t port = 0;
        bool operator==(const Peer&) const = default;
    };
    struct PeerHash {
        std::size_t operator()(const Peer& p) const noexcept { return net::PeerAddressHash{}(p.address) ^ p.port; }
    };
    struct Connection {
        Peer peer;
        std::uint64_t inode = 0;         ///< the socket's, so a reused descriptor number is told apart
        Clock::time_point deadline;      ///< shut down after this unless registered() moves it
    };
    static Peer peerOf(const sockaddr* sa);
    bool alive(int fd, const Connection& c) const;
    void forget(int fd);
    void refuse(int fd, const char* why, std::atomic<std::uint64_t>& counter, const Peer& peer);

    std::size_t perAddress_;
    net::ConnectionCaps caps_;
    std::chrono::milliseconds unregistered_;
    int spare_ = -1;                      ///< kept for accepting (and closing) at EMFILE
    bool active_ = false;
    std::unordered_map<int, Connection> connections_; ///< fd -> connection
    std::unordered_map<Peer, int, PeerHash> byPeer_;  ///< peer -> fd
    std::atomic<std::uint64_t> refusedTotal_{0}, refusedPerAddress_{0}, refusedNoDescriptor_{0}, closedUnregistered_{0};
    std::atomic<std::uint64_t> open_{0};
    Clock::time_point nextLog_{};
    Clock::time_point nextRecount_{}; ///< a refusal sweeps again from then on
    std::uint64_t leftOut_ = 0;
};

} // namespace labcm::sip
