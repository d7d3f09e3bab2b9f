// What a release's timeline picture shows (contract: "Pictures and files"), and what the trend
// picture across releases shows, as plain values built from a release and its audit rows. Pure:
// no drawing here (commands/render/picture.hpp draws these), no clock (`now` comes in).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "checklist/records.hpp"
#include "checklist/release.hpp"

namespace relbot::checklist {

struct time_span {
    epoch_seconds from = 0;
    epoch_seconds to = 0;
    friend bool operator==(const time_span&, const time_span&) = default;
};

// One phase's row: when it was in it (none if never entered) and how it was left.
struct timeline_phase {
    int position = 0;
    std::string title;
    std::optional<time_span> span;
    bool left_by_force = false;
    bool current = false;  // the release is (or ended) in this phase
    friend bool operator==(const timeline_phase&, const timeline_phase&) = default;
};

// An item that was blocked: its row shows each blocked span.
struct timeline_item {
    std::string ref;  // "2.3"
    std::string title;
    std::vector<time_span> blocked;
    friend bool operator==(const timeline_item&, const timeline_item&) = default;
};

enum class timeline_mark_kind { forced, rollback, deployed };

// A moment marked on the whole chart: a forced move (`next force`, `finish force`), a rollback
// decision, a deploy tool's `deployed` signal.
struct timeline_mark {
    timeline_mark_kind kind = timeline_mark_kind::forced;
    epoch_seconds at = 0;
    std::string label;  // the reason, or what was deployed
    friend bool operator==(const timeline_mark&, const timeline_mark&) = default;
};

struct timeline_checkpoint {
    int number = 0;
    epoch_seconds due_at = 0;
    checkpoint_answer answer = checkpoint_answer::none;
    std::optional<epoch_seconds> answered_at;
    friend bool operator==(const timeline_checkpoint&, const timeline_checkpoint&) = default;
};

struct timeline_model {
    std::string version;
    std::string channel;  // "#name" when known, else the channel ID
    release_status status = release_status::active;
    time_span span;  // started to ended (or `now` while active)
    std::vector<timeline_phase> phases;
    std::vector<timeline_item> items;  // blocked at some time, in checklist order
    std::vector<timeline_mark> marks;  // by time
    std::vector<timeline_checkpoint> checkpoints;
    // When the deployment phase was left (or a `deployed` signal came first): the line.
    std::optional<epoch_seconds> deployed_at;
    int notes = 0;  // notes in the timeline (the picture says how many)
    friend bool operator==(const timeline_model&, const timeline_model&) = default;
};

// The model of `r`'s timeline from its audit rows (oldest first), at `now` for an active
// release. `channel_name` is shown when given ("#releases"), else the channel ID.
timeline_model build_timeline(const release& r,
                              const std::vector<audit_entry>& audit,
                              epoch_seconds now,
                              const std::string& channel_name = {});

// --- trends across releases ----------------------------------------------------------------

// One finished release as the trend chart sees it.
struct trend_release {
    std::string version;
    epoch_seconds finished_at = 0;
    std::vector<std::int64_t> phase_seconds;  // time in each phase, by position (0 if never)
    int skips = 0;
    int forced = 0;                   // forced moves and forced finishes
    std::vector<bool> phase_reached;  // by position: whether the release entered the phase
    friend bool operator==(const trend_release&, const trend_release&) = default;
};

struct reason_count {
    std::string reason;
    int count = 0;
    friend bool operator==(const reason_count&, const reason_count&) = default;
};

struct trend_model {
    std::string channel;
    std::vector<std::string> phase_titles;  // of the newest release's template
    std::vector<trend_release> releases;    // oldest first
    // Over the releases that reached each phase; -1 where none did.
    std::vector<std::int64_t> median_phase_seconds;
    double skips_per_release = 0;
    double forced_per_release = 0;
    std::vector<reason_count> skip_reasons;    // most common first, at most 3
    std::vector<reason_count> forced_reasons;  // most common first, at most 3
    // From a reminder to the item being done, over the items reminded (nullopt: none were).
    std::optional<std::int64_t> median_reminder_to_done;
    int healthy = 0, investigating = 0, rolled_back = 0, unanswered = 0;  // checkpoint answers
    friend bool operator==(const trend_model&, const trend_model&) = default;
};

// One finished release and its audit rows.
struct release_history {
    release r;
    std::vector<audit_entry> audit;
    std::map<std::int64_t, epoch_seconds> first_reminder;  // item id -> its first reminder
};

// The trends of `finished` (oldest first; aborted ones are left out).
trend_model build_trends(const std::vector<release_history>& finished,
                         const std::string& channel_name = {});

}  // namespace relbot::checklist
