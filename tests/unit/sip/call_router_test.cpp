// Where a call goes (issue 21): the fork set, shared lines, unregistered and unknown numbers,
// the first digits of a number, a phone calling as another, a stranger, a loop.
#include <doctest/doctest.h>

#include "sip/call_router.h"

#include <fmt/format.h>

using namespace labcm::sip;
using namespace std::chrono_literals;

namespace {

const auto t0 = Clock::time_point{} + 1000s;
const auto w0 = std::chrono::system_clock::now();

// A phone's REGISTER from ip:port over `transport` (a new registration cycle, or a refresh).
RegisterRequest registration(const std::string& mac, const std::string& ip, int port = 5060, const char* transport = "tcp",
                             std::uint32_t cseq = 1, bool bulk = true) {
    RegisterRequest q;
    q.mac = mac;
    q.callId = "reg-" + mac;
    q.cseq = cseq;
    q.contact = fmt::format("<sip:uuid-{}@{}:{};transport={}>;+u.sip!devicename.ccm.cisco.com=\"SEP{}\"", mac, ip, port,
                            transport, mac);
    q.source = fmt::format("{}:{}:{}", transport, ip, port);
    q.contactHost = ip;
    q.transport = transport;
    q.bulk = bulk;
    return q;
}

// Three desks: A has 1001 and the shared 1500, B has 1002 and 1500, C has 1003 (never registers).
Registrar lab() {
    Registrar r(120, 15s);
    r.setDevices({{"0000000000AA", "8845", {"1001", "1500"}},
                  {"0000000000BB", "8845", {"1002", "1500"}},
                  {"0000000000CC", "7821", {"1003"}}});
    REQUIRE(r.onRegister(registration("0000000000AA", "10.0.0.51"), t0, w0).status == 200);
    REQUIRE(r.onRegister(registration("0000000000BB", "10.0.0.52"), t0, w0).status == 200);
    return r;
}

CallRequest call(const char* to, const char* from = "1001", const char* mac = "0000000000AA", const char* source = "tcp:10.0.0.51:5060") {
    return {to, from, mac, source, 70};
}

} // namespace

TEST_CASE("call routing: a DN rings its registered device at its registered Contact") {
    auto r = lab();
    auto d = routeCall(call("1002"), r, t0 + 1s);
    REQUIRE((d.outcome == CallOutcome::Fork));
    REQUIRE(d.targets.size() == 1);
    CHECK(d.targets[0].mac == "0000000000BB");
    CHECK(d.targets[0].requestUri == "sip:uuid-0000000000BB@10.0.0.52:5060;transport=tcp");
    CHECK(d.targets[0].transport == "tcp");
    CHECK(d.targets[0].source == "tcp:10.0.0.52:5060");
    CHECK(d.detail == "1001 (SEP0000000000AA) calls 1002: ringing SEP0000000000BB");
}

TEST_CASE("call routing: a shared line rings every other device on it, never the caller") {
    auto r = lab();
    auto d = routeCall(call("1500", "1002", "0000000000BB", "tcp:10.0.0.52:5060"), r, t0);
    REQUIRE((d.outcome == CallOutcome::Fork));
    REQUIRE(d.targets.size() == 1);
    CHECK(d.targets[0].mac == "0000000000AA");
    // A third desk joins the shared line and registers: both others ring.
    r.upsertDevice({"0000000000CC", "7821", {"1003", "1500"}});
    REQUIRE(r.onRegister(registration("0000000000CC", "10.0.0.53", 5060, "udp"), t0, w0).status == 200);
    d = routeCall(call("1500", "1002", "0000000000BB", "tcp:10.0.0.52:5060"), r, t0);
    REQUIRE(d.targets.size() == 2);
    CHECK(d.targets[0].mac == "0000000000AA");
    CHECK(d.targets[1].mac == "0000000000CC");
    CHECK(d.targets[1].requestUri == "sip:uuid-0000000000CC@10.0.0.53:5060;transport=udp");
    // The line moves off C: only A rings again.
    r.upsertDevice({"0000000000CC", "7821", {"1003"}});
    CHECK(routeCall(call("1500", "1002", "0000000000BB", "tcp:10.0.0.52:5060"), r, t0).targets.size() == 1);
    CHECK_FALSE(r.devicesOnDn("1003") == nullptr);
    r.removeDevice("0000000000CC");
    CHECK(r.devicesOnDn("1003") == nullptr);
}

TEST_CASE("call routing: unknown, incomplete and unregistered numbers get their answer at once") {
    auto r = lab();
    auto d = routeCall(call("1003"), r, t0);
    CHECK((d.outcome == CallOutcome::Unavailable));
    CHECK(d.status == 480);
    CHECK(d.detail == "SEP0000000000AA called 1003: none of its 1 device(s) is registered");
    d = routeCall(call("1999"), r, t0);
    CHECK((d.outcome == CallOutcome::UnknownNumber));
    CHECK(d.status == 404);
    d = routeCall(call("10"), r, t0); // KPML: the first digits only
    CHECK((d.outcome == CallOutcome::Incomplete));
    CHECK(d.status == 484);
    CHECK(routeCall(call("1"), r, t0).status == 484);
    CHECK(routeCall(call("15000"), r, t0).status == 404); // longer than any number
    CHECK(routeCall(call(""), r, t0).status == 404);
    // A refreshes, B does not: past B's expiry (120 s) and the grace (15 s) a call to B is 480.
    REQUIRE(r.onRegister(registration("0000000000AA", "10.0.0.51", 5060, "tcp", 2, false), t0 + 100s, w0).status == 200);
    CHECK((routeCall(call("1002"), r, t0 + 135s).outcome == CallOutcome::Fork));
    CHECK(routeCall(call("1002"), r, t0 + 136s).status == 480);
    // And a caller whose own registration lapsed is no longer a phone of the lab.
    CHECK(routeCall(call("1001", "1002", "0000000000BB", "tcp:10.0.0.52:5060"), r, t0 + 136s).status == 403);
}

TEST_CASE("call routing: a phone cannot call as another, and a stranger cannot call at all") {
    auto r = lab();
    auto d = routeCall(call("1002", "1003"), r, t0); // A claims C's DN
    CHECK((d.outcome == CallOutcome::CallerRefused));
    CHECK(d.status == 403);
    CHECK(d.detail == "SEP0000000000AA called as '1003', which is not one of its lines");
    d = routeCall(call("1002", "1001", "0000000000AA", "tcp:10.0.0.99:5060"), r, t0); // A's name from another host
    CHECK((d.outcome == CallOutcome::NotAPhone));
    CHECK(d.detail == "INVITE from tcp:10.0.0.99:5060 names SEP0000000000AA, which is registered from 10.0.0.51");
    CHECK(routeCall(call("1002", "1003", "0000000000CC", "tcp:10.0.0.53:5060"), r, t0).status == 403); // C never registered
    // An INVITE whose Contact names no device (a 7970's): the phone registered from its
    // address with the From DN is the caller; from another address it is nobody.
    auto unnamed = routeCall(call("1002", "1001", "", "udp:10.0.0.51:5060"), r, t0);
    CHECK((unnamed.outcome == CallOutcome::Fork));
    CHECK(unnamed.callerMac == "0000000000AA");
    CHECK(routeCall(call("1002", "1001", "", "udp:10.0.0.99:5060"), r, t0).status == 403);
    CHECK(routeCall(call("1002", "1003", "", "udp:10.0.0.51:5060"), r, t0).status == 403);
    auto loop = call("1002");
    loop.maxForwards = 0;
    CHECK(routeCall(loop, r, t0).status == 483);
}

TEST_CASE("call routing: a Contact's URI") {
    CHECK(contactUri("\"Desk\" <sip:u@10.0.0.5:5060;transport=tcp>;expires=60") == "sip:u@10.0.0.5:5060;transport=tcp");
    CHECK(contactUri("sip:u@10.0.0.5;expires=60") == "sip:u@10.0.0.5");
    CHECK(contactUri(" sip:u@h ") == "sip:u@h");
    CHECK(contactUri("<sip:u@h") == "");
    CHECK(contactUri("") == "");
}

TEST_CASE("call routing: where a URI points, and which of a call's phones a request in it is for") {
    CHECK(uriHostPort("sip:uuid@10.0.0.5:51234;transport=tcp") == "10.0.0.5:51234");
    CHECK(uriHostPort("SIP:1001@Host.Example") == "host.example:5060");
    CHECK(uriHostPort("sips:[2001:DB8::1]:5061") == "[2001:db8::1]:5061");
    CHECK(uriHostPort("sip:10.0.0.5;lr") == "10.0.0.5:5060");
    CHECK(uriHostPort("sip:u@h:50x") == "");
    CHECK(uriHostPort("tel:+4930123") == "");
    CHECK(uriHostPort("sip:[::1") == "");
    CHECK(uriHostPort("sip:") == "");
    auto r = lab();
    const Binding* a = r.binding("0000000000AA");
    const Binding* b = r.binding("0000000000BB");
    REQUIRE(a);
    REQUIRE(b);
    CHECK(dialogTarget(a, b, "sip:1002@10.0.0.52:5060") == b); // a phone's dialog Contact need not be its registered one
    CHECK(dialogTarget(a, b, "sip:1001@10.0.0.51;transport=tcp") == a);
    CHECK(dialogTarget(a, b, "sip:1003@10.0.0.53:5060") == nullptr); // another phone's address: never
    CHECK(dialogTarget(a, nullptr, "sip:1002@10.0.0.52:5060") == nullptr); // the callee is gone
    CHECK(dialogTarget(a, b, "tel:1002") == nullptr);
    // One address playing both phones (a test tool): the exact Contact decides, else the caller.
    Binding x, y;
    x.contact = "<sip:uuid-X@127.0.0.1:5070>";
    y.contact = "<sip:uuid-Y@127.0.0.1:5070>";
    CHECK(dialogTarget(&x, &y, "sip:uuid-Y@127.0.0.1:5070") == &y);
    CHECK(dialogTarget(&x, &y, "sip:uuid-X@127.0.0.1:5070") == &x);
    CHECK(dialogTarget(&x, &y, "sip:1002@127.0.0.1:5070") == &x);
}

TEST_CASE("call routing: the caller-ID name is the calling line's, as stored") {
    DeviceView d{"0000000000AA", "8845", {"1001", "1500"}};
    d.displayNames = {"Ann", ""};
    CHECK(d.displayName("1001") == "Ann");
    CHECK(d.displayName("1500").empty()); // the line has none
    CHECK(d.displayName("1002").empty()); // not a line of this device
    d.displayNames.clear();                // a view built without names
    CHECK(d.displayName("1001").empty());
}

TEST_CASE("call routing: the devices whose BLF keys watch a number follow the configuration") {
    Registrar r(120, 15s);
    DeviceView a{"0000000000AA", "8845", {"1001"}};
    a.blfTargets = {"1002", "1003"};
    DeviceView b{"0000000000BB", "8845", {"1002"}};
    b.blfTargets = {"1002"}; // its own number: allowed, watched like any other
    r.setDevices({a, b});
    REQUIRE(r.watchersOf("1002"));
    CHECK(*r.watchersOf("1002") == std::vector<std::string>{"0000000000AA", "0000000000BB"});
    CHECK(*r.watchersOf("1003") == std::vector<std::string>{"0000000000AA"});
    CHECK_FALSE(r.watchersOf("1001"));
    a.blfTargets = {"1003"};
    r.upsertDevice(a); // A's key on 1002 removed
    CHECK(*r.watchersOf("1002") == std::vector<std::string>{"0000000000BB"});
    r.removeDevice("0000000000BB");
    CHECK_FALSE(r.watchersOf("1002"));
}

TEST_CASE("call routing: with a trunk, a number no device has goes there; the lab's own answers stay") {
    auto r = lab();
    const Trunk trunk{"pbx.lab:5080", "tcp"};
    auto d = routeCall(call("9001"), r, t0, &trunk);
    REQUIRE((d.outcome == CallOutcome::Fork));
    REQUIRE(d.targets.size() == 1);
    CHECK(d.targets[0].mac.empty());
    CHECK(d.targets[0].requestUri == "sip:9001@pbx.lab:5080");
    CHECK(d.targets[0].transport == "tcp");
    CHECK(d.detail == "1001 (SEP0000000000AA) calls 9001: to the trunk at pbx.lab:5080");
    CHECK(routeCall(call("10"), r, t0, &trunk).status == 484);  // the first digits of a lab number
    CHECK(routeCall(call("1003"), r, t0, &trunk).status == 480); // a lab number, unregistered: not the trunk
    CHECK(routeCall(call(""), r, t0, &trunk).status == 404);
    CHECK(routeCall(call("9001", "1002"), r, t0, &trunk).status == 403); // a stranger reaches no trunk either
}

TEST_CASE("call routing: a user part with ; or ? does not move where a URI points") {
    CHECK(uriHostPort("sip:10.9.9.9;@10.0.0.5:5062;transport=tcp") == "10.0.0.5:5062");
    CHECK(uriHostPort("sip:a?b@10.0.0.5") == "10.0.0.5:5060");
    CHECK(uriHostPort("sip:x;y=z@[fd00::5]:5070;transport=tcp") == "[fd00::5]:5070");
    CHECK(uriHostPort("sip:a@b@10.0.0.5").empty()); // two '@': not a SIP URI
    CHECK(uriHostPort("sip:10.0.0.5;maddr=10.9.9.9") == "10.0.0.5:5060");
    auto r = lab();
    const Trunk trunk{"pbx.lab:5060", "udp"};
    CHECK(routeCall(call("10.9.9.9;"), r, t0, &trunk).status == 404); // not a number: never to the trunk
    CHECK(uriHost("fd00::1") == "[fd00::1]");
    CHECK(uriHost("10.0.0.1") == "10.0.0.1");
}
