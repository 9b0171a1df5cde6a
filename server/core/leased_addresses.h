// The addresses labcm's DHCP server has leased, by MAC: the SIP registrar refuses a REGISTER
// for a phone from any other address (issue 19). The DHCP thread writes it (through the
// events of its ACKs, releases, declines and expiries), the SIP thread reads it per REGISTER.
// Bounded by the pools' sizes: one entry per bound lease.
#pragma once

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace labcm::net {

class LeasedAddresses {
public:
    /// @brief `mac` holds a bound lease of `address` (replaces any earlier one).
    void bind(const std::string& mac, const std::string& address) {
        std::lock_guard lock(mutex_);
        byMac_[mac] = address;
    }
    /// @brief `mac`'s lease of `address` ended (released, declined, expired); a lease of
    /// another address it holds since stays.
    void end(const std::string& mac, const std::string& address) {
        std::lock_guard lock(mutex_);
        if (auto it = byMac_.find(mac); it != byMac_.end() && (address.empty() || it->second == address)) byMac_.erase(it);
    }
    /// @brief The address `mac` holds a bound lease of; "" when none.
    std::string of(const std::string& mac) const {
        std::lock_guard lock(mutex_);
        auto it = byMac_.find(mac);
        return it == byMac_.end() ? std::string() : it->second;
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return byMac_.size();
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<std::string, std::string> byMac_;
};

} // namespace labcm::net
