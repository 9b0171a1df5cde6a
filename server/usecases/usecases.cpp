#include "usecases/usecases.h"

#include <charconv>
#include <chrono>

#include <fmt/format.h>

#include "core/mac.h"
#include "usecases/table.h"

namespace labcm::usecases {

// --- replies -------------------------------------------------------------------------------

json::object okReply(json::value result) { return {{"ok", true}, {"result", std::move(result)}}; }

json::object errorReply(std::exception_ptr ep) {
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

// --- the catalog ---------------------------------------------------------------------------

UseCases::UseCases(Context ctx) : table_(std::make_unique<detail::Table>(std::move(ctx))) {
    detail::addDeviceUseCases(*table_);
    detail::addViewUseCases(*table_);
    detail::addSettingUseCases(*table_);
    detail::addPackageUseCases(*table_);
    detail::addMailboxUseCases(*table_);
    detail::addReportUseCases(*table_);
    detail::addTraceUseCases(*table_);
    detail::addDhcpUseCases(*table_);
    detail::addAdminUseCases(*table_);
}

UseCases::~UseCases() = default;

const Handler* UseCases::find(std::string_view name) const {
    auto it = table_->handlers.find(std::string(name));
    return it == table_->handlers.end() ? nullptr : &it->second;
}

std::vector<std::string> UseCases::names() const {
    std::vector<std::string> out;
    for (const auto& [name, h] : table_->handlers) out.push_back(name);
    return out;
}

namespace detail {

// --- argument readers ------------------------------------------------------------------

void badArg(std::string_view field, const std::string& message) {
    throw CommandError(400, "bad_argument", std::string(field), fmt::format("{}: {}", field, message));
}

void invalid(const FieldError& e) {
    throw CommandError(422, "invalid", e.field, fmt::format("{}: {}", e.field, e.message));
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

std::string macArg(const json::object& args, std::string_view key) {
    auto text = reqString(args, key);
    auto mac = normalizeMac(text);
    if (!mac) badArg(key, fmt::format("'{}' is not a device name (SEP001122AABBCC) or MAC address", text));
    return *mac;
}

std::int64_t nowMs() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

Device loadDevice(store::DeviceStore& ds, const std::string& mac) {
    auto d = ds.get(mac);
    if (!d) throw store::NotFound(fmt::format("device SEP{} does not exist", mac));
    return std::move(*d);
}

// --- the write helpers -----------------------------------------------------------------

void Table::write(std::function<json::value(store::Db&)> job, AfterCommit after, Reply reply) {
    ctx.writer.submit(std::move(job), [post = ctx.post, after = std::move(after), reply](store::Outcome<json::value> o) {
        post([o = std::move(o), after, reply]() mutable {
            if (o.error) {
                reply(errorReply(o.error));
                return;
            }
            try {
                if (after) after(*o.value);
                reply(okReply(std::move(*o.value)));
            } catch (...) {
                reply(errorReply(std::current_exception()));
            }
        });
    });
}

AfterCommit Table::adminEvent(EventKind kind, std::string mac, std::string detail) {
    return [this, kind, mac = std::move(mac), detail = std::move(detail)](json::value&) {
        ctx.bus.publish(Service::Admin, kind, Severity::Info, mac, "", detail);
    };
}

void Table::changeDevice(std::string mac, EventKind kind, std::string detail, DeviceChange change, Reply reply) {
    auto now = nowMs();
    write(
        [mac, change = std::move(change), now](store::Db& db) -> json::value {
            store::DeviceStore ds(db);
            auto d = loadDevice(ds, mac);
            change(ds, d, now);
            return deviceJson(*ds.get(mac), ds);
        },
        adminEvent(kind, mac, std::move(detail)), std::move(reply));
}

} // namespace detail
} // namespace labcm::usecases
