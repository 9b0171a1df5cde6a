#include <doctest/doctest.h>

#include <pugixml.hpp>

#include "provision/template.h"

using namespace labcm::provision;

namespace {

TemplateContext sample() {
    TemplateContext ctx;
    ctx.values = {{"host", "10.0.0.1"}, {"empty", ""}, {"off", "false"}, {"tricky", "a & b <c> \"d\""}};
    ctx.lists["lines"] = {TemplateContext{{{"dn", "1001"}, {"pw", "x"}}, {}}, TemplateContext{{{"dn", "1002"}, {"pw", ""}}, {}}};
    ctx.lists["none"] = {};
    return ctx;
}

} // namespace

TEST_CASE("template: placeholders in text and attributes, escaped by pugixml") {
    auto out = renderTemplate(R"(<?xml version="1.0" encoding="UTF-8"?><a h="{{host}}:5060"><b>{{tricky}}</b></a>)",
                              sample(), "t");
    CHECK(out.find(R"(<a h="10.0.0.1:5060">)") != std::string::npos);
    CHECK(out.find("<b>a &amp; b &lt;c&gt; \"d\"</b>") != std::string::npos);
    CHECK(out.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>"));
}

TEST_CASE("template: labcm-if keeps or drops, with negation, values and lists") {
    auto out = renderTemplate(R"(<r><a labcm-if="host"/><b labcm-if="empty"/><c labcm-if="off"/><d labcm-if="!empty"/>)"
                              R"(<e labcm-if="lines"/><f labcm-if="none"/></r>)",
                              sample(), "t");
    CHECK(out.find("<a>") != std::string::npos);
    CHECK(out.find("<b") == std::string::npos);
    CHECK(out.find("<c") == std::string::npos);
    CHECK(out.find("<d>") != std::string::npos);
    CHECK(out.find("<e>") != std::string::npos);
    CHECK(out.find("<f") == std::string::npos);
    CHECK(out.find("labcm-") == std::string::npos);
}

TEST_CASE("template: labcm-each repeats with item scope first, outer scope second") {
    auto out = renderTemplate(R"(<r><line labcm-each="lines" n="{{dn}}"><h>{{host}}</h><p labcm-if="pw">{{pw}}</p></line></r>)",
                              sample(), "t");
    pugi::xml_document doc;
    REQUIRE(doc.load_string(out.c_str()));
    auto lines = doc.child("r").children("line");
    std::vector<std::string> dns;
    for (auto l : lines) {
        dns.emplace_back(l.attribute("n").value());
        CHECK(std::string(l.child_value("h")) == "10.0.0.1");
    }
    CHECK(dns == std::vector<std::string>{"1001", "1002"});
    CHECK(std::string(doc.child("r").first_child().child_value("p")) == "x");
    CHECK(!doc.child("r").last_child().child("p"));
}

TEST_CASE("template: labcm-name renames, refusing what is not an element name") {
    TemplateContext ctx;
    ctx.values = {{"n", "36224"}, {"bad", "1x y"}};
    auto out = renderTemplate(R"(<r><x labcm-name="loadInformation{{n}}">v</x></r>)", ctx, "t");
    CHECK(out.find("<loadInformation36224>v</loadInformation36224>") != std::string::npos);
    CHECK_THROWS_AS(renderTemplate(R"(<r><x labcm-name="{{bad}}"/></r>)", ctx, "t"), TemplateError);
}

TEST_CASE("template: mistakes in a template are errors, not empty config") {
    CHECK_THROWS_WITH_AS(renderTemplate("<r>{{nosuch}}</r>", sample(), "t"), "unknown placeholder {{nosuch}} in <r>",
                         TemplateError);
    CHECK_THROWS_AS(renderTemplate("<r a=\"{{host\"/>", sample(), "t"), TemplateError);
    CHECK_THROWS_AS(renderTemplate("<r><x labcm-if=\"nosuch\"/></r>", sample(), "t"), TemplateError);
    CHECK_THROWS_AS(renderTemplate("<r><x labcm-each=\"nosuch\"/></r>", sample(), "t"), TemplateError);
    CHECK_THROWS_WITH_AS(renderTemplate("<r><unclosed></r>", sample(), "broken.xml"),
                         doctest::Contains("template broken.xml is not well-formed XML"), TemplateError);
}

TEST_CASE("template: control characters XML 1.0 forbids never reach the output") {
    TemplateContext ctx;
    ctx.values = {{"v", std::string("a\x01" "b\x1F" "c\td")}};
    auto out = renderTemplate("<r>{{v}}</r>", ctx, "t");
    CHECK(out.find("<r>abc\td</r>") != std::string::npos);
    CHECK(out.find("&#") == std::string::npos);
}
