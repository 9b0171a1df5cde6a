// Private to server/usecases/: the registration table every domain file adds its use cases
// to, the argument readers, the JSON views shared by several domains, and the write helpers
// (write(), changeDevice()). Not for front ends: they include usecases/usecases.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "core/device.h"
#include "store/device_store.h"
#include "usecases/usecases.h"

namespace labcm::usecases::detail {

// --- argument readers ------------------------------------------------------------------
// Each throws CommandError 400 "bad_argument" naming the field.

[[noreturn]] void badArg(std::string_view field, const std::string& message);
/// @brief CommandError 422 "invalid" for a field that fails its content rule.
[[noreturn]] void invalid(const FieldError& e);
std::optional<std::string> optString(const json::object& args, std::string_view key);
std::string reqString(const json::object& args, std::string_view key);
std::optional<std::int64_t> optInt(const json::object& args, std::string_view key);
bool optBool(const json::object& args, std::string_view key);
/// @brief The normalized MAC of a device argument (SEP001122AABBCC or a MAC in any notation).
std::string macArg(const json::object& args, std::string_view key = "device");

/// @brief Wall-clock milliseconds, the time stamp of a change.
std::int64_t nowMs();

// --- views shared by the domains (views.cpp) ------------------------------------------------

/// @brief A device as every front end shows it: lines (with who shares them), keys, registration.
json::object deviceJson(const Device& d, store::DeviceStore& ds);
/// Events of a phone read for its verdict (newest first; a boot is a few dozen).
inline constexpr std::size_t kVerdictEvents = 300;
/// @brief Why the phone is (not) registered: its boot step, what happened, what to check
/// (core/diagnosis.h), from its stored events and registration.
json::object verdictJson(store::Db& db, const std::string& mac, std::chrono::seconds patience);
/// @brief A phone's registration ({"state": "never"} when it never registered).
json::value registrationJson(store::Db& db, const std::string& mac);

/// @brief The stored device, or store::NotFound "device SEP... does not exist".
Device loadDevice(store::DeviceStore& ds, const std::string& mac);

// --- the table ---------------------------------------------------------------------------

/// @brief Runs after the commit on the reader's thread with the job's result (it may add to it).
using AfterCommit = std::function<void(json::value&)>;
/// @brief One change to a stored device, on the writer thread inside the transaction: it
/// validates, changes `d` and saves through `ds` (update, addLine, ...), at time `now`.
using DeviceChange = std::function<void(store::DeviceStore& ds, Device& d, std::int64_t now)>;

class Table {
public:
    explicit Table(Context c) : ctx(std::move(c)) {}
    Table(const Table&) = delete;
    Table& operator=(const Table&) = delete;

    void add(std::string name, Handler h) { handlers.emplace(std::move(name), std::move(h)); }

    /// @brief Runs `job` on the writer; after the commit runs `after` (may be empty) then replies
    /// with the job's result, or with the error of either.
    void write(std::function<json::value(store::Db&)> job, AfterCommit after, Reply reply);
    /// @brief An AfterCommit that publishes one admin event about a phone.
    AfterCommit adminEvent(EventKind kind, std::string mac, std::string detail);

    /// @brief The "load or not-found, change, save, view" shape of every device edit: on the
    /// writer, loads device `mac` (404 when missing), runs `change`, and returns the device's
    /// view after the change; after the commit publishes the admin event (`kind`, `detail`)
    /// and replies with that view.
    void changeDevice(std::string mac, EventKind kind, std::string detail, DeviceChange change, Reply reply);

    Context ctx;
    std::map<std::string, Handler> handlers;
};

// --- the domains, each registering its use cases ----------------------------------------

void addDeviceUseCases(Table& t);   ///< devices.cpp: device.add/edit/rm/control, line.*, speeddial.*, import
void addSettingUseCases(Table& t);  ///< settings.cpp: setting.*, model.*, firmware.check, dialplan.*, phonesetting.*
void addTraceUseCases(Table& t);    ///< traces.cpp: device.trace, device.pcap, capture.start, capture.status
void addReportUseCases(Table& t);   ///< reports.cpp: prt.list, prt.get (problem reports phones uploaded)
void addDhcpUseCases(Table& t);     ///< dhcp.cpp: dhcp.pool.*, dhcp.lease.*
void addAdminUseCases(Table& t);    ///< admin.cpp: admin.password
void addViewUseCases(Table& t);     ///< views.cpp: status, device.list/page/show, registration.list, events, export, call.list
void addPackageUseCases(Table& t);  ///< packages.cpp: firmware.import, locale.install
void addMailboxUseCases(Table& t);  ///< mailboxes.cpp: mailbox.list/set/rm (message waiting)

} // namespace labcm::usecases::detail
