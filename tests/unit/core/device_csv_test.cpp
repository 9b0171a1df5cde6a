#include <doctest/doctest.h>

#include "core/device_csv.h"

using namespace labcm;

TEST_CASE("device csv: parses devices with line groups; MAC and model normalised") {
    auto r = parseDeviceCsv("mac,model,description,load,line1_dn,line1_display_name,line2_dn,line2_label\n"
                            "00:11:22:aa:bb:cc,CP-8845,Desk 1,,1001,Alice,1002,Sales\n"
                            "SEP001122AABBCD,7821,,sip78xx.14-2-1-0001-14,1003,,,\n");
    REQUIRE(r.errors.empty());
    REQUIRE(r.devices.size() == 2);
    const auto& d = r.devices[0].device;
    CHECK(r.devices[0].row == 2);
    CHECK(d.mac == "001122AABBCC");
    CHECK(d.model == "8845");
    REQUIRE(d.lines.size() == 2);
    CHECK(d.lines[0].index == 1);
    CHECK(d.lines[0].displayName == "Alice");
    CHECK(d.lines[1].label == "Sales");
    CHECK(r.devices[1].device.loadOverride == "sip78xx.14-2-1-0001-14");
    CHECK(r.devices[1].device.lines.size() == 1);
}

TEST_CASE("device csv: reports every bad row, not just the first") {
    auto r = parseDeviceCsv("mac,model,line1_dn\n"
                            "001122AABBCC,8845,1001\n"
                            "nonsense,8845,1002\n"
                            "001122AABBCD,9999,1003\n"
                            "001122AABBCE,7821,10 03\n"
                            "00:11:22:aa:bb:cc,7821,1004\n"
                            "001122AABBCF,7821,1005,extra\n");
    REQUIRE(r.errors.size() == 5);
    CHECK(r.errors[0].row == 3);
    CHECK(r.errors[0].field == "mac");
    CHECK(r.errors[0].message == "'nonsense' is not a MAC address");
    CHECK(r.errors[1].row == 4);
    CHECK(r.errors[1].field == "model");
    CHECK(r.errors[2].row == 5);
    CHECK(r.errors[2].field == "line1.dn");
    CHECK(r.errors[3].row == 6);
    CHECK(r.errors[3].message == "001122AABBCC already appears in row 2");
    CHECK(r.errors[4].row == 7);
    CHECK(r.errors[4].field == "csv");
}

TEST_CASE("device csv: header problems") {
    CHECK(parseDeviceCsv("").errors.at(0).message == "empty file: the first row must be a header (mac,model,...)");
    auto r = parseDeviceCsv("mac,colour,line0_dn,line1_dn,line1_dn\n");
    std::vector<std::string> fields;
    for (const auto& e : r.errors) fields.push_back(e.field);
    CHECK(fields == std::vector<std::string>{"colour", "line0_dn", "line1_dn", "model"});
    CHECK(parseDeviceCsv("MAC, Model\n001122AABBCC,8845\n").errors.empty()); // case and spaces tolerated
    CHECK(parseDeviceCsv("mac,model\n\"open,8845\n").errors.at(0).field == "csv");
}

TEST_CASE("device csv: export then import gives back the same devices") {
    std::vector<Device> devices{
        {.mac = "001122AABBCC",
         .model = "8845",
         .description = "Desk, \"one\"",
         .lines = {{1, "1001", "Alice A", "L1", "alice", "s3cret", "c-1"}, {3, "1003", "", "", "", "", ""}}},
        {.mac = "001122AABBCD", .model = "7975", .loadOverride = "SIP75.9-4-2SR4-3S"},
    };
    auto text = formatDeviceCsv(devices);
    auto r = parseDeviceCsv(text);
    REQUIRE(r.errors.empty());
    REQUIRE(r.devices.size() == 2);
    for (std::size_t i = 0; i < devices.size(); ++i) {
        const auto& a = devices[i];
        const auto& b = r.devices[i].device;
        CHECK(a.mac == b.mac);
        CHECK(a.model == b.model);
        CHECK(a.description == b.description);
        CHECK(a.loadOverride == b.loadOverride);
        REQUIRE(a.lines.size() == b.lines.size());
        for (std::size_t k = 0; k < a.lines.size(); ++k) {
            CHECK(a.lines[k].index == b.lines[k].index);
            CHECK(a.lines[k].dn == b.lines[k].dn);
            CHECK(a.lines[k].displayName == b.lines[k].displayName);
            CHECK(a.lines[k].authPassword == b.lines[k].authPassword);
            CHECK(a.lines[k].contact == b.lines[k].contact);
        }
    }
}
