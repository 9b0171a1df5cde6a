#include <doctest/doctest.h>

#include <thread>
#include <vector>

#include "core/events.h"
#include "core/limits.h"

using namespace labcm;

TEST_CASE("events: publish stamps seq and time, subscribers see every event once") {
    EventBus bus(8);
    std::vector<std::uint64_t> seen;
    auto sub = bus.subscribe([&](const Event& e) { seen.push_back(e.seq); });
    auto a = bus.publish(Service::Sip, EventKind::DeviceAdded, Severity::Info, "001122AABBCC", "10.0.0.5", "x");
    auto b = bus.publish(Service::Tftp, EventKind::DeviceChanged, Severity::Warning, "", "", "y");
    CHECK(a == 1);
    CHECK(b == 2);
    CHECK(seen == std::vector<std::uint64_t>{1, 2});
    auto recent = bus.recent(0);
    REQUIRE(recent.size() == 2);
    CHECK(recent[0].time.time_since_epoch().count() > 0);
    CHECK(recent[0].ip == "10.0.0.5");
}

TEST_CASE("events: the ring is bounded and recent() filters by seq and phone") {
    EventBus bus(4);
    for (int i = 0; i < 10; ++i)
        bus.publish(Service::Dhcp, EventKind::DeviceChanged, Severity::Info, i % 2 ? "AAAAAAAAAAAA" : "BBBBBBBBBBBB",
                    "", std::to_string(i));
    auto all = bus.recent(0);
    REQUIRE(all.size() == 4);
    CHECK(all.front().seq == 7);
    CHECK(all.back().seq == 10);
    CHECK(bus.recent(8).size() == 2);
    auto one = bus.recent(0, "AAAAAAAAAAAA");
    REQUIRE(one.size() == 2);
    CHECK(one[0].detail == "7");
    CHECK(bus.lastSeq() == 10);
}

TEST_CASE("events: a subscription ends when its handle goes away; long details are cut") {
    EventBus bus(4);
    int count = 0;
    {
        auto sub = bus.subscribe([&](const Event&) { ++count; });
        bus.publish(Service::System, EventKind::ServerStarted, Severity::Info, "", "", "a");
        auto moved = std::move(sub);
        bus.publish(Service::System, EventKind::ServerStarted, Severity::Info, "", "", "b");
    }
    bus.publish(Service::System, EventKind::ServerStarted, Severity::Info, "", "", std::string(5000, 'x'));
    CHECK(count == 2);
    CHECK(bus.recent(0).back().detail.size() == limits::kMaxEventDetail);
}

TEST_CASE("events: concurrent publishers get distinct seqs") {
    EventBus bus(100'000);
    std::atomic<int> delivered{0};
    auto sub = bus.subscribe([&](const Event&) { ++delivered; });
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 1000; ++i) bus.publish(Service::Http, EventKind::DeviceChanged, Severity::Info, "", "", "");
        });
    for (auto& t : threads) t.join();
    CHECK(delivered == 4000);
    CHECK(bus.lastSeq() == 4000);
    auto all = bus.recent(0);
    REQUIRE(all.size() == 4000);
    for (std::size_t i = 0; i < all.size(); ++i) CHECK(all[i].seq == i + 1);
}

TEST_CASE("events: names round-trip") {
    CHECK(std::string(toString(EventKind::StoreExternalChange)) == "store_external_change");
    CHECK(std::string(toString(EventKind::ModelDefaultChanged)) == "model_default_changed");
    CHECK((serviceFromString(toString(Service::Dhcp)) == Service::Dhcp));
    CHECK((severityFromString("warning") == Severity::Warning));
    CHECK(!serviceFromString("smtp"));
}
