// A thin RAII layer over the SQLite C API: a connection, prepared statements, transactions.
// Errors become SqliteError carrying SQLite's extended result code and message.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <map>
#include <string>
#include <vector>
#include <string_view>
#include <utility>

struct sqlite3;
struct sqlite3_stmt;

namespace labcm::store {

class SqliteError : public std::runtime_error {
public:
    SqliteError(int code, const std::string& what) : std::runtime_error(what), code_(code) {}
    int code() const { return code_; }
    bool isConstraint() const { return (code_ & 0xFF) == 19; } // SQLITE_CONSTRAINT

private:
    int code_;
};

class Stmt;

/// @brief One SQLite connection. Not thread-safe: one thread owns it.
class Db {
public:
    enum class Mode { ReadWrite, ReadOnly };

    /// @brief Opens (creating when ReadWrite) the database; ":memory:" works too.
    /// Sets WAL, synchronous=NORMAL, foreign_keys=ON and the busy timeout.
    Db(const std::string& path, Mode mode = Mode::ReadWrite);
    ~Db();
    Db(const Db&) = delete;
    Db& operator=(const Db&) = delete;

    void exec(std::string_view sql);
    /// @brief A prepared statement. Statements are kept once used: the same SQL text is
    /// prepared once per connection (a statement in use is never handed out twice).
    Stmt prepare(std::string_view sql);
    std::int64_t lastInsertRowid() const;
    int changes() const;
    /// @brief PRAGMA data_version: changes when another connection commits.
    std::int64_t dataVersion();
    std::int64_t userVersion();
    const std::string& path() const { return path_; }
    sqlite3* handle() { return db_; }

private:
    friend class Stmt;
    /// @brief Takes back a statement whose Stmt ended: reset and kept for its SQL text.
    void recycle(sqlite3_stmt* s);

    sqlite3* db_ = nullptr;
    std::string path_;
    std::map<std::string, std::vector<sqlite3_stmt*>, std::less<>> idle_; ///< by SQL text
};

/// @brief A prepared statement; bind with 1-based indexes, step, read columns.
class Stmt {
public:
    Stmt(Db& db, sqlite3_stmt* s) : db_(&db), stmt_(s) {}
    Stmt(Stmt&& o) noexcept : db_(o.db_), stmt_(std::exchange(o.stmt_, nullptr)) {}
    Stmt& operator=(Stmt&&) = delete;
    Stmt(const Stmt&) = delete;
    ~Stmt();

    Stmt& bind(int i, std::int64_t v);
    Stmt& bind(int i, int v) { return bind(i, static_cast<std::int64_t>(v)); }
    Stmt& bind(int i, std::string_view v);
    Stmt& bind(int i, const std::string& v) { return bind(i, std::string_view(v)); }
    Stmt& bind(int i, const char* v) { return bind(i, std::string_view(v)); }
    Stmt& bindNull(int i);

    /// @brief Runs one step; true while a row is available.
    bool step();
    /// @brief Steps to completion (for statements that return no rows).
    void run();
    void reset();

    std::int64_t getInt(int col) const;
    std::string getText(int col) const;
    bool isNull(int col) const;

private:
    Db* db_;
    sqlite3_stmt* stmt_;
};

/// @brief BEGIN IMMEDIATE on construction, ROLLBACK on destruction unless commit() ran.
class Transaction {
public:
    explicit Transaction(Db& db);
    ~Transaction();
    void commit();

private:
    Db& db_;
    bool done_ = false;
};

} // namespace labcm::store
