// Devices and their lines in SQLite. A DeviceStore works on one connection: a reader's, or
// the writer's inside a job (see writer.h). Methods that write must only be called from a
// writer job.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/device.h"
#include "store/sqlite.h"

namespace labcm::store {

/// @brief A write would break a uniqueness rule (MAC, (device, line index)).
class Conflict : public std::runtime_error {
public:
    Conflict(std::string field, const std::string& what) : std::runtime_error(what), field_(std::move(field)) {}
    const std::string& field() const { return field_; }

private:
    std::string field_;
};

/// @brief The device or line named does not exist.
class NotFound : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

struct DeviceFilter {
    std::string text;   ///< case-insensitive match on name, MAC, description, model or a DN
    std::size_t limit = 0;  ///< 0 = all
    std::size_t offset = 0;
    std::string sort;   ///< name (default), model, description, dn, state, last_seen, ip; "-" first = descending
};

class DeviceStore {
public:
    explicit DeviceStore(Db& db) : db_(db) {}
    Db& db() { return db_; }

    /// @throw std::invalid_argument for an unknown sort key.
    std::vector<Device> list(const DeviceFilter& filter = {});
    std::size_t count();
    /// @brief How many devices match the filter's text (limit/offset ignored).
    std::size_t count(const DeviceFilter& filter);
    /// @brief Matching devices per registration state: registered, unregistered, expired, never.
    std::map<std::string, std::size_t> countByState(const DeviceFilter& filter);
    std::optional<Device> get(std::string_view mac);

    /// @throw Conflict when the MAC exists or two lines share an index.
    void insert(const Device& d, std::int64_t nowMs);
    /// @brief Updates model, description, load override; and lines when `replaceLines`.
    /// @throw NotFound
    void update(const Device& d, bool replaceLines, std::int64_t nowMs);
    /// @throw NotFound
    void remove(std::string_view mac);
    /// @throw NotFound (device), Conflict (index taken)
    void addLine(std::string_view mac, const Line& l, std::int64_t nowMs);
    /// @throw NotFound (device or line)
    void removeLine(std::string_view mac, int index, std::int64_t nowMs);
    /// @throw NotFound (device), Conflict (button taken by a line or another key)
    void addSpeedDial(std::string_view mac, const SpeedDial& s, std::int64_t nowMs);
    /// @throw NotFound (device or key)
    void removeSpeedDial(std::string_view mac, int button, std::int64_t nowMs);
    /// @brief Devices that have a line with this DN (shared lines give several).
    std::vector<std::string> macsWithDn(std::string_view dn);
    /// @brief Every DN in use, once.
    std::vector<std::string> allDns();
    /// @brief DNs that sit on more than one device.
    std::set<std::string> sharedDns();
    /// @brief Every (mac, dn) pair, each once: the lines of the whole lab in one query.
    std::vector<std::pair<std::string, std::string>> dnsByDevice();

    /// @brief mac -> reserved DHCP address, for the devices that have one.
    std::map<std::string, std::string> reservations();
    /// @brief Every configured MAC.
    std::set<std::string> macs();

private:
    /// @throw Conflict when another device reserved the same DHCP address.
    void checkAddressFree(const Device& d);
    std::int64_t idOf(std::string_view mac);
    void insertLine(std::int64_t deviceId, const Line& l);
    std::vector<Line> linesOf(std::int64_t deviceId);
    std::vector<SpeedDial> speedDialsOf(std::int64_t deviceId);
    bool buttonTaken(std::int64_t deviceId, int button);
    void touch(std::int64_t deviceId, std::int64_t nowMs);
    /// @brief Deletes the row `deleteSql` names by (device id, key); NotFound "has no <what> <key>".
    void removeChild(std::string_view mac, const char* deleteSql, int key, std::string_view what, std::int64_t nowMs);

    Db& db_;
};

} // namespace labcm::store
