#include "store/device_store.h"

#include <fmt/format.h>

namespace labcm::store {
namespace {

constexpr const char* kDeviceColumns =
    "id, mac, model, description, load_override, created_at, updated_at, transport, digest_auth, dhcp_address";

Device readDevice(Stmt& s) {
    Device d;
    d.mac = s.getText(1);
    d.model = s.getText(2);
    d.description = s.getText(3);
    d.loadOverride = s.getText(4);
    d.createdAt = s.getInt(5);
    d.updatedAt = s.getInt(6);
    d.transport = s.getText(7);
    d.digestAuth = s.getInt(8) != 0;
    d.dhcpAddress = s.getText(9);
    return d;
}

std::string likePattern(std::string_view text) {
    std::string p = "%";
    for (char c : text) {
        if (c == '%' || c == '_' || c == '\\') p.push_back('\\');
        p.push_back(c);
    }
    return p + "%";
}

} // namespace

std::vector<Line> DeviceStore::linesOf(std::int64_t deviceId) {
    auto s = db_.prepare("SELECT line_index, dn, display_name, label, auth_name, auth_password, contact "
                         "FROM lines WHERE device_id = ? ORDER BY line_index");
    s.bind(1, deviceId);
    std::vector<Line> out;
    while (s.step())
        out.push_back({static_cast<int>(s.getInt(0)), s.getText(1), s.getText(2), s.getText(3), s.getText(4),
                       s.getText(5), s.getText(6)});
    return out;
}

std::vector<SpeedDial> DeviceStore::speedDialsOf(std::int64_t deviceId) {
    auto s = db_.prepare("SELECT button, number, label, blf FROM speed_dials WHERE device_id = ? ORDER BY button");
    s.bind(1, deviceId);
    std::vector<SpeedDial> out;
    while (s.step()) out.push_back({static_cast<int>(s.getInt(0)), s.getText(1), s.getText(2), s.getInt(3) != 0});
    return out;
}

bool DeviceStore::buttonTaken(std::int64_t deviceId, int button) {
    auto s = db_.prepare("SELECT 1 FROM lines WHERE device_id = ?1 AND line_index = ?2 "
                         "UNION ALL SELECT 1 FROM speed_dials WHERE device_id = ?1 AND button = ?2");
    s.bind(1, deviceId).bind(2, button);
    return s.step();
}

void DeviceStore::touch(std::int64_t deviceId, std::int64_t nowMs) {
    auto u = db_.prepare("UPDATE devices SET updated_at = ? WHERE id = ?");
    u.bind(1, nowMs).bind(2, deviceId);
    u.run();
}

void DeviceStore::addSpeedDial(std::string_view mac, const SpeedDial& sd, std::int64_t nowMs) {
    auto id = idOf(mac);
    if (buttonTaken(id, sd.button))
        throw Conflict("button", fmt::format("button {} of SEP{} is already in use", sd.button, mac));
    auto s = db_.prepare("INSERT INTO speed_dials (device_id, button, number, label, blf) VALUES (?, ?, ?, ?, ?)");
    s.bind(1, id).bind(2, sd.button).bind(3, sd.number).bind(4, sd.label).bind(5, sd.blf ? 1 : 0);
    s.run();
    touch(id, nowMs);
}

void DeviceStore::removeSpeedDial(std::string_view mac, int button, std::int64_t nowMs) {
    removeChild(mac, "DELETE FROM speed_dials WHERE device_id = ? AND button = ?", button, "speed dial on button", nowMs);
}

void DeviceStore::removeChild(std::string_view mac, const char* deleteSql, int key, std::string_view what,
                              std::int64_t nowMs) {
    auto id = idOf(mac);
    auto s = db_.prepare(deleteSql);
    s.bind(1, id).bind(2, key);
    s.run();
    if (db_.changes() == 0) throw NotFound(fmt::format("device SEP{} has no {} {}", mac, what, key));
    touch(id, nowMs);
}

namespace {
// The WHERE clause of a filtered listing (?1 = the LIKE pattern).
constexpr const char* kFilterWhere =
    " WHERE ('SEP' || d.mac) LIKE ?1 ESCAPE '\\' OR d.description LIKE ?1 ESCAPE '\\' OR d.model LIKE ?1 "
    "ESCAPE '\\' OR d.id IN (SELECT device_id FROM lines WHERE dn LIKE ?1 ESCAPE '\\')";

// ORDER BY for a sort key ("-" first = descending); the MAC breaks ties so pages are stable.
std::string orderBy(std::string_view sort) {
    bool desc = sort.starts_with('-');
    if (desc) sort.remove_prefix(1);
    std::string col;
    if (sort.empty() || sort == "name") col = "d.mac";
    else if (sort == "model") col = "d.model";
    else if (sort == "description") col = "d.description";
    else if (sort == "dn") col = "(SELECT min(dn) FROM lines WHERE device_id = d.id)";
    else if (sort == "state") col = "coalesce(r.state, 'never')";
    else if (sort == "last_seen") col = "coalesce(r.updated_at, 0)";
    else if (sort == "ip") col = "coalesce(r.source, '')";
    else throw std::invalid_argument(fmt::format("cannot sort by '{}' (name, model, description, dn, state, last_seen, ip)", sort));
    return fmt::format(" ORDER BY {} {}, d.mac", col, desc ? "DESC" : "ASC");
}
} // namespace

std::size_t DeviceStore::count(const DeviceFilter& f) {
    std::string sql = "SELECT count(*) FROM devices d";
    if (!f.text.empty()) sql += kFilterWhere;
    auto s = db_.prepare(sql);
    if (!f.text.empty()) s.bind(1, likePattern(f.text));
    s.step();
    return static_cast<std::size_t>(s.getInt(0));
}

std::map<std::string, std::size_t> DeviceStore::countByState(const DeviceFilter& f) {
    std::string sql = "SELECT coalesce(r.state, 'never'), count(*) FROM devices d LEFT JOIN registrations r ON r.mac = d.mac";
    if (!f.text.empty()) sql += kFilterWhere;
    sql += " GROUP BY 1";
    auto s = db_.prepare(sql);
    if (!f.text.empty()) s.bind(1, likePattern(f.text));
    std::map<std::string, std::size_t> out{{"registered", 0}, {"unregistered", 0}, {"expired", 0}, {"never", 0}};
    while (s.step()) out[s.getText(0)] = static_cast<std::size_t>(s.getInt(1));
    return out;
}

std::vector<Device> DeviceStore::list(const DeviceFilter& f) {
    // kDeviceColumns, each prefixed with the devices alias (registrations has a mac too).
    std::string columns = "d.";
    for (const char* c = kDeviceColumns; *c; ++c) columns += *c == ' ' ? std::string(" d.") : std::string(1, *c);
    std::string sql = fmt::format("SELECT {} FROM devices d LEFT JOIN registrations r ON r.mac = d.mac", columns);
    if (!f.text.empty()) sql += kFilterWhere;
    sql += orderBy(f.sort);
    if (f.limit) sql += fmt::format(" LIMIT {} OFFSET {}", f.limit, f.offset);
    auto s = db_.prepare(sql);
    if (!f.text.empty()) s.bind(1, likePattern(f.text));
    std::vector<std::pair<std::int64_t, Device>> rows;
    while (s.step()) rows.emplace_back(s.getInt(0), readDevice(s));
    std::vector<Device> out;
    out.reserve(rows.size());
    for (auto& [id, d] : rows) {
        d.lines = linesOf(id);
        d.speedDials = speedDialsOf(id);
        out.push_back(std::move(d));
    }
    return out;
}

std::size_t DeviceStore::count() {
    auto s = db_.prepare("SELECT count(*) FROM devices");
    s.step();
    return static_cast<std::size_t>(s.getInt(0));
}

std::optional<Device> DeviceStore::get(std::string_view mac) {
    auto s = db_.prepare(fmt::format("SELECT {} FROM devices WHERE mac = ?", kDeviceColumns));
    s.bind(1, mac);
    if (!s.step()) return std::nullopt;
    auto d = readDevice(s);
    d.lines = linesOf(s.getInt(0));
    d.speedDials = speedDialsOf(s.getInt(0));
    return d;
}

std::int64_t DeviceStore::idOf(std::string_view mac) {
    auto s = db_.prepare("SELECT id FROM devices WHERE mac = ?");
    s.bind(1, mac);
    if (!s.step()) throw NotFound(fmt::format("device SEP{} does not exist", mac));
    return s.getInt(0);
}

void DeviceStore::insertLine(std::int64_t deviceId, const Line& l) {
    auto exists = db_.prepare("SELECT 1 FROM lines WHERE device_id = ? AND line_index = ?");
    exists.bind(1, deviceId).bind(2, l.index);
    if (exists.step()) throw Conflict("index", fmt::format("line {} is already configured on this device", l.index));
    if (buttonTaken(deviceId, l.index))
        throw Conflict("index", fmt::format("button {} is a speed dial on this device", l.index));
    auto s = db_.prepare("INSERT INTO lines (device_id, line_index, dn, display_name, label, auth_name, "
                         "auth_password, contact) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, deviceId).bind(2, l.index).bind(3, l.dn).bind(4, l.displayName).bind(5, l.label).bind(6, l.authName)
        .bind(7, l.authPassword).bind(8, l.contact);
    s.run();
}

void DeviceStore::checkAddressFree(const Device& d) {
    if (d.dhcpAddress.empty()) return;
    auto s = db_.prepare("SELECT mac FROM devices WHERE dhcp_address = ? AND mac <> ?");
    s.bind(1, d.dhcpAddress).bind(2, d.mac);
    if (s.step())
        throw Conflict("dhcp_address", fmt::format("{} is already reserved for SEP{}", d.dhcpAddress, s.getText(0)));
}

std::map<std::string, std::string> DeviceStore::reservations() {
    auto s = db_.prepare("SELECT mac, dhcp_address FROM devices WHERE dhcp_address <> ''");
    std::map<std::string, std::string> out;
    while (s.step()) out.emplace(s.getText(0), s.getText(1));
    return out;
}

std::set<std::string> DeviceStore::macs() {
    auto s = db_.prepare("SELECT mac FROM devices");
    std::set<std::string> out;
    while (s.step()) out.insert(s.getText(0));
    return out;
}

void DeviceStore::insert(const Device& d, std::int64_t nowMs) {
    auto exists = db_.prepare("SELECT 1 FROM devices WHERE mac = ?");
    exists.bind(1, d.mac);
    if (exists.step()) throw Conflict("mac", fmt::format("device SEP{} already exists", d.mac));
    checkAddressFree(d);
    auto s = db_.prepare("INSERT INTO devices (mac, model, description, load_override, created_at, updated_at, transport, "
                         "digest_auth, dhcp_address) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)");
    s.bind(1, d.mac).bind(2, d.model).bind(3, d.description).bind(4, d.loadOverride).bind(5, nowMs).bind(6, nowMs)
        .bind(7, d.transport).bind(8, d.digestAuth ? 1 : 0).bind(9, d.dhcpAddress);
    s.run();
    auto id = db_.lastInsertRowid();
    for (const auto& l : d.lines) insertLine(id, l);
}

void DeviceStore::update(const Device& d, bool replaceLines, std::int64_t nowMs) {
    auto id = idOf(d.mac);
    checkAddressFree(d);
    auto s = db_.prepare("UPDATE devices SET model = ?, description = ?, load_override = ?, updated_at = ?, transport = ?, "
                         "digest_auth = ?, dhcp_address = ? WHERE id = ?");
    s.bind(1, d.model).bind(2, d.description).bind(3, d.loadOverride).bind(4, nowMs).bind(5, d.transport)
        .bind(6, d.digestAuth ? 1 : 0).bind(7, d.dhcpAddress).bind(8, id);
    s.run();
    if (replaceLines) {
        auto del = db_.prepare("DELETE FROM lines WHERE device_id = ?");
        del.bind(1, id);
        del.run();
        for (const auto& l : d.lines) insertLine(id, l);
    }
}

void DeviceStore::remove(std::string_view mac) {
    auto id = idOf(mac);
    auto s = db_.prepare("DELETE FROM devices WHERE id = ?");
    s.bind(1, id);
    s.run();
}

void DeviceStore::addLine(std::string_view mac, const Line& l, std::int64_t nowMs) {
    auto id = idOf(mac);
    insertLine(id, l);
    touch(id, nowMs);
}

void DeviceStore::removeLine(std::string_view mac, int index, std::int64_t nowMs) {
    removeChild(mac, "DELETE FROM lines WHERE device_id = ? AND line_index = ?", index, "line", nowMs);
}

std::vector<std::string> DeviceStore::macsWithDn(std::string_view dn) {
    auto s = db_.prepare("SELECT DISTINCT d.mac FROM lines l JOIN devices d ON d.id = l.device_id WHERE l.dn = ? "
                         "ORDER BY d.mac");
    s.bind(1, dn);
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.getText(0));
    return out;
}

std::vector<std::string> DeviceStore::allDns() {
    auto s = db_.prepare("SELECT DISTINCT dn FROM lines ORDER BY dn");
    std::vector<std::string> out;
    while (s.step()) out.push_back(s.getText(0));
    return out;
}

std::vector<std::pair<std::string, std::string>> DeviceStore::dnsByDevice() {
    auto s = db_.prepare("SELECT DISTINCT d.mac, l.dn FROM lines l JOIN devices d ON d.id = l.device_id");
    std::vector<std::pair<std::string, std::string>> out;
    while (s.step()) out.emplace_back(s.getText(0), s.getText(1));
    return out;
}

std::set<std::string> DeviceStore::sharedDns() {
    auto s = db_.prepare("SELECT dn FROM lines GROUP BY dn HAVING count(DISTINCT device_id) > 1");
    std::set<std::string> out;
    while (s.step()) out.insert(s.getText(0));
    return out;
}

} // namespace labcm::store
