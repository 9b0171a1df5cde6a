#include "store/migrations.h"

#include <cstdlib>

#include <fmt/format.h>

namespace labcm::store {
namespace {

int versionOf(const Migration& m) { return std::atoi(m.name); }

} // namespace

int headVersion() { return migrations().empty() ? 0 : versionOf(migrations().back()); }

MigrationResult migrate(Db& db) {
    Transaction tx(db);
    int from = static_cast<int>(db.userVersion());
    int head = headVersion();
    if (from > head)
        throw SchemaTooNewError(fmt::format(
            "database {} has schema version {}, but this labcm {} knows only up to version {}: "
            "run a newer labcm, or restore a backup made by this version",
            db.path(), from, LABCM_VERSION, head));
    for (const auto& m : migrations()) {
        int v = versionOf(m);
        if (v <= from) continue;
        try {
            db.exec(m.sql);
        } catch (const SqliteError& e) {
            throw SqliteError(e.code(), fmt::format("migration {} failed: {}", m.name, e.what()));
        }
    }
    if (head != from) db.exec(fmt::format("PRAGMA user_version = {}", head));
    tx.commit();
    return {from, head};
}

} // namespace labcm::store
