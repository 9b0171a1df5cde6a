#include "app/data_dir.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "store/migrations.h"
#include "store/settings_store.h"

namespace labcm::app {

DataDirLock::DataDirLock(const DataDir& dir) {
    std::error_code ec;
    std::filesystem::create_directories(dir.root, ec);
    if (ec) throw std::runtime_error(fmt::format("cannot create data dir {}: {}", dir.root.string(), ec.message()));
    ::chmod(dir.root.c_str(), 0750);
    std::filesystem::create_directories(dir.files(), ec);
    std::filesystem::create_directories(dir.templates(), ec);
    fd_ = ::open(dir.lockFile().c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd_ < 0)
        throw std::runtime_error(fmt::format("cannot open {}: {}", dir.lockFile().string(), std::strerror(errno)));
    held_ = ::flock(fd_, LOCK_EX | LOCK_NB) == 0;
}

DataDirLock::~DataDirLock() {
    if (fd_ >= 0) ::close(fd_); // closing releases the flock
}

std::pair<int, int> migrateDataDir(const DataDir& dir) {
    store::Db db(dir.db().string());
    auto r = store::migrate(db);
    return {r.from, r.to};
}

Settings loadSettingsOrDefaults(store::Db& db) {
    try {
        return store::SettingsStore(db).load();
    } catch (const FieldErrorException& e) {
        spdlog::error("settings: {}; using the built-in defaults until it is fixed", e.what());
        return Settings{};
    }
}

} // namespace labcm::app
