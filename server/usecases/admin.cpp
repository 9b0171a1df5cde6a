// Admin and login: the admin password (the CLI hashes it, slow on purpose, and sends only
// the hash; usecases/passwords.h).
#include "usecases/passwords.h"
#include "store/admin_store.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {

void addAdminUseCases(Table& t) {
    t.add("admin.password", [&t](const json::object& a, Reply reply) {
        auto hash = reqString(a, "hash");
        if (!isPasswordHash(hash)) badArg("hash", "not an argon2id password hash (use 'labcm admin password')");
        auto now = nowMs();
        t.write(
            [hash, now](store::Db& db) -> json::value {
                store::AdminStore(db).setPasswordHash("admin", hash, now);
                return json::object{{"user", "admin"}};
            },
            [&t](json::value&) {
                t.ctx.bus.publish(Service::Admin, EventKind::AdminPasswordChanged, Severity::Info, "", "",
                                  "admin password changed; every admin session ends");
            },
            reply);
    });
}

} // namespace labcm::usecases::detail
