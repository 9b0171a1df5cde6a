#include <doctest/doctest.h>

#include <string>

#include "core/limits.h"
#include "sip/registration_record.h"

using namespace labcm::sip;
using namespace std::chrono_literals;

namespace {

const auto t0 = Clock::time_point{} + 1000s;
const auto w0 = std::chrono::system_clock::time_point{} + 1'700'000'000'000ms;

Binding live() {
    Binding b;
    b.mac = "001122AABBCC";
    b.callId = "c1@10.0.0.50";
    b.contact = "<sip:uuid@10.0.0.50:51234;transport=tcp>";
    b.source = "tcp:10.0.0.50:51234";
    b.transport = "tcp";
    b.userAgent = "Cisco-CP8851/14.2.1";
    b.modelId = 684;
    b.activeLoad = "sip88xx.14-2-1-0001-14";
    b.inactiveLoad = "sip88xx.12-8-1-0001-455";
    b.lastReason = "reset-restart";
    b.alarm = 23;
    b.grantedSeconds = 120;
    b.expiresAt = t0 + 120s;
    b.registeredAt = w0 - 5s;
    b.dns = {"1001", "1000"};
    return b;
}

RegisterRequest unregister() {
    RegisterRequest q;
    q.mac = "001122AABBCC";
    q.callId = "c2";
    q.contact = "<sip:x@10.0.0.51:5060>";
    q.source = "udp:10.0.0.51:5060";
    q.transport = "udp";
    q.userAgent = "Cisco-CP8851/14.2.1";
    q.expires = 0;
    q.contactParams.model = 684;
    return q;
}

} // namespace

TEST_CASE("toRecord: a registered binding becomes its row with wall-clock times") {
    auto r = toRecord(live(), "registered", t0, w0);
    CHECK(r.mac == "001122AABBCC");
    CHECK(r.state == "registered");
    CHECK(r.contact == "<sip:uuid@10.0.0.50:51234;transport=tcp>");
    CHECK(r.callId == "c1@10.0.0.50");
    CHECK(r.source == "tcp:10.0.0.50:51234");
    CHECK(r.transport == "tcp");
    CHECK(r.userAgent == "Cisco-CP8851/14.2.1");
    CHECK(r.modelId == 684);
    CHECK(r.activeLoad == "sip88xx.14-2-1-0001-14");
    CHECK(r.inactiveLoad == "sip88xx.12-8-1-0001-455");
    CHECK(r.lastReason == "reset-restart");
    CHECK(r.alarm == 23);
    CHECK(r.lines == 2);
    CHECK(r.registeredAtMs == 1'700'000'000'000 - 5'000);
    CHECK(r.expiresAtMs == 1'700'000'000'000 + 120'000);
}

TEST_CASE("toRecord: other states carry no expiry; an unset registration time is 0") {
    Binding gone;
    gone.mac = "001122AABBCC";
    gone.expiresAt = t0 + 30s;
    auto r = toRecord(gone, "unregistered", t0, w0);
    CHECK(r.state == "unregistered");
    CHECK(r.expiresAtMs == 0);
    CHECK(r.registeredAtMs == 0);
    CHECK(r.lines == 0);
    CHECK(r.alarm == -1);
    CHECK(!r.modelId);
    CHECK(toRecord(live(), "expired", t0, w0).expiresAtMs == 0);
}

TEST_CASE("fromRecord: a row comes back as the binding it was saved from") {
    auto rec = toRecord(live(), "registered", t0, w0);
    // Restarted 20 s later, on a steady clock that starts elsewhere.
    auto t1 = Clock::time_point{} + 50s;
    auto b = fromRecord(rec, t1, w0 + 20s);
    auto want = live();
    CHECK(b.mac == want.mac);
    CHECK(b.callId == want.callId);
    CHECK(b.contact == want.contact);
    CHECK(b.source == want.source);
    CHECK(b.transport == want.transport);
    CHECK(b.userAgent == want.userAgent);
    CHECK(b.modelId == want.modelId);
    CHECK(b.activeLoad == want.activeLoad);
    CHECK(b.inactiveLoad == want.inactiveLoad);
    CHECK(b.lastReason == want.lastReason);
    CHECK(b.alarm == want.alarm);
    CHECK(b.registeredAt == want.registeredAt);
    CHECK((b.expiresAt == t1 + 100s));
}

TEST_CASE("fromRecord: a row already past its expiry expires now, not in the past") {
    auto rec = toRecord(live(), "registered", t0, w0);
    auto b = fromRecord(rec, t0, w0 + 10min);
    CHECK((b.expiresAt == t0));
}

TEST_CASE("applyRequest: the request's address and Reason; user agent and model untouched") {
    auto q = unregister();
    Binding b;
    applyRequest(b, q);
    CHECK(b.mac == "001122AABBCC");
    CHECK(b.callId == "c2");
    CHECK(b.contact == "<sip:x@10.0.0.51:5060>");
    CHECK(b.source == "udp:10.0.0.51:5060");
    CHECK(b.transport == "udp");
    CHECK(b.userAgent.empty());
    CHECK(!b.modelId);
    CHECK(b.activeLoad.empty());
    CHECK(b.alarm == -1);

    auto kept = live();
    applyRequest(kept, q); // no Reason: the loads stay
    CHECK(kept.activeLoad == "sip88xx.14-2-1-0001-14");
    q.reason = CiscoReason{7, "SEP001122AABBCC", "a", "b", "c"};
    applyRequest(kept, q);
    CHECK(kept.activeLoad == "a");
    CHECK(kept.inactiveLoad == "b");
    CHECK(kept.lastReason == "c");
    CHECK(kept.alarm == 7);
}

TEST_CASE("registration record: what the phone sent is stored at most limits::kRegistrationText bytes each") {
    Binding b;
    b.mac = "001122AABBCC";
    b.userAgent = std::string(70'000, 'u');
    b.contact = std::string(5000, 'c');
    b.callId = std::string(3000, 'i');
    b.lastReason = std::string(2000, 'r');
    auto r = toRecord(b, "registered", Clock::now(), std::chrono::system_clock::now());
    CHECK(r.userAgent.size() == labcm::limits::kRegistrationText);
    CHECK(r.contact.size() == labcm::limits::kRegistrationText);
    CHECK(r.callId.size() == labcm::limits::kRegistrationText);
    CHECK(r.lastReason.size() == labcm::limits::kRegistrationText);
}
