#include "core/events.h"

#include <array>
#include <utility>

#include "core/limits.h"

namespace labcm {
namespace {

constexpr std::array kServiceNames{"system", "dhcp", "tftp", "http", "sip", "admin", "control"};
constexpr std::array kSeverityNames{"info", "warning", "error"};
constexpr std::array kKindNames{
    "server_started", "server_stopping", "store_external_change", "events_dropped",
    "device_added",   "device_changed",  "device_removed",        "line_added",
    "line_removed",   "devices_imported", "setting_changed",      "model_default_changed", "dial_plan_changed", "phone_setting_changed",
    "mailbox_changed", "files_imported",
    "file_served",    "file_not_found",  "file_refused",          "file_failed",
    "firmware_incomplete", "firmware_complete", "problem_report",
    "phone_registered", "phone_unregistered", "phone_expired",      "register_rejected",
    "phone_controlled", "call_attempt", "message_waiting",
    "dhcp_pool_changed", "dhcp_offered", "dhcp_acked", "dhcp_naked", "dhcp_released", "dhcp_declined",
    "dhcp_ignored", "dhcp_exhausted", "dhcp_expired",
    "admin_password_changed", "admin_login",
};
static_assert(kKindNames.size() == static_cast<std::size_t>(EventKind::AdminLogin) + 1,
              "every EventKind needs a name");

template <class Names>
std::optional<std::size_t> indexOf(const Names& names, std::string_view s) {
    for (std::size_t i = 0; i < names.size(); ++i)
        if (s == names[i]) return i;
    return std::nullopt;
}

} // namespace

std::string_view toString(Service s) { return kServiceNames.at(static_cast<std::size_t>(s)); }
std::string_view toString(Severity s) { return kSeverityNames.at(static_cast<std::size_t>(s)); }
std::string_view toString(EventKind k) { return kKindNames.at(static_cast<std::size_t>(k)); }

std::optional<Service> serviceFromString(std::string_view s) {
    if (auto i = indexOf(kServiceNames, s)) return static_cast<Service>(*i);
    return std::nullopt;
}
std::optional<EventKind> eventKindFromString(std::string_view s) {
    if (auto i = indexOf(kKindNames, s)) return static_cast<EventKind>(*i);
    return std::nullopt;
}
std::optional<Severity> severityFromString(std::string_view s) {
    if (auto i = indexOf(kSeverityNames, s)) return static_cast<Severity>(*i);
    return std::nullopt;
}

EventBus::Subscription& EventBus::Subscription::operator=(Subscription&& o) noexcept {
    if (this != &o) {
        reset();
        bus_ = std::exchange(o.bus_, nullptr);
        id_ = o.id_;
    }
    return *this;
}

void EventBus::Subscription::reset() {
    if (bus_) bus_->unsubscribe(id_);
    bus_ = nullptr;
}

EventBus::EventBus(std::size_t ringSize) : ringSize_(ringSize) {}

std::uint64_t EventBus::publish(Event e) {
    if (e.detail.size() > limits::kMaxEventDetail) e.detail.resize(limits::kMaxEventDetail);
    if (e.time == std::chrono::system_clock::time_point{}) e.time = std::chrono::system_clock::now();
    std::vector<std::shared_ptr<Callback>> targets;
    {
        std::lock_guard lock(mutex_);
        // seq is assigned under the lock so the ring and every subscriber see one order.
        e.seq = ++seq_;
        ring_.push_back(e);
        if (ring_.size() > ringSize_) ring_.pop_front();
        targets.reserve(subscribers_.size());
        for (auto& [id, cb] : subscribers_) targets.push_back(cb);
    }
    for (auto& cb : targets) (*cb)(e);
    return e.seq;
}

std::uint64_t EventBus::publish(Service service, EventKind kind, Severity severity, std::string mac,
                                std::string ip, std::string detail) {
    Event e;
    e.service = service;
    e.kind = kind;
    e.severity = severity;
    e.mac = std::move(mac);
    e.ip = std::move(ip);
    e.detail = std::move(detail);
    return publish(std::move(e));
}

EventBus::Subscription EventBus::subscribe(Callback cb) {
    std::lock_guard lock(mutex_);
    auto id = nextSubscriber_++;
    subscribers_.emplace(id, std::make_shared<Callback>(std::move(cb)));
    return Subscription(this, id);
}

void EventBus::unsubscribe(std::uint64_t id) {
    std::lock_guard lock(mutex_);
    subscribers_.erase(id);
}

std::vector<Event> EventBus::recent(std::uint64_t afterSeq, std::string_view mac) const {
    std::lock_guard lock(mutex_);
    std::vector<Event> out;
    for (const auto& e : ring_)
        if (e.seq > afterSeq && (mac.empty() || e.mac == mac)) out.push_back(e);
    return out;
}

} // namespace labcm
