// SIP registrations in SQLite: the registrar's write-behind copy (one row per device).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "store/sqlite.h"

namespace labcm::store {

struct RegistrationRecord {
    std::string mac;
    std::string state; ///< "registered", "unregistered", "expired"
    std::string contact, callId, source, transport, userAgent;
    std::optional<int> modelId;
    std::string activeLoad, inactiveLoad, lastReason;
    int alarm = -1;
    int lines = 0;
    std::int64_t registeredAtMs = 0;
    std::int64_t expiresAtMs = 0; ///< wall clock
    std::int64_t updatedAtMs = 0; ///< last REGISTER (or expiry) seen; RegistrationSaver stamps the save's time when 0
};

class RegistrationStore {
public:
    explicit RegistrationStore(Db& db) : db_(db) {}
    /// @brief Inserts or replaces the device's row (writer job only). Loads and Last are
    /// kept when the record has none (keep-alives carry no Reason).
    void save(const RegistrationRecord& r, std::int64_t nowMs);
    std::optional<RegistrationRecord> get(const std::string& mac);
    std::vector<RegistrationRecord> all();
    /// @brief Rows in state "registered" whose expiry is after nowMs: what a restart restores.
    std::vector<RegistrationRecord> live(std::int64_t nowMs);

private:
    Db& db_;
};

} // namespace labcm::store
