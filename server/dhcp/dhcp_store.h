// DHCP pools and leases in SQLite (schema 0007), next to the allocator whose types it stores. Leases are keyed by address, so the
// database itself cannot hold one address for two MACs; the server writes a lease through
// the writer and sends the ACK only after that commit.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "dhcp/allocator.h"
#include "store/sqlite.h"

namespace labcm::dhcp {

class DhcpStore {
public:
    explicit DhcpStore(store::Db& db) : db_(db) {}

    std::vector<PoolSpec> pools();
    std::optional<PoolSpec> pool(const std::string& name);
    /// @brief Adds or replaces a pool (writer job only; the spec is already checked).
    void savePool(const PoolSpec& p, std::int64_t nowMs);
    /// @throw NotFound
    void removePool(const std::string& name);

    /// @brief Every lease row, by address. A row with a bad address or state is skipped
    /// (and logged): it can only come from an outside edit.
    std::vector<Lease> leases();
    /// @brief Writes a lease row (writer job only).
    void saveLease(const Lease& l);
    /// @brief Deletes the row of an address (writer job only); false when there was none.
    bool removeLease(Addr address);

private:
    store::Db& db_;
};

} // namespace labcm::dhcp
