// Views: what the front ends read and change nothing. The server's status, device listings
// and pages, one device, registrations, recent events, the CSV export; and the JSON view of
// a device every domain replies with.
#include <unistd.h>

#include <chrono>

#include <fmt/format.h>

#include "core/device_csv.h"
#include "core/diagnosis.h"
#include "core/limits.h"
#include "core/mac.h"
#include "sip/source.h"
#include "store/event_log.h"
#include "store/registration_store.h"
#include "usecases/table.h"

namespace labcm::usecases::detail {
namespace {

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

} // namespace

json::value registrationJson(store::Db& db, const std::string& mac) {
    auto r = store::RegistrationStore(db).get(mac);
    if (!r) return json::object{{"state", "never"}};
    json::object o{{"state", r->state},           {"active_load", r->activeLoad},   {"inactive_load", r->inactiveLoad},
                   {"last", r->lastReason},       {"alarm", r->alarm},              {"user_agent", r->userAgent},
                   {"contact", r->contact},       {"source", r->source},            {"transport", r->transport},
                   {"call_id", r->callId},        {"lines", r->lines},              {"registered_at", r->registeredAtMs},
                   {"expires_at", r->expiresAtMs}, {"last_seen", r->updatedAtMs}};
    if (r->modelId) o["model_id"] = *r->modelId;
    auto source = sip::Source::parse(r->source); // "tcp:10.0.0.50:51234" -> "10.0.0.50"
    o["ip"] = source ? source->address : std::string();
    return o;
}

namespace {

/// The phone's trail from its stored events of the kinds the verdict reads (a phone's calls
/// and message-waiting NOTIFYs do not push its boot out of the window), those at or after
/// `sinceMs` only.
diagnosis::Trail trailOf(store::Db& db, const std::string& mac, std::int64_t sinceMs = 0) {
    static const std::vector<std::string_view> kinds{
        "dhcp_offered",     "dhcp_acked",         "file_served",   "file_not_found", "file_refused",
        "file_failed",      "phone_registered",   "phone_unregistered", "phone_expired", "register_rejected"};
    diagnosis::Trail trail;
    auto events = store::EventLog(db).recentOfKinds(mac, kinds, kVerdictEvents); // newest first
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
        auto kind = eventKindFromString(it->kind);
        auto service = serviceFromString(it->service);
        if (!kind || !service || it->timeMs < sinceMs) continue;
        Event e;
        e.service = *service;
        e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(it->timeMs));
        e.mac = it->mac;
        e.ip = it->ip;
        e.kind = *kind;
        e.detail = it->detail;
        diagnosis::observe(trail, e);
    }
    return trail;
}

json::object verdictFields(const diagnosis::Verdict& v) {
    json::object o{{"step", static_cast<int>(v.step)}, {"step_name", diagnosis::stepName(v.step)}, {"ok", v.ok},
                   {"what", v.what}, {"next", v.next}};
    if (v.since != diagnosis::Time{})
        o["since"] = std::chrono::duration_cast<std::chrono::milliseconds>(v.since.time_since_epoch()).count();
    else
        o["since"] = nullptr;
    return o;
}

} // namespace

json::object verdictJson(store::Db& db, const std::string& mac, std::chrono::seconds patience) {
    const auto now = std::chrono::system_clock::now();
    const auto nowMs = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
    auto r = store::RegistrationStore(db).get(mac);
    // As the registrar counts it: until its expiry plus the grace.
    const auto graceMs = std::chrono::duration_cast<std::chrono::milliseconds>(limits::kSipExpiryGrace).count();
    const bool registered = r && r->state == "registered" && r->expiresAtMs + graceMs >= nowMs;
    auto v = diagnosis::judge(registered ? diagnosis::Trail{} : trailOf(db, mac), deviceName(mac), now, registered, patience);
    if (registered && r) v.since = std::chrono::system_clock::time_point(std::chrono::milliseconds(r->registeredAtMs));
    return verdictFields(v);
}

/// The outcome of a restart, reset or apply-config sent at `sinceMs` (issue 22, item 5).
json::object outcomeJson(store::Db& db, const std::string& mac, const std::string& action, std::int64_t sinceMs,
                         std::chrono::seconds timeout, std::chrono::seconds patience) {
    const auto now = std::chrono::system_clock::now();
    const auto sent = std::chrono::system_clock::time_point(std::chrono::milliseconds(sinceMs));
    auto c = diagnosis::confirm(trailOf(db, mac, sinceMs), deviceName(mac), action, sent, now, timeout, patience);
    auto o = verdictFields(c.verdict);
    o["outcome"] = diagnosis::outcomeName(c.outcome);
    o["done"] = c.outcome != diagnosis::Outcome::Waiting;
    o["outcome_what"] = c.what;
    o["device"] = deviceName(mac);
    o["action"] = action;
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

namespace {

json::object status(Context& ctx) {
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - ctx.info.started);
    json::object r{{"version", LABCM_VERSION},
                   {"schema_version", ctx.reader.userVersion()},
                   {"data_dir", ctx.info.dataDir},
                   {"mode", ctx.info.mode},
                   {"ready", ctx.info.ready.load()},
                   {"pid", static_cast<std::int64_t>(::getpid())},
                   {"uptime_s", uptime.count()},
                   {"devices", store::DeviceStore(ctx.reader).count()},
                   {"store_commits", ctx.writer.commits()},
                   {"external_changes", ctx.info.externalChanges.load()},
                   {"events_published", ctx.bus.lastSeq()}};
    if (ctx.info.extra)
        for (auto& [k, v] : ctx.info.extra()) r[k] = v;
    return r;
}

// One page of devices for the admin list: filter, sort, paging, and the total.
json::object devicePage(store::Db& reader, const json::object& a, std::chrono::seconds patience) {
    store::DeviceFilter f;
    f.text = optString(a, "filter").value_or("");
    f.sort = optString(a, "sort").value_or("name");
    auto limit = optInt(a, "limit").value_or(50);
    auto offset = optInt(a, "offset").value_or(0);
    if (limit < 1 || limit > 1000) badArg("limit", "must be between 1 and 1000");
    if (offset < 0) badArg("offset", "must not be negative");
    f.limit = static_cast<std::size_t>(limit);
    f.offset = static_cast<std::size_t>(offset);
    store::DeviceStore ds(reader);
    json::array items;
    try {
        for (const auto& d : ds.list(f)) {
            auto o = deviceJson(d, ds);
            o["verdict"] = verdictJson(reader, d.mac, patience); // a page at a time: one indexed query per phone not registered
            items.push_back(std::move(o));
        }
    } catch (const std::invalid_argument& e) {
        badArg("sort", e.what());
    }
    json::object states;
    std::size_t total = 0;
    for (const auto& [state, n] : ds.countByState(f)) {
        states[state] = n;
        total += n;
    }
    return {{"items", std::move(items)}, {"total", total}, {"states", std::move(states)}, {"offset", offset}, {"limit", limit}};
}

json::array events(store::Db& reader, const json::object& a) {
    std::string mac;
    if (a.contains("device")) mac = macArg(a);
    auto limit = optInt(a, "limit").value_or(50);
    if (limit < 1 || limit > 10'000) badArg("limit", "must be between 1 and 10000");
    json::array out;
    for (const auto& e : store::EventLog(reader).recent(mac, static_cast<std::size_t>(limit)))
        out.push_back({{"id", e.id},
                       {"time_ms", e.timeMs},
                       {"mac", e.mac},
                       {"ip", e.ip},
                       {"service", e.service},
                       {"kind", e.kind},
                       {"severity", e.severity},
                       {"detail", e.detail}});
    return out;
}

} // namespace

void addViewUseCases(Table& t) {
    t.add("status", [&t](const json::object&, Reply reply) { reply(okReply(status(t.ctx))); });

    t.add("device.list", [&t](const json::object& a, Reply reply) {
        store::DeviceFilter f;
        f.text = optString(a, "filter").value_or("");
        f.limit = static_cast<std::size_t>(std::max<std::int64_t>(0, optInt(a, "limit").value_or(0)));
        f.offset = static_cast<std::size_t>(std::max<std::int64_t>(0, optInt(a, "offset").value_or(0)));
        store::DeviceStore ds(t.ctx.reader);
        json::array out;
        for (const auto& d : ds.list(f)) out.push_back(deviceJson(d, ds));
        reply(okReply(std::move(out)));
    });

    t.add("device.page", [&t](const json::object& a, Reply reply) { reply(okReply(devicePage(t.ctx.reader, a, std::chrono::seconds(t.ctx.settings.get()->diagnosisWait)))); });

    t.add("device.show", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        store::DeviceStore ds(t.ctx.reader);
        auto o = deviceJson(loadDevice(ds, mac), ds);
        o["verdict"] = verdictJson(t.ctx.reader, mac, std::chrono::seconds(t.ctx.settings.get()->diagnosisWait));
        reply(okReply(std::move(o)));
    });

    t.add("device.why", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a); // a MAC labcm has seen need not be in the database (XMLDefault)
        auto o = verdictJson(t.ctx.reader, mac, std::chrono::seconds(t.ctx.settings.get()->diagnosisWait));
        o["device"] = deviceName(mac);
        o["known"] = store::DeviceStore(t.ctx.reader).get(mac).has_value();
        reply(okReply(std::move(o)));
    });

    // Polled after device.control: the outcome only when it is true (its reply's since_ms).
    t.add("device.outcome", [&t](const json::object& a, Reply reply) {
        auto mac = macArg(a);
        auto action = reqString(a, "action");
        if (action != "restart" && action != "reset" && action != "apply-config")
            badArg("action", fmt::format("'{}' is not one of restart, reset, apply-config", action));
        auto since = optInt(a, "since_ms");
        if (!since || *since <= 0) badArg("since_ms", "is required: the since_ms of the control's reply");
        auto timeout = optInt(a, "timeout").value_or(120);
        if (timeout < 1 || timeout > 3600) badArg("timeout", "must be between 1 and 3600 seconds");
        reply(okReply(outcomeJson(t.ctx.reader, mac, action, *since, std::chrono::seconds(timeout),
                                  std::chrono::seconds(t.ctx.settings.get()->diagnosisWait))));
    });

    t.add("registration.list", [&t](const json::object&, Reply reply) {
        json::array out;
        for (const auto& r : store::RegistrationStore(t.ctx.reader).all()) {
            auto o = registrationJson(t.ctx.reader, r.mac).as_object();
            o["device"] = deviceName(r.mac);
            out.push_back(std::move(o));
        }
        reply(okReply(std::move(out)));
    });

    t.add("events", [&t](const json::object& a, Reply reply) { reply(okReply(events(t.ctx.reader, a))); });

    t.add("call.list", [&t](const json::object&, Reply reply) {
        if (!t.ctx.activeCalls)
            throw CommandError(503, "no_server", "", "calls in progress are known to a running server only (labcm serve)");
        reply(okReply(t.ctx.activeCalls()));
    });

    t.add("export", [&t](const json::object&, Reply reply) {
        store::DeviceStore ds(t.ctx.reader);
        reply(okReply({{"csv", formatDeviceCsv(ds.list())}}));
    });
}

} // namespace labcm::usecases::detail
