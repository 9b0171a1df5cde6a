// The simulator's final report over many phones: boot-to-registered percentiles, per-step
// durations and failures grouped by reason. Pure (no I/O), so it is unit-tested.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "boot.h"

namespace labcm::phone {

struct Percentiles {
    std::size_t count = 0;
    double p50 = 0, p90 = 0, p99 = 0, max = 0;
};

/// @brief Nearest-rank percentiles of `values` (sorted inside). All zero when empty.
Percentiles percentiles(std::vector<double> values);

struct Report {
    std::size_t phones = 0;
    std::size_t registered = 0;  ///< phones that reached every boot they were asked for
    std::size_t failed = 0;
    double seconds = 0;
    Percentiles bootToRegistered;
    std::map<int, Percentiles> perStep;            ///< step -> durations (ms) of its records
    std::map<std::string, std::size_t> failures;   ///< reason with the MAC replaced by <MAC>
    std::map<std::string, std::size_t> warnings;   ///< idem, tolerated problems
    std::size_t restarts = 0, keepalives = 0, upgrades = 0, reconnects = 0, busyRetries = 0, reportsUploaded = 0;
    // Calls the phones placed (or were asked to place) and calls they received.
    std::size_t callsPlaced = 0;                     ///< INVITEs sent
    std::size_t callsAnswered = 0;                   ///< of those, answered 2xx
    std::size_t callsCompleted = 0;                  ///< answered, held and hung up without a fault
    std::size_t callsFailed = 0;                     ///< asked for and not completed (placed or not)
    std::map<std::string, std::size_t> callStatus;   ///< final answer to the INVITE ("200", "486", "none") -> calls placed
    std::map<std::string, std::size_t> callFailures; ///< reason -> calls
    Percentiles callSetup;                           ///< INVITE -> 2xx, ms
    std::size_t callsReceived = 0, callsReceivedAnswered = 0;
};

/// @brief Summarises finished (or stopped) phones. `boots`: how many registrations each
/// phone was asked for.
Report summarize(const std::vector<PhoneResult>& phones, int boots, double seconds);

/// @brief Adds calls asked for that no phone was given (fleet calls cut short), as failures.
void addUnplacedCalls(Report& r, std::size_t calls, const std::string& why);

/// @brief "SEP001122AABBCC.cnf.xml not found" -> "SEP<MAC>.cnf.xml not found".
std::string genericReason(const std::string& reason, const std::string& mac);

/// @brief The human report (several lines) and the same as one JSON object.
std::string formatReport(const Report& r);
std::string reportJson(const Report& r);

} // namespace labcm::phone
