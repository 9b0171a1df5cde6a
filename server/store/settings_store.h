// Settings rows, per-model firmware defaults and the admin's dial patterns in SQLite.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/dial_pattern.h"
#include "core/mailbox.h"
#include "core/phone_settings.h"
#include "core/settings.h"
#include "store/sqlite.h"

namespace labcm::store {

class SettingsStore {
public:
    explicit SettingsStore(Db& db) : db_(db) {}

    /// @brief The stored rows (only non-default values).
    std::map<std::string, std::string> rows();
    /// @brief The validated Settings from the stored rows.
    Settings load() { return settingsFromRows(rows()); }
    /// @brief Stores a canonical value (writer job only).
    void set(std::string_view key, std::string_view value, std::int64_t nowMs);
    /// @brief Back to the default (writer job only).
    void unset(std::string_view key);

private:
    Db& db_;
};

class ModelDefaultStore {
public:
    explicit ModelDefaultStore(Db& db) : db_(db) {}

    /// @brief model -> load name, for the models that have one.
    std::map<std::string, std::string> all();
    std::optional<std::string> get(std::string_view model);
    /// @brief Sets (or, with an empty load, clears) a model's default load (writer job only).
    void set(std::string_view model, std::string_view load, std::int64_t nowMs);

private:
    Db& db_;
};

/// The admin's dial patterns (schema 11).
class DialPatternStore {
public:
    explicit DialPatternStore(Db& db) : db_(db) {}
    /// @brief Every pattern, by pattern.
    std::vector<AdminDialPattern> all();
    /// @brief Adds or changes one (writer job only).
    void set(const AdminDialPattern& p, std::int64_t nowMs);
    /// @brief Removes one. @throw NotFound when there is no such pattern.
    void remove(std::string_view pattern);

private:
    Db& db_;
};

/// Message-waiting counts per directory number (schema 13).
class MailboxStore {
public:
    explicit MailboxStore(Db& db) : db_(db) {}
    /// @brief Every mailbox, by DN.
    std::vector<Mailbox> all();
    /// @brief Sets one's counts (writer job only).
    void set(const Mailbox& m, std::int64_t nowMs);
    /// @brief Removes one. @throw NotFound when there is no such mailbox.
    void remove(std::string_view dn);

private:
    Db& db_;
};

/// Phone settings per lab, model and device (schema 12). scope: "lab" (target ""), "model"
/// (target the model's name) or "device" (target the MAC).
class PhoneSettingStore {
public:
    explicit PhoneSettingStore(Db& db) : db_(db) {}
    PhoneSettingValues get(std::string_view scope, std::string_view target);
    /// @brief model -> its values, for the models that have some.
    std::map<std::string, PhoneSettingValues> models();
    /// @brief Sets one (writer job only). @throw NotFound for a device that does not exist.
    void set(std::string_view scope, std::string_view target, std::string_view key, std::string_view value,
             std::int64_t nowMs);
    /// @brief Unsets one. @throw NotFound when it was not set there.
    void unset(std::string_view scope, std::string_view target, std::string_view key);

private:
    Db& db_;
};

} // namespace labcm::store
