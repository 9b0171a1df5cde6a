#include <doctest/doctest.h>

#include <set>

#include "core/models.h"

using labcm::findModel;

TEST_CASE("models: found by short name, CUCM name, vendor class and user-agent forms") {
    CHECK(findModel("8845")->typemodel == 36224);
    CHECK(findModel("Cisco 8845")->name == "8845");
    CHECK(findModel("CP-8845")->name == "8845");
    CHECK(findModel("cp-7821")->typemodel == 621);
    CHECK(findModel("CP7975G")->typemodel == 437);
    CHECK(findModel("7961G-GE")->name == "7961");
    CHECK(findModel(" 8861 ")->loadPrefix == "sip88xx.");
    CHECK(!findModel("9999"));
    CHECK(!findModel(""));
    CHECK(!findModel("CP-"));
}

TEST_CASE("models: the table is sorted, names and typemodels unique, load prefixes end in a dot (79x0: a dash)") {
    std::set<int> ids;
    std::string_view previous;
    for (const auto& m : labcm::knownModels()) {
        CHECK(m.name > previous);
        previous = m.name;
        CHECK(ids.insert(m.typemodel).second);
        CHECK((m.loadPrefix.ends_with(".") || (m.family == "79x0" && m.loadPrefix == "P0S3-")));
        CHECK(labcm::findModelByTypemodel(m.typemodel)->name == m.name);
    }
    CHECK(!labcm::findModelByTypemodel(-1));
}
