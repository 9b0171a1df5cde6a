// Packages an admin uploads from the page or the API: a Cisco firmware package
// (firmware.import) and a locale installer (locale.install), read into the files folder by
// provision/firmware_import.h. The front end hands over a file it holds (the admin API's
// upload, never a path from the request). One package at a time; the reading runs off the
// reader's thread (Context::background), then the optional follow-ups (a model's default load,
// the locale settings) go through the same use cases the CLI calls, one after another.
#include <memory>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "provision/firmware.h"
#include "provision/firmware_import.h"
#include "usecases/table.h"

namespace labcm::usecases {

json::object toJson(const provision::FirmwareImport& done) {
    auto list = [](const std::vector<std::string>& v) { return json::array(v.begin(), v.end()); };
    return {{"loads", list(done.loads)},     {"added", list(done.added)},     {"replaced", list(done.replaced)},
            {"unchanged", list(done.unchanged)}, {"ignored", list(done.ignored)}, {"bytes", done.bytes}};
}

json::object toJson(const provision::LocaleInstall& done) {
    auto list = [](const std::vector<std::string>& v) { return json::array(v.begin(), v.end()); };
    return {{"user", list(done.user)},       {"network", list(done.network)}, {"other", list(done.other)},
            {"ignored", list(done.ignored)}, {"bytes", done.bytes}};
}

namespace detail {
namespace {

using Call = std::pair<std::string, json::object>; ///< a use case's name and its arguments
using Done = std::function<void(json::object result, Reply reply)>;

// Runs `calls` one after another through their use cases (each may reply later, from the
// writer); `done` gets every reply, in order. A use case that throws gives its error reply.
class CallsInTurn : public std::enable_shared_from_this<CallsInTurn> {
public:
    CallsInTurn(Table& t, std::vector<Call> calls, std::function<void(json::array)> done)
        : t_(t), calls_(std::move(calls)), done_(std::move(done)) {}

    void next() {
        if (replies_.size() == calls_.size()) return done_(std::move(replies_));
        const auto& [name, args] = calls_[replies_.size()];
        auto collect = [self = shared_from_this()](json::object reply) {
            self->replies_.push_back(std::move(reply));
            self->next();
        };
        try {
            t_.handlers.at(name)(args, collect);
        } catch (...) {
            collect(errorReply(std::current_exception()));
        }
    }

private:
    Table& t_;
    std::vector<Call> calls_;
    json::array replies_;
    std::function<void(json::array)> done_;
};

void callInTurn(Table& t, std::vector<Call> calls, std::function<void(json::array)> done) {
    std::make_shared<CallsInTurn>(t, std::move(calls), std::move(done))->next();
}

// The messages of the error replies among `replies`.
json::array errorsOf(const json::array& replies) {
    json::array out;
    for (const auto& r : replies)
        if (const auto* err = r.as_object().if_contains("error"))
            out.push_back(err->as_object().at("message"));
    return out;
}

class PackageJobs {
public:
    explicit PackageJobs(Table& t) : t_(t) {}

    // Reads a package with `job` off the reader's thread; back on it, publishes the outcome and
    // hands the result to `then`. A refused package is a 422 naming why; nothing was changed.
    void run(const json::object& a, std::string what, std::function<json::object(const std::string& package, const std::string& label)> job,
             Done then, Reply reply) {
        auto package = reqString(a, "package");
        auto label = optString(a, "name").value_or("");
        if (label.empty()) label = std::filesystem::path(package).filename().string();
        if (busy_)
            throw CommandError(503, "busy", "package", "another package is being imported; try again when it is done");
        busy_ = true;
        auto work = [this, package, label, what = std::move(what), job = std::move(job), then = std::move(then),
                     reply = std::move(reply)]() mutable {
            json::object result;
            std::exception_ptr failed;
            try {
                result = job(package, label);
            } catch (...) {
                failed = std::current_exception();
            }
            t_.ctx.post([this, label, what, result = std::move(result), failed, then = std::move(then), reply = std::move(reply)]() mutable {
                busy_ = false;
                if (failed) {
                    json::object error;
                    try {
                        std::rethrow_exception(failed);
                    } catch (const provision::FirmwareImportError& e) {
                        t_.ctx.bus.publish(Service::Admin, EventKind::FilesImported, Severity::Warning, "", "",
                                           fmt::format("{} refused, nothing changed: {}", what, e.what()));
                        error = errorReply(std::make_exception_ptr(
                            CommandError(422, "invalid", "package", fmt::format("{} refused, nothing changed: {}", what, e.what()))));
                    } catch (...) {
                        error = errorReply(std::current_exception());
                    }
                    return reply(std::move(error));
                }
                result["package"] = label;
                then(std::move(result), std::move(reply));
            });
        };
        if (t_.ctx.background) t_.ctx.background(std::move(work));
        else work();
    }

private:
    Table& t_;
    bool busy_ = false; ///< on the reader's thread only
};

void addFirmwareImport(Table& t, const std::shared_ptr<PackageJobs>& jobs) {
    t.add("firmware.import", [&t, jobs](const json::object& a, Reply reply) {
        bool setDefault = optBool(a, "set_default");
        auto job = [files = t.ctx.info.filesDir](const std::string& package, const std::string& label) {
            return toJson(provision::importFirmware(package, provision::FilesDir(files), label));
        };
        auto then = [&t, setDefault](json::object result, Reply answer) {
            std::string loads;
            for (const auto& l : result["loads"].as_array()) loads += (loads.empty() ? "" : ", ") + std::string(l.as_string());
            t.ctx.bus.publish(Service::Admin, EventKind::FilesImported, Severity::Info, "", "",
                              fmt::format("firmware {} imported: loads {}; {} files added, {} replaced", result["package"].as_string().c_str(),
                                          loads, result["added"].as_array().size(), result["replaced"].as_array().size()));
            if (!setDefault) return answer(okReply(std::move(result)));
            std::vector<Call> calls;
            json::array unused;
            for (const auto& l : result["loads"].as_array()) {
                std::string load(l.as_string());
                auto models = provision::modelsOfLoad(load);
                if (models.empty()) unused.push_back(json::string(load));
                for (const auto& m : models) calls.push_back({"model.set", json::object{{"model", m}, {"load", load}}});
            }
            callInTurn(t, calls, [calls, unused, result = std::move(result), reply = std::move(answer)](json::array replies) mutable {
                json::array defaults;
                for (std::size_t i = 0; i < calls.size(); ++i)
                    if (replies[i].as_object().at("ok").as_bool()) defaults.push_back(calls[i].second);
                result["defaults"] = std::move(defaults);
                result["default_errors"] = errorsOf(replies);
                result["no_model"] = std::move(unused); ///< loads no known model uses: not set
                reply(okReply(std::move(result)));
            });
        };
        jobs->run(a, "firmware package", job, then, std::move(reply));
    });
}

void addLocaleInstall(Table& t, const std::shared_ptr<PackageJobs>& jobs) {
    t.add("locale.install", [&t, jobs](const json::object& a, Reply reply) {
        bool set = optBool(a, "set");
        auto job = [files = t.ctx.info.filesDir](const std::string& package, const std::string& label) {
            return toJson(provision::installLocale(package, provision::FilesDir(files), label));
        };
        auto then = [&t, set](json::object result, Reply answer) {
            auto join = [](const json::array& v) {
                std::string out;
                for (const auto& x : v) out += (out.empty() ? "" : ", ") + std::string(x.as_string());
                return out.empty() ? std::string("none") : out;
            };
            t.ctx.bus.publish(Service::Admin, EventKind::FilesImported, Severity::Info, "", "",
                              fmt::format("locale {} installed: user locales {}; network locales {}", result["package"].as_string().c_str(),
                                          join(result["user"].as_array()), join(result["network"].as_array())));
            if (!set) return answer(okReply(std::move(result)));
            // Set only when the package brings exactly one of the kind: more is the admin's choice.
            std::vector<Call> calls;
            for (const auto& [key, kind] : {std::pair{"user_locale", "user"}, std::pair{"network_locale", "network"}}) {
                const auto& list = result[kind].as_array();
                if (list.size() == 1) calls.push_back({"setting.set", json::object{{"key", key}, {"value", list.front()}}});
            }
            callInTurn(t, calls, [calls, result = std::move(result), reply = std::move(answer)](json::array replies) mutable {
                json::array settings;
                for (std::size_t i = 0; i < calls.size(); ++i)
                    if (replies[i].as_object().at("ok").as_bool()) settings.push_back(calls[i].second);
                result["settings"] = std::move(settings);
                result["setting_errors"] = errorsOf(replies);
                reply(okReply(std::move(result)));
            });
        };
        jobs->run(a, "locale package", job, then, std::move(reply));
    });
}

} // namespace

void addPackageUseCases(Table& t) {
    auto jobs = std::make_shared<PackageJobs>(t);
    addFirmwareImport(t, jobs);
    addLocaleInstall(t, jobs);
}

} // namespace detail
} // namespace labcm::usecases
