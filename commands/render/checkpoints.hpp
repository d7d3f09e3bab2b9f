// Monitoring checkpoints in messages (README, "Click instead of type"): the channel post
// and the DMs that ask Healthy / Investigating / Roll back…, the reminder of an unanswered one,
// the announcements of an answer, the status line of an Investigating hold; and the snooze
// choices of a reminder DM as a time.
#pragma once

#include <optional>
#include <string>

#include "checklist/release.hpp"
#include "commands/controls.hpp"
#include "commands/render/blocks.hpp"

namespace relbot::commands {

// The `actions` block of checkpoint `number`: block_id "checkpoint:<release>:<n>", buttons
// Healthy, Investigating, Roll back… with the value controls::encode({release, 0, n}).
nlohmann::json checkpoint_actions(const checklist::release& r, int number);

// The channel post at a checkpoint: the monitoring items still open, and the buttons.
message render_checkpoint_post(const checklist::release& r, int number);
// The same question by DM to the release manager or the on-call engineer (names the channel).
message render_checkpoint_dm(const checklist::release& r, int number);
// The DM reminding of a checkpoint still unanswered, with the buttons.
message render_checkpoint_reminder(const checklist::release& r, int number);

// The channel announcement that `actor` answered Investigating: the monitoring phase is held.
message render_checkpoint_investigating(const checklist::release& r,
                                        int number,
                                        const std::string& actor);
// The checkpoint after an answer (for chat.update of the message clicked, or an announcement):
// who answered what and when; the buttons stay while the release is active (the last answer
// counts).
message render_checkpoint_answered(const checklist::release& r, int number);

// The status message's line about an Investigating hold (mrkdwn); "" when nothing holds.
std::string checkpoint_hold_line(const checklist::release& r);

// The status message's line naming the next checkpoint not yet posted and when it falls due
// ("⏱ Next monitoring checkpoint +4h <date>"); "" when none is left.
std::string next_checkpoint_line(const checklist::release& r);

// "Checkpoint +4h: Healthy (<@U1>, 2026-12-01 14:02 UTC)" or "Checkpoint +4h: no answer";
// `who` is how the person is shown (a mention for Slack, "@name" for markdown).
// A checkpoint never posted is "no answer" too, as the contract words it, and says why: "(not
// posted yet: due …)" while the release runs, "(not reached: the release ended first)" once it
// has ended; a bare "no answer" is one posted and left unanswered.
std::string checkpoint_report_line(const checklist::checkpoint& c,
                                   const std::string& who,
                                   bool release_ended);

// When a snooze chosen at `now` by an owner `tz_offset_s` from UTC ends; nullopt for none.
std::optional<checklist::epoch_seconds> snooze_until(controls::snooze_for how,
                                                     checklist::epoch_seconds now,
                                                     int tz_offset_s);

}  // namespace relbot::commands
