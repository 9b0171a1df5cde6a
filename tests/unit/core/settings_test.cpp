#include <doctest/doctest.h>

#include "core/dial_pattern.h"
#include "core/phone_settings.h"
#include "core/settings.h"

using namespace labcm;

TEST_CASE("settings: defaults, and every key's text form round-trips") {
    Settings s = settingsFromRows({});
    CHECK(s.sipPort == 5060);
    CHECK(s.httpPort == 6970);
    CHECK(s.tftpPort == 69);
    CHECK(s.timezone == "Etc/UTC");
    CHECK(!s.autoRegistration);
    for (const auto& info : settingInfos()) {
        auto v = settingValue(s, info.key);
        CHECK(canonicalSetting(info.key, v) == v);
    }
}

TEST_CASE("settings: values are canonicalised") {
    CHECK(canonicalSetting("sip_port", "05060") == "5060");
    CHECK(canonicalSetting("auto_registration", "ON") == "true");
    CHECK(canonicalSetting("ntp_servers", " 10.0.0.1 , ntp.lab ") == "10.0.0.1,ntp.lab");
    auto s = settingsFromRows({{"ntp_servers", "a.lab,b.lab"}, {"sip_port", "5070"}, {"timezone", "America/Argentina/Buenos_Aires"}});
    CHECK(s.ntpServers == std::vector<std::string>{"a.lab", "b.lab"});
    CHECK(s.sipPort == 5070);
    CHECK(settingValue(s, "ntp_servers") == "a.lab,b.lab");
    CHECK(settingsFromRows({}).connectionsPerAddress == 16);
    CHECK(canonicalSetting("connections_per_address", "0064") == "64");
    CHECK(settingsFromRows({{"connections_per_address", "0"}}).connectionsPerAddress == 0);
    CHECK(canonicalSetting("diagnosis_wait", "090") == "90");
    CHECK(settingsFromRows({{"diagnosis_wait", "5"}}).diagnosisWait == 5);
}

TEST_CASE("settings: bad values are refused naming the key") {
    auto refused = [](const char* key, const char* value) {
        try {
            canonicalSetting(key, value);
        } catch (const FieldErrorException& e) {
            return e.error.field == key;
        }
        return false;
    };
    CHECK(refused("sip_port", "0"));
    CHECK(refused("sip_port", "65536"));
    CHECK(refused("sip_port", "50x"));
    CHECK(refused("auto_registration", "maybe"));
    CHECK(refused("timezone", "Berlin"));
    CHECK(refused("timezone", "../../etc/passwd"));
    CHECK(refused("bind_address", "10.0.0.256"));
    CHECK(refused("bind_address", "lab.example"));
    CHECK(refused("registrar_address", "has space"));
    CHECK(refused("registrar_address", std::string(51, 'a').c_str()));
    CHECK(refused("ntp_servers", "ok.lab,,"));
    CHECK(refused("auto_reg_dn_first", "10a"));
    CHECK(refused("connections_per_address", "-1"));
    CHECK(refused("connections_per_address", "1000001"));
    CHECK(refused("connections_per_address", "many"));
    CHECK(refused("diagnosis_wait", "0"));
    CHECK(refused("diagnosis_wait", "3601"));
    CHECK_THROWS_WITH_AS(canonicalSetting("colour", "red"), "colour: unknown setting 'colour' (see 'labcm setting list')",
                         FieldErrorException);
}

TEST_CASE("settings: the DN range is checked as a whole") {
    CHECK_THROWS_WITH_AS(settingsFromRows({{"auto_reg_dn_first", "2000"}}),
                         "auto_reg_dn_last: '1999' is before the first DN '2000'", FieldErrorException);
    CHECK_THROWS_AS(settingsFromRows({{"auto_reg_dn_last", "99999"}}), FieldErrorException);
    CHECK(settingsFromRows({{"auto_reg_dn_first", "1500"}}).autoRegDnFirst == "1500");
    CHECK(settingsFromRows({{"colour", "red"}}).sipPort == 5060); // unknown stored keys are ignored
}

TEST_CASE("settings: the holder swaps whole snapshots") {
    SettingsHolder h(Settings{});
    auto before = h.get();
    Settings s;
    s.sipPort = 5070;
    h.set(s);
    CHECK(before->sipPort == 5060);
    CHECK(h.get()->sipPort == 5070);
}

TEST_CASE("settings: call_managers lists up to three, 'self' or host[:port], in priority order") {
    CHECK(Settings{}.callManagers == std::vector<std::string>{"self"});
    CHECK(canonicalSetting("call_managers", "self, 10.0.0.9 ,cucm.lab:5080") == "self,10.0.0.9,cucm.lab:5080");
    CHECK(canonicalSetting("call_managers", "[2001:db8::1]:5062,2001:db8::2") == "[2001:db8::1]:5062,2001:db8::2");
    auto s = settingsFromRows({{"call_managers", "10.0.0.9:5070,self"}});
    CHECK(s.callManagers == std::vector<std::string>{"10.0.0.9:5070", "self"});
    CHECK(settingValue(s, "call_managers") == "10.0.0.9:5070,self");
    CHECK(callManagerHost("cucm.lab:5080") == "cucm.lab");
    CHECK(callManagerPort("cucm.lab:5080") == std::optional<std::uint16_t>(5080));
    CHECK(callManagerPort("cucm.lab") == std::optional<std::uint16_t>(5060));
    CHECK(callManagerHost("[2001:db8::1]:5062") == "2001:db8::1");
    CHECK(callManagerPort("[2001:db8::1]:5062") == std::optional<std::uint16_t>(5062));
    CHECK(callManagerHost("2001:db8::2") == "2001:db8::2");
    for (const char* bad : {"", "self,self", "a,b,c,d", "host:0", "host:70000", "host:x", "bad host", "[::1", "[::1]x",
                            "self,,b"}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(canonicalSetting("call_managers", bad), FieldErrorException);
    }
}

TEST_CASE("dial patterns: digits and . * # + , up to 32; a timeout of 0-60 s; a route is a sip: URI") {
    CHECK_FALSE(validateDialPattern({"9..........", 0, ""}));
    CHECK_FALSE(validateDialPattern({"*6#", 60, "sip:gw.lab:5060"}));
    CHECK_FALSE(validateDialPattern({"0+,1", 3, "sips:pbx"}));
    CHECK(validateDialPattern({"", 0, ""})->field == "pattern");
    CHECK(validateDialPattern({"9x", 0, ""})->field == "pattern");
    CHECK(validateDialPattern({std::string(33, '1'), 0, ""})->field == "pattern");
    CHECK(validateDialPattern({"9", -1, ""})->field == "timeout");
    CHECK(validateDialPattern({"9", 61, ""})->field == "timeout");
    CHECK(validateDialPattern({"9", 0, "http://x"})->field == "route");
    CHECK(validateDialPattern({"9", 0, "sip:a b"})->field == "route");
}

TEST_CASE("phone settings: each key's type and range; unknown keys refused") {
    for (const auto& info : phoneSettingInfos()) CHECK(canonicalPhoneSetting(info.key, info.defaultValue) == info.defaultValue);
    CHECK(canonicalPhoneSetting("web_access", "OFF") == "false");
    CHECK(canonicalPhoneSetting("date_format", "M.D.Y") == "M.D.Y");
    CHECK(canonicalPhoneSetting("display_on_time", "23:59") == "23:59");
    for (auto [key, bad] : std::initializer_list<std::pair<const char*, const char*>>{
             {"web_access", "maybe"}, {"display_on_time", "24:00"}, {"display_on_time", "7:30"}, {"date_format", "D/M-Y"},
             {"date_format", "D/D/Y"}, {"time_format", "13h"}, {"problem_report_upload_url", "https://x/prt"},
             {"problem_report_upload_url", "http://a b"}, {"load_server", "a/b"}, {"no_such_key", "1"}}) {
        CAPTURE(key);
        CAPTURE(bad);
        CHECK_THROWS_AS(canonicalPhoneSetting(key, bad), FieldErrorException);
    }
    auto e = effectivePhoneSettings({{"pc_port", "false"}}, {{"pc_port", "true"}, {"bluetooth", "false"}}, {{"bluetooth", "true"}});
    CHECK(e.at("pc_port") == "true");
    CHECK(e.at("bluetooth") == "true");
    CHECK(e.at("ssh_access") == "false");
    CHECK(e.size() == phoneSettingInfos().size());
}

TEST_CASE("settings: sip_trunk is a SIP URI with an optional port and transport, or empty") {
    auto t = parseSipTrunk("sip:pbx.lab:5080;transport=tcp");
    REQUIRE(t);
    CHECK(t->host == "pbx.lab");
    CHECK(t->port == 5080);
    CHECK(t->transport == "tcp");
    t = parseSipTrunk("sip:10.0.0.9");
    REQUIRE(t);
    CHECK(t->port == 5060);
    CHECK(t->transport == "udp");
    t = parseSipTrunk("sip:[fd00::9]:5062");
    REQUIRE(t);
    CHECK(t->host == "fd00::9");
    CHECK(t->port == 5062);
    for (const char* bad : {"pbx.lab", "sip:", "sip:pbx.lab:", "sip:pbx.lab:0", "sip:pbx.lab:70000", "sip:pbx.lab;transport=tls",
                            "sip:user@pbx.lab", "sip:fd00::9", "sip:[fd00::9", "sips:pbx.lab", "sip:pbx lab"})
        CHECK_MESSAGE(!parseSipTrunk(bad), bad);
    CHECK(canonicalSetting("sip_trunk", "") == "");
    CHECK_THROWS_AS(canonicalSetting("sip_trunk", "pbx.lab"), FieldErrorException);
}
