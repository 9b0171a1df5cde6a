// The registrar's write-behind: registrations saved in batches. Every record is saved, in
// order, but the records that arrive while the writer is busy go in one job (one savepoint,
// one completion) instead of one job each: a boot storm of REGISTERs costs the writer a job
// per batch.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "store/registration_store.h"
#include "store/writer.h"

namespace labcm::store {

class RegistrationSaver {
public:
    /// @param saved runs on the writer thread after each committed batch, with its phones'
    ///        MACs (keep it short: post to your own thread).
    RegistrationSaver(Writer& writer, std::function<void(std::vector<std::string> macs)> saved);

    /// @brief Any thread: saves `r` with the next batch, last seen at r.updatedAtMs (now when 0).
    void save(RegistrationRecord r);

private:
    struct Pending {
        RegistrationRecord record;
        std::int64_t seenMs; ///< the row's updated_at
    };
    /// Shared with the queued jobs: a job may still run (the writer drains its queue when it
    /// stops) after the saver is gone.
    struct State {
        std::function<void(std::vector<std::string>)> saved;
        std::mutex mutex;
        std::vector<Pending> pending;
        bool scheduled = false; ///< a job is queued that has not taken `pending` yet
    };
    void schedule(); ///< a batch job, unless one is waiting already (state_->mutex held)

    Writer& writer_;
    std::shared_ptr<State> state_;
};

} // namespace labcm::store
