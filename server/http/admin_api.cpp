#include "http/admin_api.h"

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include <boost/json/basic_parser_impl.hpp>
#include <fmt/format.h>

namespace labcm::admin {

namespace {

constexpr std::string_view kLineKeys = "index,dn,display_name,label,auth_name,auth_password,contact";

constexpr std::array kRoutes{
    Route{"GET", "/api/devices", "device.page", "Devices: ?filter=&sort=&limit=&offset= (sort: name, model, description, dn, state, last_seen, ip; -key = descending)"},
    Route{"POST", "/api/devices", "device.add", "Add a device with its lines", 201, Body::Json, true,
          "device,model,description,load,transport,digest_auth,dhcp_address,lines"},
    Route{"GET", "/api/devices/{device}", "device.show", "One device with its lines and registration"},
    Route{"GET", "/api/devices/{device}/why", "device.why", "Why the phone is (not) registered: the boot step it reached, what happened, what to check next"},
    Route{"GET", "/api/devices/{device}/trace", "device.trace", "The phone's last SIP messages in full, as labcm sent and received them (setting sip_trace_messages)"},
    Route{"GET", "/api/devices/{device}/pcap", "device.pcap", "Those messages as a pcap file (Wireshark, tshark)"},
    Route{"GET", "/api/devices/{device}/reports", "prt.list", "The problem reports (PRT) the phone uploaded, newest first"},
    Route{"GET", "/api/devices/{device}/reports/{name}", "prt.get", "One problem report, as the archive the phone uploaded"},
    Route{"PATCH", "/api/devices/{device}", "device.edit", "Change model, description, load, transport, digest_auth, dhcp_address", 200, Body::Json, true,
          "model,description,load,transport,digest_auth,dhcp_address"},
    Route{"DELETE", "/api/devices/{device}", "device.rm", "Remove a device", 200, Body::None, true},
    Route{"POST", "/api/devices/{device}/lines", "line.add", "Add a line (dn, index, label, display_name, auth_name, auth_password)", 201, Body::Json, true,
          "index,dn,display_name,label,auth_name,auth_password,contact"},
    Route{"PATCH", "/api/devices/{device}/lines/{index}", "line.edit", "Change a line (dn, label, display_name, auth_name, auth_password, contact)", 200, Body::Json, true,
          "dn,display_name,label,auth_name,auth_password,contact"},
    Route{"DELETE", "/api/devices/{device}/lines/{index}", "line.rm", "Remove a line", 200, Body::None, true},
    Route{"POST", "/api/devices/{device}/speeddials", "speeddial.add", "Add a speed dial (number, label, blf, button)", 201, Body::Json, true,
          "button,number,label,blf"},
    Route{"DELETE", "/api/devices/{device}/speeddials/{button}", "speeddial.rm", "Remove a speed dial", 200, Body::None, true},
    Route{"POST", "/api/devices/{device}/actions/{action}", "device.control", "restart, reset, apply-config: a service-control NOTIFY and its outcome", 200, Body::None, true},
    Route{"GET", "/api/devices/{device}/outcome", "device.outcome", "What came of a restart, reset or apply-config: ?action=&since_ms= (from the action's reply)&timeout=120 -> applied, waiting, failed, no answer"},
    Route{"GET", "/api/registrations", "registration.list", "Every stored registration with loads and Last="},
    Route{"GET", "/api/models", "model.list", "Models with their default firmware"},
    Route{"PUT", "/api/models/{model}", "model.set", "Set a model's default load ({\"load\": ...}; \"\" clears)", 200, Body::Json, true, "load"},
    Route{"GET", "/api/settings", "setting.list", "Settings with defaults, types and help"},
    Route{"PUT", "/api/settings/{key}", "setting.set", "Set a setting ({\"value\": ...})", 200, Body::Json, true, "value"},
    Route{"DELETE", "/api/settings/{key}", "setting.unset", "Back to the default", 200, Body::None, true},
    Route{"GET", "/api/dhcp/pools", "dhcp.pool.list", "DHCP pools"},
    Route{"PUT", "/api/dhcp/pools/{name}", "dhcp.pool.set", "Add or change a pool (subnet, range, routers, dns, domain, ntp, tftp, option66, lease_time)", 200, Body::Json, true,
          "subnet,range,routers,dns,domain,ntp,tftp,option66,lease_time"},
    Route{"DELETE", "/api/dhcp/pools/{name}", "dhcp.pool.rm", "Remove a pool", 200, Body::None, true},
    Route{"GET", "/api/dhcp/leases", "dhcp.lease.list", "DHCP leases with the model from option 60"},
    Route{"DELETE", "/api/dhcp/leases/{address}", "dhcp.lease.rm", "Free an address", 200, Body::None, true},
    Route{"GET", "/api/events", "events", "Stored events, newest first: ?device=&limit="},
    Route{"POST", "/api/import", "import", "CSV import (text/csv body): ?dry_run=true&update=true; per-row errors on 422", 200, Body::Csv, true},
    Route{"GET", "/api/export", "export", "Every device as CSV (the CLI's format)"},
    Route{"GET", "/api/firmware", "firmware.check", "Every load in use and its missing files"},
    Route{"POST", "/api/firmware/import", "firmware.import", "Import a firmware package (the file as the body, any type): ?name=cmterm-...zip&set_default=true", 200, Body::File, true},
    Route{"POST", "/api/locales/install", "locale.install", "Install a locale package (the file as the body): ?name=po-locale-...cop.sgn&set=true", 200, Body::File, true},
    Route{"GET", "/api/dialplan", "dialplan.list", "The admin's dial patterns (after those labcm derives from the DNs)"},
    Route{"PUT", "/api/dialplan/{pattern}", "dialplan.set", "Add or change a dial pattern ({\"timeout\": seconds, \"route\": \"sip:...\"}; # as %23)", 200, Body::Json, true,
          "timeout,route"},
    Route{"DELETE", "/api/dialplan/{pattern}", "dialplan.rm", "Remove a dial pattern", 200, Body::None, true},
    Route{"GET", "/api/phone-settings", "phonesetting.list", "Phone settings: each key's value for the lab (?model= or ?device= adds that level) and the effective one"},
    Route{"PUT", "/api/phone-settings/{key}", "phonesetting.set", "Set a phone setting for the lab, a model or a device ({\"value\": ..., \"model\" or \"device\"})", 200, Body::Json, true,
          "value,model,device"},
    Route{"DELETE", "/api/phone-settings/{key}", "phonesetting.unset", "Unset a phone setting (?model= or ?device= for that level)", 200, Body::None, true},
    Route{"GET", "/api/calls", "call.list", "Calls in progress: caller, number, who answered, for how long"},
    Route{"GET", "/api/mailboxes", "mailbox.list", "Message waiting: each mailbox's new and old messages"},
    Route{"PUT", "/api/mailboxes/{dn}", "mailbox.set", "Set a DN's message counts ({\"new\": n, \"old\": m}): its phones' lamps follow", 200, Body::Json, true,
          "new,old"},
    Route{"DELETE", "/api/mailboxes/{dn}", "mailbox.rm", "Remove a DN's mailbox (its lamps go off)", 200, Body::None, true},
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

bool isBoolParam(std::string_view key) { return key == "dry_run" || key == "update" || key == "set_default" || key == "set"; }

// Whether `key` is one of the comma-separated `keys`.
bool listed(std::string_view keys, std::string_view key) {
    while (!keys.empty()) {
        auto comma = keys.find(',');
        if (keys.substr(0, comma) == key) return true;
        if (comma == std::string_view::npos) break;
        keys.remove_prefix(comma + 1);
    }
    return false;
}

// A Boost.JSON parser handler that only looks for a key given twice in one object (json::parse
// keeps one of them silently). Keys are compared whole; an object's keys are few.
struct DuplicateKeyFinder {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    std::vector<std::vector<std::string>> objects; ///< the keys of each open object
    std::string key;                               ///< the key being read (it may come in parts)
    std::optional<std::string> duplicate;

    bool on_document_begin(boost::system::error_code&) { return true; }
    bool on_document_end(boost::system::error_code&) { return true; }
    bool on_object_begin(boost::system::error_code&) {
        objects.emplace_back();
        return true;
    }
    bool on_object_end(std::size_t, boost::system::error_code&) {
        objects.pop_back();
        return true;
    }
    bool on_array_begin(boost::system::error_code&) { return true; }
    bool on_array_end(std::size_t, boost::system::error_code&) { return true; }
    bool on_key_part(json::string_view s, std::size_t, boost::system::error_code&) {
        key.append(s.data(), s.size());
        return true;
    }
    bool on_key(json::string_view s, std::size_t, boost::system::error_code& ec) {
        key.append(s.data(), s.size());
        auto& keys = objects.back();
        if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
            duplicate = key;
            ec = json::error::syntax; // stop here
            return false;
        }
        keys.push_back(std::move(key));
        key.clear();
        return true;
    }
    bool on_string_part(json::string_view, std::size_t, boost::system::error_code&) { return true; }
    bool on_string(json::string_view, std::size_t, boost::system::error_code&) { return true; }
    bool on_number_part(json::string_view, boost::system::error_code&) { return true; }
    bool on_int64(std::int64_t, json::string_view, boost::system::error_code&) { return true; }
    bool on_uint64(std::uint64_t, json::string_view, boost::system::error_code&) { return true; }
    bool on_double(double, json::string_view, boost::system::error_code&) { return true; }
    bool on_bool(bool, boost::system::error_code&) { return true; }
    bool on_null(boost::system::error_code&) { return true; }
    bool on_comment_part(json::string_view, boost::system::error_code&) { return true; }
    bool on_comment(json::string_view, boost::system::error_code&) { return true; }
};

// The first key a JSON text gives twice in one object (at any depth), if any.
std::optional<std::string> duplicateKey(std::string_view text) {
    json::basic_parser<DuplicateKeyFinder> p{json::parse_options{}};
    boost::system::error_code ec;
    p.write_some(false, text.data(), text.size(), ec);
    return p.handler().duplicate;
}

} // namespace

std::span<const Route> routes() { return kRoutes; }

const Route* uploadRoute(std::string_view method, std::string_view target) {
    auto segs = split(target.substr(0, target.find('?')));
    for (const auto& r : kRoutes) {
        json::object bound;
        if (r.body == Body::File && r.method == method && matches(r.pattern, segs, bound)) return &r;
    }
    return nullptr;
}

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
        if (auto dup = duplicateKey(body))
            throw ApiError{400, "bad_json", *dup, fmt::format("the key '{}' is given twice", *dup)};
        for (auto& kv : v.as_object()) {
            if (!listed(m.route->keys, kv.key()))
                throw ApiError{400, "unknown_field", std::string(kv.key()),
                               fmt::format("unknown field '{}' (this request takes: {})", std::string_view(kv.key()),
                                           m.route->keys)};
            if (!args.contains(kv.key())) args[kv.key()] = kv.value();
        }
        // device.add's lines are objects of their own, with a line's fields.
        if (auto* lines = v.as_object().if_contains("lines"); lines && lines->is_array())
            for (const auto& line : lines->get_array())
                if (line.is_object())
                    for (const auto& kv : line.get_object())
                        if (!listed(kLineKeys, kv.key()))
                            throw ApiError{400, "unknown_field", "lines." + std::string(kv.key()),
                                           fmt::format("unknown field '{}' in a line (a line takes: {})",
                                                       std::string_view(kv.key()), kLineKeys)};
    } else if (m.route->body == Body::Csv) {
        if (type != "text/csv" && type != "text/plain")
            throw ApiError{415, "unsupported_media_type", "", "send the CSV as text/csv"};
        args["csv"] = body;
    } else if (m.route->body == Body::File) {
        args["package"] = body;
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
