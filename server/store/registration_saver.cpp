#include "store/registration_saver.h"

#include <spdlog/spdlog.h>

#include "core/clock.h"

namespace labcm::store {

RegistrationSaver::RegistrationSaver(Writer& writer, std::function<void(std::vector<std::string> macs)> saved)
    : writer_(writer), state_(std::make_shared<State>()) {
    state_->saved = std::move(saved);
}

void RegistrationSaver::save(RegistrationRecord r) {
    std::lock_guard lock(state_->mutex);
    const auto seen = r.updatedAtMs != 0 ? r.updatedAtMs : wallClockMs();
    state_->pending.push_back({std::move(r), seen});
    if (!state_->scheduled) schedule();
}

void RegistrationSaver::schedule() {
    try {
        writer_.submit(
            [state = state_](Db& db) {
                std::vector<Pending> batch;
                {
                    std::lock_guard lock(state->mutex);
                    batch.swap(state->pending);
                    state->scheduled = false; // from here a new record needs a new job
                }
                std::vector<std::string> macs;
                macs.reserve(batch.size());
                RegistrationStore store(db);
                for (const auto& p : batch) {
                    store.save(p.record, p.seenMs);
                    macs.push_back(p.record.mac);
                }
                return macs;
            },
            [state = state_](Outcome<std::vector<std::string>> o) {
                if (o.error) {
                    try {
                        std::rethrow_exception(o.error);
                    } catch (const std::exception& e) {
                        spdlog::error("sip: a batch of registrations was not saved: {}", e.what());
                    }
                    return;
                }
                if (state->saved) state->saved(std::move(*o.value));
            });
        state_->scheduled = true;
    } catch (const WriterBusy& e) {
        // Kept: the next registration schedules them again.
        spdlog::warn("sip: registrations wait, the writer is busy: {}", e.what());
    }
}

} // namespace labcm::store
