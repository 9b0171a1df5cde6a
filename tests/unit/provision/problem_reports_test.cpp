// Problem reports as labcm keeps them (issue 22): stored under names labcm makes, the newest
// `keep` per phone, listed newest first, found only by a name of the listing.
#include <doctest/doctest.h>

#include "provision/problem_reports.h"

#include <fstream>
#include <random>

using namespace labcm::provision;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

fs::path scratch() {
    auto p = fs::temp_directory_path() / ("labcm-prt-test-" + std::to_string(std::random_device{}()));
    fs::create_directories(p);
    return p;
}

fs::path upload(ProblemReports& r, const std::string& text) {
    auto p = r.incoming();
    std::ofstream(p, std::ios::binary) << "HEADERS" << text << "TRAILER";
    return p;
}

std::string read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}

} // namespace

TEST_CASE("problem reports: the form's file part stored under labcm's name, the newest kept") {
    auto root = scratch();
    ProblemReports reports(root / "prt", 2);
    const auto t0 = std::chrono::system_clock::time_point{} + 1'700'000'000s;
    auto in = upload(reports, "first");
    auto r = reports.store("001122334455", in, 7, 5, t0);
    CHECK(r.name == "prt-SEP001122334455-20231114221320.tar.gz");
    CHECK(r.size == 5);
    CHECK_FALSE(fs::exists(in)); // the upload's temp file is gone
    CHECK(read(root / "prt" / "SEP001122334455" / r.name) == "first");
    // Two more in the same second: a name of their own each, and only the newest two stay.
    reports.store("001122334455", upload(reports, "second"), 7, 6, t0);
    reports.store("001122334455", upload(reports, "third"), 7, 5, t0);
    auto list = reports.list("001122334455");
    REQUIRE(list.size() == 2);
    CHECK(list[0].name == "prt-SEP001122334455-20231114221320_003.tar.gz");
    CHECK(list[1].name == "prt-SEP001122334455-20231114221320_002.tar.gz");
    CHECK(read(*reports.find("001122334455", list[0].name)) == "third");
    // Only names of the listing are found: no path from a request.
    CHECK_FALSE(reports.find("001122334455", "../../etc/passwd"));
    CHECK_FALSE(reports.find("001122334455", r.name)); // gone: beyond `keep`
    CHECK_FALSE(reports.find("00112233445F", list[0].name));
    CHECK(reports.list("00112233445F").empty());
    // An upload shorter than its form says is refused and leaves nothing behind.
    auto shortIn = upload(reports, "x");
    CHECK_THROWS(reports.store("001122334455", shortIn, 7, 100, t0 + 1s));
    CHECK(reports.list("001122334455").size() == 2);
    CHECK(std::distance(fs::directory_iterator(root / "prt" / "SEP001122334455"), fs::directory_iterator{}) == 2);
    reports.discard(shortIn);
    CHECK_FALSE(fs::exists(shortIn));
    fs::remove_all(root);
}

TEST_CASE("problem reports: those older than the age limit go, at start and at a listing") {
    auto root = scratch();
    ProblemReports reports(root / "prt", 5, 24h * 90);
    const auto now = std::chrono::system_clock::now();
    for (const char* mac : {"001122334455", "001122334466"}) {
        auto kept = reports.store(mac, upload(reports, "young"), 7, 5, now);
        auto old = reports.store(mac, upload(reports, "old"), 7, 3, now + 1s);
        // The older one arrived 100 days ago (its file's time is what counts).
        fs::last_write_time(root / "prt" / ("SEP" + std::string(mac)) / old.name,
                            std::chrono::file_clock::now() - std::chrono::duration_cast<std::chrono::file_clock::duration>(24h * 100));
        CHECK(kept.name != old.name);
    }
    CHECK(reports.prune(now) == 2); // both phones' old ones
    auto list = reports.list("001122334455");
    REQUIRE(list.size() == 1);
    CHECK(read(root / "prt" / "SEP001122334455" / list[0].name) == "young");
    // No age limit: kept however old.
    ProblemReports forever(root / "prt2", 5);
    auto r = forever.store("001122334455", upload(forever, "x"), 7, 1, now);
    fs::last_write_time(root / "prt2" / "SEP001122334455" / r.name, std::chrono::file_clock::now() - std::chrono::duration_cast<std::chrono::file_clock::duration>(24h * 4000));
    CHECK(forever.prune(now) == 0);
    CHECK(forever.list("001122334455").size() == 1);
    fs::remove_all(root);
}
