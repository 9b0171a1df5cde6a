#include "store/admin_store.h"

namespace labcm::store {

std::optional<std::string> AdminStore::passwordHash(const std::string& user) {
    auto s = db_.prepare("SELECT password_hash FROM admin_users WHERE name = ?");
    s.bind(1, user);
    if (!s.step()) return std::nullopt;
    return s.getText(0);
}

void AdminStore::setPasswordHash(const std::string& user, const std::string& hash, std::int64_t nowMs) {
    db_.prepare("INSERT INTO admin_users (name, password_hash, updated_at) VALUES (?, ?, ?) ON CONFLICT (name) DO "
                "UPDATE SET password_hash = excluded.password_hash, updated_at = excluded.updated_at")
        .bind(1, user)
        .bind(2, hash)
        .bind(3, nowMs)
        .run();
}

} // namespace labcm::store
