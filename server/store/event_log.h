// The events table: the durable end of the event stream (core/events.h).
// EventLogSink subscribes to the bus, keeps a bounded batch (limits::kEventPendingMax;
// beyond it events are dropped and counted) and writes it through the writer in one job
// whenever flush() runs (every limits::kEventFlushInterval in `serve`).
#pragma once

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <vector>

#include "core/events.h"
#include "store/sqlite.h"
#include "store/writer.h"

namespace labcm::store {

struct StoredEvent {
    std::int64_t id;
    std::int64_t timeMs;
    std::string mac, ip, service, kind, severity, detail;
};

class EventLog {
public:
    explicit EventLog(Db& db) : db_(db) {}
    /// @brief Inserts the events and prunes to limits::kEventRetentionRows (writer job only).
    void append(const std::vector<Event>& events);
    /// @brief Newest first; one phone's when mac is not empty.
    std::vector<StoredEvent> recent(std::string_view mac, std::size_t limit);
    /// @brief The phone's newest `limit` events of the given kinds, newest first.
    std::vector<StoredEvent> recentOfKinds(std::string_view mac, const std::vector<std::string_view>& kinds, std::size_t limit);

private:
    Db& db_;
};

class EventLogSink {
public:
    EventLogSink(EventBus& bus, Writer& writer);
    /// @brief Submits what is pending as one writer job; the future is ready after commit.
    std::future<std::monostate> flush();
    std::uint64_t dropped() const { return dropped_.load(); }
    std::uint64_t written() const { return written_.load(); }

private:
    void onEvent(const Event& e);

    Writer& writer_;
    std::mutex mutex_;
    std::vector<Event> pending_;
    std::atomic<std::uint64_t> dropped_{0};
    std::atomic<std::uint64_t> written_{0};
    EventBus::Subscription subscription_; // last: unsubscribes before the rest goes away
};

} // namespace labcm::store
