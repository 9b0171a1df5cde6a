#include <doctest/doctest.h>

#include <fstream>
#include <sstream>

#include "phone_config.h"
#include "provision/renderer.h"

using namespace labcm;
using namespace labcm::phone;

namespace {

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

const std::string kGolden = LABCM_SOURCE_DIR "/tests/unit/provision/golden/";

} // namespace

TEST_CASE("phone config: the SEP file labcm renders reads back as the phone needs it") {
    // The golden file is the renderer's output for a two-line 8845 (renderer_test.cpp).
    auto c = parsePhoneConfig(slurp(kGolden + "SEP001122AABBCC.cnf.xml"), 36224);
    CHECK_FALSE(c.isDefault);
    CHECK(c.processNodeName == "10.0.0.2");
    CHECK(c.sipPort == 5060);
    CHECK(c.transportLayerProtocol == 1);
    CHECK(c.registerExpires == 3600);
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0].index == 1);
    CHECK(c.lines[0].name == "1001");
    CHECK(c.lines[0].displayName == "Alice Example");
    CHECK(c.lines[0].contact == "c-1001");
    CHECK(c.lines[0].authName == "alice");
    CHECK(c.lines[0].authPassword == "s3cret");
    CHECK(c.lines[1].name == "1000");
    CHECK(c.lines[1].authName.empty());
    CHECK(c.load == "sip8845_65.14-2-1-0001-14");
    CHECK(c.dialTemplate == "dialplan.xml");
    CHECK(c.softKeyFile == "softkeys.xml");
    CHECK(c.versionStamp.size() == 36);
    CHECK(c.problemReportUrl == "http://10.0.0.2:6970/prt");
}

TEST_CASE("phone config: the problem report URL a phone posts to") {
    auto u = parseHttpUrl("http://10.0.0.2:6970/prt");
    REQUIRE(u);
    CHECK(u->host == "10.0.0.2");
    CHECK(u->port == 6970);
    CHECK(u->path == "/prt");
    u = parseHttpUrl("HTTP://[2001:db8::1]/upload/prt.php");
    REQUIRE(u);
    CHECK(u->host == "2001:db8::1");
    CHECK(u->port == 80);
    CHECK(u->path == "/upload/prt.php");
    CHECK(parseHttpUrl("http://labcm.lab")->path == "/");
    for (const char* bad : {"", "http://", "https://10.0.0.2/prt", "http://:80/", "http://h:0/", "http://h:65536/", "http://h:x/",
                            "http://[::1/", "http://[::1]x/", "http://u:p@h/", "ftp://h/"})
        CHECK_FALSE(parseHttpUrl(bad));
    // Every truncation of a good URL parses or is refused, never more.
    const std::string good = "http://[2001:db8::1]:6970/prt";
    for (std::size_t n = 0; n <= good.size(); ++n) (void)parseHttpUrl(std::string_view(good).substr(0, n));
}

TEST_CASE("phone config: XMLDefault gives the call manager and the model's load") {
    auto xml = slurp(kGolden + "XMLDefault.cnf.xml");
    auto c = parsePhoneConfig(xml, 36224);
    CHECK(c.isDefault);
    CHECK(c.processNodeName == "10.0.0.2");
    CHECK(c.load == "sip8845_65.14-2-1-0001-14");
    CHECK(parsePhoneConfig(xml, 621).load == "sip78xx.14-2-1-0001-14");
    CHECK(parsePhoneConfig(xml, 437).load.empty()); // no 7975 default
}

TEST_CASE("phone config: the primary call manager is the lowest priority number; order does not matter") {
    auto c = parsePhoneConfig(R"(<device><sipProfile><sipLines>
        <line lineIndex="2"><featureID>9</featureID><name>2002</name></line>
        <line button="3"><featureID>2</featureID><speedDialNumber>9</speedDialNumber></line>
        <line lineIndex="1"><featureID>9</featureID><name>2001</name></line></sipLines></sipProfile>
        <devicePool><callManagerGroup><members>
          <member priority="1"><callManager><processNodeName>10.0.0.9</processNodeName></callManager></member>
          <member priority="0"><callManager><ports><sipPort>5080</sipPort></ports><processNodeName> 10.0.0.1 </processNodeName></callManager></member>
        </members></callManagerGroup></devicePool><transportLayerProtocol>2</transportLayerProtocol></device>)",
                              621);
    CHECK(c.processNodeName == "10.0.0.1");
    CHECK(c.sipPort == 5080);
    REQUIRE(c.callManagers.size() == 2); // the standby after it, its port defaulted
    CHECK(c.callManagers[1].host == "10.0.0.9");
    CHECK(c.callManagers[1].sipPort == 5060);
    CHECK(c.transportLayerProtocol == 2);
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0].name == "2001");
    CHECK(c.lines[1].name == "2002");
}

TEST_CASE("phone config: what a phone cannot use is refused with a reason") {
    CHECK_THROWS_WITH_AS(parsePhoneConfig("", 621), doctest::Contains("not well-formed"), ConfigError);
    CHECK_THROWS_WITH_AS(parsePhoneConfig("<device><a></device>", 621), doctest::Contains("not well-formed"), ConfigError);
    CHECK_THROWS_WITH_AS(parsePhoneConfig("<html/>", 621), doctest::Contains("unexpected root"), ConfigError);
    CHECK_THROWS_WITH_AS(parsePhoneConfig("<device/>", 621), doctest::Contains("no callManagerGroup member"), ConfigError);
    const std::string cm = "<devicePool><callManagerGroup><members><member priority=\"0\"><callManager>";
    CHECK_THROWS_WITH_AS(parsePhoneConfig("<device>" + cm + "<processNodeName/></callManager></member></members></callManagerGroup></devicePool></device>", 621),
                         doctest::Contains("empty <processNodeName>"), ConfigError);
    CHECK_THROWS_WITH_AS(parsePhoneConfig("<device>" + cm + "<ports><sipPort>70000</sipPort></ports><processNodeName>a</processNodeName></callManager></member></members></callManagerGroup></devicePool></device>", 621),
                         doctest::Contains("bad <sipPort>"), ConfigError);
    CHECK_THROWS_WITH_AS(parsePhoneConfig("<device>" + cm + "<processNodeName>a</processNodeName></callManager></member></members></callManagerGroup></devicePool><sipProfile><sipLines><line><featureID>9</featureID></line></sipLines></sipProfile></device>", 621),
                         doctest::Contains("no <name>"), ConfigError);
    // Every truncation of a real SEP file is refused (never a crash, never a half config).
    auto xml = slurp(kGolden + "SEP001122AABBCC.cnf.xml");
    const std::size_t end = xml.rfind("</device>") + 8; // cuts before the root's last '>'
    int refused = 0;
    for (std::size_t n = 0; n < end; n += 7) {
        try {
            (void)parsePhoneConfig(std::string_view(xml).substr(0, n), 36224);
        } catch (const ConfigError&) {
            ++refused;
        }
    }
    CHECK(refused == static_cast<int>((end + 6) / 7));
}
