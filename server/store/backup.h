// Online backup and restore of the database file with SQLite's backup API. A backup reads
// one consistent snapshot while `labcm serve` keeps writing (WAL readers never block the
// writer); a restore replaces the database of a stopped server after checking the file.
#pragma once

#include <cstdint>
#include <string>

namespace labcm::store {

struct BackupInfo {
    int schema = 0;            ///< user_version of the copy
    std::int64_t devices = 0;
    std::int64_t bytes = 0;
};

/// @brief Copies the database at `dbPath` to `dest` (written to dest + ".tmp", checked with
/// PRAGMA integrity_check, then renamed, so `dest` is complete or absent).
/// @throw std::runtime_error naming what failed.
BackupInfo backupDatabase(const std::string& dbPath, const std::string& dest);

/// @brief Checks that `src` is a labcm database this build can open (integrity, schema not
/// newer than ours), then copies it over the database at `dbPath`. The caller holds the data
/// dir lock (no server running). @throw std::runtime_error; the database is unchanged then.
BackupInfo restoreDatabase(const std::string& src, const std::string& dbPath);

} // namespace labcm::store
