// The one thread that writes the database. Every write in labcm is a job submitted here;
// the writer runs all waiting jobs (up to limits::kWriterMaxBatch) in one transaction
// (group commit), each job inside its own SAVEPOINT so one failing job rolls back alone,
// and only after COMMIT calls each job's completion. No protocol thread ever waits on fsync:
// completions are posted back by the caller's `done` (e.g. boost::asio::post).
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <variant>

#include "store/sqlite.h"

namespace labcm::store {

/// @brief The result of a job: its value, or the exception it (or its commit) threw.
template <class T>
struct Outcome {
    std::optional<T> value;
    std::exception_ptr error;
    /// @throw the job's exception when it failed.
    T& get() {
        if (error) std::rethrow_exception(error);
        return *value;
    }
};

/// @brief submit() refuses work when limits::kWriterMaxQueue jobs are waiting.
class WriterBusy : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

class Writer {
public:
    /// @brief Opens its own read-write connection to `path` (already migrated) and starts
    /// the thread. `externalChange` (optional) runs on the writer thread whenever another
    /// connection (sqlite3, a restore, another process) committed to the database: the
    /// writer's own PRAGMA data_version changes only for those, checked before every batch
    /// and every limits::kDataVersionPollInterval when idle.
    explicit Writer(const std::string& path, std::function<void()> externalChange = {});
    /// @brief Runs every job already submitted, then stops the thread.
    ~Writer();
    Writer(const Writer&) = delete;
    Writer& operator=(const Writer&) = delete;

    /// @brief Queues `fn(Db&) -> T`; `done(Outcome<T>)` runs on the writer thread after the
    /// commit (or the failure). `done` must be short: post to your own thread.
    template <class Fn, class Done>
    void submit(Fn fn, Done done) {
        using R = std::invoke_result_t<Fn, Db&>;
        using T = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
        enqueue(std::make_unique<JobImpl<Fn, Done, T>>(std::move(fn), std::move(done)));
    }

    /// @brief Queues `fn`; the future is ready after the commit.
    template <class Fn>
    auto submit(Fn fn) {
        using R = std::invoke_result_t<Fn, Db&>;
        using T = std::conditional_t<std::is_void_v<R>, std::monostate, R>;
        auto promise = std::make_shared<std::promise<T>>();
        auto future = promise->get_future();
        submit(std::move(fn), [promise](Outcome<T> o) {
            if (o.error) promise->set_exception(o.error);
            else promise->set_value(std::move(*o.value));
        });
        return future;
    }

    /// @brief Transactions committed so far.
    std::uint64_t commits() const { return commits_.load(); }

    /// @brief Stops accepting jobs, runs what is queued, joins. Idempotent.
    void stop();

private:
    struct Job {
        virtual ~Job() = default;
        virtual void run(Db& db) = 0;
        virtual void finish(std::exception_ptr commitError) = 0;
    };

    template <class Fn, class Done, class T>
    struct JobImpl final : Job {
        JobImpl(Fn f, Done d) : fn(std::move(f)), done(std::move(d)) {}
        void run(Db& db) override {
            try {
                if constexpr (std::is_void_v<std::invoke_result_t<Fn, Db&>>) {
                    fn(db);
                    outcome.value.emplace();
                } else {
                    outcome.value.emplace(fn(db));
                }
            } catch (...) {
                outcome.error = std::current_exception();
                throw;
            }
        }
        void finish(std::exception_ptr commitError) override {
            if (commitError && !outcome.error) {
                outcome.error = commitError;
                outcome.value.reset();
            }
            done(std::move(outcome));
        }
        Fn fn;
        Done done;
        Outcome<T> outcome;
    };

    void enqueue(std::unique_ptr<Job> job);
    void loop();
    void checkExternalChange();

    Db db_;
    std::function<void()> externalChange_;
    std::int64_t dataVersion_ = 0;
    std::mutex mutex_;
    std::condition_variable wake_;
    std::deque<std::unique_ptr<Job>> queue_;
    bool stopping_ = false;
    std::atomic<std::uint64_t> commits_{0};
    std::thread thread_;
};

} // namespace labcm::store
