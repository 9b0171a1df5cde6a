#include <doctest/doctest.h>

#include "sip/cisco.h"

using namespace labcm::sip;

TEST_CASE("cisco: Reason with ActiveLoad/InactiveLoad (78xx/88xx), .loads stripped") {
    auto r = parseReasonHeader(R"(SIP;cause=200;text="cisco-alarm:23 Name=SEP001122AABBCC ActiveLoad=sip88xx.14-2-1-0001-14.loads InactiveLoad=sip88xx.12-8-1-0001-455.loads Last=reset-restart")");
    REQUIRE(r);
    CHECK(r->alarm == 23);
    CHECK(r->name == "SEP001122AABBCC");
    CHECK(r->activeLoad == "sip88xx.14-2-1-0001-14");
    CHECK(r->inactiveLoad == "sip88xx.12-8-1-0001-455");
    CHECK(r->last == "reset-restart");
}

TEST_CASE("cisco: the older Load= form (7970, CIPC), and other spellings") {
    auto r = parseReasonHeader(R"(SIP ; cause=200 ; text="cisco-alarm:20 Name=SEP001122AABBCD Load=SIP70.8-4-2-30S Last=phone-keypad")");
    REQUIRE(r);
    CHECK(r->activeLoad == "SIP70.8-4-2-30S");
    CHECK(r->inactiveLoad.empty());
    CHECK(r->last == "phone-keypad");
    // The text alone, unquoted (sofia hands it over with quotes; some callers without).
    auto t = parseCiscoReasonText("cisco-alarm:14 Name=SEP001122AABBCC Load=CIPC-8-6-6-1.LOADS Last=cm-closed-tcp");
    REQUIRE(t);
    CHECK(t->activeLoad == "CIPC-8-6-6-1");
    // Unknown keys and garbage tokens are ignored; a missing alarm number is -1.
    auto u = parseCiscoReasonText("\"cisco-alarm:x Name=SEP1 Extra=1 junk ActiveLoad= Last=\"");
    REQUIRE(u);
    CHECK(u->alarm == -1);
    CHECK(u->activeLoad.empty());
}

TEST_CASE("cisco: control characters never reach a stored value (found by fuzzing)") {
    auto r = parseCiscoReasonText("cisco-alarm:1 Name=SEP\x01X ActiveLoad=sip88xx.1\r.loads InactiveLoad=b.loads");
    REQUIRE(r);
    CHECK(r->name.empty());
    CHECK(r->activeLoad.empty());
    CHECK(r->inactiveLoad == "b");
    CHECK(stripLoadsSuffix(" a .loads ") == "a");
}

TEST_CASE("cisco: what is not a Cisco Reason") {
    CHECK(!parseReasonHeader("Q.850;cause=16;text=\"Normal\""));
    CHECK(!parseReasonHeader("SIP;cause=200"));
    CHECK(!parseReasonHeader("SIP;cause=200;text=\"normal release\""));
    CHECK(!parseReasonHeader(""));
    CHECK(!parseReasonHeader("SIP;text=\"cisco-alarm:1"));  // unterminated quote: no text param value match
    CHECK(!parseCiscoReasonText("cisco-alarm"));
}

TEST_CASE("cisco: Contact parameters of an 8851, a CIPC (twice +sip.instance), a backup keep-alive") {
    auto p = parseContactParamList(R"(+sip.instance="<urn:uuid:00000000-0000-0000-0000-001122aabbcc>";+u.sip!devicename.ccm.cisco.com="SEP001122AABBCC";+u.sip!model.ccm.cisco.com="684";video;audio)");
    auto c = parseContactParams(p);
    CHECK(c.deviceName == "SEP001122AABBCC");
    CHECK(c.model == 684);
    CHECK(c.instanceMac == "001122AABBCC");
    CHECK(!c.keepAlive);
    CHECK(identifyDevice(c, std::nullopt) == "001122AABBCC");

    auto cipc = parseContactParams(parseContactParamList(
        R"(+sip.instance="<urn:uuid:00000000-0000-0000-0000-0011223344ff>";+sip.instance="<urn:uuid:00000000-0000-0000-0000-aaaaaaaaaaaa>";+u.sip!devicename.ccm.features.cisco.com="CIPCUSER";+u.sip!model.ccm.cisco.com="30016")"));
    CHECK(cipc.instanceMac == "0011223344FF");
    CHECK(cipc.deviceName == "CIPCUSER");
    CHECK(identifyDevice(cipc, std::nullopt) == "0011223344FF"); // not a SEP name: the instance MAC

    auto ka = parseContactParams(parseContactParamList("expires=0;cisco-keep-alive"));
    CHECK(ka.keepAlive);
    CHECK(ka.expires == 0);
    auto quoted = parseContactParamList(R"(a="x;y";B=2;;c)");
    REQUIRE(quoted.size() == 3);
    CHECK(quoted[0].second == "x;y");
    CHECK(quoted[1].first == "b");
}

TEST_CASE("cisco: device identification falls back to Reason Name=, then nothing") {
    CiscoContact none;
    CiscoReason r;
    r.name = "SEP00112233AABB";
    CHECK(identifyDevice(none, r) == "00112233AABB");
    r.name = "CSFuser";
    CHECK(!identifyDevice(none, r));
    CHECK(!identifyDevice(none, std::nullopt));
    CHECK(macFromDeviceName("sep001122aabbcc") == "001122AABBCC");
    CHECK(!macFromDeviceName("SEP001122AABB"));
}

TEST_CASE("cisco: User-Agent, actions, service-control body, bulk body") {
    CHECK(parseCiscoUserAgent("Cisco-CP8851/14.2.1")->first == "8851");
    CHECK(parseCiscoUserAgent("Cisco-CP7975G/9.3.1")->second == "9.3.1");
    CHECK(!parseCiscoUserAgent("Cisco-SIPIPCommunicator/9.1.1"));
    CHECK((parsePhoneAction("RESTART") == PhoneAction::Restart));
    CHECK((parsePhoneAction("apply-config") == PhoneAction::ApplyConfig));
    CHECK(!parsePhoneAction("reboot"));
    CHECK(serviceControlBody(PhoneAction::Restart, "a-b@10.0.0.50", "stamp") ==
          "action=restart\r\nRegisterCallId={a-b@10.0.0.50}\r\nConfigVersionStamp={stamp}\r\n"
          "DialplanVersionStamp={}\r\nSoftkeyVersionStamp={}\r\nFeatureControlVersionStamp={}\r\n");
    CHECK(isBulkRegister("<x-cisco-remotecc-request><bulkregisterreq><contact all=\"true\">"));
    CHECK(!isBulkRegister(""));
    CHECK(optionsIndResponse().find("<service-control/>") != std::string::npos);
}

TEST_CASE("cisco: the softkey of a remotecc REFER") {
    CHECK(remoteccSoftkey("<x-cisco-remotecc-request><softkeyeventmsg><softkeyevent>Conference</softkeyevent>"
                          "<dialogid><callid>1@x</callid></dialogid></softkeyeventmsg></x-cisco-remotecc-request>") ==
          std::optional<std::string>("Conference"));
    CHECK(remoteccSoftkey("<softkeyeventmsg>\n<softkeyevent> ParkMonitor\n</softkeyevent>") == std::optional<std::string>("ParkMonitor"));
    CHECK_FALSE(remoteccSoftkey("<x-cisco-alarm>...</x-cisco-alarm>"));
    CHECK_FALSE(remoteccSoftkey("<softkeyeventmsg><softkeyevent></softkeyevent>"));
    CHECK_FALSE(remoteccSoftkey("<softkeyeventmsg><softkeyevent>Conference")); // cut short
    CHECK_FALSE(remoteccSoftkey(""));
}

TEST_CASE("cisco: a message-summary body says yes or no, new/old without the urgent counts") {
    CHECK(messageSummaryBody(2, 5, "sip:1001@10.0.0.1") ==
          "Messages-Waiting: yes\r\nMessage-Account: sip:1001@10.0.0.1\r\nVoice-Message: 2/5\r\n");
    CHECK(messageSummaryBody(0, 3, "sip:1001@10.0.0.1") ==
          "Messages-Waiting: no\r\nMessage-Account: sip:1001@10.0.0.1\r\nVoice-Message: 0/3\r\n");
}

TEST_CASE("cisco: a BLF presence body says what a Cisco phone reads for each state") {
    auto idle = presenceBody("1002", "10.0.0.1", LineState::Idle);
    CHECK(idle.find("entity=\"sip:1002@10.0.0.1\"") != std::string::npos);
    CHECK(idle.find("<tuple id=\"1002\"><status><basic>open</basic></status></tuple>") != std::string::npos);
    CHECK(idle.find("<e:activities></e:activities>") != std::string::npos);
    CHECK(presenceBody("1002", "h", LineState::Ringing).find("<e:activities><ce:alerting/></e:activities>") != std::string::npos);
    CHECK(presenceBody("1002", "h", LineState::Busy).find("<e:on-the-phone/>") != std::string::npos); // the lamp's IN USE
    auto gone = presenceBody("1002", "h", LineState::Unregistered);
    CHECK(gone.find("<basic>closed</basic>") != std::string::npos);
    CHECK(gone.find("<basic>open</basic>") == std::string::npos);
    CHECK(toString(LineState::Ringing) == "ringing");
}
