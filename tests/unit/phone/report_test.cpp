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

TEST_CASE("report: calls placed, answered, completed and failed, with setup percentiles") {
    std::vector<PhoneResult> phones(2);
    phones[0].mac = "0011220E0001";
    phones[0].bootsRegistered = 1;
    phones[0].calls = {
        {"2002", true, 200, "OK", 12.0, 200, true, ""},
        {"2002", true, 200, "OK", 30.0, 0, true, ""},  // hung up by the other side
        {"2003", true, 486, "Busy Here", 0, 0, true, "answered 486 Busy Here"},
        {"2004", true, 0, "", 0, 0, false, ""},        // still ringing when the run stopped
        {"2005", false, 0, "", 0, 0, true, "not placed: the phone stopped"},
    };
    phones[1].mac = "0011220E0002";
    phones[1].bootsRegistered = 1;
    phones[1].callsReceived = 3;
    phones[1].callsAnsweredIn = 2;
    phones[1].calls = {{"2001", true, 200, "OK", 20.0, 481, true, "BYE answered 481 Call/Transaction Does Not Exist"}};
    auto r = summarize(phones, 1, 3.0);
    CHECK(r.registered == 2);
    CHECK(r.failed == 0);
    CHECK(r.callsPlaced == 5);
    CHECK(r.callsAnswered == 3);
    CHECK(r.callsCompleted == 2);
    CHECK(r.callsFailed == 4);
    CHECK(r.callStatus.at("200") == 3);
    CHECK(r.callStatus.at("486") == 1);
    CHECK(r.callStatus.at("none") == 1);
    CHECK(r.callFailures.at("answered 486 Busy Here") == 1);
    CHECK(r.callFailures.at("not over when the phone stopped") == 1);
    CHECK(r.callFailures.at("not placed: the phone stopped") == 1);
    CHECK(r.callSetup.count == 3);
    CHECK(r.callSetup.p50 == 20.0);
    CHECK(r.callSetup.max == 30.0);
    CHECK(r.callsReceived == 3);
    CHECK(r.callsReceivedAnswered == 2);
    addUnplacedCalls(r, 2, "not placed: the run stopped first");
    addUnplacedCalls(r, 0, "nothing");
    CHECK(r.callsFailed == 6);
    CHECK_FALSE(r.callFailures.count("nothing"));

    auto text = formatReport(r);
    CHECK(text.find("calls: placed 5, answered 3, completed 2, failed 6; received 3, answered 2") != std::string::npos);
    CHECK(text.find("call answers: 200 x3 486 x1 none x1") != std::string::npos);
    CHECK(text.find("      2  not placed: the run stopped first") != std::string::npos);
    auto calls = boost::json::parse(reportJson(r)).as_object().at("calls").as_object();
    CHECK(calls.at("placed").to_number<int>() == 5);
    CHECK(calls.at("completed").to_number<int>() == 2);
    CHECK(calls.at("failed").to_number<int>() == 6);
    CHECK(calls.at("statuses").as_object().at("486").to_number<int>() == 1);
    CHECK(calls.at("setup_ms").as_object().at("count").to_number<int>() == 3);
    CHECK(calls.at("received_answered").to_number<int>() == 2);
}

TEST_CASE("report: no calls, no call lines") {
    std::vector<PhoneResult> phones(1);
    phones[0].bootsRegistered = 1;
    auto r = summarize(phones, 1, 1.0);
    CHECK(r.callsFailed == 0);
    CHECK(formatReport(r).find("calls:") == std::string::npos);
}
