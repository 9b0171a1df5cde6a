#include "store/event_log.h"

#include <fmt/format.h>

#include <spdlog/spdlog.h>

#include "core/limits.h"

namespace labcm::store {

void EventLog::append(const std::vector<Event>& events) {
    auto s = db_.prepare("INSERT INTO events (time, mac, ip, service, kind, severity, detail) VALUES (?, ?, ?, ?, ?, ?, ?)");
    for (const auto& e : events) {
        auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(e.time.time_since_epoch()).count();
        s.bind(1, static_cast<std::int64_t>(ms)).bind(2, e.mac).bind(3, e.ip).bind(4, toString(e.service))
            .bind(5, toString(e.kind)).bind(6, toString(e.severity)).bind(7, e.detail);
        s.run();
        s.reset();
    }
    // Prune in one statement: ids are increasing, so keep the newest kEventRetentionRows.
    auto last = db_.lastInsertRowid();
    if (last > limits::kEventRetentionRows) {
        auto p = db_.prepare("DELETE FROM events WHERE id <= ?");
        p.bind(1, last - limits::kEventRetentionRows);
        p.run();
    }
}

std::vector<StoredEvent> EventLog::recent(std::string_view mac, std::size_t limit) {
    auto s = db_.prepare(mac.empty()
                             ? "SELECT id, time, mac, ip, service, kind, severity, detail FROM events ORDER BY id DESC LIMIT ?"
                             : "SELECT id, time, mac, ip, service, kind, severity, detail FROM events WHERE mac = ?2 "
                               "ORDER BY id DESC LIMIT ?1");
    s.bind(1, static_cast<std::int64_t>(limit));
    if (!mac.empty()) s.bind(2, mac);
    std::vector<StoredEvent> out;
    while (s.step())
        out.push_back({s.getInt(0), s.getInt(1), s.getText(2), s.getText(3), s.getText(4), s.getText(5), s.getText(6),
                       s.getText(7)});
    return out;
}

std::vector<StoredEvent> EventLog::recentOfKinds(std::string_view mac, const std::vector<std::string_view>& kinds,
                                                 std::size_t limit) {
    std::string in;
    for (std::size_t i = 0; i < kinds.size(); ++i) in += fmt::format("{}?{}", i ? "," : "", i + 3); // ?1 mac, ?2 limit
    auto s = db_.prepare("SELECT id, time, mac, ip, service, kind, severity, detail FROM events WHERE mac = ?1 AND kind IN (" +
                         in + ") ORDER BY id DESC LIMIT ?2");
    s.bind(1, mac);
    s.bind(2, static_cast<std::int64_t>(limit));
    for (std::size_t i = 0; i < kinds.size(); ++i) s.bind(static_cast<int>(i + 3), kinds[i]);
    std::vector<StoredEvent> out;
    while (s.step())
        out.push_back({s.getInt(0), s.getInt(1), s.getText(2), s.getText(3), s.getText(4), s.getText(5), s.getText(6),
                       s.getText(7)});
    return out;
}

EventLogSink::EventLogSink(EventBus& bus, Writer& writer)
    : writer_(writer), subscription_(bus.subscribe([this](const Event& e) { onEvent(e); })) {}

void EventLogSink::onEvent(const Event& e) {
    std::lock_guard lock(mutex_);
    if (pending_.size() >= limits::kEventPendingMax) {
        ++dropped_;
        return;
    }
    pending_.push_back(e);
}

std::future<std::monostate> EventLogSink::flush() {
    std::vector<Event> batch;
    {
        std::lock_guard lock(mutex_);
        batch.swap(pending_);
    }
    if (batch.empty()) {
        std::promise<std::monostate> p;
        p.set_value({});
        return p.get_future();
    }
    auto n = batch.size();
    auto promise = std::make_shared<std::promise<std::monostate>>();
    auto future = promise->get_future();
    writer_.submit([batch = std::move(batch)](Db& db) { EventLog(db).append(batch); },
                   [this, promise, n](Outcome<std::monostate> o) {
                       if (o.error) {
                           dropped_ += n;
                           try {
                               std::rethrow_exception(o.error);
                           } catch (const std::exception& e) {
                               spdlog::error("events: {} events not stored: {}", n, e.what());
                           }
                       } else {
                           written_ += n;
                       }
                       promise->set_value({});
                   });
    return future;
}

} // namespace labcm::store
