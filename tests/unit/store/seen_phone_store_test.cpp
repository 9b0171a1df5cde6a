#include <doctest/doctest.h>

#include <fmt/format.h>

#include "core/limits.h"
#include "store/migrations.h"
#include "store/seen_phone_store.h"

using namespace labcm::store;
namespace limits = labcm::limits;

TEST_CASE("seen phones: bounded by count (longest unseen first), by age, and a short User-Agent") {
    // Issue 19: every REGISTER for an invented MAC stored its whole User-Agent, forever.
    Db db(":memory:");
    migrate(db);
    SeenPhoneStore s(db);
    const std::int64_t t0 = 1'000'000'000'000;
    s.record({"001122000000", "8845", "sip", std::string(60'000, 'x'), "10.0.0.1", 0, 0}, t0);
    REQUIRE(s.get("001122000000"));
    CHECK(s.get("001122000000")->detail.size() == limits::kSeenPhoneDetail);
    // A cut never splits a UTF-8 character.
    s.record({"001122000001", "", "sip", std::string(limits::kSeenPhoneDetail - 1, 'a') + "\xc3\xa9", "", 0, 0}, t0);
    CHECK(s.get("001122000001")->detail == std::string(limits::kSeenPhoneDetail - 1, 'a'));

    for (std::size_t i = 2; i < limits::kSeenPhonesMax + 5; ++i)
        s.record({fmt::format("0011{:08X}", i), "", "sip", "Cisco-CP8845/14.2.1", "", 0, 0}, t0 + static_cast<std::int64_t>(i));
    CHECK(s.all().size() == limits::kSeenPhonesMax);
    CHECK_FALSE(s.get("001122000000")); // the longest unseen went first
    CHECK(s.get(fmt::format("0011{:08X}", limits::kSeenPhonesMax + 4)));

    // Older than the age bound: gone at the next sighting.
    const auto later = t0 + std::chrono::duration_cast<std::chrono::milliseconds>(limits::kSeenPhoneMaxAge).count() + 100'000;
    s.record({"0011AAAAAAAA", "7821", "dhcp", "Cisco Systems, Inc. IP Phone CP-7821", "", 0, 0}, later);
    CHECK(s.all().size() == 1);
}
