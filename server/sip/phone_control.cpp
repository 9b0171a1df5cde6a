// Phone control: `Event: service-control` NOTIFY (restart, reset, apply-config, ...) to a
// registered phone, over its own TCP connection when labcm holds it, else to its Contact.
#include "sip/sofia_impl.h"

#include <algorithm>

#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>
#include <sofia-sip/nta_tport.h>

#include <fmt/format.h>

#include "sip/call_router.h"

namespace labcm::sip {

namespace {

// The host part of a SIP URI string.
std::string uriHost(const std::string& uri) {
    auto at = uri.find('@');
    auto start = at == std::string::npos ? uri.find(':') + 1 : at + 1;
    auto end = uri.find_first_of(":;>", start);
    return uri.substr(start, end == std::string::npos ? std::string::npos : end - start);
}

} // namespace

void SipService::Impl::sendControl(std::string mac, PhoneAction action, std::string stamp,
                                   std::function<void(ControlResult)> done) {
    auto const* b = registrar.binding(mac);
    if (!b) {
        done({false, 0, "", fmt::format("SEP{} is not registered", mac)});
        return;
    }
    auto& s = *stack;
    auto uri = contactUri(b->contact);
    tport_t* tp = nullptr;
    if (auto it = s.tports.find(mac); it != s.tports.end() && !tport_is_closed(it->second.get())) tp = it->second.get();
    std::string dn = b->dns.empty() ? "labcm" : b->dns.front();
    auto from = fmt::format("<sip:labcm@{}>", cfg.advertisedHost);
    auto to = fmt::format("<sip:{}@{}>", dn, uriHost(uri));
    auto body = serviceControlBody(action, b->callId, stamp);
    // The context lives in the stack until the final response (or the teardown) drops it.
    auto& ctx = s.controls.emplace_back(ControlCtx{this, mac, action, std::move(done)});
    auto* orq = nta_outgoing_tcreate(s.leg.get(), &Impl::onControlResponse, reinterpret_cast<nta_outgoing_magic_t*>(&ctx),
                                     nullptr, SIP_METHOD_NOTIFY, URL_STRING_MAKE(uri.c_str()),
                                     SIPTAG_FROM_STR(from.c_str()), SIPTAG_TO_STR(to.c_str()),
                                     SIPTAG_EVENT_STR("service-control"), SIPTAG_SUBSCRIPTION_STATE_STR("active"),
                                     SIPTAG_CONTENT_TYPE_STR("text/plain"), SIPTAG_PAYLOAD_STR(body.c_str()),
                                     TAG_IF(tp, NTATAG_TPORT(tp)), TAG_END());
    if (!orq) {
        auto d = std::move(ctx.done);
        s.controls.pop_back();
        d({false, 0, "", fmt::format("could not send the NOTIFY to {}", uri)});
    }
}

int SipService::Impl::onControlResponse(nta_outgoing_magic_t* magic, nta_outgoing_t* orq, sip_t const* sip) {
    int status = nta_outgoing_status(orq);
    if (status < 200) return 0;
    sofia::Outgoing finished{orq};
    auto* ctx = reinterpret_cast<ControlCtx*>(magic);
    ControlResult r;
    r.sent = true;
    r.status = status;
    r.phrase = sip && sip->sip_status && sip->sip_status->st_phrase ? sip->sip_status->st_phrase : sip_status_phrase(status);
    r.detail = fmt::format("service-control {} -> {} {}", toString(ctx->action), status, r.phrase);
    Impl* self = ctx->self;
    self->bus.publish(Service::Sip, EventKind::PhoneControlled, status < 300 ? Severity::Info : Severity::Warning, ctx->mac,
                      "", r.detail);
    ctx->done(r);
    finished.reset(); // nta_outgoing_destroy, then the context goes
    // (During the teardown the stack is going away and drops every context itself.)
    if (self->stack) self->stack->controls.remove_if([ctx](const ControlCtx& c) { return &c == ctx; });
    return 0;
}

} // namespace labcm::sip
