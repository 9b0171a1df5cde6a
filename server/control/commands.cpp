#include "control/commands.h"

#include <unistd.h>

#include <charconv>

#include <fmt/format.h>

#include "core/device_csv.h"
#include "core/limits.h"
#include "core/text.h"
#include "core/mac.h"
#include "core/models.h"
#include "provision/firmware.h"
#include "store/device_store.h"
#include "store/admin_store.h"
#include "store/dhcp_store.h"
#include "dhcp/pool.h"
#include "store/registration_store.h"
#include "store/event_log.h"
#include "store/migrations.h"
#include "store/settings_store.h"
#include "usecases/passwords.h"

namespace labcm::control {
namespace {

// --- argument helpers ------------------------------------------------------------------

[[noreturn]] void badArg(std::string_view field, const std::string& message) {
    throw CommandError(400, "bad_argument", std::string(field), fmt::format("{}: {}", field, message));
}

std::optional<std::string> optString(const json::object& args, std::string_view key) {
    auto* v = args.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) badArg(key, "must be a string");
    return std::string(v->get_string());
}

std::string reqString(const json::object& args, std::string_view key) {
    auto v = optString(args, key);
    if (!v) badArg(key, "is required");
    return *v;
}

std::optional<std::int64_t> optInt(const json::object& args, std::string_view key) {
    auto* v = args.if_contains(key);
    if (!v || v->is_null()) return std::nullopt;
    if (v->is_int64()) return v->get_int64();
    if (v->is_uint64() && v->get_uint64() <= INT64_MAX) return static_cast<std::int64_t>(v->get_uint64());
    if (v->is_string()) {
        const auto& s = v->get_string();
        std::int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc{} && p == s.data() + s.size()) return n;
    }
    badArg(key, "must be a whole number");
}

bool optBool(const json::object& args, std::string_view key) {
    auto* v = args.if_contains(key);
    if (!v || v->is_null()) return false;
    if (!v->is_bool()) badArg(key, "must be true or false");
    return v->get_bool();
}

std::string macArg(const json::object& args, std::string_view key = "device") {
    auto text = reqString(args, key);
    auto mac = normalizeMac(text);
    if (!mac) badArg(key, fmt::format("'{}' is not a device name (SEP001122AABBCC) or MAC address", text));
    return *mac;
}

[[noreturn]] void invalid(const FieldError& e) {
    throw CommandError(422, "invalid", e.field, fmt::format("{}: {}", e.field, e.message));
}

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

// --- JSON views ------------------------------------------------------------------------

json::object lineJson(const Line& l, store::DeviceStore& ds, const std::string& ownMac) {
    json::array sharedWith;
    for (const auto& mac : ds.macsWithDn(l.dn))
        if (mac != ownMac) sharedWith.push_back(json::string(deviceName(mac)));
    return {{"index", l.index},
            {"dn", l.dn},
            {"display_name", l.displayName},
            {"label", l.label},
            {"auth_name", l.authName},
            {"auth_password_set", !l.authPassword.empty()},
            {"contact", l.contact},
            {"shared_with", std::move(sharedWith)}};
}

json::value registrationJson(store::Db& db, const std::string& mac) {
    auto r = store::RegistrationStore(db).get(mac);
    if (!r) return json::object{{"state", "never"}};
    json::object o{{"state", r->state},           {"active_load", r->activeLoad},   {"inactive_load", r->inactiveLoad},
                   {"last", r->lastReason},       {"alarm", r->alarm},              {"user_agent", r->userAgent},
                   {"contact", r->contact},       {"source", r->source},            {"transport", r->transport},
                   {"call_id", r->callId},        {"lines", r->lines},              {"registered_at", r->registeredAtMs},
                   {"expires_at", r->expiresAtMs}, {"last_seen", r->updatedAtMs}};
    if (r->modelId) o["model_id"] = *r->modelId;
    // "tcp:10.0.0.50:51234" -> "10.0.0.50" (an IPv6 source keeps its colons).
    auto a = r->source.find(':'), b = r->source.rfind(':');
    o["ip"] = a != std::string::npos && b > a ? r->source.substr(a + 1, b - a - 1) : std::string();
    return o;
}

json::object deviceJson(const Device& d, store::DeviceStore& ds) {
    json::array lines;
    for (const auto& l : d.lines) lines.push_back(lineJson(l, ds, d.mac));
    json::array keys;
    for (const auto& s : d.speedDials)
        keys.push_back({{"button", s.button}, {"number", s.number}, {"label", s.label}, {"blf", s.blf}});
    return {{"name", d.name()},        {"mac", d.mac},
            {"model", d.model},        {"description", d.description},
            {"load", d.loadOverride},  {"transport", d.transport},
            {"dhcp_address", d.dhcpAddress},
            {"digest_auth", d.digestAuth},
            {"lines", std::move(lines)},   {"speed_dials", std::move(keys)},
            {"registration", registrationJson(ds.db(), d.mac)},
            {"created_at", d.createdAt}, {"updated_at", d.updatedAt}};
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

} // namespace

Commands::Commands(Context ctx) : ctx_(std::move(ctx)) {
    registerDeviceCommands();
    registerOtherCommands();
    registerDhcpCommands();
    registerAdminCommands();
}

std::int64_t Commands::nowMs() const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::vector<std::string> Commands::names() const {
    std::vector<std::string> out;
    for (const auto& [name, h] : handlers_) out.push_back(name);
    return out;
}

json::object Commands::errorReply(std::exception_ptr ep) {
    int status = 500;
    std::string code = "internal", field, message;
    json::value details = nullptr;
    try {
        std::rethrow_exception(ep);
    } catch (const CommandError& e) {
        status = e.status, code = e.code, field = e.field, message = e.what(), details = e.details;
    } catch (const store::Conflict& e) {
        status = 409, code = "conflict", field = e.field(), message = e.what();
    } catch (const store::NotFound& e) {
        status = 404, code = "not_found", message = e.what();
    } catch (const FieldErrorException& e) {
        status = 422, code = "invalid", field = e.error.field, message = e.what();
    } catch (const store::WriterBusy& e) {
        status = 503, code = "busy", message = e.what();
    } catch (const std::exception& e) {
        message = e.what();
    }
    json::object err{{"status", status}, {"code", code}, {"message", message}};
    if (!field.empty()) err["field"] = field;
    if (!details.is_null()) err["details"] = details;
    return {{"ok", false}, {"error", std::move(err)}};
}

void Commands::execute(const json::value& request, Reply reply) {
    try {
        if (!request.is_object()) throw CommandError(400, "bad_request", "", "request must be a JSON object");
        const auto& obj = request.get_object();
        auto* cmd = obj.if_contains("cmd");
        if (!cmd || !cmd->is_string()) throw CommandError(400, "bad_request", "cmd", "cmd: a command name is required");
        auto it = handlers_.find(std::string(cmd->get_string()));
        if (it == handlers_.end())
            throw CommandError(404, "unknown_command", "cmd", fmt::format("unknown command '{}'", cmd->get_string().c_str()));
        static const json::object kNoArgs;
        const json::object* args = &kNoArgs;
        if (auto* a = obj.if_contains("args"); a && !a->is_null()) {
            if (!a->is_object()) throw CommandError(400, "bad_request", "args", "args must be a JSON object");
            args = &a->get_object();
        }
        it->second(*args, reply);
    } catch (...) {
        reply(errorReply(std::current_exception()));
    }
}

void Commands::write(std::function<json::value(store::Db&)> job, AfterCommit after, Reply reply) {
    ctx_.writer.submit(std::move(job), [post = ctx_.post, after = std::move(after), reply](store::Outcome<json::value> o) {
        post([o = std::move(o), after, reply]() mutable {
            if (o.error) {
                reply(errorReply(o.error));
                return;
            }
            try {
                if (after) after(*o.value);
                reply({{"ok", true}, {"result", std::move(*o.value)}});
            } catch (...) {
                reply(errorReply(std::current_exception()));
            }
        });
    });
}

Commands::AfterCommit Commands::adminEvent(EventKind kind, std::string mac, std::string detail) {
    return [this, kind, mac = std::move(mac), detail = std::move(detail)](json::value&) {
        ctx_.bus.publish(Service::Admin, kind, Severity::Info, mac, "", detail);
    };
}

void Commands::registerDeviceCommands() {
    add("device.list", [this](const json::object& a, Reply reply) {
        store::DeviceFilter f;
        f.text = optString(a, "filter").value_or("");
        f.limit = static_cast<std::size_t>(std::max<std::int64_t>(0, optInt(a, "limit").value_or(0)));
        f.offset = static_cast<std::size_t>(std::max<std::int64_t>(0, optInt(a, "offset").value_or(0)));
        store::DeviceStore ds(ctx_.reader);
        json::array out;
        for (const auto& d : ds.list(f)) out.push_back(deviceJson(d, ds));
        reply({{"ok", true}, {"result", std::move(out)}});
    });

    // One page of devices for the admin list: filter, sort, paging, and the total.
    add("device.page", [this](const json::object& a, Reply reply) {
        store::DeviceFilter f;
        f.text = optString(a, "filter").value_or("");
        f.sort = optString(a, "sort").value_or("name");
        auto limit = optInt(a, "limit").value_or(50);
        auto offset = optInt(a, "offset").value_or(0);
        if (limit < 1 || limit > 1000) badArg("limit", "must be between 1 and 1000");
        if (offset < 0) badArg("offset", "must not be negative");
        f.limit = static_cast<std::size_t>(limit);
        f.offset = static_cast<std::size_t>(offset);
        store::DeviceStore ds(ctx_.reader);
        json::array items;
        try {
            for (const auto& d : ds.list(f)) items.push_back(deviceJson(d, ds));
        } catch (const std::invalid_argument& e) {
            badArg("sort", e.what());
        }
        json::object states;
        std::size_t total = 0;
        for (const auto& [state, n] : ds.countByState(f)) {
            states[state] = n;
            total += n;
        }
        reply({{"ok", true},
               {"result",
                {{"items", std::move(items)}, {"total", total}, {"states", std::move(states)}, {"offset", offset}, {"limit", limit}}}});
    });

    add("registration.list", [this](const json::object&, Reply reply) {
        json::array out;
        for (const auto& r : store::RegistrationStore(ctx_.reader).all()) {
            auto o = registrationJson(ctx_.reader, r.mac).as_object();
            o["device"] = deviceName(r.mac);
            out.push_back(std::move(o));
        }
        reply({{"ok", true}, {"result", std::move(out)}});
    });

    add("device.show", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        store::DeviceStore ds(ctx_.reader);
        auto d = ds.get(mac);
        if (!d) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
        reply({{"ok", true}, {"result", deviceJson(*d, ds)}});
    });

    add("device.add", [this](const json::object& a, Reply reply) {
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
        auto now = nowMs();
        write(
            [d, now](store::Db& db) -> json::value {
                store::DeviceStore ds(db);
                ds.insert(d, now);
                return deviceJson(*ds.get(d.mac), ds);
            },
            adminEvent(EventKind::DeviceAdded, d.mac, fmt::format("device SEP{} ({}) added", d.mac, d.model)),
            reply);
    });

    add("device.edit", [this](const json::object& a, Reply reply) {
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
        auto now = nowMs();
        write(
            [=](store::Db& db) -> json::value {
                store::DeviceStore ds(db);
                auto d = ds.get(mac);
                if (!d) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
                if (model) d->model = *model;
                if (description) d->description = *description;
                if (load) d->loadOverride = *load;
                if (transport) d->transport = *transport;
                if (digest) d->digestAuth = *digest;
                if (dhcpAddress) d->dhcpAddress = *dhcpAddress;
                if (auto e = validateDevice(*d)) invalid(*e);
                ds.update(*d, false, now);
                return deviceJson(*ds.get(mac), ds);
            },
            adminEvent(EventKind::DeviceChanged, mac, fmt::format("device SEP{} changed", mac)),
            reply);
    });

    add("device.rm", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        write(
            [mac](store::Db& db) -> json::value {
                store::DeviceStore(db).remove(mac);
                return json::object{{"removed", deviceName(mac)}};
            },
            adminEvent(EventKind::DeviceRemoved, mac, fmt::format("device SEP{} removed", mac)),
            reply);
    });

    add("line.add", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto requested = optInt(a, "index");
        auto line = lineFromArgs(a, 1);
        auto now = nowMs();
        write(
            [=](store::Db& db) mutable -> json::value {
                store::DeviceStore ds(db);
                auto d = ds.get(mac);
                if (!d) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
                if (!requested) line.index = firstFreeButton(*d); // as CUCM's "Add a new DN" does
                if (auto e = validateLine(line, "line")) invalid(*e);
                ds.addLine(mac, line, now);
                return deviceJson(*ds.get(mac), ds);
            },
            adminEvent(EventKind::LineAdded, mac, fmt::format("line {} added to SEP{}", line.dn, mac)),
            reply);
    });

    // Changes the given fields of one line; the others stay.
    add("line.edit", [this](const json::object& a, Reply reply) {
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
        auto now = nowMs();
        write(
            [=](store::Db& db) -> json::value {
                store::DeviceStore ds(db);
                auto d = ds.get(mac);
                if (!d) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
                auto it = std::find_if(d->lines.begin(), d->lines.end(), [&](const Line& l) { return l.index == *index; });
                if (it == d->lines.end()) throw store::NotFound(fmt::format("device SEP{} has no line {}", mac, *index));
                for (const auto& [field, value] : changes) (*it).*field = value;
                if (auto e = validateLine(*it, fmt::format("line{}", *index))) invalid(*e);
                ds.update(*d, true, now);
                return deviceJson(*ds.get(mac), ds);
            },
            adminEvent(EventKind::DeviceChanged, mac, fmt::format("line {} of SEP{} changed", *index, mac)), reply);
    });

    add("line.rm", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto index = optInt(a, "index");
        if (!index) badArg("index", "is required");
        auto now = nowMs();
        write(
            [=](store::Db& db) -> json::value {
                store::DeviceStore ds(db);
                ds.removeLine(mac, static_cast<int>(*index), now);
                return deviceJson(*ds.get(mac), ds);
            },
            adminEvent(EventKind::LineRemoved, mac, fmt::format("line {} removed from SEP{}", *index, mac)),
            reply);
    });

    add("device.control", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto action = reqString(a, "action");
        if (action != "restart" && action != "reset" && action != "apply-config" && action != "check-version" &&
            action != "prt-report")
            badArg("action", fmt::format("'{}' is not one of restart, reset, apply-config, check-version, prt-report", action));
        auto device = store::DeviceStore(ctx_.reader).get(mac);
        if (!device) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
        if (auto m = findModel(device->model); m && m->family == "79x0")
            throw CommandError(422, "not_supported", "device",
                               fmt::format("SEP{} is a {}: 7940/7960 SIP phones are not controlled by labcm "
                                           "(they use check-sync and text configs); power-cycle it",
                                           mac, device->model));
        if (!ctx_.phoneControl)
            throw CommandError(503, "no_server", "", "phones can only be restarted while 'labcm serve' runs");
        ctx_.phoneControl(mac, action, reply);
    });

    add("speeddial.add", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto requested = optInt(a, "button");
        SpeedDial sd;
        sd.button = static_cast<int>(requested.value_or(1));
        sd.number = reqString(a, "number");
        sd.label = optString(a, "label").value_or("");
        sd.blf = optBool(a, "blf");
        if (auto e = validateSpeedDial(sd, "speed_dial")) invalid(*e);
        auto now = nowMs();
        write(
            [=](store::Db& db) mutable -> json::value {
                store::DeviceStore ds(db);
                auto d = ds.get(mac);
                if (!d) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
                if (!requested) {
                    sd.button = firstFreeButton(*d);
                    if (auto e = validateSpeedDial(sd, "speed_dial")) invalid(*e);
                }
                ds.addSpeedDial(mac, sd, now);
                return deviceJson(*ds.get(mac), ds);
            },
            adminEvent(EventKind::DeviceChanged, mac,
                       fmt::format("{}speed dial {} added to SEP{}", sd.blf ? "BLF " : "", sd.number, mac)),
            reply);
    });

    add("speeddial.rm", [this](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto button = optInt(a, "button");
        if (!button) badArg("button", "is required");
        auto now = nowMs();
        write(
            [=](store::Db& db) -> json::value {
                store::DeviceStore ds(db);
                ds.removeSpeedDial(mac, static_cast<int>(*button), now);
                return deviceJson(*ds.get(mac), ds);
            },
            adminEvent(EventKind::DeviceChanged, mac, fmt::format("speed dial on button {} removed from SEP{}", *button, mac)),
            reply);
    });

    add("import", [this](const json::object& a, Reply reply) {
        auto text = reqString(a, "csv");
        bool dryRun = optBool(a, "dry_run");
        bool update = optBool(a, "update");
        auto csv = std::make_shared<DeviceCsv>(parseDeviceCsv(text));
        if (dryRun || !csv->errors.empty()) {
            auto errors = csv->errors;
            if (errors.empty()) errors = importConflicts(ctx_.reader, *csv, update);
            if (!errors.empty())
                throw CommandError(422, "invalid", "csv",
                                   fmt::format("{} problem(s) in the CSV; nothing was imported", errors.size()),
                                   csvErrorsJson(errors));
            reply({{"ok", true},
                   {"result", {{"dry_run", true}, {"devices", csv->devices.size()}, {"imported", 0}}}});
            return;
        }
        auto now = nowMs();
        write(
            [csv, update, now](store::Db& db) -> json::value {
                // Checked again inside the transaction: the database may have changed.
                auto errors = importConflicts(db, *csv, update);
                if (!errors.empty())
                    throw CommandError(422, "invalid", "csv",
                                       fmt::format("{} problem(s) in the CSV; nothing was imported", errors.size()),
                                       csvErrorsJson(errors));
                store::DeviceStore ds(db);
                std::size_t added = 0, updated = 0;
                for (const auto& row : csv->devices) {
                    if (update && ds.get(row.device.mac)) {
                        ds.update(row.device, true, now);
                        ++updated;
                    } else {
                        ds.insert(row.device, now);
                        ++added;
                    }
                }
                return json::object{{"dry_run", false}, {"devices", csv->devices.size()}, {"added", added},
                                    {"updated", updated}};
            },
            [this](json::value& r) {
                auto& o = r.as_object();
                ctx_.bus.publish(Service::Admin, EventKind::DevicesImported, Severity::Info, "", "",
                                 fmt::format("import: {} added, {} updated", o["added"].to_number<std::int64_t>(),
                                             o["updated"].to_number<std::int64_t>()));
            },
            reply);
    });

    add("export", [this](const json::object&, Reply reply) {
        store::DeviceStore ds(ctx_.reader);
        reply({{"ok", true}, {"result", {{"csv", formatDeviceCsv(ds.list())}}}});
    });
}

void Commands::registerOtherCommands() {
    add("status", [this](const json::object&, Reply reply) {
        auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                         ctx_.info.started);
        json::object r{{"version", LABCM_VERSION},
                       {"schema_version", ctx_.reader.userVersion()},
                       {"data_dir", ctx_.info.dataDir},
                       {"mode", ctx_.info.mode},
                       {"ready", ctx_.info.ready.load()},
                       {"pid", static_cast<std::int64_t>(::getpid())},
                       {"uptime_s", uptime.count()},
                       {"devices", store::DeviceStore(ctx_.reader).count()},
                       {"store_commits", ctx_.writer.commits()},
                       {"external_changes", ctx_.info.externalChanges.load()},
                       {"events_published", ctx_.bus.lastSeq()}};
        if (ctx_.info.extra)
            for (auto& [k, v] : ctx_.info.extra()) r[k] = v;
        reply({{"ok", true}, {"result", std::move(r)}});
    });

    add("setting.list", [this](const json::object&, Reply reply) {
        auto s = ctx_.settings.get();
        auto rows = store::SettingsStore(ctx_.reader).rows();
        json::array out;
        for (const auto& info : settingInfos()) {
            std::string key(info.key);
            out.push_back({{"key", key},
                           {"value", settingValue(*s, info.key)},
                           {"default", settingValue(Settings{}, info.key)},
                           {"type", info.type},
                           {"changed", rows.contains(key)},
                           {"help", info.help}});
        }
        reply({{"ok", true}, {"result", std::move(out)}});
    });

    auto settingWrite = [this](std::string key, std::optional<std::string> value, Reply reply) {
        auto now = nowMs();
        auto fresh = std::make_shared<Settings>();
        write(
            [=](store::Db& db) -> json::value {
                store::SettingsStore ss(db);
                if (value) ss.set(key, *value, now);
                else ss.unset(key);
                *fresh = ss.load(); // validates the whole set (cross-field rules) before commit
                return json::object{{"key", key}, {"value", settingValue(*fresh, key)}};
            },
            [this, key, fresh](json::value& r) {
                ctx_.settings.set(*fresh);
                ctx_.bus.publish(Service::Admin, EventKind::SettingChanged, Severity::Info, "", "",
                                 fmt::format("{} = {}", key, r.as_object()["value"].as_string().c_str()));
            },
            reply);
    };

    add("setting.set", [settingWrite](const json::object& a, Reply reply) {
        auto key = reqString(a, "key");
        std::string value;
        try {
            value = canonicalSetting(key, reqString(a, "value"));
        } catch (const FieldErrorException& e) {
            invalid(e.error);
        }
        settingWrite(key, value, reply);
    });

    add("setting.unset", [settingWrite](const json::object& a, Reply reply) {
        auto key = reqString(a, "key");
        try {
            canonicalSetting(key, settingValue(Settings{}, key));
        } catch (const FieldErrorException& e) {
            invalid(e.error);
        }
        settingWrite(key, std::nullopt, reply);
    });

    add("model.list", [this](const json::object&, Reply reply) {
        auto defaults = store::ModelDefaultStore(ctx_.reader).all();
        json::array out;
        for (const auto& m : knownModels()) {
            std::string name(m.name);
            auto it = defaults.find(name);
            out.push_back({{"model", name},
                           {"typemodel", m.typemodel},
                           {"display_name", m.displayName},
                           {"load_prefix", m.loadPrefix},
                           {"default_load", it == defaults.end() ? "" : it->second}});
        }
        reply({{"ok", true}, {"result", std::move(out)}});
    });

    add("model.set", [this](const json::object& a, Reply reply) {
        auto text = reqString(a, "model");
        auto model = findModel(text);
        if (!model) invalid({"model", fmt::format("unknown model '{}' (see 'labcm model list')", text)});
        Device probe; // the load rules are the device override's rules
        probe.mac = "000000000000";
        probe.model = std::string(model->name);
        probe.loadOverride = optString(a, "load").value_or("");
        if (auto e = validateDevice(probe)) invalid(*e);
        auto now = nowMs();
        std::string name(model->name);
        write(
            [name, load = probe.loadOverride, now](store::Db& db) -> json::value {
                store::ModelDefaultStore(db).set(name, load, now);
                return json::object{{"model", name}, {"default_load", load}};
            },
            [this, name, load = probe.loadOverride](json::value& r) {
                ctx_.bus.publish(Service::Admin, EventKind::ModelDefaultChanged, Severity::Info, "", "",
                                 fmt::format("model {} default load = '{}'", name, load));
                if (load.empty()) return;
                auto c = provision::checkLoad(provision::FilesDir(ctx_.info.filesDir), load);
                if (c.complete()) return;
                r.as_object()["firmware"] = c.summary();
                ctx_.bus.publish(Service::Admin, EventKind::FirmwareIncomplete, Severity::Warning, "", "",
                                 c.summary() + " (phones told to use it would fail to upgrade)");
            },
            reply);
    });

    add("firmware.check", [this](const json::object&, Reply reply) {
        // Every load in use: model defaults and device overrides, with who uses it.
        std::map<std::string, json::array> users;
        for (const auto& [model, load] : store::ModelDefaultStore(ctx_.reader).all())
            users[load].push_back(json::string("model " + model));
        for (const auto& d : store::DeviceStore(ctx_.reader).list())
            if (!d.loadOverride.empty()) users[d.loadOverride].push_back(json::string(d.name()));
        provision::FilesDir files(ctx_.info.filesDir);
        json::array out;
        for (auto& [load, who] : users) {
            auto c = provision::checkLoad(files, load);
            json::array missing;
            for (const auto& m : c.missing) missing.push_back(json::string(m));
            out.push_back({{"load", load},
                           {"used_by", std::move(who)},
                           {"loads_found", c.loadsFound},
                           {"images", c.images.size()},
                           {"missing", std::move(missing)},
                           {"complete", c.complete()},
                           {"summary", c.summary()}});
        }
        reply({{"ok", true}, {"result", {{"files_dir", ctx_.info.filesDir}, {"loads", std::move(out)}}}});
    });

    add("events", [this](const json::object& a, Reply reply) {
        std::string mac;
        if (a.contains("device")) mac = macArg(a);
        auto limit = optInt(a, "limit").value_or(50);
        if (limit < 1 || limit > 10'000) badArg("limit", "must be between 1 and 10000");
        json::array out;
        for (const auto& e : store::EventLog(ctx_.reader).recent(mac, static_cast<std::size_t>(limit)))
            out.push_back({{"id", e.id},
                           {"time_ms", e.timeMs},
                           {"mac", e.mac},
                           {"ip", e.ip},
                           {"service", e.service},
                           {"kind", e.kind},
                           {"severity", e.severity},
                           {"detail", e.detail}});
        reply({{"ok", true}, {"result", std::move(out)}});
    });
}

// --- DHCP -------------------------------------------------------------------------------

namespace {

json::object poolJson(const dhcp::PoolSpec& p) {
    return {{"name", p.name},       {"subnet", p.subnet}, {"range_first", p.rangeFirst}, {"range_last", p.rangeLast},
            {"routers", p.routers}, {"dns", p.dns},       {"domain", p.domain},          {"ntp", p.ntp},
            {"tftp", p.tftp},       {"option66", p.option66}, {"lease_time", p.leaseSeconds}};
}

// The pool spec after applying the given fields to `base` (a new pool or the stored one).
dhcp::PoolSpec poolFromArgs(const json::object& a, dhcp::PoolSpec base) {
    if (auto v = optString(a, "subnet")) base.subnet = *v;
    if (auto v = optString(a, "range")) {
        auto dash = v->find('-');
        if (dash == std::string::npos) badArg("range", fmt::format("'{}' is not a range like 10.0.0.100-10.0.0.199", *v));
        base.rangeFirst = std::string(text::trim(v->substr(0, dash)));
        base.rangeLast = std::string(text::trim(v->substr(dash + 1)));
    }
    for (auto [key, field] : {std::pair{"routers", &dhcp::PoolSpec::routers}, std::pair{"dns", &dhcp::PoolSpec::dns},
                              std::pair{"ntp", &dhcp::PoolSpec::ntp}, std::pair{"tftp", &dhcp::PoolSpec::tftp}})
        if (auto v = optString(a, key)) {
            base.*field = *v;
            if (auto e = dhcp::canonicalAddressList(key, base.*field)) invalid(*e);
        }
    if (auto v = optString(a, "domain")) base.domain = *v;
    if (auto v = optString(a, "option66")) base.option66 = *v;
    if (auto v = optInt(a, "lease_time")) base.leaseSeconds = *v;
    return base;
}

} // namespace

void Commands::registerAdminCommands() {
    // The CLI hashes the password (slow, on purpose) and sends only the hash.
    add("admin.password", [this](const json::object& a, Reply reply) {
        auto hash = reqString(a, "hash");
        if (!usecases::isPasswordHash(hash)) badArg("hash", "not an argon2id password hash (use 'labcm admin password')");
        auto now = nowMs();
        write(
            [hash, now](store::Db& db) -> json::value {
                store::AdminStore(db).setPasswordHash("admin", hash, now);
                return json::object{{"user", "admin"}};
            },
            [this](json::value&) {
                ctx_.bus.publish(Service::Admin, EventKind::AdminPasswordChanged, Severity::Info, "", "",
                                 "admin password changed; every admin session ends");
            },
            reply);
    });
}

void Commands::registerDhcpCommands() {
    add("dhcp.pool.list", [this](const json::object&, Reply reply) {
        json::array out;
        for (const auto& p : store::DhcpStore(ctx_.reader).pools()) out.push_back(poolJson(p));
        reply({{"ok", true}, {"result", std::move(out)}});
    });

    add("dhcp.pool.set", [this](const json::object& a, Reply reply) {
        auto name = reqString(a, "name");
        auto existing = store::DhcpStore(ctx_.reader).pool(name);
        dhcp::PoolSpec base;
        base.name = name;
        if (!existing) {
            if (!a.contains("subnet")) badArg("subnet", "a new pool needs its subnet, e.g. 10.150.0.0/24");
            if (!a.contains("range")) badArg("range", "a new pool needs its range, e.g. 10.150.0.100-10.150.0.199");
        }
        auto spec = poolFromArgs(a, existing.value_or(base));
        dhcp::Pool pool;
        if (auto e = dhcp::buildPool(spec, pool)) invalid(*e);
        auto now = nowMs();
        write(
            [spec, pool, now](store::Db& db) -> json::value {
                store::DhcpStore ds(db);
                for (const auto& other : ds.pools()) {
                    dhcp::Pool o;
                    if (other.name == spec.name || dhcp::buildPool(other, o)) continue;
                    if (dhcp::overlaps(pool, o))
                        throw store::Conflict("subnet", fmt::format("{} overlaps pool '{}' ({})", spec.subnet, o.name,
                                                                    other.subnet));
                }
                ds.savePool(spec, now);
                return poolJson(spec);
            },
            [this, name, existed = existing.has_value()](json::value& r) {
                ctx_.bus.publish(Service::Admin, EventKind::DhcpPoolChanged, Severity::Info, "", "",
                                 fmt::format("DHCP pool {} {}: {} {}-{}", name, existed ? "changed" : "added",
                                             r.as_object()["subnet"].as_string().c_str(),
                                             r.as_object()["range_first"].as_string().c_str(),
                                             r.as_object()["range_last"].as_string().c_str()));
            },
            reply);
    });

    add("dhcp.pool.rm", [this](const json::object& a, Reply reply) {
        auto name = reqString(a, "name");
        write(
            [name](store::Db& db) -> json::value {
                store::DhcpStore(db).removePool(name);
                return json::object{{"removed", name}};
            },
            [this, name](json::value&) {
                ctx_.bus.publish(Service::Admin, EventKind::DhcpPoolChanged, Severity::Info, "", "",
                                 fmt::format("DHCP pool {} removed", name));
            },
            reply);
    });

    add("dhcp.lease.list", [this](const json::object&, Reply reply) {
        auto now = nowMs();
        auto macs = store::DeviceStore(ctx_.reader).macs();
        json::array out;
        for (const auto& l : store::DhcpStore(ctx_.reader).leases()) {
            std::string state(dhcp::toString(l.state));
            if (l.state == dhcp::LeaseState::Bound && l.expiresMs <= now) state = "expired";
            out.push_back({{"address", dhcp::addrText(l.address)},
                           {"mac", l.mac},
                           {"device", macs.contains(l.mac) ? deviceName(l.mac) : ""},
                           {"state", state},
                           {"expires_ms", l.expiresMs},
                           {"pool", l.pool},
                           {"vendor_class", l.vendorClass},
                           {"model", l.model},
                           {"hostname", l.hostname},
                           {"updated_ms", l.updatedMs}});
        }
        reply({{"ok", true}, {"result", std::move(out)}});
    });

    add("dhcp.lease.rm", [this](const json::object& a, Reply reply) {
        auto text = reqString(a, "address");
        auto address = dhcp::parseAddr(text);
        if (!address) badArg("address", fmt::format("'{}' is not an IPv4 address", text));
        write(
            [address = *address, text](store::Db& db) -> json::value {
                if (!store::DhcpStore(db).removeLease(address))
                    throw store::NotFound(fmt::format("no lease for {}", text));
                return json::object{{"removed", dhcp::addrText(address)}};
            },
            [this, address = *address](json::value&) {
                if (ctx_.dhcpLeaseRemoved) ctx_.dhcpLeaseRemoved(address);
                ctx_.bus.publish(Service::Admin, EventKind::DhcpPoolChanged, Severity::Info, "", dhcp::addrText(address),
                                 fmt::format("DHCP lease of {} removed: the address is free again", dhcp::addrText(address)));
            },
            reply);
    });
}

} // namespace labcm::control
