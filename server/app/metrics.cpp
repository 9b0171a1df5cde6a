#include "app/metrics.h"

#include <fmt/format.h>

#include "store/device_store.h"
#include "store/registration_store.h"

namespace labcm::app {

namespace json = boost::json;

EventCounts::EventCounts(EventBus& bus)
    : sub_(bus.subscribe([this](const Event& e) {
          std::lock_guard lock(mutex_);
          ++counts_[{e.service, e.kind, e.severity}];
      })) {}

std::map<std::tuple<Service, EventKind, Severity>, std::uint64_t> EventCounts::snapshot() const {
    std::lock_guard lock(mutex_);
    return counts_;
}

std::string metricsText(store::Db& reader, const EventCounts& counts, const json::object& status) {
    std::string out;
    auto metric = [&out](std::string_view name, std::string_view type, std::string_view help) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
    };
    metric("labcm_devices", "gauge", "Configured devices");
    out += fmt::format("labcm_devices {}\n", store::DeviceStore(reader).count());
    metric("labcm_registrations", "gauge", "Devices by registration state (stored)");
    std::map<std::string, int> states{{"registered", 0}, {"unregistered", 0}, {"expired", 0}};
    for (const auto& r : store::RegistrationStore(reader).all()) ++states[r.state];
    for (const auto& [st, n] : states) out += fmt::format("labcm_registrations{{state=\"{}\"}} {}\n", st, n);
    metric("labcm_events_total", "counter", "Events published, by service, kind and severity (requests, registrations, errors)");
    for (const auto& [key, n] : counts.snapshot())
        out += fmt::format("labcm_events_total{{service=\"{}\",kind=\"{}\",severity=\"{}\"}} {}\n",
                           toString(std::get<0>(key)), toString(std::get<1>(key)), toString(std::get<2>(key)), n);
    // The status counters: tftp_* and dhcp.* become labcm_tftp_*_total / labcm_dhcp_*_total.
    for (const auto& [k, v] : status) {
        std::string key(k);
        if (v.is_object()) {
            for (const auto& [k2, v2] : v.as_object())
                if (v2.is_number() && k2 != "port") {
                    bool gauge = k2 == "leases";
                    auto name = fmt::format("labcm_{}_{}{}", key, std::string(k2), gauge ? "" : "_total");
                    metric(name, gauge ? "gauge" : "counter", fmt::format("{} {}", key, std::string(k2)));
                    out += fmt::format("{} {}\n", name, v2.to_number<double>());
                }
        } else if (v.is_number() && !key.ends_with("_port")) {
            bool gauge = key.ends_with("_active") || key == "render_cache_files" || key == "render_cache_bytes";
            auto name = fmt::format("labcm_{}{}", key, gauge ? "" : "_total");
            metric(name, gauge ? "gauge" : "counter", key);
            out += fmt::format("{} {}\n", name, v.to_number<double>());
        }
    }
    return out;
}

} // namespace labcm::app
