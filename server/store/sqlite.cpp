#include "store/sqlite.h"

#include <sqlite3.h>

#include <fmt/format.h>

#include "core/limits.h"

namespace labcm::store {
namespace {

[[noreturn]] void throwError(sqlite3* db, int rc, std::string_view context) {
    const char* msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    throw SqliteError(db ? sqlite3_extended_errcode(db) : rc, fmt::format("{}: {}", context, msg));
}

} // namespace

Db::Db(const std::string& path, Mode mode) : path_(path) {
    int flags = mode == Mode::ReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
    flags |= SQLITE_OPEN_NOMUTEX; // one owning thread per connection
    int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = db_ ? sqlite3_errmsg(db_) : sqlite3_errstr(rc);
        sqlite3_close(db_);
        db_ = nullptr;
        throw SqliteError(rc, fmt::format("cannot open database {}: {}", path, msg));
    }
    sqlite3_extended_result_codes(db_, 1);
    sqlite3_busy_timeout(db_, static_cast<int>(limits::kSqliteBusyTimeout.count()));
    exec("PRAGMA foreign_keys = ON");
    if (mode == Mode::ReadWrite) {
        // WAL: readers never block the writer; synchronous=NORMAL: a process crash loses
        // nothing committed, a power cut may lose the last transactions (README "Durability").
        exec("PRAGMA journal_mode = WAL");
        exec("PRAGMA synchronous = NORMAL");
    }
}

Db::~Db() {
    for (auto& [sql, list] : idle_)
        for (auto* s : list) sqlite3_finalize(s);
    if (db_) sqlite3_close_v2(db_);
}

void Db::exec(std::string_view sql) {
    char* err = nullptr;
    std::string s(sql);
    int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw SqliteError(sqlite3_extended_errcode(db_), msg);
    }
}

Stmt Db::prepare(std::string_view sql) {
    if (auto it = idle_.find(sql); it != idle_.end() && !it->second.empty()) {
        auto* s = it->second.back();
        it->second.pop_back();
        return Stmt(*this, s);
    }
    sqlite3_stmt* s = nullptr;
    int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, nullptr);
    if (rc != SQLITE_OK) throwError(db_, rc, fmt::format("prepare '{}'", sql.substr(0, 60)));
    return Stmt(*this, s);
}

std::int64_t Db::lastInsertRowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

std::int64_t Db::dataVersion() {
    auto s = prepare("PRAGMA data_version");
    s.step();
    return s.getInt(0);
}

std::int64_t Db::userVersion() {
    auto s = prepare("PRAGMA user_version");
    s.step();
    return s.getInt(0);
}

void Db::recycle(sqlite3_stmt* s) {
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    const char* sql = sqlite3_sql(s);
    auto it = sql ? idle_.find(std::string_view(sql)) : idle_.end();
    if (sql && it == idle_.end() && idle_.size() < limits::kSqlStatementsKept) it = idle_.emplace(sql, std::vector<sqlite3_stmt*>{}).first;
    if (it == idle_.end() || it->second.size() >= 4) {
        sqlite3_finalize(s); // SQL built per call (IN lists): not worth keeping
        return;
    }
    it->second.push_back(s);
}

Stmt::~Stmt() {
    if (stmt_) db_->recycle(stmt_);
}

Stmt& Stmt::bind(int i, std::int64_t v) {
    int rc = sqlite3_bind_int64(stmt_, i, v);
    if (rc != SQLITE_OK) throwError(db_->handle(), rc, "bind");
    return *this;
}

Stmt& Stmt::bind(int i, std::string_view v) {
    int rc = sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    if (rc != SQLITE_OK) throwError(db_->handle(), rc, "bind");
    return *this;
}

Stmt& Stmt::bindNull(int i) {
    int rc = sqlite3_bind_null(stmt_, i);
    if (rc != SQLITE_OK) throwError(db_->handle(), rc, "bind");
    return *this;
}

bool Stmt::step() {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throwError(db_->handle(), rc, "step");
}

void Stmt::run() {
    while (step()) {
    }
}

void Stmt::reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
}

std::int64_t Stmt::getInt(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Stmt::getText(int col) const {
    const auto* p = sqlite3_column_text(stmt_, col);
    if (!p) return {};
    return std::string(reinterpret_cast<const char*>(p), static_cast<std::size_t>(sqlite3_column_bytes(stmt_, col)));
}

bool Stmt::isNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

Transaction::Transaction(Db& db) : db_(db) { db_.exec("BEGIN IMMEDIATE"); }

Transaction::~Transaction() {
    if (!done_) {
        try {
            db_.exec("ROLLBACK");
        } catch (...) {
            // The transaction may already be gone (SQLite rolls back on some errors).
        }
    }
}

void Transaction::commit() {
    db_.exec("COMMIT");
    done_ = true;
}

} // namespace labcm::store
