#include "store/registration_store.h"

namespace labcm::store {
namespace {

constexpr const char* kColumns = "mac, state, contact, call_id, source, transport, user_agent, model_id, active_load, "
                                 "inactive_load, alarm, last_reason, lines, registered_at, expires_at, updated_at";

RegistrationRecord read(Stmt& s) {
    RegistrationRecord r;
    r.mac = s.getText(0);
    r.state = s.getText(1);
    r.contact = s.getText(2);
    r.callId = s.getText(3);
    r.source = s.getText(4);
    r.transport = s.getText(5);
    r.userAgent = s.getText(6);
    if (!s.isNull(7)) r.modelId = static_cast<int>(s.getInt(7));
    r.activeLoad = s.getText(8);
    r.inactiveLoad = s.getText(9);
    r.alarm = static_cast<int>(s.getInt(10));
    r.lastReason = s.getText(11);
    r.lines = static_cast<int>(s.getInt(12));
    r.registeredAtMs = s.getInt(13);
    r.expiresAtMs = s.getInt(14);
    r.updatedAtMs = s.getInt(15);
    return r;
}

} // namespace

void RegistrationStore::save(const RegistrationRecord& r, std::int64_t nowMs) {
    auto s = db_.prepare(
        "INSERT INTO registrations (mac, state, contact, call_id, source, transport, user_agent, model_id, active_load, "
        "inactive_load, alarm, last_reason, lines, registered_at, expires_at, updated_at) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16) "
        "ON CONFLICT (mac) DO UPDATE SET state = ?2, contact = ?3, call_id = ?4, source = ?5, transport = ?6, "
        "user_agent = CASE WHEN ?7 = '' THEN user_agent ELSE ?7 END, model_id = coalesce(?8, model_id), "
        "active_load = CASE WHEN ?9 = '' THEN active_load ELSE ?9 END, "
        "inactive_load = CASE WHEN ?9 = '' THEN inactive_load ELSE ?10 END, "
        "alarm = CASE WHEN ?11 < 0 THEN alarm ELSE ?11 END, "
        "last_reason = CASE WHEN ?12 = '' THEN last_reason ELSE ?12 END, lines = ?13, "
        "registered_at = CASE WHEN ?14 = 0 THEN registered_at ELSE ?14 END, expires_at = ?15, updated_at = ?16");
    s.bind(1, r.mac).bind(2, r.state).bind(3, r.contact).bind(4, r.callId).bind(5, r.source).bind(6, r.transport)
        .bind(7, r.userAgent);
    if (r.modelId) s.bind(8, *r.modelId);
    else s.bindNull(8);
    s.bind(9, r.activeLoad).bind(10, r.inactiveLoad).bind(11, r.alarm).bind(12, r.lastReason).bind(13, r.lines)
        .bind(14, r.registeredAtMs).bind(15, r.expiresAtMs).bind(16, nowMs);
    s.run();
}

std::optional<RegistrationRecord> RegistrationStore::get(const std::string& mac) {
    auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM registrations WHERE mac = ?");
    s.bind(1, mac);
    if (!s.step()) return std::nullopt;
    return read(s);
}

std::vector<RegistrationRecord> RegistrationStore::all() {
    auto s = db_.prepare(std::string("SELECT ") + kColumns + " FROM registrations ORDER BY mac");
    std::vector<RegistrationRecord> out;
    while (s.step()) out.push_back(read(s));
    return out;
}

std::vector<RegistrationRecord> RegistrationStore::live(std::int64_t nowMs) {
    auto s = db_.prepare(std::string("SELECT ") + kColumns +
                         " FROM registrations WHERE state = 'registered' AND expires_at > ? ORDER BY mac");
    s.bind(1, nowMs);
    std::vector<RegistrationRecord> out;
    while (s.step()) out.push_back(read(s));
    return out;
}

} // namespace labcm::store
