#include "provision/ring_tones.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <mutex>
#include <numbers>

#include <fmt/format.h>

#include "core/text.h"

namespace labcm::provision {
namespace {

constexpr std::uint64_t kRawStep = 240;
constexpr std::uint64_t kRawMaxSamples = 16'080;
constexpr std::uint64_t kWideMinSamples = 240;
constexpr std::uint64_t kWideMaxSamples = 160'800;
// labcm's tones: 1.98 s (15,840 samples at 8 kHz, a multiple of 240), looped by the phone.
constexpr double kToneSeconds = 1.98;

// G.711 mu-law of a 16-bit sample.
std::uint8_t muLaw(std::int16_t pcm) {
    constexpr int kBias = 0x84, kClip = 32'635;
    int sample = pcm;
    int sign = sample < 0 ? 0x80 : 0;
    if (sign) sample = -sample;
    sample = std::min(sample, kClip) + kBias;
    int exponent = 7;
    for (int mask = 0x4000; !(sample & mask) && exponent > 0; mask >>= 1) --exponent;
    int mantissa = (sample >> (exponent + 3)) & 0x0f;
    return static_cast<std::uint8_t>(~(sign | (exponent << 4) | mantissa));
}

// A recipe: the amplitude (-1..1) at time t seconds.
struct Recipe {
    std::string_view name;
    std::function<double(double)> wave;
};

double tone(double t, double hz) { return std::sin(2 * std::numbers::pi * hz * t); }
// On for `on` seconds of every `period`, with 10 ms ramps (no clicks).
double gate(double t, double period, double on) {
    double p = std::fmod(t, period);
    if (p >= on) return 0;
    return std::min({1.0, p / 0.01, (on - p) / 0.01});
}

const std::vector<Recipe>& recipes() {
    static const std::vector<Recipe> r{
        // The North American ring: 440 + 480 Hz, 1 s on.
        {"labcm-Classic", [](double t) { return gate(t, kToneSeconds, 1.0) * 0.4 * (tone(t, 440) + tone(t, 480)); }},
        // Two short rising chirps.
        {"labcm-Chirp", [](double t) {
             double p = std::fmod(t, 0.25);
             return gate(t, 0.25, 0.15) * (t < 0.5 ? 0.8 : 0.0) *
                    std::sin(2 * std::numbers::pi * (800 * p + 4000 * p * p));
         }},
        // Three beeps at 1 kHz.
        {"labcm-Pulse", [](double t) { return gate(t, 0.3, 0.12) * (t < 0.9 ? 0.7 : 0.0) * tone(t, 1000); }},
    };
    return r;
}

std::string make(const Recipe& r, RingBand band) {
    const int rate = band == RingBand::Narrow ? 8'000 : 16'000;
    const auto samples = static_cast<std::size_t>(std::lround(kToneSeconds * rate));
    std::string out;
    out.reserve(band == RingBand::Narrow ? samples : samples * 2);
    for (std::size_t i = 0; i < samples; ++i) {
        auto v = static_cast<std::int16_t>(std::lround(std::clamp(r.wave(double(i) / rate), -1.0, 1.0) * 32'000));
        if (band == RingBand::Narrow) {
            out.push_back(static_cast<char>(muLaw(v)));
        } else {
            auto u = static_cast<std::uint16_t>(v);
            out.push_back(static_cast<char>(u & 0xff));
            out.push_back(static_cast<char>(u >> 8));
        }
    }
    return out;
}

} // namespace

std::optional<RingBand> ringBandOf(std::string_view file) {
    auto lower = text::toLower(file);
    if (lower.ends_with(".raw")) return RingBand::Narrow;
    if (lower.ends_with(".rwb")) return RingBand::Wide;
    return std::nullopt;
}

std::string ringFileProblem(std::string_view file, std::uint64_t size) {
    auto band = ringBandOf(file);
    if (!band) return "not a .raw or .rwb ring file";
    if (file.size() > kMaxRingName) return fmt::format("its name is longer than {} characters", kMaxRingName);
    if (*band == RingBand::Narrow) {
        if (size < kRawStep || size > kRawMaxSamples || size % kRawStep != 0)
            return fmt::format("{} bytes: an 8 kHz mu-law ring is 240 to 16,080 samples, a multiple of 240", size);
        return {};
    }
    if (size % 2 != 0 || size / 2 < kWideMinSamples || size / 2 > kWideMaxSamples)
        return fmt::format("{} bytes: a 16 kHz 16-bit ring is 240 to 160,800 samples of 2 bytes", size);
    return {};
}

std::string ringDisplayName(std::string_view file) {
    std::string name(file.substr(0, file.rfind('.')));
    std::replace(name.begin(), name.end(), '_', ' ');
    if (name.size() > kMaxRingName) name.resize(kMaxRingName);
    return name;
}

const std::vector<std::string>& builtInToneNames() {
    static const std::vector<std::string> names = [] {
        std::vector<std::string> out;
        for (const auto& r : recipes()) {
            out.push_back(std::string(r.name) + ".raw");
            out.push_back(std::string(r.name) + ".rwb");
        }
        return out;
    }();
    return names;
}

std::optional<std::string> builtInTone(std::string_view file) {
    auto band = ringBandOf(file);
    if (!band) return std::nullopt;
    auto stem = text::toLower(file.substr(0, file.size() - 4));
    for (const auto& r : recipes()) {
        if (text::toLower(r.name) != stem) continue;
        static std::mutex mutex;
        static std::map<std::string, std::string> made; // 6 tones, 16-64 KiB each
        std::lock_guard lock(mutex);
        auto key = std::string(r.name) + (*band == RingBand::Narrow ? ".raw" : ".rwb");
        auto it = made.find(key);
        if (it == made.end()) it = made.emplace(key, make(r, *band)).first;
        return it->second;
    }
    return std::nullopt;
}

} // namespace labcm::provision
