#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "store/migrations.h"
#include "store/writer.h"
#include "test_util.h"

using namespace labcm::store;

namespace {

std::int64_t countRows(Db& db, const char* table) {
    auto s = db.prepare(std::string("SELECT count(*) FROM ") + table);
    s.step();
    return s.getInt(0);
}

std::string freshDb(labcm::test::TempDir& tmp) {
    auto path = tmp.file("writer.db");
    Db db(path);
    migrate(db);
    return path;
}

void insertSetting(Db& db, const std::string& key) {
    auto s = db.prepare("INSERT INTO settings (key, value, updated_at) VALUES (?, 'v', 0)");
    s.bind(1, key);
    s.run();
}

} // namespace

TEST_CASE("writer: a job's result is ready only after commit, visible to another connection") {
    labcm::test::TempDir tmp;
    auto path = freshDb(tmp);
    Writer w(path);
    Db reader(path);
    auto f = w.submit([](Db& db) {
        insertSetting(db, "a");
        return 42;
    });
    CHECK(f.get() == 42);
    CHECK(countRows(reader, "settings") == 1);
}

TEST_CASE("writer: a failing job rolls back alone; the others in its batch commit") {
    labcm::test::TempDir tmp;
    auto path = freshDb(tmp);
    Writer w(path);
    // Hold the writer busy so the next three jobs land in one batch.
    std::promise<void> gate;
    auto gateFuture = gate.get_future().share();
    auto first = w.submit([gateFuture](Db&) { gateFuture.wait(); });
    auto ok1 = w.submit([](Db& db) { insertSetting(db, "one"); });
    auto bad = w.submit([](Db& db) {
        insertSetting(db, "two");
        throw std::runtime_error("boom");
    });
    auto ok2 = w.submit([](Db& db) { insertSetting(db, "three"); });
    gate.set_value();
    first.get();
    ok1.get();
    CHECK_THROWS_WITH(bad.get(), "boom");
    ok2.get();
    Db reader(path);
    CHECK(countRows(reader, "settings") == 2);
    auto s = reader.prepare("SELECT count(*) FROM settings WHERE key = 'two'");
    s.step();
    CHECK(s.getInt(0) == 0);
    // 4 jobs, at most 2 transactions: the three queued behind the gate shared one commit.
    CHECK(w.commits() <= 2);
}

TEST_CASE("writer: many concurrent submitters are group-committed and nothing is lost") {
    labcm::test::TempDir tmp;
    auto path = freshDb(tmp);
    Writer w(path);
    std::vector<std::thread> threads;
    std::atomic<int> done{0};
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&, t] {
            std::vector<std::future<std::monostate>> fs;
            for (int i = 0; i < 250; ++i)
                fs.push_back(w.submit([t, i](Db& db) { insertSetting(db, std::to_string(t) + "-" + std::to_string(i)); }));
            for (auto& f : fs) f.get();
            done += 250;
        });
    for (auto& t : threads) t.join();
    Db reader(path);
    CHECK(done == 1000);
    CHECK(countRows(reader, "settings") == 1000);
    CHECK(w.commits() < 1000);
}

TEST_CASE("writer: completion callbacks get the value or the error") {
    labcm::test::TempDir tmp;
    Writer w(freshDb(tmp));
    std::promise<int> got;
    w.submit([](Db&) { return 7; }, [&](Outcome<int> o) { got.set_value(o.get()); });
    CHECK(got.get_future().get() == 7);
    std::promise<std::string> err;
    w.submit([](Db& db) { db.exec("INSERT INTO nowhere VALUES (1)"); },
             [&](Outcome<std::monostate> o) {
                 try {
                     o.get();
                     err.set_value("no error");
                 } catch (const SqliteError& e) {
                     err.set_value(e.what());
                 }
             });
    CHECK(err.get_future().get().find("no such table") != std::string::npos);
}

TEST_CASE("writer: stop runs every queued job, then refuses new ones") {
    labcm::test::TempDir tmp;
    auto path = freshDb(tmp);
    std::vector<std::future<std::monostate>> fs;
    {
        Writer w(path);
        for (int i = 0; i < 100; ++i) fs.push_back(w.submit([i](Db& db) { insertSetting(db, std::to_string(i)); }));
        w.stop();
        CHECK_THROWS_AS(w.submit([](Db&) {}), WriterBusy);
    }
    for (auto& f : fs) f.get();
    Db reader(path);
    CHECK(countRows(reader, "settings") == 100);
}

TEST_CASE("writer: outside writes are reported, its own are not") {
    labcm::test::TempDir tmp;
    auto path = freshDb(tmp);
    std::atomic<int> external{0};
    Writer w(path, [&] { ++external; });
    for (int i = 0; i < 5; ++i) w.submit([i](Db& db) { insertSetting(db, "own" + std::to_string(i)); }).get();
    // One more job forces a check after our own commits.
    w.submit([](Db&) {}).get();
    CHECK(external == 0);
    {
        Db outsider(path);
        insertSetting(outsider, "outside");
    }
    w.submit([](Db&) {}).get(); // the writer checks before every batch
    CHECK(external == 1);
}
