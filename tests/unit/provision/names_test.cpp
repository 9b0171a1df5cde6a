#include <doctest/doctest.h>

#include "provision/names.h"

using namespace labcm::provision;

TEST_CASE("names: classification of what phones ask for") {
    struct Case {
        const char* raw;
        NameKind kind;
        const char* mac;
    };
    const Case cases[] = {
        {"CTLSEP001122AABBCC.tlv", NameKind::TrustList, "001122AABBCC"},
        {"/ITLSEP001122aabbcc.tlv", NameKind::TrustList, "001122AABBCC"},
        {"ITLFile.tlv", NameKind::TrustList, ""},
        {"CTLFile.tlv", NameKind::TrustList, ""},
        {"SEP001122AABBCC.cnf.xml.sgn", NameKind::Signed, "001122AABBCC"},
        {"SK1234.xml.sgn", NameKind::Signed, ""},
        {"XMLDefault.cnf.xml.sgn", NameKind::Signed, ""},
        // Signed firmware images are files (issue 20): 69xx *.zz.sgn, 78xx/88xx images.
        {"cp6900-sip.9-4-1-9.zz.sgn", NameKind::File, ""},
        {"kern8845.14-2-1-0001-14.sgn", NameKind::File, ""},
        {"SEP001122AABBCC.cnf.xml", NameKind::DeviceConfig, "001122AABBCC"},
        {"/sep001122aabbcc.CNF.XML", NameKind::DeviceConfig, "001122AABBCC"},
        {"XMLDefault.cnf.xml", NameKind::DefaultConfig, ""},
        {"dialplan.xml", NameKind::Template, ""},
        {"SoftKeys.xml", NameKind::Template, ""},
        {"AppDialRules.xml", NameKind::Template, ""},
        {"sip8845_65.14-2-1-0001-14.loads", NameKind::File, ""},
        {"English_United_States/sl-bev-sip.jar", NameKind::File, ""},
        {"sub/SEP001122AABBCC.cnf.xml", NameKind::File, ""}, // only top-level names are rendered
        {"SEP001122AABBC.cnf.xml", NameKind::File, ""},
    };
    for (const auto& c : cases) {
        CAPTURE(c.raw);
        auto r = parseRequestName(c.raw);
        REQUIRE(r.ok);
        CHECK(r.kind == c.kind);
        CHECK(r.mac == c.mac);
    }
    auto t = parseRequestName("//Desktops/800x480x24/List.xml");
    CHECK(t.parts == std::vector<std::string>{"Desktops", "800x480x24", "List.xml"});
    CHECK(t.lower == "desktops/800x480x24/list.xml");
    CHECK(parseRequestName("softkeys.xml").templateName == "softkeys.xml");
    CHECK(parseRequestName("APPDIALRULES.XML").templateName == "AppDialRules.xml");
}

TEST_CASE("names: what is refused, and why") {
    struct Case {
        std::string raw;
        const char* reason;
    };
    const Case cases[] = {
        {"", "empty name"},
        {"/", "empty name"},
        {"../etc/passwd", "'.' or '..' in path"},
        {"a/../../b", "'.' or '..' in path"},
        {"a/./b", "'.' or '..' in path"},
        {"a//b", "empty path component"},
        {"dir/", "empty path component"},
        {"..\\windows", "backslash in name"},
        {std::string("a\0b", 3), "control character in name"},
        {"a\nb", "control character in name"},
        {std::string(256, 'a'), "name longer than 255 bytes"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.raw);
        auto r = parseRequestName(c.raw);
        CHECK(!r.ok);
        CHECK(r.reason == c.reason);
    }
    CHECK(parseRequestName(std::string(255, 'a')).ok);
    CHECK(parseRequestName("a..b").ok); // dots inside a name are fine
}
