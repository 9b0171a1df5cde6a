// Render cost against the lab's size (issue 16): a real SQLite file with N devices (mixed
// models, one or two lines, one DN in twenty shared), the real file namespace, timed per file.
//
//   labcm_render_bench --devices N [--samples S]
//
// Prints one row: N, the time to render every file ahead of the phones (warm), and p50/p99 of
//   miss    a SEP file rendered (the lab-wide data already read),
//   change  a device changed, then its file fetched (the change's own cost included: the
//           shared-line marks and the dial plan read again),
//   hit     a SEP file from the cache,
//   static  softkeys.xml rendered after a lab-wide change (everything read again).
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "core/settings.h"
#include "provision/file_namespace.h"
#include "store/device_store.h"
#include "store/migrations.h"

using namespace labcm;
using Clock = std::chrono::steady_clock;

namespace {

double us(Clock::duration d) { return std::chrono::duration<double, std::micro>(d).count(); }

struct Stats {
    std::vector<double> v;
    double pct(double p) {
        if (v.empty()) return 0;
        std::sort(v.begin(), v.end());
        return v[std::min(v.size() - 1, static_cast<std::size_t>(p * static_cast<double>(v.size())))];
    }
};

std::string macOf(int i) { return fmt::format("0011{:08X}", i); }

void fill(store::Db& db, int n) {
    static const char* models[] = {"8845", "7821", "7975", "7970", "8861", "7841"};
    store::DeviceStore ds(db);
    store::Transaction t(db);
    for (int i = 0; i < n; ++i) {
        Device d{.mac = macOf(i), .model = models[i % 6], .description = fmt::format("desk {}", i)};
        d.lines.push_back({1, std::to_string(100000 + i)});
        if (i % 3 == 0) d.lines.push_back({2, std::to_string(100000 + (i % 20 == 0 ? i + 1 : n + i))});
        ds.insert(d, 1);
    }
    t.commit();
}

} // namespace

int main(int argc, char** argv) {
    int n = 10000, samples = 2000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--devices")) n = std::atoi(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--samples")) samples = std::atoi(argv[i + 1]);
    }
    spdlog::set_level(spdlog::level::warn);
    auto dir = std::filesystem::temp_directory_path() / fmt::format("labcm-render-bench-{}", ::getpid());
    std::filesystem::create_directories(dir / "files");
    // An hour old, as a lab's files folder is (a folder changed within seconds is not trusted).
    std::filesystem::last_write_time(dir / "files", std::filesystem::file_time_type::clock::now() - std::chrono::hours(1));
    auto path = (dir / "lab.db").string();
    {
        store::Db db(path);
        store::migrate(db);
        fill(db, n);
    }
    store::Db writer(path);
    store::Db reader(path, store::Db::Mode::ReadOnly);
    SettingsHolder settings{Settings{}};
    provision::FileNamespace files(reader, settings, dir / "files", dir / "templates");
    std::mt19937 rng(42);
    std::uniform_int_distribution<int> pick(0, n - 1);

    auto t0 = Clock::now();
    files.invalidate();
    Stats miss;
    for (;;) {
        auto a = Clock::now();
        bool more = files.warm(1);
        miss.v.push_back(us(Clock::now() - a));
        if (!more) break;
    }
    double warmS = std::chrono::duration<double>(Clock::now() - t0).count();
    auto cached = files.cached();

    Stats hit;
    for (int i = 0; i < samples; ++i) {
        auto name = "SEP" + macOf(pick(rng)) + ".cnf.xml";
        auto a = Clock::now();
        auto r = files.resolve(name);
        hit.v.push_back(us(Clock::now() - a));
        if (r.body.empty()) return 2;
    }

    Stats change;
    store::DeviceStore ds(writer);
    for (int i = 0; i < std::min(samples, 500); ++i) {
        auto mac = macOf(pick(rng));
        auto d = ds.get(mac);
        d->loadOverride = i % 2 ? "sip8845_65.14-3-1-0001-99" : "";
        ds.update(*d, false, 2);
        auto a = Clock::now();
        files.deviceChanged(mac);
        auto r = files.resolve("SEP" + mac + ".cnf.xml");
        change.v.push_back(us(Clock::now() - a));
        if (r.body.empty()) return 2;
    }

    Stats stat;
    for (int i = 0; i < 50; ++i) {
        files.invalidate();
        auto a = Clock::now();
        auto r = files.resolve("softkeys.xml");
        stat.v.push_back(us(Clock::now() - a));
        if (r.body.empty()) return 2;
    }
    std::printf("%7d  %7.2f s %6zu  %8.0f %8.0f  %8.0f %8.0f  %8.1f %8.1f  %8.0f %8.0f\n", n, warmS, cached, miss.pct(0.5),
                miss.pct(0.99), change.pct(0.5), change.pct(0.99), hit.pct(0.5), hit.pct(0.99), stat.pct(0.5), stat.pct(0.99));
    std::filesystem::remove_all(dir);
    return 0;
}
