// Fuzz the verdict (issue 22): a phone's events, their kinds, services, times and detail texts
// (which carry the file names phones ask for) from the input, folded into a trail and judged.
// Properties: no crash; registered <=> ok with no advice; otherwise a step of the boot
// sequence, what happened and what to check, and a time no later than now.
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/diagnosis.h"

using namespace labcm;
using namespace labcm::diagnosis;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static constexpr std::array kKinds{EventKind::DhcpAcked,        EventKind::DhcpOffered,       EventKind::FileServed,
                                       EventKind::FileNotFound,     EventKind::FileFailed,        EventKind::FileRefused,
                                       EventKind::PhoneRegistered,  EventKind::PhoneUnregistered, EventKind::PhoneExpired,
                                       EventKind::RegisterRejected, EventKind::CallAttempt,       EventKind::DeviceAdded};
    static constexpr std::array kServices{Service::Dhcp, Service::Tftp, Service::Http, Service::Sip, Service::Admin};
    std::size_t at = 0;
    auto byte = [&]() -> std::uint8_t { return at < size ? data[at++] : 0; };
    auto now = std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 50);
    const bool registered = byte() & 1;
    const auto patience = std::chrono::seconds(1 + byte());
    Trail t;
    for (int n = 0; n < 64 && at < size; ++n) {
        Event e;
        e.kind = kKinds[byte() % kKinds.size()];
        e.service = kServices[byte() % kServices.size()];
        now += std::chrono::seconds(byte());
        e.time = now;
        e.mac = "00112233AABB";
        e.ip = "10.0.0.5";
        const std::size_t len = std::min<std::size_t>(byte(), size - at);
        e.detail.assign(reinterpret_cast<const char*>(data + at), len);
        at += len;
        observe(t, e);
    }
    now += std::chrono::seconds(byte()) * 10;
    const Verdict v = judge(t, "SEP00112233AABB", now, registered, patience);
    if (v.ok != registered) std::abort();
    if (registered && !v.next.empty()) std::abort();
    if (!registered && (v.what.empty() || v.next.empty())) std::abort();
    if (v.since > now) std::abort();
    switch (v.step) {
    case Step::Nothing: case Step::Dhcp: case Step::TrustList: case Step::Config: case Step::Firmware:
    case Step::Connect: case Step::Register: case Step::Registered: break;
    default: std::abort();
    }
    // The outcome of a control sent at the trail's first event: always said, in words.
    for (const char* action : {"restart", "reset", "apply-config"}) {
        auto c = confirm(t, "SEP00112233AABB", action, std::chrono::system_clock::time_point{}, now, patience * 2, patience);
        if (c.what.empty() || outcomeName(c.outcome).empty()) std::abort();
    }
    return 0;
}
