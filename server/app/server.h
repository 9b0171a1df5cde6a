// Wiring: the data directory, `labcm serve`, and running one command without a server.
#pragma once

#include <filesystem>
#include <string>

#include <boost/json/value.hpp>

namespace labcm::app {

/// @brief The files labcm keeps in its data directory.
struct DataDir {
    std::filesystem::path root;
    std::filesystem::path db() const { return root / "labcm.db"; }
    std::filesystem::path socket() const { return root / "control.sock"; }
    std::filesystem::path lockFile() const { return root / "labcm.lock"; }
    std::filesystem::path files() const { return root / "files"; }         ///< firmware, locales, ...
    std::filesystem::path templates() const { return root / "templates"; } ///< admin's template copies
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

/// @brief `labcm serve`: runs until SIGINT/SIGTERM; returns the process exit code.
int serve(const DataDir& dir);

/// @brief GET /api/health on the admin port the settings name (127.0.0.1 when it binds all
/// addresses), 3 s at most: 0 when it answers 200, else 1 with the reason on stderr (the
/// container's HEALTHCHECK).
int healthCheck(const DataDir& dir);

/// @brief A server holds the data dir's lock but its control socket does not answer (yet).
class ServerNotAnswering : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

/// @brief Runs one command request on the database directly (no server running).
/// @throw ServerNotAnswering when a server holds the data dir (starting or stopping).
boost::json::value runDirect(const DataDir& dir, const boost::json::value& request);

} // namespace labcm::app
