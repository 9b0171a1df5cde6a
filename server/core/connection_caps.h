// Connections open per peer address, against a cap in total and one per address: the SIP TCP
// port, the phones' HTTP port and the admin port each keep one, so one host (a scanner, a
// test tool, a misconfigured device) cannot take every connection a lab's phones need.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

struct sockaddr;

namespace labcm::net {

/// @brief An IP address as 16 bytes (IPv4 as IPv4-mapped IPv6), the key of the counts.
struct PeerAddress {
    std::array<std::uint8_t, 16> bytes{};
    bool operator==(const PeerAddress&) const = default;
    /// @brief The address of an AF_INET or AF_INET6 sockaddr; nullopt-like all-zero otherwise.
    static PeerAddress from(const sockaddr* sa);
    static PeerAddress fromV4(std::uint32_t hostOrder);
    std::string toString() const;
};

struct PeerAddressHash {
    std::size_t operator()(const PeerAddress& a) const noexcept;
};

/// @brief Why a connection was not admitted.
enum class Admission { Admitted, TotalFull, AddressFull };

/// @brief Counts of open connections in total and per address, each against its cap (0: no
/// cap). Thread-safe: the phones' HTTP port admits on one thread and releases on others.
class ConnectionCaps {
public:
    ConnectionCaps(std::size_t total, std::size_t perAddress) : total_(total), perAddress_(perAddress) {}
    ConnectionCaps(const ConnectionCaps&) = delete;
    ConnectionCaps& operator=(const ConnectionCaps&) = delete;

    /// @brief Counts a new connection from `a` when both caps allow it.
    Admission admit(const PeerAddress& a);
    /// @brief A connection admitted from `a` has closed.
    void release(const PeerAddress& a);
    void setLimits(std::size_t total, std::size_t perAddress);
    std::size_t open() const;
    std::size_t openFrom(const PeerAddress& a) const;
    /// @brief Distinct addresses with a connection open (the map's size: bounded by the total cap).
    std::size_t addresses() const;

private:
    mutable std::mutex mutex_;
    std::size_t total_, perAddress_, open_ = 0;
    std::unordered_map<PeerAddress, std::size_t, PeerAddressHash> byAddress_;
};

/// @brief Releases one admitted connection when it goes (a session holds it).
class AdmittedConnection {
public:
    AdmittedConnection() = default;
    AdmittedConnection(ConnectionCaps& caps, PeerAddress a) : caps_(&caps), address_(a) {}
    AdmittedConnection(AdmittedConnection&& o) noexcept : caps_(std::exchange(o.caps_, nullptr)), address_(o.address_) {}
    AdmittedConnection& operator=(AdmittedConnection&& o) noexcept {
        if (this != &o) {
            reset();
            caps_ = std::exchange(o.caps_, nullptr);
            address_ = o.address_;
        }
        return *this;
    }
    ~AdmittedConnection() { reset(); }
    void reset() {
        if (caps_) std::exchange(caps_, nullptr)->release(address_);
    }

private:
    ConnectionCaps* caps_ = nullptr;
    PeerAddress address_;
};

} // namespace labcm::net
