// The data directory: its files, its lock, its migrations, and its settings.
#pragma once

#include <filesystem>
#include <string>
#include <utility>

#include "core/settings.h"
#include "store/sqlite.h"

namespace labcm::app {

/// @brief The files labcm keeps in its data directory.
struct DataDir {
    std::filesystem::path root;
    std::filesystem::path db() const { return root / "labcm.db"; }
    std::filesystem::path socket() const { return root / "control.sock"; }
    std::filesystem::path lockFile() const { return root / "labcm.lock"; }
    std::filesystem::path files() const { return root / "files"; }         ///< firmware, locales, ...
    std::filesystem::path templates() const { return root / "templates"; } ///< admin's template copies
    std::filesystem::path problemReports() const { return root / "prt"; }
    std::filesystem::path sipTrace() const { return root / "trace" / "sip-trace.journal"; } ///< the SIP trace across restarts   ///< phones' uploaded problem reports
    std::filesystem::path adminPasswordFile() const { return root / "admin-password"; } ///< the first run's, 0600
    /// @brief The absolute, normalised path, for logs and status.
    std::string display() const { return std::filesystem::absolute(root).lexically_normal().string(); }
};

/// @brief An exclusive flock on the data dir's lock file, held for the object's lifetime.
class DataDirLock {
public:
    /// @brief Creates the data dir (0750) if needed and tries to take the lock.
    /// @throw std::runtime_error when the directory cannot be created or opened.
    explicit DataDirLock(const DataDir& dir);
    ~DataDirLock();
    DataDirLock(const DataDirLock&) = delete;
    DataDirLock& operator=(const DataDirLock&) = delete;
    bool held() const { return held_; }

private:
    int fd_ = -1;
    bool held_ = false;
};

/// @brief Opens (creating) the database and applies pending migrations.
/// @return {from, to} schema versions.
std::pair<int, int> migrateDataDir(const DataDir& dir);

/// @brief Loads settings; a database holding an invalid value still starts, on defaults,
/// loudly (the error is logged).
Settings loadSettingsOrDefaults(store::Db& db);

} // namespace labcm::app
