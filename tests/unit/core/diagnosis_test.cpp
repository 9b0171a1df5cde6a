// Why a phone is not registered (issue 22): every verdict rule from a synthetic sequence of the
// events labcm's services publish (their detail texts as the services write them).
#include <doctest/doctest.h>

#include "core/diagnosis.h"

#include <initializer_list>

using namespace labcm;
using namespace labcm::diagnosis;
using namespace std::chrono_literals;

namespace {

const auto t0 = std::chrono::system_clock::time_point{} + 1'000'000s;
const char* kMac = "00112233AABB";
const char* kName = "SEP00112233AABB";

struct At {
    std::chrono::seconds offset;
    Service service;
    EventKind kind;
    std::string detail;
    std::string ip = "10.0.0.5";
};

Trail trailOf(std::initializer_list<At> events) {
    Trail t;
    for (const auto& a : events) {
        Event e;
        e.time = t0 + a.offset;
        e.mac = kMac;
        e.ip = a.ip;
        e.service = a.service;
        e.kind = a.kind;
        e.detail = a.detail;
        observe(t, e);
    }
    return t;
}

At lease(std::chrono::seconds at) { return {at, Service::Dhcp, EventKind::DhcpAcked, "ACK 10.0.0.5 pool lab", "10.0.0.5"}; }
At tftp(std::chrono::seconds at, EventKind kind, const std::string& name) {
    return {at, Service::Tftp, kind, kind == EventKind::FileServed ? "RRQ " + name + " -> sent 1200 bytes 3.1 ms (blksize 512, window 1, 0 retransmissions)"
                                                                   : "RRQ " + name + " -> error 1 File not found: no such file"};
}
At http(std::chrono::seconds at, EventKind kind, const std::string& name) {
    return {at, Service::Http, kind, "GET /" + name + (kind == EventKind::FileServed ? " -> 200 1200 bytes 0.4 ms" : " -> 404 0 bytes 0.1 ms")};
}
At sip(std::chrono::seconds at, EventKind kind, const std::string& detail = "") { return {at, Service::Sip, kind, detail}; }

Verdict judged(const Trail& t, std::chrono::seconds now, bool registered = false) { return judge(t, kName, t0 + now, registered, 60s); }

} // namespace

TEST_CASE("diagnosis: a registered phone is fine, one never seen is at the start") {
    auto v = judged(trailOf({lease(0s), tftp(1s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                             sip(2s, EventKind::PhoneRegistered, "registered")}),
                    100s, true);
    CHECK(v.ok);
    CHECK(v.step == Step::Registered);
    CHECK(v.since == t0 + 2s);
    v = judged(trailOf({{1s, Service::Admin, EventKind::DeviceAdded, "added"}}), 0s); // the admin's doing, not the phone's
    CHECK(v.what == "labcm has seen nothing from this phone");
    v = judged(Trail{}, 0s);
    CHECK_FALSE(v.ok);
    CHECK(v.step == Step::Nothing);
    CHECK(v.what == "labcm has seen nothing from this phone");
    CHECK(v.next.find("DHCP") != std::string::npos);
}

TEST_CASE("diagnosis: details cut short or odd are read without harm") {
    for (const char* detail : {"", "RRQ", "RRQ ", "GET /", "GET /dir/", "RRQ SEP00112233AABB.cnf.xm", "RRQ .tlv", "RRQ x.xml.sgn"}) {
        auto v = judged(trailOf({{1s, Service::Tftp, EventKind::FileServed, detail}}), 100s);
        CHECK_FALSE(v.ok);
        CHECK_FALSE(v.what.empty());
    }
    // An expiry whose detail names no wait counts from the expiry itself.
    auto v = judged(trailOf({sip(1s, EventKind::PhoneRegistered), sip(300s, EventKind::PhoneExpired, "no REGISTER refresh within")}), 400s);
    CHECK(v.what == "it was registered, then its keep-alives (REGISTER refreshes) stopped");
}

TEST_CASE("diagnosis: a lease and no config request: option 150/66 or an alternate TFTP server") {
    auto t = trailOf({lease(0s)});
    CHECK(judged(t, 30s).what.find("has not asked for its config yet") != std::string::npos); // still within patience
    auto v = judged(t, 61s);
    CHECK(v.step == Step::Dhcp);
    CHECK(v.what == "it got 10.0.0.5 from labcm's DHCP but never asked labcm for its config");
    CHECK(v.next.find("150/66") != std::string::npos);
    CHECK(v.next.find("Alternate TFTP") != std::string::npos);
    CHECK(v.since == t0);
}

TEST_CASE("diagnosis: a trust list from another CUCM: signed files, or the .tlv files again and again") {
    // The usual boot asks each .tlv once (not found on a non-secure cluster) and goes on.
    auto fine = trailOf({lease(0s), tftp(1s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv"),
                         tftp(2s, EventKind::FileNotFound, "ITLSEP00112233AABB.tlv"), tftp(3s, EventKind::FileNotFound, "ITLFile.tlv"),
                         tftp(4s, EventKind::FileServed, "SEP00112233AABB.cnf.xml")});
    CHECK(judged(fine, 5s).step == Step::Config);
    auto v = judged(trailOf({lease(0s), tftp(1s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv"),
                             http(2s, EventKind::FileNotFound, "SEP00112233AABB.cnf.xml.sgn")}),
                    10s);
    CHECK(v.step == Step::TrustList);
    CHECK(v.what.find("SEP00112233AABB.cnf.xml.sgn") != std::string::npos);
    CHECK(v.next.find("erase its trust list") != std::string::npos);
    auto again = trailOf({lease(0s), tftp(1s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv"),
                          tftp(20s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv"),
                          tftp(40s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv")});
    v = judged(again, 100s);
    CHECK(v.step == Step::TrustList);
    CHECK(v.what.find("the same CTL/ITL file 3 times") != std::string::npos);
    CHECK(v.since == t0 + 40s);
    // A boot on its way asks each of the three once: not a trust list (yet), and a config
    // download that broke off says so.
    auto booting = trailOf({lease(0s), tftp(1s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv"),
                            tftp(2s, EventKind::FileNotFound, "ITLSEP00112233AABB.tlv"), tftp(3s, EventKind::FileNotFound, "ITLFile.tlv")});
    CHECK(judged(booting, 100s).step == Step::TrustList);
    CHECK(judged(booting, 100s).what == "it asked for its CTL/ITL files and has not asked for its config yet");
    auto failed = trailOf({lease(0s), tftp(1s, EventKind::FileNotFound, "CTLSEP00112233AABB.tlv"),
                           tftp(2s, EventKind::FileNotFound, "ITLSEP00112233AABB.tlv"), tftp(3s, EventKind::FileNotFound, "ITLFile.tlv"),
                           {4s, Service::Tftp, EventKind::FileFailed, "RRQ SEP00112233AABB.cnf.xml -> failed 512 bytes 5000.0 ms: timeout"}});
    v = judged(failed, 100s);
    CHECK(v.step == Step::Config);
    CHECK(v.what == "its config file did not arrive: RRQ SEP00112233AABB.cnf.xml -> failed 512 bytes 5000.0 ms: timeout");
}

TEST_CASE("diagnosis: XMLDefault instead of its own file: not in the database") {
    auto v = judged(trailOf({lease(0s), tftp(1s, EventKind::FileNotFound, "SEP00112233AABB.cnf.xml"),
                             tftp(2s, EventKind::FileServed, "XMLDefault.cnf.xml")}),
                    10s);
    CHECK(v.step == Step::Config);
    CHECK(v.what == "it fetched XMLDefault.cnf.xml, not SEP00112233AABB.cnf.xml: it is not in labcm's database");
    CHECK(v.next.find("labcm device add SEP00112233AABB") != std::string::npos);
    CHECK(v.next.find("auto-registration") != std::string::npos);
    // Its own file missing, without the XMLDefault fallback: the same advice.
    v = judged(trailOf({tftp(1s, EventKind::FileNotFound, "SEP00112233AABB.cnf.xml")}), 10s);
    CHECK(v.step == Step::Config);
    CHECK(v.next.find("labcm device add") != std::string::npos);
}

TEST_CASE("diagnosis: its config fetched and no REGISTER: processNodeName, port, transport or a firewall") {
    auto t = trailOf({lease(0s), http(1s, EventKind::FileServed, "SEP00112233AABB.cnf.xml")});
    CHECK(judged(t, 30s).what.find("has not come yet") != std::string::npos);
    auto v = judged(t, 62s);
    CHECK(v.step == Step::Connect);
    CHECK(v.what == "it fetched SEP00112233AABB.cnf.xml but sent no REGISTER");
    CHECK(v.next.find("processNodeName") != std::string::npos);
    CHECK(v.next.find("firewall") != std::string::npos);
    // Later files (its dial plan, softkeys) do not hide it.
    t = trailOf({http(1s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"), tftp(2s, EventKind::FileServed, "dialplan.xml")});
    CHECK(judged(t, 100s).step == Step::Connect);
}

TEST_CASE("diagnosis: REGISTER refused: the credential, or the device") {
    auto v = judged(trailOf({http(1s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                             sip(2s, EventKind::RegisterRejected, "digest authentication failed (403): wrong password for 1001")}),
                    10s);
    CHECK(v.step == Step::Register);
    CHECK(v.what == "its REGISTER was refused: digest authentication failed (403): wrong password for 1001");
    CHECK(v.next.find("--auth-password") != std::string::npos);
    v = judged(trailOf({sip(2s, EventKind::RegisterRejected, "REGISTER answered 404: unknown device")}), 10s);
    CHECK(v.next.find("labcm device show SEP00112233AABB") != std::string::npos);
}

TEST_CASE("diagnosis: a firmware download that never came back names the image") {
    auto missing = trailOf({http(1s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                            tftp(2s, EventKind::FileServed, "sip88xx.14-2-1-0001-10.loads"),
                            tftp(3s, EventKind::FileNotFound, "kern88xx.14-2-1-0001-10.sbn")});
    auto v = judged(missing, 5s);
    CHECK(v.step == Step::Firmware);
    CHECK(v.what == "it asked for firmware file kern88xx.14-2-1-0001-10.sbn, which labcm does not have");
    CHECK(v.next.find("labcm firmware import") != std::string::npos);
    auto slow = trailOf({http(1s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                         tftp(2s, EventKind::FileServed, "rootfs88xx.14-2-1-0001-10.sbn")});
    CHECK(judged(slow, 300s).what == "it is downloading firmware (rootfs88xx.14-2-1-0001-10.sbn)");
    CHECK(judged(slow, 2s + kFirmwarePatience + 1s).what.find("has not come back") != std::string::npos);
    auto broke = trailOf({tftp(2s, EventKind::FileFailed, "dsp88xx.14-2-1-0001-10.sbn")});
    CHECK(judged(broke, 3s).what == "its download of dsp88xx.14-2-1-0001-10.sbn broke off");
    // Back with the new load and registered: fine.
    auto back = trailOf({tftp(2s, EventKind::FileServed, "rootfs88xx.14-2-1-0001-10.sbn"), http(200s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                         sip(201s, EventKind::PhoneRegistered, "registered")});
    CHECK(judged(back, 300s, true).ok);
}

TEST_CASE("diagnosis: registered, then the keep-alives stopped; unregistered; registered before a restart") {
    auto v = judged(trailOf({sip(1s, EventKind::PhoneRegistered, "registered"),
                             sip(300s, EventKind::PhoneExpired, "no REGISTER refresh within 120 s + 15 s grace")}),
                    400s);
    CHECK(v.step == Step::Register);
    CHECK(v.what == "it was registered, then its keep-alives (REGISTER refreshes) stopped");
    CHECK(v.since == t0 + 300s);
    // Pulled from power after its last refresh (at 165 s), it boots again and fetches its
    // config (at 200 s), then the expiry comes (at 300 s): the new boot decides.
    v = judged(trailOf({sip(1s, EventKind::PhoneRegistered, "registered"), tftp(200s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                        sip(300s, EventKind::PhoneExpired, "no REGISTER refresh within 120 s + 15 s grace")}),
               400s);
    CHECK(v.step == Step::Connect);
    v = judged(trailOf({sip(1s, EventKind::PhoneRegistered), sip(50s, EventKind::PhoneUnregistered, "Last=restart")}), 60s);
    CHECK(v.what.find("it unregistered") == 0);
    v = judged(trailOf({sip(1s, EventKind::PhoneRegistered)}), 60s, false);
    CHECK(v.what.find("before labcm last started") != std::string::npos);
    // A new boot after the expiry goes by its new steps.
    v = judged(trailOf({sip(1s, EventKind::PhoneRegistered), sip(300s, EventKind::PhoneExpired), lease(400s)}), 500s);
    CHECK(v.step == Step::Register); // a lease alone does not end the REGISTER story...
    v = judged(trailOf({sip(1s, EventKind::PhoneRegistered), sip(300s, EventKind::PhoneExpired), lease(400s),
                        tftp(401s, EventKind::FileServed, "SEP00112233AABB.cnf.xml")}),
               500s);
    CHECK(v.step == Step::Connect); // ...its config fetched again does
}

// --- closed-loop confirmation (item 5): trails of the events after the control at t0 ---------
namespace {
Confirmation confirmed(const Trail& t, std::string_view action, std::chrono::seconds now) {
    return confirm(t, kName, action, t0, t0 + now, 120s, 60s);
}
} // namespace

TEST_CASE("confirm: a restart is applied once the phone fetched its config and registered after it") {
    auto half = trailOf({sip(1s, EventKind::PhoneUnregistered, "unregistered (Last=reset-restart)"),
                         tftp(20s, EventKind::FileServed, "SEP00112233AABB.cnf.xml")});
    auto c = confirmed(half, "restart", 25s);
    CHECK(c.outcome == Outcome::Waiting);
    CHECK(c.what.find("waiting: step 6") == 0);
    auto whole = trailOf({sip(1s, EventKind::PhoneUnregistered, "unregistered (Last=reset-restart)"),
                          tftp(20s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                          sip(23s, EventKind::PhoneRegistered, "registered")});
    c = confirmed(whole, "restart", 25s);
    CHECK(c.outcome == Outcome::Applied);
    CHECK(c.what == "applied: it fetched SEP00112233AABB.cnf.xml 20 s after the restart and registered again 3 s later");
    CHECK(outcomeName(c.outcome) == "applied");
    // A REGISTER alone (no config fetched) is not a restart taken: it is still waiting.
    c = confirmed(trailOf({sip(3s, EventKind::PhoneRegistered, "registered")}), "reset", 10s);
    CHECK(c.outcome == Outcome::Waiting);
}

TEST_CASE("confirm: apply-config is applied by the config fetch alone") {
    auto c = confirmed(trailOf({http(2s, EventKind::FileServed, "SEP00112233AABB.cnf.xml")}), "apply-config", 3s);
    CHECK(c.outcome == Outcome::Applied);
    CHECK(c.what == "applied: it fetched SEP00112233AABB.cnf.xml 2 s after the apply-config");
}

TEST_CASE("confirm: a step that fails after the control is told at once, with the verdict") {
    auto c = confirmed(trailOf({tftp(10s, EventKind::FileNotFound, "SEP00112233AABB.cnf.xml"),
                                tftp(11s, EventKind::FileServed, "XMLDefault.cnf.xml")}),
                       "restart", 12s);
    CHECK(c.outcome == Outcome::Failed);
    CHECK(c.what.find("failed at step 6 (") == 0);
    CHECK(c.verdict.next.find("labcm device add SEP00112233AABB") != std::string::npos);
    // A refused REGISTER is retried by the phone: failed once the patience passed without more.
    auto refused = trailOf({tftp(10s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"),
                            sip(12s, EventKind::RegisterRejected, "refused: digest: wrong password for 'alice'")});
    CHECK(confirmed(refused, "restart", 13s).outcome == Outcome::Waiting);
    c = confirmed(refused, "restart", 80s);
    CHECK(c.outcome == Outcome::Failed);
    CHECK(c.verdict.step == Step::Register);
    // Its config fetched and no REGISTER within the patience: failed at step 9.
    c = confirmed(trailOf({tftp(10s, EventKind::FileServed, "SEP00112233AABB.cnf.xml")}), "restart", 100s);
    CHECK(c.outcome == Outcome::Failed);
    CHECK(c.verdict.step == Step::Connect);
}

TEST_CASE("confirm: a busy or broken transfer the phone retried is no failure") {
    auto t = trailOf({{5s, Service::Tftp, EventKind::FileRefused, "RRQ SEP00112233AABB.cnf.xml -> refused: server busy, retry"},
                      tftp(9s, EventKind::FileServed, "SEP00112233AABB.cnf.xml"), sip(11s, EventKind::PhoneRegistered, "registered")});
    auto c = confirmed(t, "restart", 12s);
    CHECK(c.outcome == Outcome::Applied);
    auto busy = trailOf({{5s, Service::Tftp, EventKind::FileRefused, "RRQ SEP00112233AABB.cnf.xml -> refused: server busy, retry"}});
    CHECK(confirmed(busy, "restart", 6s).outcome == Outcome::Waiting);
}

TEST_CASE("confirm: nothing by the timeout is no answer, saying how far it got") {
    auto c = confirmed(trailOf({}), "restart", 119s);
    CHECK(c.outcome == Outcome::Waiting);
    c = confirmed(trailOf({}), "restart", 120s);
    CHECK(c.outcome == Outcome::NoAnswer);
    CHECK(c.what == "no answer: labcm has seen nothing from the phone in the 120 s since the restart");
    c = confirmed(trailOf({sip(1s, EventKind::PhoneUnregistered, "unregistered (Last=reset-restart)")}), "restart", 130s);
    CHECK(c.outcome == Outcome::NoAnswer);
    CHECK(c.what.find("no answer: in the 130 s since the restart it got as far as step 10") == 0);
}
