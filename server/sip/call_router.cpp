#include "sip/call_router.h"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "core/device.h"
#include "sip/source.h"

namespace labcm::sip {

namespace {

CallDecision refuse(CallOutcome outcome, int status, std::string detail) {
    CallDecision d;
    d.outcome = outcome;
    d.status = status;
    d.detail = std::move(detail);
    return d;
}

} // namespace

std::string_view toString(CallOutcome o) {
    switch (o) {
    case CallOutcome::Fork: return "ringing";
    case CallOutcome::TooManyHops: return "too many hops";
    case CallOutcome::NotAPhone: return "not a registered phone";
    case CallOutcome::CallerRefused: return "caller refused";
    case CallOutcome::Incomplete: return "incomplete number";
    case CallOutcome::UnknownNumber: return "unknown number";
    case CallOutcome::Unavailable: return "not registered";
    }
    return "?";
}

const Binding* dialogTarget(const Binding* caller, const Binding* callee, std::string_view requestUri) {
    const auto hostPort = uriHostPort(requestUri);
    if (hostPort.empty()) return nullptr;
    auto at = [&](const Binding* b) { return b && uriHostPort(contactUri(b->contact)) == hostPort; };
    const bool toCaller = at(caller), toCallee = at(callee);
    if (toCaller && toCallee) return contactUri(callee->contact) == requestUri ? callee : caller;
    return toCaller ? caller : toCallee ? callee : nullptr;
}

std::string contactUri(std::string_view contact) {
    auto open = contact.find('<');
    if (open != std::string_view::npos) {
        auto close = contact.find('>', open);
        if (close == std::string_view::npos) return {};
        return std::string(contact.substr(open + 1, close - open - 1));
    }
    auto semi = contact.find(';');
    auto uri = contact.substr(0, semi);
    while (!uri.empty() && uri.front() == ' ') uri.remove_prefix(1);
    while (!uri.empty() && uri.back() == ' ') uri.remove_suffix(1);
    return std::string(uri);
}

namespace {

// routeCall, naming the caller in `callerMac` once it is known.
CallDecision decide(const CallRequest& r, const Registrar& registrar, Clock::time_point now, const Trunk* trunk,
                    std::string& callerMac) {
    if (r.maxForwards <= 0) return refuse(CallOutcome::TooManyHops, 483, "Max-Forwards reached 0: a loop");

    // The caller: a live registration of the device its Contact names (else of a device with
    // the From DN registered from the INVITE's address: older phones name no device in an
    // INVITE), from the INVITE's own address, and a From DN that is one of that device's lines.
    callerMac = r.callerMac;
    if (callerMac.empty())
        if (const auto* macs = registrar.devicesOnDn(r.callerUser))
            for (const auto& mac : *macs)
                if (const Binding* b = registrar.binding(mac);
                    b && registrar.reachable(*b, now) && sourceAddress(b->source) == sourceAddress(r.source)) {
                    callerMac = mac;
                    break;
                }
    const Binding* caller = callerMac.empty() ? nullptr : registrar.binding(callerMac);
    if (!caller || !registrar.reachable(*caller, now))
        return refuse(CallOutcome::NotAPhone, 403,
                      callerMac.empty() ? fmt::format("INVITE from {} names no device in its Contact and no registered phone there has the line {}", r.source, r.callerUser)
                                          : fmt::format("INVITE from {}: SEP{} is not registered", r.source, callerMac));
    if (sourceAddress(caller->source) != sourceAddress(r.source))
        return refuse(CallOutcome::NotAPhone, 403,
                      fmt::format("INVITE from {} names SEP{}, which is registered from {}", r.source, callerMac,
                                  sourceAddress(caller->source)));
    const DeviceView* callerDevice = registrar.device(callerMac);
    if (!callerDevice || std::find(callerDevice->dns.begin(), callerDevice->dns.end(), r.callerUser) == callerDevice->dns.end())
        return refuse(CallOutcome::CallerRefused, 403,
                      fmt::format("SEP{} called as '{}', which is not one of its lines", callerMac, r.callerUser));

    // The called number.
    const auto* macs = r.calledUser.empty() ? nullptr : registrar.devicesOnDn(r.calledUser);
    if (!macs) {
        if (!r.calledUser.empty() && registrar.beginsSomeDn(r.calledUser))
            return refuse(CallOutcome::Incomplete, 484,
                          fmt::format("SEP{} dialled {}, the first digits of a number (the dial plan sends whole numbers)",
                                      callerMac, r.calledUser));
        if (trunk && !validateDn(r.calledUser, "number")) { // digits and * # + . - _ only: nothing that bends the URI
            CallDecision d;
            d.outcome = CallOutcome::Fork;
            d.targets.push_back({"", fmt::format("sip:{}@{}", r.calledUser, trunk->hostPort), trunk->transport, ""});
            d.detail = fmt::format("{} (SEP{}) calls {}: to the trunk at {}", r.callerUser, callerMac, r.calledUser, trunk->hostPort);
            return d;
        }
        return refuse(CallOutcome::UnknownNumber, 404, fmt::format("SEP{} dialled {}: no device has that number", callerMac,
                                                                   r.calledUser.empty() ? "nothing" : r.calledUser));
    }
    CallDecision d;
    for (const auto& mac : *macs) {
        if (mac == callerMac) continue; // a shared line does not ring the phone calling it
        const Binding* b = registrar.binding(mac);
        if (!b || !registrar.reachable(*b, now)) continue;
        auto uri = contactUri(b->contact);
        if (uri.empty()) continue;
        d.targets.push_back({mac, std::move(uri), b->transport, b->source});
    }
    if (d.targets.empty())
        return refuse(CallOutcome::Unavailable, 480, fmt::format("SEP{} called {}: none of its {} device(s) is registered",
                                                                 callerMac, r.calledUser, macs->size()));
    d.outcome = CallOutcome::Fork;
    std::string who;
    for (const auto& t : d.targets) who += (who.empty() ? "SEP" : ", SEP") + t.mac;
    d.detail = fmt::format("{} (SEP{}) calls {}: ringing {}", r.callerUser, callerMac, r.calledUser, who);
    return d;
}

} // namespace

std::string uriHost(std::string_view host) {
    return host.find(':') != std::string_view::npos && !host.starts_with('[') ? fmt::format("[{}]", host) : std::string(host);
}

std::string uriHostPort(std::string_view uri) {
    auto lower = [](std::string_view v) {
        std::string out(v);
        for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        return out;
    };
    auto scheme = lower(uri.substr(0, 5));
    if (scheme.starts_with("sip:")) uri.remove_prefix(4);
    else if (scheme == "sips:") uri.remove_prefix(5);
    else return {};
    uri = uri.substr(0, uri.find('>'));
    // The user part may hold ';' and '?' (RFC 3261 25.1 user-unreserved) but never '@', and
    // neither may the parameters: the one '@' ends the user, then ';' or '?' ends the host.
    if (auto at = uri.find('@'); at != std::string_view::npos) {
        if (uri.find('@', at + 1) != std::string_view::npos) return {};
        uri.remove_prefix(at + 1);
    }
    uri = uri.substr(0, uri.find_first_of(";?"));
    std::string_view host, port;
    if (uri.starts_with('[')) {
        auto close = uri.find(']');
        if (close == std::string_view::npos) return {};
        host = uri.substr(0, close + 1);
        uri.remove_prefix(close + 1);
        if (uri.starts_with(':')) port = uri.substr(1);
        else if (!uri.empty()) return {};
    } else {
        auto colon = uri.find(':');
        host = uri.substr(0, colon);
        if (colon != std::string_view::npos) port = uri.substr(colon + 1);
    }
    if (host.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return {};
    return lower(host) + ":" + (port.empty() ? std::string("5060") : std::string(port));
}

CallDecision routeCall(const CallRequest& r, const Registrar& registrar, Clock::time_point now, const Trunk* trunk) {
    std::string callerMac;
    auto d = decide(r, registrar, now, trunk, callerMac);
    d.callerMac = std::move(callerMac);
    return d;
}

} // namespace labcm::sip
