// Fuzz the call routing decisions (issue 21): a small lab whose lines, registrations and
// the INVITE's fields come from the input. Properties: a Fork has targets, each a reachable
// device with a line on the number, never the caller, with a non-empty Request-URI; every
// other outcome carries its 4xx; the caller of a Fork is the device the Contact names (or one
// found by its From DN), registered, with the From DN as a line. And a request inside a call
// goes only to one of its two phones, the one at the Request-URI's address (dialogTarget).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "sip/call_router.h"
#include "sip/source.h"

using namespace labcm::sip;
using namespace std::chrono_literals;

namespace {

struct Input {
    const std::uint8_t* p;
    std::size_t n;
    std::uint8_t byte() {
        if (!n) return 0;
        --n;
        return *p++;
    }
    std::string text(std::size_t max) {
        std::size_t len = std::min<std::size_t>(byte() % (max + 1), n);
        std::string s(reinterpret_cast<const char*>(p), len);
        p += len;
        n -= len;
        return s;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Input in{data, size};
    const auto t0 = Clock::time_point{} + 1000s;
    static const char* kDns[] = {"1001", "1002", "10", "1500", "", "100"};
    Registrar r(120, 15s);
    std::vector<DeviceView> devices;
    int count = 1 + in.byte() % 5;
    for (int i = 0; i < count; ++i) {
        DeviceView d;
        d.mac = "00000000000" + std::to_string(i);
        for (int l = in.byte() % 4; l > 0; --l) d.dns.push_back(kDns[in.byte() % 6]);
        devices.push_back(d);
    }
    r.setDevices(devices);
    for (int i = 0; i < count; ++i) {
        if (in.byte() % 2) continue;
        RegisterRequest q;
        q.mac = devices[i].mac;
        q.callId = "c" + std::to_string(i);
        q.cseq = 1;
        q.contact = in.text(40);
        q.source = "tcp:10.0.0." + std::to_string(in.byte() % 4) + ":5060";
        q.contactHost = "";
        q.transport = "tcp";
        q.bulk = true;
        r.onRegister(q, t0 + std::chrono::seconds(in.byte()), std::chrono::system_clock::now());
    }
    if (in.byte() % 3 == 0) r.upsertDevice({devices[0].mac, "", {kDns[in.byte() % 6]}});
    CallRequest c;
    c.calledUser = in.byte() % 2 ? std::string(kDns[in.byte() % 6]) : in.text(8);
    c.callerUser = in.byte() % 2 ? std::string(kDns[in.byte() % 6]) : in.text(8);
    c.callerMac = in.byte() % 4 ? "00000000000" + std::to_string(in.byte() % 6) : in.text(12);
    c.source = "tcp:10.0.0." + std::to_string(in.byte() % 4) + ":5060";
    c.maxForwards = static_cast<int>(in.byte()) - 2;
    const auto now = t0 + std::chrono::seconds(in.byte() * 2);

    // A request inside a call goes to one of the call's own two phones, the one at its
    // Request-URI's address, or to none.
    const Binding* first = r.binding(devices[0].mac);
    const Binding* second = count > 1 ? r.binding(devices[1].mac) : nullptr;
    const std::string requestUri = in.text(48);
    if (const Binding* to = dialogTarget(first, second, requestUri)) {
        if (to != first && to != second) std::abort();
        const auto at = uriHostPort(requestUri);
        if (at.empty() || uriHostPort(contactUri(to->contact)) != at) std::abort();
    }

    auto d = routeCall(c, r, now);
    if (d.outcome != CallOutcome::Fork) {
        if (d.status < 400 || d.status > 499 || !d.targets.empty()) std::abort();
        return 0;
    }
    if (d.targets.empty() || d.status != 0) std::abort();
    if (d.callerMac.empty() || (!c.callerMac.empty() && d.callerMac != c.callerMac)) std::abort();
    const auto* caller = r.binding(d.callerMac);
    const auto* callerDevice = r.device(d.callerMac);
    if (!caller || !r.reachable(*caller, now) || !callerDevice) std::abort();
    auto from = Source::parse(c.source), bound = Source::parse(caller->source);
    if (!from || !bound || from->address != bound->address) std::abort();
    if (std::find(callerDevice->dns.begin(), callerDevice->dns.end(), c.callerUser) == callerDevice->dns.end()) std::abort();
    for (const auto& t : d.targets) {
        if (t.mac == d.callerMac || t.requestUri.empty()) std::abort();
        const auto* b = r.binding(t.mac);
        const auto* dev = r.device(t.mac);
        if (!b || !r.reachable(*b, now) || !dev) std::abort();
        if (std::find(dev->dns.begin(), dev->dns.end(), c.calledUser) == dev->dns.end()) std::abort();
    }
    return 0;
}
