// What the DHCP server decides, without sockets or SQLite: a datagram in, a reply (or a
// commit, then a reply) out. The pools, the allocator, cisco-only mode and the counters
// live here; dhcp/service.cpp only moves bytes and hands commits to the writer. Kea tests
// its server object this way; tests/unit/dhcp/engine_test.cpp does the same, with time
// passed in through one clock.
//
// One thread owns an Engine (the io thread). Events go to the EventBus as they happen.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/events.h"
#include "dhcp/allocator.h"
#include "dhcp/codec.h"

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
    std::uint64_t expired = 0;   ///< bound leases that ended without a renewal (swept)
};

/// @brief What the engine answers with, apart from the pools.
struct Policy {
    std::uint16_t port = 67;  ///< clients are on port + 1; relay agents on port
    bool ciscoOnly = false;
    std::string tftpDefault;  ///< option 150 when a pool has none; "" = the address the request came in on
    bool operator==(const Policy&) const = default;
};

/// @brief One datagram as the socket gave it.
struct Datagram {
    std::span<const std::uint8_t> bytes;
    Addr from = 0;       ///< the sender's address
    Addr local = 0;      ///< the address it came in on (IP_PKTINFO ipi_spec_dst)
    int ifindex = 0;     ///< the interface it came in on
};

/// @brief A parsed request and what the engine read from it.
struct Request {
    Packet packet;
    MessageType type = MessageType::Discover;
    std::string mac;
    Addr from = 0;
    Addr local = 0;
    int ifindex = 0;
    bool relayed = false;
    std::string vendorClass; ///< option 60, trailing NULs removed, printable
    std::string model;       ///< from the vendor class, "" when not a Cisco phone
    std::string hostname;
    std::string who() const { return model.empty() ? "client" : "CP-" + model; }
};

/// @brief A reply to send: to `to`:`port`, from `local`, on `ifindex` when broadcast.
struct Send {
    Packet packet;
    Addr to = 0;
    std::uint16_t port = 0;
    Addr local = 0;
    int ifindex = 0; ///< 0 = let the routing table choose
    std::string mac; ///< for the log when sending fails
};

/// @brief A lease to commit before its ACK leaves (Engine::committed builds the ACK).
struct Commit {
    Allocator::Granted granted;
    Request request;
    Pool pool;
    bool recordSighting = false; ///< an unknown MAC whose option 60 names a Cisco model
};

/// @brief What one datagram asks of the service.
struct Decision {
    std::optional<Send> send;          ///< a reply to send now
    std::optional<Commit> commit;      ///< commit, then call committed()
    std::optional<Lease> saveBehind;   ///< save with no reply waiting (release, decline)
};

class Engine {
public:
    /// @param isHostAddress whether an address belongs to this host (a REQUEST's server
    /// identifier); the address the request came in on always does.
    Engine(EventBus& bus, WallClock clock, std::function<bool(Addr)> isHostAddress);

    void setPolicy(Policy p) { policy_ = std::move(p); }
    const Policy& policy() const { return policy_; }
    void setPools(std::vector<Pool> pools) { allocator_.setPools(std::move(pools)); }
    void loadLeases(const std::vector<Lease>& leases) { allocator_.load(leases); }
    /// @brief Devices: reserved addresses and the MACs cisco-only mode admits.
    void setDevices(std::map<std::string, Addr> reservations, std::set<std::string> knownMacs);
    /// @brief The admin freed an address.
    void forget(Addr address) { allocator_.forget(address); }

    /// @brief Decides on one datagram: accept() then answer().
    Decision onDatagram(const Datagram& d);
    /// @brief Parses and checks one datagram, counted as received. A malformed one is
    /// dropped and counted (logged at most once a second), never thrown.
    std::optional<Request> accept(const Datagram& d);
    /// @brief What to do for an accepted request (an error inside is counted as dropped).
    Decision answer(const Request& in);
    /// @brief The commit of `c` ended: the ACK to send, or nothing (the grant was undone when
    /// the commit failed; the client will retry).
    std::optional<Send> committed(const Commit& c, bool ok);
    /// @brief The bound leases that ended without a renewal (at most `max`, the oldest first)
    /// are marked expired, an event each; the caller saves them.
    std::vector<Lease> sweep(std::size_t max);

    const Counters& counters() const { return counters_; }
    const Allocator& allocator() const { return allocator_; }

private:
    Decision decide(const Request& in);
    Decision discover(const Request& in, const Pool& pool);
    Decision request(const Request& in, const Pool& pool);
    Decision release(const Request& in);
    Decision decline(const Request& in);
    Decision inform(const Request& in, const Pool& pool);
    Decision ignore(const Request& in, const std::string& why);
    Packet reply(const Request& in, const Pool& pool, MessageType type) const;
    Send sendTo(const Request& in, Packet reply, bool forceBroadcast) const;

    EventBus& bus_;
    WallClock clock_;
    std::function<bool(Addr)> isHostAddress_;
    Policy policy_;
    Allocator allocator_;
    std::set<std::string> knownMacs_;
    std::map<std::string, std::int64_t> quietUntil_; ///< ignored-event limiter, per MAC
    std::int64_t nextDropLogMs_ = 0;
    Counters counters_;
};

} // namespace labcm::dhcp
