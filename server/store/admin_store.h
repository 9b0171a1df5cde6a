// The admin login's password hash (schema 0008).
#pragma once

#include <optional>
#include <string>

#include "store/sqlite.h"

namespace labcm::store {

class AdminStore {
public:
    explicit AdminStore(Db& db) : db_(db) {}
    std::optional<std::string> passwordHash(const std::string& user);
    /// @brief Writer job only.
    void setPasswordHash(const std::string& user, const std::string& hash, std::int64_t nowMs);

private:
    Db& db_;
};

} // namespace labcm::store
