// Monitoring checkpoints and snoozing (README, "Click instead of type"): when a release's
// checkpoints fall due, who may answer them, the hold an `Investigating` answer puts on the
// monitoring phase's gate, and an owner's snooze of an item's reminders. Pure: time comes in as
// arguments; transitions write what they did into a change_log, or refuse as data, like the rules
// in rules.hpp.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "checklist/release.hpp"
#include "checklist/rules.hpp"

namespace relbot::checklist {

// --- where checkpoints come from -----------------------------------------------------------
// The deployment phase: the first phase whose title contains "deploy" (any case); 0-based.
std::optional<std::size_t> deployment_phase(const release& r);
// The phase with the monitoring window: the first phase after the deployment phase that has
// a window (the standard template's "Post-Release Monitoring (24-48 hours)"); 0-based.
std::optional<std::size_t> monitoring_phase(const release& r);
// When the deployment phase was left (the next phase's entered_at); nullopt while it was not.
std::optional<epoch_seconds> deployment_left_at(const release& r);

// The checkpoints the release should have: one per offset (numbered from 1 in that order),
// due `offset` after the deployment phase was left. Empty when `offsets` is (RELBOT_CHECKPOINTS
// =off), when the template has no deployment phase followed by a phase with a window, or while
// the deployment phase has not been left.
// With `deployed_at`, they are due after that moment instead (a `deployed` signal), whether
// or not the deployment phase has been left.
std::vector<checkpoint> plan_checkpoints(const release& r,
                                         const std::vector<std::chrono::seconds>& offsets,
                                         std::optional<epoch_seconds> deployed_at = std::nullopt);

// Gives the release its checkpoints once (plan_checkpoints, when it has none yet and the plan
// is not empty); true if it did. Numbers are fixed from then on: the first anchor (leaving the
// deployment phase, or a `deployed` signal) fixes them, and later ones change nothing.
bool create_checkpoints(release& r,
                        const std::vector<std::chrono::seconds>& offsets,
                        change_log& log,
                        std::optional<epoch_seconds> deployed_at = std::nullopt);

// A deploy tool says the release is deployed, at `now`: recorded in the timeline
// ("release.deployed", with `note`: the tool's text and link), and the monitoring checkpoints
// anchored to `now` if the release has none yet. An ended release refuses (release_ended).
verdict record_deployment(release& r,
                          const std::vector<std::chrono::seconds>& offsets,
                          epoch_seconds now,
                          std::string note,
                          change_log& log);

// "+4h", "+24h", "+90m", "+45s": the checkpoint's name in messages, the timeline and report.
std::string checkpoint_label(const checkpoint& c);
// "Healthy", "Investigating", "Rolled back", "no answer".
std::string answer_word(checkpoint_answer a);
// The checkpoint with that number, or nullptr.
const checkpoint* find_checkpoint(const release& r, int number);

// --- answers ----------------------------------------------------------------------------------
// Whether `a` may answer the release's checkpoints: the release manager, an admin, or the
// on-call engineer once the handoff is accepted.
bool may_answer_checkpoints(const release& r, const actor& a);

// Records `a`'s answer to checkpoint `number` of an active release, once it has been posted.
// The last answer counts; the same answer again refuses with checkpoint_already (harmless).
// `rolled_back` also records the rollback decision as record_rollback does (with `reason`),
// which ends an Investigating hold. Timeline: "checkpoint.answered", note "Checkpoint +4h:
// Healthy" (from and to are the answers' stored names).
verdict answer_checkpoint(release& r,
                          int number,
                          checkpoint_answer answer,
                          const actor& a,
                          epoch_seconds now,
                          change_log& log,
                          std::string reason = {});

// The number of the checkpoint whose Investigating answer holds the monitoring phase's gate:
// one answered Investigating with no checkpoint of that number or later answered Healthy or
// Rolled back since. nullopt when nothing holds it.
std::optional<int> checkpoint_hold(const release& r);

// --- what the scheduler does -----------------------------------------------------------------
// What falls due at `now` for an active release's checkpoints: the ones to post (due, never
// posted; after downtime each is posted once), and the unanswered one to remind (the latest
// posted checkpoint while it has no answer: once per `interval` after it was posted, by slot
// 1, 2, …; after downtime only the latest slot). `next`: when to look again (nullopt: nothing
// will fall due without a change).
struct checkpoint_work {
    std::vector<int> post;                             // checkpoint numbers
    std::vector<std::pair<int, std::int64_t>> remind;  // (number, slot)
    std::optional<epoch_seconds> next;
    bool empty() const { return post.empty() && remind.empty(); }
};
checkpoint_work checkpoints_due(const release& r, epoch_seconds now, std::chrono::seconds interval);

// Records what the scheduler did: posted (posted_at = now) and reminded (one more reminder,
// last_reminded_at = now). Both go into `log.checkpoints`; no timeline line.
void mark_checkpoint_posted(release& r, int number, epoch_seconds now, change_log& log);
void mark_checkpoint_reminded(release& r, int number, epoch_seconds now, change_log& log);

// The people a checkpoint asks by DM: the release manager, and the on-call engineer once the
// handoff is accepted (if someone else).
std::vector<std::string> checkpoint_people(const release& r);

// --- snooze ---------------------------------------------------------------------------------
enum class snooze_length { one_hour, four_hours, tomorrow_morning };

// When a snooze chosen at `now` ends: an hour or four later, or the next 09:00 in the owner's
// time zone (`tz_offset_s` from UTC) that is after `now`.
epoch_seconds snooze_until(snooze_length how, epoch_seconds now, int tz_offset_s);

// The owner, the release manager or an admin moves the owner's next reminder for the item at
// `p` to `until` (an open or blocked item of an active release). Timeline: "item.snoozed",
// to = "until <UTC time>".
verdict snooze_item(release& r,
                    item_pos p,
                    epoch_seconds until,
                    const actor& a,
                    epoch_seconds now,
                    change_log& log);

}  // namespace relbot::checklist
