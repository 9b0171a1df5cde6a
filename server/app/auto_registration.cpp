#include "app/auto_registration.h"

#include <set>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "store/device_store.h"

namespace labcm::app {

namespace json = boost::json;

AutoRegistration::AutoRegistration(Deps deps)
    : deps_(std::move(deps)), rate_({limits::kAutoRegBurst, limits::kAutoRegInterval}) {}

void RecentSightings::add(const store::SeenPhone& p) {
    std::lock_guard lock(mutex_);
    if (pending_.size() >= limits::kPendingSightings && !pending_.contains(p.mac)) return;
    auto& s = pending_[p.mac];
    std::string model = s.model; // a known model is never replaced by "" (as the store does)
    s = p;
    if (s.model.empty()) s.model = model;
}

void RecentSightings::saved(const std::string& mac) {
    std::lock_guard lock(mutex_);
    pending_.erase(mac);
}

std::optional<store::SeenPhone> RecentSightings::get(const std::string& mac, std::optional<store::SeenPhone> stored) {
    std::lock_guard lock(mutex_);
    auto it = pending_.find(mac);
    if (it == pending_.end()) return stored;
    auto s = it->second;
    if (s.model.empty() && stored) s.model = stored->model;
    return s;
}

std::optional<Device> AutoRegistration::decide(const std::string& mac, std::string& why) {
    auto s = deps_.settings.get();
    if (!s->autoRegistration) {
        why = "off (setting auto_registration)";
        return std::nullopt;
    }
    if (auto it = pending_.find(mac); it != pending_.end()) return it->second;
    auto seen = deps_.sightings.get(mac, store::SeenPhoneStore(deps_.reader).get(mac));
    if (!seen || seen->model.empty()) {
        why = seen ? "the phone did not report its model"
                   : "labcm has not seen this MAC yet (it learns a phone's model from its REGISTER or DHCP option 60)";
        return std::nullopt;
    }
    auto dns = store::DeviceStore(deps_.reader).allDns();
    std::set<std::string> used(dns.begin(), dns.end());
    for (const auto& [m, d] : pending_) used.insert(d.lines.front().dn);
    auto dn = provision::nextFreeDn(s->autoRegDnFirst, s->autoRegDnLast, used);
    if (!dn) {
        why = fmt::format("no free DN in {}-{}", s->autoRegDnFirst, s->autoRegDnLast);
        deps_.bus.publish(Service::Admin, EventKind::RegisterRejected, Severity::Warning, mac, seen->address,
                          "auto-registration: " + why);
        return std::nullopt;
    }
    if (!rate_.allow(std::chrono::steady_clock::now())) {
        why = "rate limit reached; the phone's next try is served";
        return std::nullopt;
    }
    Device d;
    d.mac = mac;
    d.model = seen->model;
    d.description = "auto-registered";
    Line line;
    line.index = 1;
    line.dn = *dn;
    d.lines.push_back(line);
    pending_[mac] = d;
    if (deps_.announce) deps_.announce(d);
    json::object args{{"device", mac}, {"model", d.model}, {"description", d.description},
                      {"lines", json::array{json::object{{"dn", *dn}}}}};
    deps_.commands.execute(json::object{{"cmd", "device.add"}, {"args", args}}, [this, mac, dn = *dn](json::object r) {
        pending_.erase(mac);
        if (r["ok"].as_bool()) {
            spdlog::info("auto-registration mac={}: added SEP{} with DN {}", mac, mac, dn);
        } else {
            spdlog::warn("auto-registration mac={}: not added: {}", mac, json::serialize(r["error"]));
            if (deps_.withdrawn) deps_.withdrawn();
        }
    });
    return d;
}

} // namespace labcm::app
