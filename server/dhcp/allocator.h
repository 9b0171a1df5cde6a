// Which address a client gets, pure (no sockets, no SQLite, time passed in): the leases
// committed to the database mirrored in memory, offers held for a short time, static
// reservations from the device table. One thread owns it (the io thread); the service
// commits a grant through the writer before it sends the ACK.
//
// Offer order for a MAC in a pool: its reservation; its own lease (any state but declined);
// the address it asks for (option 50) when free; the lowest never-used address; then the
// address whose lease ended longest ago (expired or released, oldest first).
//
// Nothing a request does grows with the pool or the lease count: leases are indexed by
// address, by MAC and by end time; offers by address and by MAC, and lapse in the order they
// were made; each pool walks its never-used addresses once with a cursor, and an address the
// cursor passed that comes free again without having been leased (a lapsed offer, a lease the
// admin removed) waits in a sorted set.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <unordered_map>
#include <optional>
#include <string>
#include <vector>

#include "dhcp/pool.h"

namespace labcm::dhcp {

enum class LeaseState : std::uint8_t { Bound, Released, Declined, Expired };
std::string_view toString(LeaseState s);
std::optional<LeaseState> leaseStateFromString(std::string_view s);

/// @brief A committed lease (one row of dhcp_leases).
struct Lease {
    Addr address = 0;
    std::string mac;
    LeaseState state = LeaseState::Bound;
    std::int64_t expiresMs = 0;   ///< bound, expired: end of the lease; released: when; declined: end of the quarantine
    std::string pool;
    std::string vendorClass;      ///< option 60 as sent (trailing NULs removed)
    std::string model;            ///< from the vendor class ("8845"), "" when not a Cisco phone
    std::string hostname;         ///< option 12
    std::int64_t updatedMs = 0;

    /// @brief Still holds its address at `nowMs` (a bound lease not yet ended, a
    /// declined address still in quarantine).
    bool active(std::int64_t nowMs) const { return state != LeaseState::Released && expiresMs > nowMs; }
};

/// @brief What to do with a REQUEST.
struct Verdict {
    enum Kind { Grant, Nak, Ignore } kind = Ignore;
    std::string why; ///< for Nak/Ignore: the reason, in words
};

class Allocator {
public:
    /// @param offerHoldMs how long an offered address stays reserved for the client.
    explicit Allocator(std::int64_t offerHoldMs) : offerHoldMs_(offerHoldMs) {}

    void setPools(std::vector<Pool> pools);
    const std::vector<Pool>& pools() const { return pools_; }
    /// @brief mac -> reserved address (devices with a dhcp_address).
    void setReservations(std::map<std::string, Addr> reservations);
    /// @brief Replaces the mirror with the leases read from the database (at start).
    void load(const std::vector<Lease>& leases);

    /// @brief The pool whose subnet holds `link` (giaddr, or the address the request came in on).
    const Pool* poolFor(Addr link) const;

    /// @brief Picks an address for a DISCOVER and holds it for the offer time.
    /// @param self an address of the server itself (never handed out); 0 = none.
    /// @return nullopt with `why` when the pool has no address for this client.
    std::optional<Addr> offer(const Pool& pool, const std::string& mac, std::optional<Addr> requested, Addr self,
                              std::int64_t nowMs, std::string& why);

    /// @brief Checks a REQUEST for `address` (selecting, init-reboot, renewing, rebinding).
    Verdict check(const Pool& pool, const std::string& mac, Addr address, Addr self, std::int64_t nowMs) const;

    struct Granted {
        std::vector<Lease> save;     ///< the new lease first, then an older one of the MAC released
        std::vector<Lease> previous; ///< the rows as they were, for revert()
    };
    /// @brief Binds `lease.address` to `lease.mac` in memory (after check() said Grant); the
    /// caller commits `save`, then ACKs. Another address this MAC held in the same pool is
    /// released in the same step.
    Granted grant(const Pool& pool, Lease lease, std::int64_t nowMs);
    /// @brief Undoes a grant whose commit failed.
    void revert(const Granted& g);

    /// @brief RELEASE: the MAC's bound lease on `address` ends now. nullopt when it holds none.
    std::optional<Lease> release(const std::string& mac, Addr address, std::int64_t nowMs);
    /// @brief DECLINE: the address is in use by someone else; quarantined for `holdMs`.
    std::optional<Lease> decline(const std::string& mac, Addr address, std::int64_t holdMs, std::int64_t nowMs);
    /// @brief The bound leases that ended by `nowMs` (at most `max`, the oldest first) become
    /// Expired; returned for the caller to save.
    std::vector<Lease> expire(std::int64_t nowMs, std::size_t max);
    /// @brief The admin frees an address (lease rm).
    bool forget(Addr address);
    /// @brief The client chose another server: its offer is dropped.
    void dropOffer(const std::string& mac);

    const Lease* find(Addr address) const;
    const std::map<Addr, Lease>& leases() const { return leases_; }
    std::size_t offersHeld() const { return offers_.size(); }

private:
    struct Offer {
        std::string mac;
        std::int64_t expiresMs;
    };
    /// A pool's never-used addresses: every address below `next` was handed out, leased,
    /// reserved or the server's own, unless it is in `returned`.
    struct Fresh {
        Addr first = 0, last = 0; ///< the pool's range
        Addr next = 0;            ///< 0: the cursor has passed the last address
        std::set<Addr> returned;
    };
    /// @brief Nobody else holds `a` (lease, offer, reservation) at `nowMs`.
    bool freeFor(const std::string& mac, Addr a, Addr self, std::int64_t nowMs) const;
    std::optional<Addr> reservationOf(const std::string& mac) const;
    std::optional<Addr> neverUsed(const Pool& pool, const std::string& mac, Addr self, std::int64_t nowMs);
    std::optional<Addr> endedLongestAgo(const Pool& pool, const std::string& mac, Addr self, std::int64_t nowMs) const;
    Addr hold(const std::string& mac, Addr a, std::int64_t nowMs);
    /// @brief Drops the offers that lapsed by `nowMs` (oldest first).
    void lapseOffers(std::int64_t nowMs);
    void eraseOffer(Addr a);
    /// @brief `a` may be free again without having been leased: back to its pool's fresh set.
    void giveBack(Addr a);
    /// @brief Every change of leases_ goes through these two, which keep the indexes.
    void put(const Lease& l);
    void drop(Addr a);

    std::int64_t offerHoldMs_;
    std::vector<Pool> pools_;
    std::map<std::string, Addr> reservedByMac_;
    std::map<Addr, std::string> reservedByAddr_;
    std::map<Addr, Lease> leases_;
    std::unordered_map<std::string, std::set<Addr>> leasesOfMac_;
    std::set<std::pair<std::int64_t, Addr>> byEnd_; ///< (expiresMs, address) of every lease
    std::set<std::pair<std::int64_t, Addr>> boundByEnd_; ///< the same, of the bound ones
    std::map<Addr, Offer> offers_;
    std::unordered_map<std::string, Addr> offerOfMac_;
    std::deque<std::pair<std::int64_t, Addr>> offerOrder_; ///< (expiresMs, address) as made
    std::unordered_map<std::string, Fresh> fresh_; ///< by pool name
};

/// @brief Cisco-only mode: the client is answered when its option 60 names a Cisco phone
/// or its MAC is a configured device. @return "" when admitted, else why not.
std::string ciscoOnlyRefusal(std::string_view vendorClass, bool knownDevice);

} // namespace labcm::dhcp
