#include "http/admin_api.h"

#include <array>
#include <optional>
#include <vector>

#include <fmt/format.h>

namespace labcm::admin {

namespace {

constexpr std::array kRoutes{
    Route{"GET", "/api/devices", "device.page", "Devices: ?filter=&sort=&limit=&offset= (sort: name, model, description, dn, state, last_seen, ip; -key = descending)"},
    Route{"POST", "/api/devices", "device.add", "Add a device with its lines", 201, Body::Json, true},
    Route{"GET", "/api/devices/{device}", "device.show", "One device with its lines and registration"},
    Route{"PATCH", "/api/devices/{device}", "device.edit", "Change model, description, load, transport, digest_auth, dhcp_address", 200, Body::Json, true},
    Route{"DELETE", "/api/devices/{device}", "device.rm", "Remove a device", 200, Body::None, true},
    Route{"POST", "/api/devices/{device}/lines", "line.add", "Add a line (dn, index, label, display_name, auth_name, auth_password)", 201, Body::Json, true},
    Route{"PATCH", "/api/devices/{device}/lines/{index}", "line.edit", "Change a line (dn, label, display_name, auth_name, auth_password, contact)", 200, Body::Json, true},
    Route{"DELETE", "/api/devices/{device}/lines/{index}", "line.rm", "Remove a line", 200, Body::None, true},
    Route{"POST", "/api/devices/{device}/speeddials", "speeddial.add", "Add a speed dial (number, label, blf, button)", 201, Body::Json, true},
    Route{"DELETE", "/api/devices/{device}/speeddials/{button}", "speeddial.rm", "Remove a speed dial", 200, Body::None, true},
    Route{"POST", "/api/devices/{device}/actions/{action}", "device.control", "restart, reset, apply-config: a service-control NOTIFY and its outcome", 200, Body::None, true},
    Route{"GET", "/api/registrations", "registration.list", "Every stored registration with loads and Last="},
    Route{"GET", "/api/models", "model.list", "Models with their default firmware"},
    Route{"PUT", "/api/models/{model}", "model.set", "Set a model's default load ({\"load\": ...}; \"\" clears)", 200, Body::Json, true},
    Route{"GET", "/api/settings", "setting.list", "Settings with defaults, types and help"},
    Route{"PUT", "/api/settings/{key}", "setting.set", "Set a setting ({\"value\": ...})", 200, Body::Json, true},
    Route{"DELETE", "/api/settings/{key}", "setting.unset", "Back to the default", 200, Body::None, true},
    Route{"GET", "/api/dhcp/pools", "dhcp.pool.list", "DHCP pools"},
    Route{"PUT", "/api/dhcp/pools/{name}", "dhcp.pool.set", "Add or change a pool (subnet, range, routers, dns, domain, ntp, tftp, option66, lease_time)", 200, Body::Json, true},
    Route{"DELETE", "/api/dhcp/pools/{name}", "dhcp.pool.rm", "Remove a pool", 200, Body::None, true},
    Route{"GET", "/api/dhcp/leases", "dhcp.lease.list", "DHCP leases with the model from option 60"},
    Route{"DELETE", "/api/dhcp/leases/{address}", "dhcp.lease.rm", "Free an address", 200, Body::None, true},
    Route{"GET", "/api/events", "events", "Stored events, newest first: ?device=&limit="},
    Route{"POST", "/api/import", "import", "CSV import (text/csv body): ?dry_run=true&update=true; per-row errors on 422", 200, Body::Csv, true},
    Route{"GET", "/api/export", "export", "Every device as CSV (the CLI's format)"},
    Route{"GET", "/api/firmware", "firmware.check", "Every load in use and its missing files"},
    Route{"GET", "/api/status", "status", "Version, uptime, counters"},
};

std::vector<std::string_view> split(std::string_view path) {
    std::vector<std::string_view> out;
    while (!path.empty()) {
        if (path.front() == '/') {
            path.remove_prefix(1);
            continue;
        }
        auto slash = path.find('/');
        out.push_back(path.substr(0, slash));
        if (slash == std::string_view::npos) break;
        path.remove_prefix(slash);
    }
    return out;
}

// Matches a pattern against path segments; fills args with the {name} segments.
bool matches(std::string_view pattern, const std::vector<std::string_view>& segs, json::object& args) {
    auto pat = split(pattern);
    if (pat.size() != segs.size()) return false;
    json::object bound;
    for (std::size_t i = 0; i < pat.size(); ++i) {
        if (pat[i].starts_with('{')) {
            auto value = urlDecode(segs[i], false);
            if (!value) throw ApiError{400, "bad_request", "", "malformed %-escape in the path"};
            bound[pat[i].substr(1, pat[i].size() - 2)] = *value;
        } else if (pat[i] != segs[i]) {
            return false;
        }
    }
    for (auto& kv : bound) args[kv.key()] = kv.value();
    return true;
}

bool isBoolParam(std::string_view key) { return key == "dry_run" || key == "update"; }

} // namespace

std::span<const Route> routes() { return kRoutes; }

std::optional<std::string> queryParam(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        auto eq = part.find('=');
        if (urlDecode(part.substr(0, eq), true) == name)
            return eq == std::string_view::npos ? std::string() : urlDecode(part.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

Mapped mapRequest(std::string_view method, std::string_view target, std::string_view contentType,
                  const std::string& body) {
    auto q = target.find('?');
    std::string_view path = target.substr(0, q);
    std::string_view query = q == std::string_view::npos ? std::string_view() : target.substr(q + 1);
    auto segs = split(path);
    Mapped m;
    json::object args;
    bool pathKnown = false;
    for (const auto& r : kRoutes) {
        json::object bound;
        if (!matches(r.pattern, segs, bound)) continue;
        pathKnown = true;
        if (r.method != method) continue;
        m.route = &r;
        args = std::move(bound);
        break;
    }
    if (!m.route) {
        if (pathKnown) throw ApiError{405, "method_not_allowed", "", fmt::format("{} is not allowed here", method)};
        throw ApiError{404, "not_found", "", fmt::format("no API at {}", path)};
    }
    // Query parameters (path parameters win).
    while (!query.empty()) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        auto eq = part.find('=');
        auto key = urlDecode(part.substr(0, eq), true);
        auto value = eq == std::string_view::npos ? std::optional<std::string>("") : urlDecode(part.substr(eq + 1), true);
        if (!key || !value) throw ApiError{400, "bad_request", "", "malformed %-escape in the query"};
        if (!key->empty() && !args.contains(*key)) {
            if (isBoolParam(*key)) args[*key] = (*value == "true" || *value == "1" || *value == "yes");
            else args[*key] = *value;
        }
        if (amp == std::string_view::npos) break;
        query.remove_prefix(amp + 1);
    }
    auto type = contentType.substr(0, contentType.find(';'));
    if (m.route->body == Body::Json && !body.empty()) {
        if (type != "application/json")
            throw ApiError{415, "unsupported_media_type", "", "send the body as application/json"};
        boost::system::error_code ec;
        auto v = json::parse(body, ec);
        if (ec) throw ApiError{400, "bad_json", "", fmt::format("the body is not JSON: {}", ec.message())};
        if (!v.is_object()) throw ApiError{400, "bad_json", "", "the body must be a JSON object"};
        for (auto& kv : v.as_object())
            if (!args.contains(kv.key())) args[kv.key()] = kv.value();
    } else if (m.route->body == Body::Csv) {
        if (type != "text/csv" && type != "text/plain")
            throw ApiError{415, "unsupported_media_type", "", "send the CSV as text/csv"};
        args["csv"] = body;
    } else if (m.route->body == Body::None && !body.empty()) {
        throw ApiError{400, "bad_request", "", "this request takes no body"};
    }
    m.request = {{"cmd", m.route->command}, {"args", std::move(args)}};
    return m;
}

unsigned replyStatus(const json::object& reply, const Route& route) {
    auto* ok = reply.if_contains("ok");
    if (ok && ok->is_bool() && ok->get_bool()) return route.okStatus;
    if (auto* err = reply.if_contains("error"); err && err->is_object())
        if (auto* st = err->get_object().if_contains("status"); st && st->is_int64()) {
            auto s = st->get_int64();
            if (s >= 400 && s <= 599) return static_cast<unsigned>(s);
        }
    return 500;
}

} // namespace labcm::admin
