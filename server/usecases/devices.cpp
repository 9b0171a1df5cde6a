// Devices and lines: add, edit, remove a phone; its lines and speed-dial keys; CSV import;
// service control (restart, reset, ...) of a registered phone.
#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "core/device_csv.h"
#include "core/mac.h"
#include "core/models.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {
namespace {

Line lineFromArgs(const json::object& a, int defaultIndex) {
    Line l;
    l.index = static_cast<int>(optInt(a, "index").value_or(defaultIndex));
    l.dn = optString(a, "dn").value_or("");
    l.displayName = optString(a, "display_name").value_or("");
    l.label = optString(a, "label").value_or("");
    l.authName = optString(a, "auth_name").value_or("");
    l.authPassword = optString(a, "auth_password").value_or("");
    l.contact = optString(a, "contact").value_or("");
    return l;
}

// The device of device.add, validated (lines included) before it goes to the writer.
Device newDeviceFromArgs(const json::object& a) {
    Device d;
    d.mac = macArg(a);
    d.model = reqString(a, "model");
    d.description = optString(a, "description").value_or("");
    d.loadOverride = optString(a, "load").value_or("");
    d.transport = optString(a, "transport").value_or("tcp");
    d.digestAuth = optBool(a, "digest_auth");
    d.dhcpAddress = optString(a, "dhcp_address").value_or("");
    if (auto e = validateDevice(d)) invalid(*e);
    if (auto* lines = a.if_contains("lines"); lines && !lines->is_null()) {
        if (!lines->is_array()) badArg("lines", "must be an array");
        int next = 1;
        for (const auto& lv : lines->get_array()) {
            if (!lv.is_object()) badArg("lines", "every line must be an object");
            auto l = lineFromArgs(lv.get_object(), next);
            if (auto e = validateLine(l, fmt::format("line{}", l.index))) invalid(*e);
            next = l.index + 1;
            d.lines.push_back(l);
        }
    }
    return d;
}

void addDeviceAddEditRemove(Table& t) {
    t.add("device.add", [&t](const json::object& a, Reply reply) {
        auto d = newDeviceFromArgs(a);
        auto now = nowMs();
        t.write(
            [d, now](store::Db& db) -> json::value {
                store::DeviceStore ds(db);
                ds.insert(d, now);
                return deviceJson(*ds.get(d.mac), ds);
            },
            t.adminEvent(EventKind::DeviceAdded, d.mac, fmt::format("device SEP{} ({}) added", d.mac, d.model)), reply);
    });

    t.add("device.edit", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto model = optString(a, "model");
        auto description = optString(a, "description");
        auto load = optString(a, "load");
        auto transport = optString(a, "transport");
        auto dhcpAddress = optString(a, "dhcp_address");
        std::optional<bool> digest;
        if (a.contains("digest_auth")) digest = optBool(a, "digest_auth");
        if (!model && !description && !load && !transport && !digest && !dhcpAddress)
            badArg("model", "nothing to change: give model, description, load, transport, digest_auth or dhcp_address");
        t.changeDevice(
            mac, EventKind::DeviceChanged, fmt::format("device SEP{} changed", mac),
            [=](store::DeviceStore& ds, Device& d, std::int64_t now) {
                if (model) d.model = *model;
                if (description) d.description = *description;
                if (load) d.loadOverride = *load;
                if (transport) d.transport = *transport;
                if (digest) d.digestAuth = *digest;
                if (dhcpAddress) d.dhcpAddress = *dhcpAddress;
                if (auto e = validateDevice(d)) invalid(*e);
                ds.update(d, false, now);
            },
            reply);
    });

    t.add("device.rm", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        t.write(
            [mac](store::Db& db) -> json::value {
                store::DeviceStore(db).remove(mac);
                return json::object{{"removed", deviceName(mac)}};
            },
            t.adminEvent(EventKind::DeviceRemoved, mac, fmt::format("device SEP{} removed", mac)), reply);
    });

    t.add("device.control", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto action = reqString(a, "action");
        if (action != "restart" && action != "reset" && action != "apply-config" && action != "check-version" &&
            action != "prt-report")
            badArg("action", fmt::format("'{}' is not one of restart, reset, apply-config, check-version, prt-report", action));
        store::DeviceStore ds(t.ctx.reader);
        auto device = loadDevice(ds, mac);
        if (auto m = findModel(device.model); m && m->family == "79x0")
            throw CommandError(422, "not_supported", "device",
                               fmt::format("SEP{} is a {}: 7940/7960 SIP phones are not controlled by labcm "
                                           "(they use check-sync and text configs); power-cycle it",
                                           mac, device.model));
        if (!t.ctx.phoneControl)
            throw CommandError(503, "no_server", "", "phones can only be restarted while 'labcm serve' runs");
        t.ctx.phoneControl(mac, action, reply);
    });
}

void addLineUseCases(Table& t) {
    t.add("line.add", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        bool requested = optInt(a, "index").has_value();
        auto line = lineFromArgs(a, 1);
        t.changeDevice(
            mac, EventKind::LineAdded, fmt::format("line {} added to SEP{}", line.dn, mac),
            [=](store::DeviceStore& ds, Device& d, std::int64_t now) {
                auto l = line;
                if (!requested) l.index = firstFreeButton(d); // as CUCM's "Add a new DN" does
                if (auto e = validateLine(l, "line")) invalid(*e);
                ds.addLine(mac, l, now);
            },
            reply);
    });

    // Changes the given fields of one line; the others stay.
    t.add("line.edit", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto index = optInt(a, "index");
        if (!index) badArg("index", "is required");
        static constexpr std::pair<std::string_view, std::string Line::*> kFields[] = {
            {"dn", &Line::dn},           {"display_name", &Line::displayName}, {"label", &Line::label},
            {"auth_name", &Line::authName}, {"auth_password", &Line::authPassword}, {"contact", &Line::contact}};
        std::vector<std::pair<std::string Line::*, std::string>> changes;
        for (const auto& [key, field] : kFields)
            if (auto v = optString(a, key)) changes.emplace_back(field, *v);
        if (changes.empty()) badArg("dn", "nothing to change: give dn, display_name, label, auth_name, auth_password or contact");
        t.changeDevice(
            mac, EventKind::DeviceChanged, fmt::format("line {} of SEP{} changed", *index, mac),
            [=](store::DeviceStore& ds, Device& d, std::int64_t now) {
                auto it = std::find_if(d.lines.begin(), d.lines.end(), [&](const Line& l) { return l.index == *index; });
                if (it == d.lines.end()) throw store::NotFound(fmt::format("device SEP{} has no line {}", mac, *index));
                for (const auto& [field, value] : changes) (*it).*field = value;
                if (auto e = validateLine(*it, fmt::format("line{}", *index))) invalid(*e);
                ds.update(d, true, now);
            },
            reply);
    });

    t.add("line.rm", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto index = optInt(a, "index");
        if (!index) badArg("index", "is required");
        t.changeDevice(
            mac, EventKind::LineRemoved, fmt::format("line {} removed from SEP{}", *index, mac),
            [mac, index = static_cast<int>(*index)](store::DeviceStore& ds, Device&, std::int64_t now) {
                ds.removeLine(mac, index, now);
            },
            reply);
    });
}

void addSpeedDialUseCases(Table& t) {
    t.add("speeddial.add", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto requested = optInt(a, "button");
        SpeedDial sd;
        sd.button = static_cast<int>(requested.value_or(1));
        sd.number = reqString(a, "number");
        sd.label = optString(a, "label").value_or("");
        sd.blf = optBool(a, "blf");
        if (auto e = validateSpeedDial(sd, "speed_dial")) invalid(*e);
        t.changeDevice(
            mac, EventKind::DeviceChanged,
            fmt::format("{}speed dial {} added to SEP{}", sd.blf ? "BLF " : "", sd.number, mac),
            [mac, sd, requested = requested.has_value()](store::DeviceStore& ds, Device& d, std::int64_t now) {
                auto key = sd;
                if (!requested) {
                    key.button = firstFreeButton(d);
                    if (auto e = validateSpeedDial(key, "speed_dial")) invalid(*e);
                }
                ds.addSpeedDial(mac, key, now);
            },
            reply);
    });

    t.add("speeddial.rm", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto button = optInt(a, "button");
        if (!button) badArg("button", "is required");
        t.changeDevice(
            mac, EventKind::DeviceChanged, fmt::format("speed dial on button {} removed from SEP{}", *button, mac),
            [mac, button = static_cast<int>(*button)](store::DeviceStore& ds, Device&, std::int64_t now) {
                ds.removeSpeedDial(mac, button, now);
            },
            reply);
    });
}

json::array csvErrorsJson(const std::vector<CsvRowError>& errors) {
    json::array out;
    for (const auto& e : errors) out.push_back({{"row", e.row}, {"field", e.field}, {"message", e.message}});
    return out;
}

// Errors an import would hit against the database's current content.
std::vector<CsvRowError> importConflicts(store::Db& db, const DeviceCsv& csv, bool update) {
    std::vector<CsvRowError> out;
    if (update) return out;
    store::DeviceStore ds(db);
    for (const auto& row : csv.devices)
        if (ds.get(row.device.mac))
            out.push_back({row.row, "mac", fmt::format("device SEP{} already exists (use --update to replace it)",
                                                       row.device.mac)});
    return out;
}

[[noreturn]] void importRefused(const std::vector<CsvRowError>& errors) {
    throw CommandError(422, "invalid", "csv", fmt::format("{} problem(s) in the CSV; nothing was imported", errors.size()),
                       csvErrorsJson(errors));
}

// The import's transaction: all rows or none.
json::value importRows(store::Db& db, const DeviceCsv& csv, bool update, std::int64_t now) {
    // Checked again inside the transaction: the database may have changed.
    auto errors = importConflicts(db, csv, update);
    if (!errors.empty()) importRefused(errors);
    store::DeviceStore ds(db);
    std::size_t added = 0, updated = 0;
    for (const auto& row : csv.devices) {
        if (update && ds.get(row.device.mac)) {
            ds.update(row.device, true, now);
            ++updated;
        } else {
            ds.insert(row.device, now);
            ++added;
        }
    }
    return json::object{{"dry_run", false}, {"devices", csv.devices.size()}, {"added", added}, {"updated", updated}};
}

void addImportUseCase(Table& t) {
    t.add("import", [&t](const json::object& a, Reply reply) {
        auto text = reqString(a, "csv");
        bool dryRun = optBool(a, "dry_run");
        bool update = optBool(a, "update");
        auto csv = std::make_shared<DeviceCsv>(parseDeviceCsv(text));
        if (dryRun || !csv->errors.empty()) {
            auto errors = csv->errors;
            if (errors.empty()) errors = importConflicts(t.ctx.reader, *csv, update);
            if (!errors.empty()) importRefused(errors);
            reply(okReply({{"dry_run", true}, {"devices", csv->devices.size()}, {"imported", 0}}));
            return;
        }
        auto now = nowMs();
        t.write([csv, update, now](store::Db& db) { return importRows(db, *csv, update, now); },
                [&t](json::value& r) {
                    auto& o = r.as_object();
                    t.ctx.bus.publish(Service::Admin, EventKind::DevicesImported, Severity::Info, "", "",
                                      fmt::format("import: {} added, {} updated", o["added"].to_number<std::int64_t>(),
                                                  o["updated"].to_number<std::int64_t>()));
                },
                reply);
    });
}

} // namespace

void addDeviceUseCases(Table& t) {
    addDeviceAddEditRemove(t);
    addLineUseCases(t);
    addSpeedDialUseCases(t);
    addImportUseCase(t);
}

} // namespace labcm::usecases::detail
