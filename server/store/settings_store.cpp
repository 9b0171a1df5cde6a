#include "store/settings_store.h"

#include <fmt/format.h>

#include "store/device_store.h" // NotFound

namespace labcm::store {

std::map<std::string, std::string> SettingsStore::rows() {
    auto s = db_.prepare("SELECT key, value FROM settings");
    std::map<std::string, std::string> out;
    while (s.step()) out.emplace(s.getText(0), s.getText(1));
    return out;
}

void SettingsStore::set(std::string_view key, std::string_view value, std::int64_t nowMs) {
    auto s = db_.prepare("INSERT INTO settings (key, value, updated_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at");
    s.bind(1, key).bind(2, value).bind(3, nowMs);
    s.run();
}

void SettingsStore::unset(std::string_view key) {
    auto s = db_.prepare("DELETE FROM settings WHERE key = ?");
    s.bind(1, key);
    s.run();
}

std::map<std::string, std::string> ModelDefaultStore::all() {
    auto s = db_.prepare("SELECT model, load FROM model_defaults ORDER BY model");
    std::map<std::string, std::string> out;
    while (s.step()) out.emplace(s.getText(0), s.getText(1));
    return out;
}

std::optional<std::string> ModelDefaultStore::get(std::string_view model) {
    auto s = db_.prepare("SELECT load FROM model_defaults WHERE model = ?");
    s.bind(1, model);
    if (!s.step()) return std::nullopt;
    return s.getText(0);
}

void ModelDefaultStore::set(std::string_view model, std::string_view load, std::int64_t nowMs) {
    if (load.empty()) {
        auto s = db_.prepare("DELETE FROM model_defaults WHERE model = ?");
        s.bind(1, model);
        s.run();
        return;
    }
    auto s = db_.prepare("INSERT INTO model_defaults (model, load, updated_at) VALUES (?, ?, ?) "
                         "ON CONFLICT (model) DO UPDATE SET load = excluded.load, updated_at = excluded.updated_at");
    s.bind(1, model).bind(2, load).bind(3, nowMs);
    s.run();
}

std::vector<AdminDialPattern> DialPatternStore::all() {
    auto s = db_.prepare("SELECT pattern, timeout, route FROM dial_patterns ORDER BY pattern");
    std::vector<AdminDialPattern> out;
    while (s.step()) out.push_back({s.getText(0), static_cast<int>(s.getInt(1)), s.getText(2)});
    return out;
}

void DialPatternStore::set(const AdminDialPattern& p, std::int64_t nowMs) {
    auto s = db_.prepare("INSERT INTO dial_patterns (pattern, timeout, route, updated_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (pattern) DO UPDATE SET timeout = excluded.timeout, route = excluded.route, "
                         "updated_at = excluded.updated_at");
    s.bind(1, p.pattern).bind(2, static_cast<std::int64_t>(p.timeoutSeconds)).bind(3, p.route).bind(4, nowMs);
    s.run();
}

void DialPatternStore::remove(std::string_view pattern) {
    auto s = db_.prepare("DELETE FROM dial_patterns WHERE pattern = ?");
    s.bind(1, pattern);
    s.run();
    if (db_.changes() == 0) throw NotFound(fmt::format("dial pattern '{}' does not exist", pattern));
}

std::vector<Mailbox> MailboxStore::all() {
    auto s = db_.prepare("SELECT dn, new_messages, old_messages FROM mailboxes ORDER BY dn");
    std::vector<Mailbox> out;
    while (s.step()) out.push_back({s.getText(0), static_cast<int>(s.getInt(1)), static_cast<int>(s.getInt(2))});
    return out;
}

void MailboxStore::set(const Mailbox& m, std::int64_t nowMs) {
    auto s = db_.prepare("INSERT INTO mailboxes (dn, new_messages, old_messages, updated_at) VALUES (?, ?, ?, ?) "
                         "ON CONFLICT (dn) DO UPDATE SET new_messages = excluded.new_messages, "
                         "old_messages = excluded.old_messages, updated_at = excluded.updated_at");
    s.bind(1, m.dn).bind(2, static_cast<std::int64_t>(m.newMessages)).bind(3, static_cast<std::int64_t>(m.oldMessages)).bind(4, nowMs);
    s.run();
}

void MailboxStore::remove(std::string_view dn) {
    auto s = db_.prepare("DELETE FROM mailboxes WHERE dn = ?");
    s.bind(1, dn);
    s.run();
    if (db_.changes() == 0) throw NotFound(fmt::format("mailbox {} does not exist", dn));
}

PhoneSettingValues PhoneSettingStore::get(std::string_view scope, std::string_view target) {
    auto s = db_.prepare("SELECT key, value FROM phone_settings WHERE scope = ? AND target = ?");
    s.bind(1, scope).bind(2, target);
    PhoneSettingValues out;
    while (s.step()) out.emplace(s.getText(0), s.getText(1));
    return out;
}

std::map<std::string, PhoneSettingValues> PhoneSettingStore::models() {
    auto s = db_.prepare("SELECT target, key, value FROM phone_settings WHERE scope = 'model'");
    std::map<std::string, PhoneSettingValues> out;
    while (s.step()) out[s.getText(0)].emplace(s.getText(1), s.getText(2));
    return out;
}

void PhoneSettingStore::set(std::string_view scope, std::string_view target, std::string_view key,
                            std::string_view value, std::int64_t nowMs) {
    std::optional<std::int64_t> deviceId;
    if (scope == "device") {
        auto q = db_.prepare("SELECT id FROM devices WHERE mac = ?");
        q.bind(1, target);
        if (!q.step()) throw NotFound(fmt::format("device SEP{} does not exist", target));
        deviceId = q.getInt(0);
    }
    auto s = db_.prepare("INSERT INTO phone_settings (scope, target, device_id, key, value, updated_at) "
                         "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (scope, target, key) DO UPDATE SET "
                         "value = excluded.value, updated_at = excluded.updated_at");
    s.bind(1, scope).bind(2, target);
    if (deviceId) s.bind(3, *deviceId);
    s.bind(4, key).bind(5, value).bind(6, nowMs);
    s.run();
}

void PhoneSettingStore::unset(std::string_view scope, std::string_view target, std::string_view key) {
    auto s = db_.prepare("DELETE FROM phone_settings WHERE scope = ? AND target = ? AND key = ?");
    s.bind(1, scope).bind(2, target).bind(3, key);
    s.run();
    if (db_.changes() == 0) throw NotFound(fmt::format("phone setting {} is not set for {}", key, scope == "lab" ? "the lab" : std::string(target)));
}

} // namespace labcm::store
