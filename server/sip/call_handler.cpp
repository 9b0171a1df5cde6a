// The INVITE adapter (issue 21): sip_t -> CallRequest, the routing decision (call_router.h)
// -> the answer, and the call_attempt event on the caller's timeline. Every refusal is
// answered at once with the decision's status. Forwarding to the fork set is the next step
// of the calls issue: until it lands, a routable call is answered 501 and the event names
// the phones it would ring.
#include "sip/sofia_impl.h"

#include <sofia-sip/nta.h>
#include <sofia-sip/nta_tport.h>
#include <sofia-sip/sip_header.h>
#include <sofia-sip/sip_status.h>
#include <sofia-sip/sip_tag.h>

#include <fmt/format.h>

#include "sip/call_router.h"

namespace labcm::sip {

int SipService::Impl::onInvite(nta_incoming_t* irq, sip_t const* sip) {
    CallRequest c;
    if (sip->sip_request->rq_url->url_user) c.calledUser = sip->sip_request->rq_url->url_user;
    if (sip->sip_from && sip->sip_from->a_url->url_user) c.callerUser = sip->sip_from->a_url->url_user;
    if (sip->sip_max_forwards) c.maxForwards = static_cast<int>(sip->sip_max_forwards->mf_count);
    c.callerMac = identifyDevice(readCiscoContact(sip->sip_contact), std::nullopt).value_or("");
    std::string transport, ip;
    {
        sofia::Msg request{nta_incoming_getrequest(irq)};
        sofia::TportRef tp;
        ip = readOrigin(request.get(), transport, c.source, tp);
    }
    auto d = routeCall(c, registrar, Clock::now());
    int status = d.outcome == CallOutcome::Fork ? 501 : d.status;
    const char* phrase = d.outcome == CallOutcome::Fork ? "Calls Not Routed Yet" : sip_status_phrase(status);
    nta_incoming_treply(irq, status, phrase, TAG_END());
    bus.publish(Service::Sip, EventKind::CallAttempt, d.outcome == CallOutcome::Fork ? Severity::Info : Severity::Warning,
                d.callerMac, ip,
                d.outcome == CallOutcome::Fork ? fmt::format("{}; answered 501: labcm does not forward calls yet", d.detail)
                                               : fmt::format("INVITE answered {} ({}): {}", status, toString(d.outcome), d.detail));
    return status;
}

} // namespace labcm::sip
