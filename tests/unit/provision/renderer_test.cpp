#include <doctest/doctest.h>

#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <pugixml.hpp>

#include "core/locales.h"
#include "provision/renderer.h"
#include "provision/timezones.h"
#include "test_util.h"

using namespace labcm;
using namespace labcm::provision;

namespace {

Device desk() {
    Device d;
    d.mac = "001122AABBCC";
    d.model = "8845";
    d.description = "Desk 1";
    d.lines = {{1, "1001", "Alice Example", "Alice", "alice", "s3cret", "c-1001"}, {2, "1000", "", "", "", "", ""}};
    d.speedDials = {{3, "1002", "Bob", true}, {4, "0049301234567", "", false}};
    return d;
}

RenderInputs inputs() {
    RenderInputs in;
    in.settings.timezone = "Europe/Berlin";
    in.settings.ntpServers = {"10.0.0.1"};
    in.settings.voicemailNumber = "8000";
    in.registrar = "10.0.0.2";
    in.modelLoads = {{"8845", "sip8845_65.14-2-1-0001-14"}, {"7821", "sip78xx.14-2-1-0001-14"}};
    in.sharedDns = {"1000"};
    in.dialPatterns = dialPatternsFor({"1000", "1001", "2000"});
    return in;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

pugi::xml_document parse(const std::string& text) {
    pugi::xml_document doc;
    auto r = doc.load_string(text.c_str());
    INFO(r.description());
    REQUIRE(r);
    return doc;
}

std::string stampOf(const std::string& text) {
    auto doc = parse(text);
    return doc.document_element().child_value("versionStamp");
}

const std::string kGoldenDir = LABCM_SOURCE_DIR "/tests/unit/provision/golden/";

} // namespace

TEST_CASE("renderer: SEP file matches the golden file") {
    TemplateSet t;
    auto out = renderDeviceConfig(desk(), inputs(), t);
    if (std::getenv("LABCM_UPDATE_GOLDEN")) std::ofstream(kGoldenDir + "SEP001122AABBCC.cnf.xml", std::ios::binary) << out;
    CHECK(out == slurp(kGoldenDir + "SEP001122AABBCC.cnf.xml"));
}

TEST_CASE("renderer: XMLDefault matches the golden file") {
    TemplateSet t;
    auto out = renderDefaultConfig(inputs(), t);
    if (std::getenv("LABCM_UPDATE_GOLDEN")) std::ofstream(kGoldenDir + "XMLDefault.cnf.xml", std::ios::binary) << out;
    CHECK(out == slurp(kGoldenDir + "XMLDefault.cnf.xml"));
    auto doc = parse(out);
    CHECK(std::string(doc.child("Default").child("loadInformation36224").attribute("model").value()) == "Cisco 8845");
    CHECK(std::string(doc.child("Default").child_value("loadInformation621")) == "sip78xx.14-2-1-0001-14");
}

TEST_CASE("renderer: what registration needs is in the SEP file") {
    TemplateSet t;
    auto doc = parse(renderDeviceConfig(desk(), inputs(), t));
    auto dev = doc.child("device");
    auto cm = dev.child("devicePool").child("callManagerGroup").child("members").child("member").child("callManager");
    CHECK(std::string(cm.child_value("processNodeName")) == "10.0.0.2");
    CHECK(std::string(cm.child("ports").child_value("sipPort")) == "5060");
    CHECK(std::string(dev.child("sipProfile").child("sipProxies").child_value("registerWithProxy")) == "true");
    auto line1 = dev.child("sipProfile").child("sipLines").child("line");
    CHECK(std::string(line1.attribute("lineIndex").value()) == "1");
    CHECK(std::string(line1.child_value("featureID")) == "9");
    CHECK(std::string(line1.child_value("proxy")) == "USECALLMANAGER");
    CHECK(std::string(line1.child_value("authName")) == "alice");
    CHECK(std::string(line1.child_value("authPassword")) == "s3cret");
    CHECK(std::string(line1.child_value("messagesNumber")) == "8000");
    auto line2 = line1.next_sibling("line");
    CHECK(!line2.child("authName")); // no credentials: no element
    CHECK(std::string(line2.child_value("sharedLine")) == "true");
    CHECK(std::string(line2.child_value("featureLabel")) == "1000");
    auto key = line2.next_sibling("line");
    CHECK(std::string(key.attribute("button").value()) == "3");
    CHECK(!key.attribute("lineIndex"));
    CHECK(std::string(key.child_value("featureID")) == "21");
    CHECK(std::string(key.child_value("speedDialNumber")) == "1002");
    CHECK(std::string(key.child_value("featureOptionMask")) == "1");
    auto plainKey = key.next_sibling("line");
    CHECK(std::string(plainKey.child_value("featureID")) == "2");
    CHECK(std::string(plainKey.child_value("featureLabel")) == "0049301234567");
    CHECK(!plainKey.child("featureOptionMask"));
    CHECK(std::string(dev.child_value("loadInformation")) == "sip8845_65.14-2-1-0001-14");
    CHECK(std::string(dev.child_value("transportLayerProtocol")) == "1");
    CHECK(std::string(dev.child_value("deviceSecurityMode")) == "1");
    CHECK(std::string(dev.child("vendorConfig").child_value("webAccess")) == "0");
    CHECK(std::string(dev.child("vendorConfig").child_value("videoCapability")) == "1");
    auto dt = dev.child("devicePool").child("dateTimeSetting");
    CHECK(std::string(dt.child_value("timeZone")) == "W. Europe Standard/Daylight Time");
    CHECK(std::string(dt.child_value("olsonTimeZone")) == "Europe/Berlin");
    CHECK(!dev.child("userLocale")); // no locale files: not sent
    CHECK(!dev.child("networkLocale"));
}

TEST_CASE("renderer: the device override wins; UDP; locales only when present") {
    TemplateSet t;
    auto d = desk();
    d.loadOverride = "sip8845_65.12-8-1-0001-455";
    d.transport = "udp";
    auto in = inputs();
    in.userLocalePresent = in.networkLocalePresent = true;
    auto doc = parse(renderDeviceConfig(d, in, t));
    CHECK(std::string(doc.child("device").child_value("loadInformation")) == "sip8845_65.12-8-1-0001-455");
    CHECK(std::string(doc.child("device").child_value("transportLayerProtocol")) == "2");
    CHECK(std::string(doc.child("device").child("userLocale").child_value("name")) == "English_United_States");
    CHECK(std::string(doc.child("device").child_value("networkLocale")) == "United_States");
}

TEST_CASE("renderer: versionStamp changes exactly when the bytes change, whatever changed") {
    test::TempDir tmp;
    TemplateSet plain;
    auto base = renderDeviceConfig(desk(), inputs(), plain);
    CHECK(renderDeviceConfig(desk(), inputs(), plain) == base); // deterministic
    const auto baseStamp = stampOf(base);
    CHECK(baseStamp.size() == 36);

    auto changedDevice = desk();
    changedDevice.model = "8865";
    auto changedLine = desk();
    changedLine.lines[0].displayName = "Alice B";
    auto changedSetting = inputs();
    changedSetting.settings.sipPort = 5070;
    auto changedDefault = inputs();
    changedDefault.modelLoads["8845"] = "sip8845_65.14-3-1-0001-1";
    auto changedPhoneSetting = inputs();
    changedPhoneSetting.modelPhoneSettings["8845"]["web_access"] = "false";
    for (const auto& out : {renderDeviceConfig(changedDevice, inputs(), plain), renderDeviceConfig(changedLine, inputs(), plain),
                            renderDeviceConfig(desk(), changedSetting, plain),
                            renderDeviceConfig(desk(), changedDefault, plain),
                            renderDeviceConfig(desk(), changedPhoneSetting, plain)}) {
        CHECK(out != base);
        CHECK(stampOf(out) != baseStamp);
    }
    // A description is not in the SEP file: same bytes, same stamp.
    auto changedDescription = desk();
    changedDescription.description = "elsewhere";
    CHECK(stampOf(renderDeviceConfig(changedDescription, inputs(), plain)) == baseStamp);

    // Template edit: an admin's copy in the override directory.
    TemplateSet overridden(tmp.path());
    auto gen0 = overridden.generation();
    auto text = TemplateSet::builtIn().at("SEPMAC.cnf.xml");
    const std::string from = "<dateTemplate>{{date_template}}</dateTemplate>";
    text.replace(text.find(from), from.size(), "<dateTemplate>M/D/Y</dateTemplate>");
    std::ofstream(tmp.file("SEPMAC.cnf.xml")) << text;
    CHECK(overridden.generation() != gen0);
    auto edited = renderDeviceConfig(desk(), inputs(), overridden);
    CHECK(edited.find("M/D/Y") != std::string::npos);
    CHECK(stampOf(edited) != baseStamp);
}

TEST_CASE("renderer: hostile database strings still give well-formed XML without control characters") {
    TemplateSet t;
    auto d = desk();
    std::string nasty = "]]><x>&amp;\"'<!-- \x01\x02\x0b\x1f \xC3\xA9";
    d.lines[0].displayName = nasty;
    d.lines[0].label = "</featureLabel>";
    d.lines[0].authPassword = "<![CDATA[x]]>";
    auto in = inputs();
    in.settings.voicemailNumber = "\"><evil/>";
    auto out = renderDeviceConfig(d, in, t);
    auto doc = parse(out);
    auto line = doc.child("device").child("sipProfile").child("sipLines").child("line");
    CHECK(std::string(line.child_value("authPassword")) == "<![CDATA[x]]>");
    CHECK(std::string(line.child_value("featureLabel")) == "</featureLabel>");
    for (unsigned char c : out) CHECK((c >= 0x20 || c == '\n' || c == '\t' || c == '\r'));
}

TEST_CASE("renderer: dial patterns per (first digit, length); overlapping lengths wait") {
    auto p = dialPatternsFor({"1001", "1999", "2000", "100", "+4930", "sales"});
    REQUIRE(p.size() == 3);
    CHECK(p[0].match == "1..");
    CHECK(p[0].timeoutSeconds == kOverlapTimeout); // 100 vs 1xxx
    CHECK(p[1].match == "1...");
    CHECK(p[1].timeoutSeconds == 0);
    CHECK(p[2].match == "2...");
    TemplateSet t;
    auto in = inputs();
    in.dialPatterns = p;
    auto doc = parse(renderStatic(kDialTemplateFile, in, t));
    int n = 0;
    for (auto tpl : doc.child("DIALTEMPLATE").children("TEMPLATE")) {
        ++n;
        if (std::string(tpl.attribute("MATCH").value()) == "1...") CHECK(std::string(tpl.attribute("Timeout").value()) == "0");
    }
    CHECK(n == 4); // three patterns and the catch-all
}

TEST_CASE("renderer: every built-in template renders to well-formed XML") {
    TemplateSet t;
    for (const auto& [name, text] : TemplateSet::builtIn()) {
        CAPTURE(name);
        std::string out = name == "SEPMAC.cnf.xml"       ? renderDeviceConfig(desk(), inputs(), t)
                          : name == "XMLDefault.cnf.xml" ? renderDefaultConfig(inputs(), t)
                                                         : renderStatic(name, inputs(), t);
        parse(out);
    }
}

TEST_CASE("renderer: the softkey file offers only keys whose features labcm carries, each defined") {
    TemplateSet t;
    auto doc = parse(renderStatic(kSoftkeyFile, inputs(), t));
    // Phone-local keys and requests inside a call's dialog; CUCM's own features (forward all,
    // pickups, park, conference, meet-me, join, barge, call back, iDivert) are not offered.
    const std::set<std::string> carried{"Undefined", "Redial", "NewCall", "Hold", "Trnsfer", "<<",
                                        "EndCall", "Resume", "Answer", "DND"};
    std::set<std::string> defined;
    for (auto def : doc.child("softKeyCfg").child("typeSoftKey").children("softKeyDef")) {
        CAPTURE(def.attribute("keyID").value());
        CHECK(carried.contains(def.attribute("keyID").value()));
        defined.insert(def.attribute("keyID").value());
    }
    int sets = 0;
    for (auto set : doc.child("softKeyCfg").child("softKeySets").children("softKeySet")) {
        ++sets;
        for (auto key : set.children("softKey")) CHECK(defined.contains(key.attribute("keyID").value()));
    }
    CHECK(sets == 11); // every set a phone looks up by name is still there
}

TEST_CASE("timezones: known zones map, unknown ones fall back") {
    CHECK(ciscoTimeZone("America/Chicago") == "Central Standard/Daylight Time");
    CHECK(ciscoTimeZone("UTC") == kFallbackCiscoTimeZone);
    CHECK(!ciscoTimeZone("Antarctica/Troll"));
}

TEST_CASE("renderer: versionStampOf reads the stamp a rendered config carries") {
    TemplateSet plain;
    auto sep = renderDeviceConfig(desk(), inputs(), plain);
    CHECK(versionStampOf(sep) == stampOf(sep));
    CHECK(versionStampOf(sep).size() == 36);
    CHECK(versionStampOf("<device><versionStamp>abc</versionStamp></device>") == "abc");
    CHECK(versionStampOf("<device/>").empty());
    CHECK(versionStampOf("").empty());
    // Truncated anywhere: never a partial stamp, never a crash.
    for (std::size_t n = 0; n < sep.size(); n += 97) {
        auto got = versionStampOf(std::string_view(sep).substr(0, n));
        CHECK((got.empty() || got == stampOf(sep)));
    }
}

TEST_CASE("renderer: the callManagerGroup lists the call managers in priority order, labcm as 'self'") {
    TemplateSet t;
    auto in = inputs();
    in.settings.callManagers = {"cucm.lab:5080", "self", "[2001:db8::1]"};
    for (const auto& out : {renderDeviceConfig(desk(), in, t), renderDefaultConfig(in, t)}) {
        auto doc = parse(out);
        auto root = doc.document_element();
        auto group = std::string(root.name()) == "device" ? root.child("devicePool").child("callManagerGroup")
                                                          : root.child("callManagerGroup");
        std::vector<std::string> seen;
        for (auto m : group.child("members").children("member")) {
            auto cm = m.child("callManager");
            seen.push_back(fmt::format("{} {} {} {}", m.attribute("priority").value(), cm.child_value("name"),
                                       cm.child_value("processNodeName"), cm.child("ports").child_value("sipPort")));
        }
        CHECK(seen == std::vector<std::string>{"0 cucm.lab cucm.lab 5080", "1 labcm 10.0.0.2 5060",
                                               "2 2001:db8::1 2001:db8::1 5060"});
    }
}

TEST_CASE("renderer: the user locale's langCode comes from its CUCM folder name, its version from the folder") {
    TemplateSet t;
    auto in = inputs();
    in.userLocalePresent = in.networkLocalePresent = true;
    in.settings.userLocale = "german_germany";
    in.userLocaleVersion = "1.0.0.0-1764590000";
    auto doc = parse(renderDeviceConfig(desk(), in, t));
    auto user = doc.child("device").child("userLocale");
    CHECK(std::string(user.child_value("langCode")) == "de_DE");
    CHECK(std::string(user.child_value("version")) == "1.0.0.0-1764590000");
    CHECK(std::string(doc.child("device").child("networkLocaleInfo").child_value("version")) == "1.0.0.0-1");
    in.settings.userLocale = "Klingon_Kronos"; // not one of CUCM's names
    CHECK(std::string(parse(renderDeviceConfig(desk(), in, t)).child("device").child("userLocale").child_value("langCode")) ==
          "en_US");
    CHECK(labcm::localeLanguage("English_United_Kingdom") == std::optional<std::string_view>("en_GB"));
    CHECK_FALSE(labcm::localeLanguage(""));
    // Which kind a locale folder is, by the files it holds (case ignored).
    CHECK(labcm::localeFileKind("sl-bev-SIP.jar") == labcm::LocaleFileKind::User);
    CHECK(labcm::localeFileKind("G4-tones.xml") == labcm::LocaleFileKind::Network);
    CHECK(labcm::localeFileKind("g3-tones.xml.bak") == labcm::LocaleFileKind::Other);
    CHECK(labcm::localeFileKind("-sip.jar.txt") == labcm::LocaleFileKind::Other);
}

TEST_CASE("renderer: phone settings: the phone's own, else its model's, else the lab's, else the default, in Cisco's encodings") {
    TemplateSet t;
    auto in = inputs();
    auto vc = [&](const RenderInputs& i, const char* element) {
        auto doc = parse(renderDeviceConfig(desk(), i, t));
        return std::string(doc.child("device").child("vendorConfig").child_value(element));
    };
    CHECK(vc(in, "webAccess") == "0"); // default on; 0 = enabled
    CHECK(vc(in, "sshAccess") == "1"); // default off
    CHECK(vc(in, "displayIdleTimeout") == "00:10");
    CHECK(vc(in, "problemReportUploadURL") == "http://10.0.0.2:6970/prt"); // labcm receives them unless told otherwise
    in.labPhoneSettings = {{"web_access", "false"}, {"ssh_access", "true"}, {"time_format", "12h"}};
    in.modelPhoneSettings["7821"] = {{"web_access", "true"}};            // another model: not this one
    in.modelPhoneSettings["8845"] = {{"ssh_access", "false"}, {"problem_report_upload_url", "http://10.0.0.2/prt"}};
    in.devicePhoneSettings = {{"display_idle_timeout", "01:00"}, {"date_format", "Y-M-D"}};
    CHECK(vc(in, "webAccess") == "1");   // the lab's
    CHECK(vc(in, "sshAccess") == "1");   // the model's wins over the lab's
    CHECK(vc(in, "problemReportUploadURL") == "http://10.0.0.2/prt");
    CHECK(vc(in, "displayIdleTimeout") == "01:00"); // the phone's own
    CHECK(std::string(parse(renderDeviceConfig(desk(), in, t)).child("device").child("devicePool").child("dateTimeSetting")
                          .child_value("dateTemplate")) == "Y-M-Da");
}

TEST_CASE("renderer: the 8961/9951/9971 get a feature policy that enables only what labcm carries") {
    TemplateSet t;
    auto policy = parse(renderStatic(kFeaturePolicyFile, inputs(), t));
    std::set<std::string> enabled;
    int defs = 0;
    for (auto def : policy.child("featurePolicy").children("featureDef")) {
        ++defs;
        if (std::string(def.child_value("enable")) == "true") enabled.insert(def.child_value("id"));
    }
    CHECK(defs == 16);
    CHECK(enabled == std::set<std::string>{"5", "7"}); // Speed Dial, Redial
    auto d = desk();
    CHECK(parse(renderDeviceConfig(d, inputs(), t)).child("device").child("featurePolicyFile").empty()); // 8845: softkeys.xml
    d.model = "9971";
    CHECK(std::string(parse(renderDeviceConfig(d, inputs(), t)).child("device").child_value("featurePolicyFile")) ==
          "FeaturePolicy.xml");
}
