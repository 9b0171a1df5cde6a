#include <doctest/doctest.h>

#include "core/device.h"
#include "core/mailbox.h"

using namespace labcm;

TEST_CASE("device: text fields refuse control characters and bad UTF-8, count characters not bytes") {
    CHECK(!checkText("Müller Straße", 13));
    CHECK(checkText("Müller Straße", 12) == "is 13 characters long, at most 12 allowed");
    CHECK(!checkText("tab\tok", 10));
    CHECK(checkText("bell\x07", 10) == "contains control character 0x07");
    CHECK(checkText("del\x7F", 10) == "contains control character 0x7F");
    CHECK(checkText("\xC3", 10) == "is not valid UTF-8");          // truncated sequence
    CHECK(checkText("\xC0\xAF", 10) == "is not valid UTF-8");      // overlong '/'
    CHECK(checkText("\xED\xA0\x80", 10) == "is not valid UTF-8");  // surrogate
    CHECK(checkText("\xEF\xBF\xBE", 10) == "is not valid UTF-8");  // U+FFFE, not allowed in XML
    CHECK(!checkText("\xF0\x9F\x93\x9E", 1));                      // one emoji is one character
}

TEST_CASE("device: validateDevice normalises the model and checks the load name") {
    Device d{.mac = "001122AABBCC", .model = "CP-8845"};
    CHECK(!validateDevice(d));
    CHECK(d.model == "8845");

    d.model = "1234";
    auto e = validateDevice(d);
    REQUIRE(e);
    CHECK(e->field == "model");
    CHECK(e->message == "unknown model '1234' (see 'labcm model list')");

    d.model = "8845";
    d.loadOverride = "sip8845_65.14-2-1-0001-14.loads";
    CHECK(validateDevice(d)->message == "give the load name without '.loads'");
    d.loadOverride = "../etc/passwd";
    CHECK(validateDevice(d)->field == "load");
    d.loadOverride = "sip8845_65.14-2-1-0001-14";
    CHECK(!validateDevice(d));
}

TEST_CASE("device: validateLine names the line and the field") {
    Line l{.index = 1, .dn = "1001"};
    CHECK(!validateLine(l, "line1"));

    auto bad = l;
    bad.dn = "";
    CHECK(validateLine(bad, "line1")->field == "line1.dn");
    bad.dn = "10 01";
    CHECK(validateLine(bad, "line1")->message == "contains ' ': use digits, letters, * # + . - _");
    bad = l;
    bad.index = 0;
    CHECK(validateLine(bad, "line")->field == "line.index");
    bad = l;
    bad.authPassword = "secret";
    CHECK(validateLine(bad, "line2")->field == "line2.auth_name");
    bad = l;
    bad.contact = "a@b";
    CHECK(validateLine(bad, "line1")->field == "line1.contact");
    bad = l;
    bad.label = std::string(31, 'x');
    CHECK(validateLine(bad, "line1")->field == "line1.label");
}

TEST_CASE("device: a mailbox names its DN and counts 0 to 9999") {
    CHECK_FALSE(validateMailbox({"1001", 0, 0}));
    CHECK_FALSE(validateMailbox({"1001", kMaxMailboxMessages, kMaxMailboxMessages}));
    CHECK(validateMailbox({"10 01", 1, 0})->field == "dn");
    CHECK(validateMailbox({"", 1, 0})->field == "dn");
    CHECK(validateMailbox({"1001", -1, 0})->field == "new");
    CHECK(validateMailbox({"1001", 0, kMaxMailboxMessages + 1})->field == "old");
    CHECK(Mailbox{"1001", 1, 0}.waiting());
    CHECK_FALSE(Mailbox{"1001", 0, 7}.waiting());
}
