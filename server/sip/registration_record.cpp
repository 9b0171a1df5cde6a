#include "sip/registration_record.h"

#include <algorithm>
#include <cstdint>

#include "core/limits.h"
#include "core/text.h"

namespace labcm::sip {

namespace {

std::int64_t wallMs(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

} // namespace

store::RegistrationRecord toRecord(const Binding& b, std::string_view state, Clock::time_point now,
                                   std::chrono::system_clock::time_point wallNow) {
    store::RegistrationRecord r;
    r.mac = b.mac;
    r.state = std::string(state);
    // What the phone sent is stored short (a registration row per device, whatever it sent).
    r.contact = text::cutUtf8(b.contact, limits::kRegistrationText);
    r.callId = text::cutUtf8(b.callId, limits::kRegistrationText);
    r.source = b.source;
    r.transport = b.transport;
    r.userAgent = text::cutUtf8(b.userAgent, limits::kRegistrationText);
    r.modelId = b.modelId;
    r.activeLoad = b.activeLoad;
    r.inactiveLoad = b.inactiveLoad;
    r.lastReason = text::cutUtf8(b.lastReason, limits::kRegistrationText);
    r.alarm = b.alarm;
    r.lines = static_cast<int>(b.dns.size());
    r.registeredAtMs = b.registeredAt == std::chrono::system_clock::time_point{} ? 0 : wallMs(b.registeredAt);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(b.expiresAt - now).count();
    r.expiresAtMs = state == "registered" ? wallMs(wallNow) + left : 0;
    r.updatedAtMs = wallMs(wallNow); // when the registrar saw it, not when the row is written
    return r;
}

Binding fromRecord(const store::RegistrationRecord& r, Clock::time_point now,
                   std::chrono::system_clock::time_point wallNow) {
    Binding b;
    b.mac = r.mac;
    b.callId = r.callId;
    b.contact = r.contact;
    b.source = r.source;
    b.transport = r.transport;
    b.userAgent = r.userAgent;
    b.modelId = r.modelId;
    b.activeLoad = r.activeLoad;
    b.inactiveLoad = r.inactiveLoad;
    b.lastReason = r.lastReason;
    b.alarm = r.alarm;
    b.expiresAt = now + std::chrono::milliseconds(std::max<std::int64_t>(0, r.expiresAtMs - wallMs(wallNow)));
    b.registeredAt = std::chrono::system_clock::time_point(std::chrono::milliseconds(r.registeredAtMs));
    return b;
}

} // namespace labcm::sip
