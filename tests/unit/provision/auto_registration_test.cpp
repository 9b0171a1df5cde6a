#include <doctest/doctest.h>

#include "provision/auto_registration.h"
#include "store/migrations.h"
#include "store/seen_phone_store.h"

using namespace labcm;
using namespace labcm::provision;
using namespace std::chrono_literals;

TEST_CASE("auto-registration: the lowest free DN of the range") {
    CHECK(nextFreeDn("1000", "1999", {}) == std::optional<std::string>("1000"));
    CHECK(nextFreeDn("1000", "1999", {"1000", "1001", "1003"}) == std::optional<std::string>("1002"));
    // DNs of other widths or outside the range do not matter.
    CHECK(nextFreeDn("1000", "1999", {"100", "10000", "0999", "2000", "abc"}) == std::optional<std::string>("1000"));
    CHECK(nextFreeDn("0100", "0101", {"0100"}) == std::optional<std::string>("0101")); // leading zeros kept
    CHECK(nextFreeDn("5000", "5001", {"5000", "5001"}) == std::nullopt);                // full
    CHECK(nextFreeDn("5000", "5000", {}) == std::optional<std::string>("5000"));
    CHECK(nextFreeDn("50", "5001", {}) == std::nullopt);  // widths differ
    CHECK(nextFreeDn("", "", {}) == std::nullopt);
    CHECK(nextFreeDn("1x", "19", {}) == std::nullopt);
}

TEST_CASE("seen phones: a sighting is recorded; a later one without a model keeps the model") {
    store::Db db(":memory:");
    store::migrate(db);
    store::SeenPhoneStore seen(db);
    seen.record({"001122AABBCC", "8845", "sip", "Cisco-CP8845/14.2.1", "10.0.0.5", 0, 0}, 1000);
    seen.record({"001122AABBCC", "", "sip", "Cisco-CP8845/14.2.1", "10.0.0.6", 0, 0}, 2000);
    auto p = seen.get("001122AABBCC");
    REQUIRE(p);
    CHECK(p->model == "8845");
    CHECK(p->address == "10.0.0.6");
    CHECK(p->firstSeenMs == 1000);
    CHECK(p->lastSeenMs == 2000);
    CHECK_FALSE(seen.get("001122AABBCD"));
    CHECK(seen.all().size() == 1);
}
