#include <doctest/doctest.h>

#include "app/auto_registration.h"
#include "core/limits.h"

#include <fmt/format.h>

using namespace labcm;

namespace {
store::SeenPhone sighting(std::string mac, std::string model) {
    return store::SeenPhone{std::move(mac), std::move(model), "sip", "Cisco-CP8861/14.2.1", "10.0.0.5", 0, 0};
}
} // namespace

TEST_CASE("recent sightings: a phone answered 404 is found before its row is committed") {
    app::RecentSightings s;
    CHECK_FALSE(s.get("001122AABBCC", std::nullopt));
    s.add(sighting("001122AABBCC", "8861"));
    auto got = s.get("001122AABBCC", std::nullopt);
    REQUIRE(got);
    CHECK(got->model == "8861");
    // Committed: the database answers from now on.
    s.saved("001122AABBCC");
    CHECK_FALSE(s.get("001122AABBCC", std::nullopt));
    auto stored = sighting("001122AABBCC", "7821");
    CHECK(s.get("001122AABBCC", stored)->model == "7821");
}

TEST_CASE("recent sightings: a known model is never replaced by none") {
    app::RecentSightings s;
    s.add(sighting("001122AABBCC", "8861"));
    s.add(sighting("001122AABBCC", ""));
    CHECK(s.get("001122AABBCC", std::nullopt)->model == "8861");
    // Nor the stored model by a pending sighting without one.
    app::RecentSightings t;
    t.add(sighting("001122AABBCD", ""));
    CHECK(t.get("001122AABBCD", sighting("001122AABBCD", "7841"))->model == "7841");
}

TEST_CASE("recent sightings: bounded; beyond the bound new MACs wait for the database") {
    app::RecentSightings s;
    for (std::size_t i = 0; i < limits::kPendingSightings; ++i) s.add(sighting(fmt::format("0011{:08X}", i), "8861"));
    s.add(sighting("00FFFFFFFFFF", "8861"));
    CHECK_FALSE(s.get("00FFFFFFFFFF", std::nullopt));
    // A MAC already held is still updated.
    s.add(sighting("001100000000", "7821"));
    CHECK(s.get("001100000000", std::nullopt)->model == "7821");
}
