// Numbered schema migrations (schema/0001_init.sql, 0002_...), embedded at build time.
// The schema version lives in PRAGMA user_version.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include "store/sqlite.h"

namespace labcm::store {

struct Migration {
    const char* name; ///< file name, "0001_init.sql"; its number is the version it creates
    const char* sql;
};

/// @brief Every migration this build knows, in order (generated from schema/).
const std::vector<Migration>& migrations();

/// @brief The schema version this build creates (= number of the last migration).
int headVersion();

/// @brief The database was written by a newer labcm.
class SchemaTooNewError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct MigrationResult {
    int from;
    int to;
};

/// @brief Applies all pending migrations in one transaction.
/// @throw SchemaTooNewError when the database's version is above headVersion().
MigrationResult migrate(Db& db);

} // namespace labcm::store
