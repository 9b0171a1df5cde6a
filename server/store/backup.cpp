#include "store/backup.h"

#include <sqlite3.h>

#include <filesystem>

#include <fmt/format.h>

#include "store/migrations.h"
#include "store/sqlite.h"

namespace labcm::store {

namespace {

// Copies every page of `from` into `to` in one step (one read transaction: a consistent
// snapshot even while another process writes).
void copyAll(Db& from, Db& to, const std::string& what) {
    sqlite3_backup* b = sqlite3_backup_init(to.handle(), "main", from.handle(), "main");
    if (!b) throw std::runtime_error(fmt::format("{}: {}", what, sqlite3_errmsg(to.handle())));
    int rc = sqlite3_backup_step(b, -1);
    sqlite3_backup_finish(b);
    if (rc != SQLITE_DONE)
        throw std::runtime_error(fmt::format("{}: {}", what, sqlite3_errstr(rc)));
}

BackupInfo checkOrThrow(Db& db, const std::string& path);

// The checks, with SQLite's own errors ("file is not a database") naming the file.
BackupInfo check(Db& db, const std::string& path) {
    try {
        return checkOrThrow(db, path);
    } catch (const SqliteError& e) {
        throw std::runtime_error(fmt::format("{} is not a readable labcm database: {}", path, e.what()));
    }
}

BackupInfo checkOrThrow(Db& db, const std::string& path) {
    auto s = db.prepare("PRAGMA integrity_check");
    s.step();
    if (s.getText(0) != "ok") throw std::runtime_error(fmt::format("{} fails its integrity check: {}", path, s.getText(0)));
    BackupInfo info;
    info.schema = static_cast<int>(db.userVersion());
    auto t = db.prepare("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'devices'");
    t.step();
    if (t.getInt(0) != 1) throw std::runtime_error(fmt::format("{} is not a labcm database (no devices table)", path));
    auto c = db.prepare("SELECT count(*) FROM devices");
    c.step();
    info.devices = c.getInt(0);
    std::error_code ec;
    info.bytes = static_cast<std::int64_t>(std::filesystem::file_size(path, ec));
    return info;
}

} // namespace

BackupInfo backupDatabase(const std::string& dbPath, const std::string& dest) {
    if (!std::filesystem::exists(dbPath)) throw std::runtime_error(fmt::format("no database at {}", dbPath));
    const std::string tmp = dest + ".tmp";
    std::filesystem::remove(tmp);
    BackupInfo info;
    {
        Db source(dbPath, Db::Mode::ReadOnly);
        Db copy(tmp);
        copyAll(source, copy, fmt::format("backup of {}", dbPath));
        copy.exec("PRAGMA journal_mode = DELETE"); // one self-contained file
        info = check(copy, tmp);
    }
    std::filesystem::rename(tmp, dest);
    std::error_code ec;
    info.bytes = static_cast<std::int64_t>(std::filesystem::file_size(dest, ec));
    return info;
}

BackupInfo restoreDatabase(const std::string& src, const std::string& dbPath) {
    if (!std::filesystem::exists(src)) throw std::runtime_error(fmt::format("no backup at {}", src));
    BackupInfo info;
    {
        Db backup(src, Db::Mode::ReadOnly);
        info = check(backup, src);
        if (info.schema > headVersion())
            throw std::runtime_error(fmt::format("{} has schema {}, newer than this labcm ({}): upgrade labcm first", src,
                                                 info.schema, headVersion()));
        Db target(dbPath);
        copyAll(backup, target, fmt::format("restore into {}", dbPath));
    }
    // A backup from an older labcm is brought up to date at once.
    Db db(dbPath);
    migrate(db);
    return info;
}

} // namespace labcm::store
