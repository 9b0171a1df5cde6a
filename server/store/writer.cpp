#include "store/writer.h"

#include <chrono>
#include <thread>
#include <vector>

#include <spdlog/spdlog.h>

#include "core/limits.h"
#include "core/test_faults.h"
#include "core/thread_name.h"

namespace labcm::store {

Writer::Writer(const std::string& path, std::function<void()> externalChange)
    : db_(path), externalChange_(std::move(externalChange)), dataVersion_(db_.dataVersion()),
      thread_([this] {
          nameThisThread("labcm-writer");
          loop();
      }) {}

void Writer::checkExternalChange() {
    if (!externalChange_) return;
    try {
        auto v = db_.dataVersion();
        if (v == dataVersion_) return;
        dataVersion_ = v;
        externalChange_();
    } catch (const std::exception& e) {
        spdlog::error("store: checking for outside writes failed: {}", e.what());
    }
}

Writer::~Writer() { stop(); }

void Writer::stop() {
    {
        std::lock_guard lock(mutex_);
        stopping_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void Writer::enqueue(std::unique_ptr<Job> job) {
    {
        std::lock_guard lock(mutex_);
        if (stopping_) throw WriterBusy("the database writer is stopping");
        if (queue_.size() >= limits::kWriterMaxQueue)
            throw WriterBusy("the database writer has too many jobs waiting");
        queue_.push_back(std::move(job));
    }
    wake_.notify_one();
}

void Writer::loop() {
    std::vector<std::unique_ptr<Job>> batch;
    std::chrono::steady_clock::time_point lastCommit;
    for (;;) {
        {
            std::unique_lock lock(mutex_);
            while (!stopping_ && queue_.empty()) {
                if (!wake_.wait_for(lock, limits::kDataVersionPollInterval, [&] { return stopping_ || !queue_.empty(); })) {
                    lock.unlock();
                    checkExternalChange();
                    lock.lock();
                }
            }
            if (queue_.empty()) return; // stopping and drained
            if (!stopping_ && queue_.size() < limits::kWriterMaxBatch &&
                std::chrono::steady_clock::now() - lastCommit < limits::kWriterGroupWindow) {
                // Under load (the last commit just ended): a moment for more jobs to join this
                // one, so a REGISTER storm costs a transaction per window, not per few jobs
                // (each costs a lock and a WAL append). Asleep, not waiting on wake_: the
                // jobs arriving meanwhile wake no one.
                lock.unlock();
                std::this_thread::sleep_for(limits::kWriterGroupWindow);
                lock.lock();
            }
            while (!queue_.empty() && batch.size() < limits::kWriterMaxBatch) {
                batch.push_back(std::move(queue_.front()));
                queue_.pop_front();
            }
        }

        if (test_faults::active(test_faults::Fault::SlowCommits)) std::this_thread::sleep_for(test_faults::kSlowCommit);
        checkExternalChange(); // before our own commit, so outside writes are told apart
        std::exception_ptr commitError;
        try {
            db_.exec("BEGIN IMMEDIATE");
            for (auto& job : batch) {
                db_.prepare("SAVEPOINT job").run(); // prepared once (Db keeps it), not parsed per job
                try {
                    job->run(db_);
                    db_.prepare("RELEASE job").run();
                } catch (...) {
                    // The job's own error goes to its completion; undo only its writes.
                    db_.exec("ROLLBACK TO job");
                    db_.exec("RELEASE job");
                }
            }
            db_.exec("COMMIT");
            ++commits_;
        } catch (const std::exception& e) {
            spdlog::error("store: transaction of {} jobs failed: {}", batch.size(), e.what());
            commitError = std::current_exception();
            try {
                db_.exec("ROLLBACK");
            } catch (...) {
                // SQLite may have rolled back already.
            }
        }
        for (auto& job : batch) {
            try {
                job->finish(commitError);
            } catch (const std::exception& e) {
                spdlog::error("store: a write completion threw: {}", e.what());
            }
        }
        batch.clear();
        lastCommit = std::chrono::steady_clock::now();
    }
}

} // namespace labcm::store
