#include <doctest/doctest.h>

#include <fstream>

#include "provision/folder_watch.h"
#include "test_util.h"

using namespace labcm::provision;
namespace fs = std::filesystem;

TEST_CASE("folder watch: names that come, go or move in a watched folder change the generation, nothing else does") {
    labcm::test::TempDir tmp;
    fs::create_directories(tmp.path() / "watched");
    fs::create_directories(tmp.path() / "other");
    FolderWatch w;
    REQUIRE(w.watch(tmp.path() / "watched"));
    CHECK_FALSE(w.watch(tmp.path() / "missing"));
    auto g = w.generation();
    CHECK(w.generation() == g);

    std::ofstream(tmp.path() / "other" / "x") << "1"; // not watched
    CHECK(w.generation() == g);

    std::ofstream(tmp.path() / "watched" / "a") << "1"; // a new name: seen by the very next call
    auto g1 = w.generation();
    CHECK(g1 != g);
    CHECK(w.generation() == g1);

    std::ofstream(tmp.path() / "watched" / "a") << "22"; // contents of a file: not watched here
    CHECK(w.generation() == g1);

    fs::rename(tmp.path() / "watched" / "a", tmp.path() / "watched" / "b");
    auto g2 = w.generation();
    CHECK(g2 != g1);
    fs::remove(tmp.path() / "watched" / "b");
    CHECK(w.generation() != g2);
}

TEST_CASE("folder watch: contents, and a folder replaced at the same path") {
    labcm::test::TempDir tmp;
    fs::create_directories(tmp.path() / "t");
    std::ofstream(tmp.path() / "t" / "softkeys.xml") << "one";
    FolderWatch w;
    REQUIRE(w.watch(tmp.path() / "t", true));
    auto g = w.generation();
    std::ofstream(tmp.path() / "t" / "softkeys.xml") << "two"; // rewritten in place
    auto g1 = w.generation();
    CHECK(g1 != g);

    fs::remove_all(tmp.path() / "t"); // the folder goes
    auto g2 = w.generation();
    CHECK(g2 != g1);
    fs::create_directories(tmp.path() / "t"); // a new folder: not watched until asked again
    REQUIRE(w.watch(tmp.path() / "t", true));
    auto g3 = w.generation();
    std::ofstream(tmp.path() / "t" / "softkeys.xml") << "three";
    CHECK(w.generation() != g3);
}
