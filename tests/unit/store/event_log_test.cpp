#include <doctest/doctest.h>

#include "core/limits.h"
#include "store/event_log.h"
#include "store/migrations.h"
#include "test_util.h"

using namespace labcm;
using namespace labcm::store;

namespace {

std::string freshDb(test::TempDir& tmp) {
    auto path = tmp.file("events.db");
    Db db(path);
    migrate(db);
    return path;
}

} // namespace

TEST_CASE("event log: the sink writes published events in one batch per flush") {
    test::TempDir tmp;
    auto path = freshDb(tmp);
    Writer w(path);
    EventBus bus(16);
    EventLogSink sink(bus, w);
    bus.publish(Service::Tftp, EventKind::DeviceChanged, Severity::Warning, "001122AABBCC", "10.1.1.1", "first");
    bus.publish(Service::Sip, EventKind::DeviceAdded, Severity::Info, "001122AABBCD", "", "second");
    bus.publish(Service::Sip, EventKind::DeviceAdded, Severity::Error, "001122AABBCC", "", "third");
    auto before = w.commits();
    sink.flush().get();
    CHECK(w.commits() == before + 1);
    CHECK(sink.written() == 3);
    sink.flush().get(); // nothing pending: no transaction
    CHECK(w.commits() == before + 1);

    Db reader(path);
    auto all = EventLog(reader).recent("", 10);
    REQUIRE(all.size() == 3);
    CHECK(all[0].detail == "third"); // newest first
    CHECK(all[2].service == "tftp");
    CHECK(all[2].kind == "device_changed");
    CHECK(all[2].severity == "warning");
    CHECK(all[2].ip == "10.1.1.1");
    auto one = EventLog(reader).recent("001122AABBCC", 10);
    REQUIRE(one.size() == 2);
    CHECK(one[1].detail == "first");
    CHECK(EventLog(reader).recent("", 1).size() == 1);
    // Of some kinds only (the verdict's), newest first.
    auto added = EventLog(reader).recentOfKinds("001122AABBCC", {"device_added", "file_served"}, 10);
    REQUIRE(added.size() == 1);
    CHECK(added[0].detail == "third");
    CHECK(EventLog(reader).recentOfKinds("001122AABBCC", {"device_changed", "device_added"}, 10).size() == 2);
    CHECK(EventLog(reader).recentOfKinds("001122AABBCC", {"device_changed", "device_added"}, 1)[0].detail == "third");
}

TEST_CASE("event log: beyond the pending bound events are dropped and counted, never blocking") {
    test::TempDir tmp;
    Writer w(freshDb(tmp));
    EventBus bus(4);
    EventLogSink sink(bus, w);
    for (std::size_t i = 0; i < limits::kEventPendingMax + 10; ++i)
        bus.publish(Service::Dhcp, EventKind::DeviceChanged, Severity::Info, "", "", "");
    CHECK(sink.dropped() == 10);
    sink.flush().get();
    CHECK(sink.written() == limits::kEventPendingMax);
}

TEST_CASE("event log: the table is pruned to the retention bound") {
    test::TempDir tmp;
    auto path = freshDb(tmp);
    Db db(path);
    std::vector<Event> batch(1000);
    for (auto& e : batch) e.time = std::chrono::system_clock::now();
    // Pretend the table already holds ids up to the bound, then append one batch.
    db.exec("INSERT INTO events (id, time, service, kind, severity) VALUES (" +
            std::to_string(limits::kEventRetentionRows) + ", 0, 'system', 'server_started', 'info')");
    db.exec("INSERT INTO events (id, time, service, kind, severity) VALUES (1, 0, 'system', 'server_started', 'info')");
    EventLog(db).append(batch);
    auto s = db.prepare("SELECT min(id), max(id), count(*) FROM events");
    s.step();
    CHECK(s.getInt(1) == limits::kEventRetentionRows + 1000);
    CHECK(s.getInt(0) > 1000); // the oldest rows are gone
    CHECK(s.getInt(2) == 1001);
}
