// /metrics: the Prometheus text (version 0.0.4) of a running server: gauges read from the
// database, counters from the services' status and the event stream.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>

#include <boost/json/object.hpp>

#include "core/events.h"
#include "store/sqlite.h"

namespace labcm::app {

/// @brief Events counted by service, kind and severity (publish runs on any thread).
class EventCounts {
public:
    explicit EventCounts(EventBus& bus);
    std::map<std::tuple<Service, EventKind, Severity>, std::uint64_t> snapshot() const;

private:
    mutable std::mutex mutex_;
    std::map<std::tuple<Service, EventKind, Severity>, std::uint64_t> counts_;
    EventBus::Subscription sub_;
};

/// @brief The page: devices and registrations from `reader`, event counts, and every
/// number in `status` (tftp_* and dhcp.* become labcm_tftp_*_total / labcm_dhcp_*_total).
std::string metricsText(store::Db& reader, const EventCounts& counts, const boost::json::object& status);

} // namespace labcm::app
