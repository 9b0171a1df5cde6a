#include <doctest/doctest.h>

#include "sip/registrar.h"

using namespace labcm::sip;
using namespace std::chrono_literals;

namespace {

Registrar makeRegistrar() {
    Registrar r(120, 15s);
    r.setDevices({{"001122AABBCC", "8851", {"1001", "1000"}}, {"001122AABBCD", "7821", {"1002"}}});
    return r;
}

RegisterRequest first(const char* mac = "001122AABBCC") {
    RegisterRequest q;
    q.mac = mac;
    q.callId = "c1@10.0.0.50";
    q.contact = "<sip:uuid@10.0.0.50:51234;transport=tcp>";
    q.source = "tcp:10.0.0.50:51234";
    q.contactHost = "10.0.0.50";
    q.transport = "tcp";
    q.userAgent = "Cisco-CP8851/14.2.1";
    q.expires = 3600;
    q.bulk = true;
    q.reason = CiscoReason{23, "SEP001122AABBCC", "sip88xx.14-2-1-0001-14", "sip88xx.12-8-1-0001-455", "reset-restart"};
    q.contactParams.model = 684;
    return q;
}

RegisterRequest keepAlive(const char* mac = "001122AABBCC") {
    auto q = first(mac);
    q.bulk = false;
    q.reason.reset();
    return q;
}

const auto t0 = Clock::time_point{} + 1000s;
const auto w0 = std::chrono::system_clock::now();

} // namespace

TEST_CASE("registrar: first REGISTER is new (newreg + optionsind), refreshes are plain") {
    auto r = makeRegistrar();
    auto d = r.onRegister(first(), t0, w0);
    CHECK((d.outcome == RegisterOutcome::NewRegistration));
    CHECK(d.status == 200);
    CHECK(d.expires == 120); // CUCM grants 120 whatever the phone asks
    CHECK(d.newreg);
    CHECK(d.optionsInd);
    const auto* b = r.binding("001122AABBCC");
    REQUIRE(b);
    CHECK(b->activeLoad == "sip88xx.14-2-1-0001-14");
    CHECK(b->inactiveLoad == "sip88xx.12-8-1-0001-455");
    CHECK(b->lastReason == "reset-restart");
    CHECK(b->modelId == 684);
    CHECK(b->dns == std::vector<std::string>{"1001", "1000"}); // bulk: every line

    auto k = r.onRegister(keepAlive(), t0 + 115s, w0);
    CHECK((k.outcome == RegisterOutcome::Refresh));
    CHECK(!k.newreg);
    CHECK(!k.optionsInd);
    CHECK(r.binding("001122AABBCC")->activeLoad == "sip88xx.14-2-1-0001-14"); // kept without Reason
}

TEST_CASE("registrar: granted expiry is clamped to [25, setting]") {
    auto r = makeRegistrar();
    auto q = first();
    q.expires = 60;
    CHECK(r.onRegister(q, t0, w0).expires == 60);
    q.expires = 5;
    CHECK(r.onRegister(q, t0, w0).expires == 25);
    r.setGrantedSeconds(10); // never below 25
    q.expires = 3600;
    CHECK(r.onRegister(q, t0, w0).expires == 25);
}

TEST_CASE("registrar: backup keep-alive keeps the binding; Expires 0 unregisters") {
    auto r = makeRegistrar();
    r.onRegister(first(), t0, w0);
    auto ka = keepAlive();
    ka.expires = 0;
    ka.contactParams.keepAlive = true;
    CHECK((r.onRegister(ka, t0 + 1s, w0).outcome == RegisterOutcome::BackupKeepAlive));
    CHECK(r.binding("001122AABBCC"));
    auto un = first();
    un.expires = 0;
    un.reason->last = "reset-reset";
    auto d = r.onRegister(un, t0 + 2s, w0);
    CHECK((d.outcome == RegisterOutcome::Unregistered));
    CHECK(d.detail == "unregistered (Last=reset-reset)");
    CHECK(!r.binding("001122AABBCC"));
}

TEST_CASE("registrar: unknown and unidentified devices get 404") {
    auto r = makeRegistrar();
    auto d = r.onRegister(first("0011223344FF"), t0, w0);
    CHECK((d.outcome == RegisterOutcome::UnknownDevice));
    CHECK(d.status == 404);
    CHECK(d.detail.find("SEP0011223344FF") != std::string::npos);
    auto q = first();
    q.mac.clear();
    CHECK((r.onRegister(q, t0, w0).outcome == RegisterOutcome::Unidentified));
    CHECK(r.bindings().empty());
}

TEST_CASE("registrar: expiry after granted + grace; a new call-id starts a new cycle") {
    auto r = makeRegistrar();
    r.onRegister(first(), t0, w0);
    CHECK(r.sweep(t0 + 120s + 15s).empty());
    auto gone = r.sweep(t0 + 136s);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].mac == "001122AABBCC");
    CHECK(!r.binding("001122AABBCC"));
    r.onRegister(first(), t0, w0);
    auto other = keepAlive();
    other.callId = "c2@10.0.0.50";
    CHECK(r.onRegister(other, t0 + 1s, w0).newreg);
}

TEST_CASE("registrar: a keep-alive for a lost or restored binding re-creates all lines with newreg") {
    auto r = makeRegistrar();
    // labcm restarted and lost the binding: the phone's bodyless keep-alive comes in.
    auto d = r.onRegister(keepAlive(), t0, w0);
    CHECK((d.outcome == RegisterOutcome::NewRegistration));
    CHECK(d.newreg);
    CHECK(r.binding("001122AABBCC")->dns.size() == 2);
    CHECK(d.detail.find("all lines re-created") != std::string::npos);

    // Restored from the database: not live, so the first REGISTER says newreg, loads kept.
    Registrar r2 = makeRegistrar();
    Binding b;
    b.mac = "001122AABBCD";
    b.callId = "c1@10.0.0.50";
    b.activeLoad = "sip78xx.14-2-1-0001-14";
    b.expiresAt = t0 + 60s;
    r2.restore(b);
    auto k = keepAlive("001122AABBCD");
    auto d2 = r2.onRegister(k, t0 + 1s, w0);
    CHECK(d2.newreg);
    CHECK(r2.binding("001122AABBCD")->activeLoad == "sip78xx.14-2-1-0001-14");
    CHECK(r2.binding("001122AABBCD")->live);
}

TEST_CASE("registrar: configuration changes flow into live bindings; removed devices are pruned") {
    auto r = makeRegistrar();
    r.onRegister(first(), t0, w0);
    r.setDevices({{"001122AABBCC", "8851", {"1001", "1000", "1009"}}});
    CHECK(r.binding("001122AABBCC")->dns.size() == 3);
    r.setDevices({});
    CHECK(r.pruneUnknown() == std::vector<std::string>{"001122AABBCC"});
    CHECK(r.bindings().empty());
}

TEST_CASE("registrar: one device added (auto-registration) is known at once; the others stay") {
    auto r = makeRegistrar();
    RegisterRequest q = first();
    q.mac = "00112233EEFF";
    CHECK(r.onRegister(q, t0, w0).status == 404);
    r.upsertDevice({"00112233EEFF", "8861", {"5001"}});
    auto d = r.onRegister(q, t0, w0);
    CHECK(d.status == 200);
    CHECK((d.outcome == RegisterOutcome::NewRegistration));
    CHECK(r.binding("00112233EEFF")->dns == std::vector<std::string>{"5001"});
    CHECK(r.device("001122AABBCC") != nullptr); // upsert replaces nothing else
    // Upserting again changes that device's lines in its live binding.
    r.upsertDevice({"00112233EEFF", "8861", {"5001", "5002"}});
    CHECK(r.binding("00112233EEFF")->dns.size() == 2);
    CHECK(r.pruneUnknown().empty());
}

TEST_CASE("registrar: a retransmitted REGISTER (same Call-ID and CSeq) gets the same answer and changes nothing") {
    auto r = makeRegistrar();
    auto q = first();
    q.cseq = 101;
    auto d = r.onRegister(q, t0, w0);
    REQUIRE((d.outcome == RegisterOutcome::NewRegistration));
    CHECK_FALSE(d.retransmission);
    const auto expiresAt = r.binding("001122AABBCC")->expiresAt;

    auto again = r.onRegister(q, t0 + 2s, w0);
    CHECK(again.retransmission);
    CHECK((again.outcome == RegisterOutcome::NewRegistration));
    CHECK(again.status == 200);
    CHECK(again.expires == d.expires);
    CHECK(again.newreg);      // the same Contact echo
    CHECK(again.optionsInd);  // and the same body
    CHECK(r.binding("001122AABBCC")->expiresAt == expiresAt);

    auto k = keepAlive();
    k.cseq = 102; // the next refresh is one
    auto refresh = r.onRegister(k, t0 + 60s, w0);
    CHECK_FALSE(refresh.retransmission);
    CHECK((refresh.outcome == RegisterOutcome::Refresh));
    auto refreshAgain = r.onRegister(k, t0 + 61s, w0);
    CHECK(refreshAgain.retransmission);
    CHECK((refreshAgain.outcome == RegisterOutcome::Refresh));
    CHECK_FALSE(refreshAgain.newreg);

    auto older = keepAlive(); // overtaken by a newer one: answered, no change
    older.cseq = 101;
    CHECK(r.onRegister(older, t0 + 62s, w0).retransmission);

    auto rebooted = first(); // a new Call-ID starts over whatever its CSeq
    rebooted.callId = "c2@10.0.0.50";
    rebooted.cseq = 1;
    auto fresh = r.onRegister(rebooted, t0 + 70s, w0);
    CHECK_FALSE(fresh.retransmission);
    CHECK((fresh.outcome == RegisterOutcome::NewRegistration));
}

TEST_CASE("registrar: one device removed takes its binding with it; the others stay") {
    auto r = makeRegistrar();
    REQUIRE((r.onRegister(first(), t0, w0).outcome == RegisterOutcome::NewRegistration));
    REQUIRE((r.onRegister(first("001122AABBCD"), t0, w0).outcome == RegisterOutcome::NewRegistration));
    CHECK(r.removeDevice("001122AABBCC"));
    CHECK_FALSE(r.device("001122AABBCC"));
    CHECK_FALSE(r.binding("001122AABBCC"));
    CHECK(r.binding("001122AABBCD"));
    CHECK((r.onRegister(keepAlive(), t0 + 60s, w0).outcome == RegisterOutcome::UnknownDevice));
    CHECK_FALSE(r.removeDevice("001122AABBCC")); // no binding left
}

// Issue 19: a registration belongs to the address that made it.
RegisterRequest from(RegisterRequest q, const char* address) {
    q.source = std::string("tcp:") + address + ":40000";
    q.contactHost = address;
    return q;
}

TEST_CASE("registrar: a live registration is refused to another address, and so is its unregister") {
    auto r = makeRegistrar();
    REQUIRE(r.onRegister(first(), t0, w0).status == 200);
    auto d = r.onRegister(from(first(), "10.0.0.66"), t0 + 1s, w0);
    CHECK(d.status == 403);
    CHECK((d.outcome == RegisterOutcome::Refused));
    CHECK(d.detail.find("registration from 10.0.0.66 refused: SEP001122AABBCC is registered from 10.0.0.50") == 0);
    auto bye = from(keepAlive(), "10.0.0.66");
    bye.expires = 0;
    CHECK(r.onRegister(bye, t0 + 2s, w0).status == 403);
    REQUIRE(r.binding("001122AABBCC"));
    CHECK(r.binding("001122AABBCC")->source == "tcp:10.0.0.50:51234"); // untouched
    // A backup's keep-alive (Expires 0, cisco-keep-alive) from anywhere changes nothing: 200.
    bye.contactParams.keepAlive = true;
    CHECK((r.onRegister(bye, t0 + 3s, w0).outcome == RegisterOutcome::BackupKeepAlive));
    // The phone itself, from a new port (a new connection): its own.
    auto again = first();
    again.source = "tcp:10.0.0.50:51999";
    again.callId = "c2@10.0.0.50";
    CHECK(r.onRegister(again, t0 + 4s, w0).status == 200);
}

TEST_CASE("registrar: another address may register once the binding lapsed or its connection closed") {
    auto r = makeRegistrar();
    REQUIRE(r.onRegister(first(), t0, w0).status == 200);
    auto moved = from(first(), "10.0.0.51");
    CHECK(r.onRegister(moved, t0 + 120s + 15s, w0).status == 403); // still inside the grace
    CHECK(r.onRegister(moved, t0 + 120s + 16s, w0).status == 200); // lapsed: the new address owns it
    CHECK(r.binding("001122AABBCC")->source == "tcp:10.0.0.51:40000");
    auto back = first();
    back.callId = "c3@10.0.0.50";
    CHECK(r.onRegister(back, t0 + 140s, w0).status == 403);
    back.boundConnectionClosed = true; // the owner's TCP connection closed: the phone moved
    CHECK(r.onRegister(back, t0 + 141s, w0).status == 200);
}

TEST_CASE("registrar: the Contact must name the REGISTER's source unless behind NAT") {
    auto r = makeRegistrar();
    auto q = first();
    q.contactHost = "192.0.2.99"; // a third party
    auto d = r.onRegister(q, t0, w0);
    CHECK(d.status == 403);
    CHECK(d.detail.find("the Contact host 192.0.2.99 is not the REGISTER's source 10.0.0.50") == 0);
    CHECK_FALSE(r.binding("001122AABBCC"));
    r.setContactMustBeSource(false);
    CHECK(r.onRegister(q, t0, w0).status == 200);
}

TEST_CASE("registrar: a phone labcm's DHCP leased an address registers from that address only") {
    auto r = makeRegistrar();
    auto stranger = from(first(), "10.0.0.66");
    stranger.leasedAddress = "10.0.0.50";
    auto d = r.onRegister(stranger, t0, w0);
    CHECK(d.status == 403);
    CHECK(d.detail.find("registration from 10.0.0.66 refused: labcm's DHCP leased SEP001122AABBCC the address 10.0.0.50") == 0);
    CHECK_FALSE(r.binding("001122AABBCC"));
    auto phone = first(); // from 10.0.0.50
    phone.leasedAddress = "10.0.0.50";
    CHECK(r.onRegister(phone, t0, w0).status == 200);
    // Without a lease (another DHCP server, a static address) any address may register first.
    auto unleased = from(first("001122AABBCD"), "10.0.0.77");
    CHECK(r.onRegister(unleased, t0, w0).status == 200);
    // Behind NAT the source is the NAT's: the lease says nothing.
    auto nat = makeRegistrar();
    nat.setContactMustBeSource(false);
    auto natted = from(first(), "10.0.0.88");
    natted.leasedAddress = "10.0.0.51";
    CHECK(nat.onRegister(natted, t0, w0).status == 200);
}
