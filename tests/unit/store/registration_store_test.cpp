#include <doctest/doctest.h>

#include "store/migrations.h"
#include "store/registration_saver.h"
#include "store/registration_store.h"
#include "store/writer.h"

#include <condition_variable>
#include <mutex>
#include "test_util.h"

using namespace labcm::store;

TEST_CASE("registration store: save, keep loads across keep-alives, restore what is live") {
    Db db(":memory:");
    migrate(db);
    RegistrationStore rs(db);
    RegistrationRecord r;
    r.mac = "001122AABBCC";
    r.state = "registered";
    r.contact = "<sip:u@10.0.0.50:5060>";
    r.callId = "c1";
    r.source = "tcp:10.0.0.50:51234";
    r.transport = "tcp";
    r.userAgent = "Cisco-CP8845/14.2.1";
    r.modelId = 36224;
    r.activeLoad = "sip8845_65.14-2-1-0001-14";
    r.inactiveLoad = "sip8845_65.12-8-1-0001-455";
    r.lastReason = "reset-restart";
    r.alarm = 23;
    r.lines = 2;
    r.registeredAtMs = 1000;
    r.expiresAtMs = 200'000;
    rs.save(r, 1000);

    // A keep-alive carries no Reason and no model: what was stored stays.
    RegistrationRecord keep = r;
    keep.activeLoad.clear();
    keep.inactiveLoad.clear();
    keep.lastReason.clear();
    keep.alarm = -1;
    keep.modelId.reset();
    keep.userAgent.clear();
    keep.registeredAtMs = 0;
    keep.expiresAtMs = 300'000;
    rs.save(keep, 2000);
    auto got = rs.get("001122AABBCC");
    REQUIRE(got);
    CHECK(got->activeLoad == "sip8845_65.14-2-1-0001-14");
    CHECK(got->inactiveLoad == "sip8845_65.12-8-1-0001-455");
    CHECK(got->lastReason == "reset-restart");
    CHECK(got->alarm == 23);
    CHECK(got->modelId == 36224);
    CHECK(got->userAgent == "Cisco-CP8845/14.2.1");
    CHECK(got->registeredAtMs == 1000);
    CHECK(got->expiresAtMs == 300'000);

    CHECK(rs.live(299'999).size() == 1);
    CHECK(rs.live(300'000).empty()); // expired by then: not restored
    keep.state = "unregistered";
    rs.save(keep, 3000);
    CHECK(rs.live(0).empty());
    CHECK(rs.all().size() == 1);
    CHECK(!rs.get("0011223344FF"));
}

TEST_CASE("registration saver: every record saved in order, in batches, each batch's phones reported after its commit") {
    labcm::test::TempDir tmp;
    auto path = tmp.file("saver.db");
    {
        Db db(path);
        migrate(db);
    }
    std::mutex m;
    std::condition_variable cv;
    std::vector<std::string> reported;
    std::size_t batches = 0;
    {
        Writer writer(path);
        RegistrationSaver saver(writer, [&](std::vector<std::string> macs) {
            std::lock_guard lock(m);
            ++batches;
            reported.insert(reported.end(), macs.begin(), macs.end());
            cv.notify_all();
        });
        RegistrationRecord first;
        first.mac = "001122AABBCC";
        first.state = "registered";
        first.activeLoad = "sip8845_65.14-2-1-0001-14";
        first.registeredAtMs = 1000;
        first.expiresAtMs = 100'000;
        saver.save(first);
        for (int i = 0; i < 500; ++i) { // another phone's keep-alives, and the first phone's
            RegistrationRecord k;
            k.mac = i % 2 ? "001122AABBCC" : "001122AABBCD";
            k.state = "registered";
            k.expiresAtMs = 200'000 + i;
            saver.save(k);
        }
        RegistrationRecord seenEarlier; // a refresh saved after it was seen: last seen when seen
        seenEarlier.mac = "001122AABBCE";
        seenEarlier.state = "registered";
        seenEarlier.updatedAtMs = 4242;
        saver.save(seenEarlier);
        std::unique_lock lock(m);
        REQUIRE(cv.wait_for(lock, std::chrono::seconds(30), [&] { return reported.size() == 502; }));
    }
    CHECK(batches >= 1);
    CHECK(batches <= 502);
    CHECK(reported.front() == "001122AABBCC");
    Db db(path);
    RegistrationStore rs(db);
    auto a = rs.get("001122AABBCC");
    REQUIRE(a);
    CHECK(a->activeLoad == "sip8845_65.14-2-1-0001-14"); // kept across the keep-alives, as save() keeps it
    CHECK(a->expiresAtMs == 200'000 + 499);               // the last one saved last
    auto b = rs.get("001122AABBCD");
    REQUIRE(b);
    CHECK(b->expiresAtMs == 200'000 + 498);
    CHECK(b->updatedAtMs > 4242); // stamped when saved
    CHECK(rs.get("001122AABBCE")->updatedAtMs == 4242);
}
