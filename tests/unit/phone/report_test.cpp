#include <doctest/doctest.h>

#include <boost/json.hpp>

#include "report.h"

using namespace labcm::phone;

TEST_CASE("report: nearest-rank percentiles") {
    std::vector<double> v;
    for (int i = 1; i <= 100; ++i) v.push_back(101 - i); // unsorted on purpose
    auto p = percentiles(v);
    CHECK(p.count == 100);
    CHECK(p.p50 == 50);
    CHECK(p.p90 == 90);
    CHECK(p.p99 == 99);
    CHECK(p.max == 100);
    auto one = percentiles({7});
    CHECK(one.p50 == 7);
    CHECK(one.p99 == 7);
    CHECK(percentiles({}).count == 0);
}

TEST_CASE("report: failures are grouped by reason with the MAC taken out") {
    std::vector<PhoneResult> phones(4);
    phones[0].mac = "0011220A0001";
    phones[0].bootsRegistered = 1;
    phones[0].bootToRegisteredMs = {10};
    phones[0].steps = {{1, kStepConfig, "SEP0011220A0001.cnf.xml", "ok", true, 2.0}};
    phones[0].warnings = {"step 13: Ringlist-wb.xml not found"};
    phones[1].mac = "0011220A0002";
    phones[1].failure = "step 6: SEP0011220A0002.cnf.xml not found (XMLDefault.cnf.xml served)";
    phones[2].mac = "0011220A0003";
    phones[2].failure = "step 6: SEP0011220A0003.cnf.xml not found (XMLDefault.cnf.xml served)";
    phones[3].mac = "0011220A0004";
    phones[3].currentStep = kStepRegister; // stopped by the deadline
    auto r = summarize(phones, 1, 2.5);
    CHECK(r.phones == 4);
    CHECK(r.registered == 1);
    CHECK(r.failed == 3);
    CHECK(r.failures.at("step 6: SEP<MAC>.cnf.xml not found (XMLDefault.cnf.xml served)") == 2);
    CHECK(r.failures.at("step 10: timeout (register)") == 1);
    CHECK(r.warnings.at("step 13: Ringlist-wb.xml not found") == 1);
    CHECK(r.bootToRegistered.count == 1);
    CHECK(r.perStep.at(kStepConfig).p50 == 2.0);

    auto text = formatReport(r);
    CHECK(text.find("4 phone(s), 1 registered, 3 failed in 2.5 s") != std::string::npos);
    CHECK(text.find("     2  step 6: SEP<MAC>.cnf.xml not found") != std::string::npos);
    auto j = boost::json::parse(reportJson(r)).as_object();
    CHECK(j.at("registered").to_number<int>() == 1);
    CHECK(j.at("failures").as_object().size() == 2);
    CHECK(genericReason("SEP0011220a0001 x", "0011220A0001") == "SEP<MAC> x");
}

TEST_CASE("report: a phone asked for two boots that registered once has not succeeded") {
    std::vector<PhoneResult> phones(1);
    phones[0].mac = "0011220A0001";
    phones[0].bootsRegistered = 1;
    phones[0].currentStep = kStepRegistered;
    auto r = summarize(phones, 2, 1.0);
    CHECK(r.failed == 1);
    CHECK(r.failures.begin()->first == "step 14: timeout (registered)");
}
