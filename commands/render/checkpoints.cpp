// Monitoring checkpoints in messages (see checkpoints.hpp).
#include "commands/render/checkpoints.hpp"

#include <vector>

#include "checklist/checkpoints.hpp"
#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"

namespace relbot::commands {
namespace {

// Whether the release has moved on past the phase with the monitoring window: an Investigating
// answer then holds nothing (contract: it holds that phase's gate).
bool monitoring_left(const checklist::release& r) {
    auto p = checklist::monitoring_phase(r);
    return p && static_cast<std::size_t>(r.current_phase - 1) > *p;
}

using checklist::escape_mrkdwn;
using nlohmann::json;

json button(std::string_view label, controls::action a, int number, const std::string& value) {
    json b = {{"type", "button"},
              {"text", {{"type", "plain_text"}, {"text", std::string(label)}, {"emoji", true}}},
              {"action_id", controls::action_id(a, number)},
              {"value", value}};
    return b;
}

// "checkpoint +4h of release *1.2.0*".
std::string which(const checklist::release& r, const checklist::checkpoint& c) {
    return "checkpoint *" + checklist::checkpoint_label(c) + "* of release *" +
           escape_mrkdwn(r.version) + "*";
}

// The open or blocked items of the monitoring phase, one line each.
std::vector<std::string> open_monitoring_items(const checklist::release& r) {
    std::vector<std::string> lines;
    auto phase = checklist::monitoring_phase(r);
    if (!phase) {
        return lines;
    }
    for (const auto& i : r.phases[*phase].items) {
        if (i.state == checklist::item_state::open || i.state == checklist::item_state::blocked) {
            lines.push_back("• " + i.label() +
                            (i.state == checklist::item_state::blocked ? " — blocked" : "") +
                            (i.owner.empty() ? "" : " · " + mention(i.owner)));
        }
    }
    return lines;
}

// The question with the open monitoring items and the buttons; `lead` opens it.
message question(const checklist::release& r,
                 const checklist::checkpoint& c,
                 const std::string& fallback,
                 const std::string& lead) {
    message m;
    m.text = fallback;
    m.blocks.push_back(section_block(lead));
    auto lines = open_monitoring_items(r);
    if (!lines.empty()) {
        m.blocks.push_back(section_block("Monitoring items still open:"));
        append_lines(m.blocks, lines, 2);
    }
    m.blocks.push_back(checkpoint_actions(r, c.number));
    return m;
}

const checklist::checkpoint& checkpoint_of(const checklist::release& r, int number) {
    const auto* c = checklist::find_checkpoint(r, number);
    if (c == nullptr) {
        static const checklist::checkpoint none{};
        return none;
    }
    return *c;
}

}  // namespace

json checkpoint_actions(const checklist::release& r, int number) {
    auto value = controls::encode({r.id, 0, number, controls::snooze_for::none});
    auto healthy =
        button(controls::label_healthy, controls::action::checkpoint_healthy, number, value);
    healthy["style"] = "primary";
    auto back =
        button(controls::label_roll_back, controls::action::checkpoint_roll_back, number, value);
    back["style"] = "danger";
    return {
        {"type", "actions"},
        {"block_id", "checkpoint:" + std::to_string(r.id) + ":" + std::to_string(number)},
        {"elements", json::array({healthy,
                                  button(controls::label_investigating,
                                         controls::action::checkpoint_investigating, number, value),
                                  back})}};
}

message render_checkpoint_post(const checklist::release& r, int number) {
    const auto& c = checkpoint_of(r, number);
    return question(r, c,
                    ":stethoscope: Monitoring checkpoint " + checklist::checkpoint_label(c) +
                        " of release " + escape_mrkdwn(r.version) + ": is it healthy?",
                    ":stethoscope: Monitoring " + which(r, c) + ": is it healthy?");
}

message render_checkpoint_dm(const checklist::release& r, int number) {
    const auto& c = checkpoint_of(r, number);
    return question(
        r, c,
        ":stethoscope: Monitoring checkpoint " + checklist::checkpoint_label(c) + " of release " +
            escape_mrkdwn(r.version) + ": is it healthy?",
        ":stethoscope: Monitoring " + which(r, c) + " (<#" + r.channel + ">): is it healthy?");
}

message render_checkpoint_reminder(const checklist::release& r, int number) {
    const auto& c = checkpoint_of(r, number);
    return question(r, c,
                    ":bell: Reminder: monitoring checkpoint " + checklist::checkpoint_label(c) +
                        " of release " + escape_mrkdwn(r.version) + " has no answer yet",
                    ":bell: *Reminder:* " + which(r, c) + " (<#" + r.channel +
                        ">) has no answer yet. Is it healthy?");
}

message render_checkpoint_investigating(const checklist::release& r,
                                        int number,
                                        const std::string& actor) {
    const auto& c = checkpoint_of(r, number);
    message m;
    m.text = ":mag: Release " + escape_mrkdwn(r.version) + ": investigating at checkpoint " +
             checklist::checkpoint_label(c);
    std::string phase = "the monitoring phase";
    if (auto p = checklist::monitoring_phase(r)) {
        phase = "*" + escape_mrkdwn(r.phases[*p].title) + "*";
    }
    if (monitoring_left(r)) {
        // Its window's phase is over: the answer is recorded, and holds nothing back.
        m.blocks.push_back(section_block(":mag: " + mention(actor) + " is *investigating* at " +
                                         which(r, c) + ". " + phase +
                                         " is over already, so this holds nothing back; it is "
                                         "in the timeline and the report."));
        return m;
    }
    m.blocks.push_back(section_block(
        ":mag: " + mention(actor) + " is *investigating* at " + which(r, c) + ". " + phase +
        " cannot be left until someone answers *Healthy* on this checkpoint or a later one, or "
        "the release is rolled back."));
    return m;
}

message render_checkpoint_answered(const checklist::release& r, int number) {
    const auto& c = checkpoint_of(r, number);
    std::string mark = c.answer == checklist::checkpoint_answer::healthy ? ":white_check_mark:"
                       : c.answer == checklist::checkpoint_answer::investigating ? ":mag:"
                       : c.answer == checklist::checkpoint_answer::rolled_back   ? ":rewind:"
                                                                                 : ":stethoscope:";
    std::string line =
        mark + " Monitoring " + which(r, c) + ": *" + checklist::answer_word(c.answer) + "*";
    if (c.answer != checklist::checkpoint_answer::none) {
        line += " by " + mention(c.answered_by) +
                (c.answered_at ? " at " + checklist::date_token(*c.answered_at) : "");
    }
    message m;
    m.text = "Checkpoint " + checklist::checkpoint_label(c) + " of release " +
             escape_mrkdwn(r.version) + ": " + checklist::answer_word(c.answer);
    m.blocks.push_back(section_block(line));
    if (r.status == checklist::release_status::active) {
        m.blocks.push_back(checkpoint_actions(r, number));
    }
    return m;
}

std::string checkpoint_hold_line(const checklist::release& r) {
    auto hold = checklist::checkpoint_hold(r);
    if (!hold) {
        return "";
    }
    const auto& c = checkpoint_of(r, *hold);
    std::string phase = "The monitoring phase";
    if (auto p = checklist::monitoring_phase(r)) {
        phase = "*" + escape_mrkdwn(r.phases[*p].title) + "*";
    }
    auto since = ":mag: *Investigating* since checkpoint " + checklist::checkpoint_label(c) +
                 (c.answered_by.empty() ? "" : " (" + mention(c.answered_by) + ")") + ": ";
    if (monitoring_left(r)) {
        return since + phase +
               " is over, so it holds nothing back; *Healthy* on this checkpoint or a " +
               "later one, or a rollback, closes it.";
    }
    return since + phase +
           " is held until someone answers *Healthy* or the release is rolled back.";
}

std::string next_checkpoint_line(const checklist::release& r) {
    for (const auto& c : r.checkpoints) {
        if (!c.posted_at) {
            return ":stopwatch: Next monitoring checkpoint " + checklist::checkpoint_label(c) +
                   " " + checklist::date_token(c.due_at) + ".";
        }
    }
    return "";
}

std::string checkpoint_report_line(const checklist::checkpoint& c,
                                   const std::string& who,
                                   bool release_ended) {
    auto line = "Checkpoint " + checklist::checkpoint_label(c) + ": ";
    if (c.answer == checklist::checkpoint_answer::none && !c.posted_at) {
        // "no answer" first, as the contract words it; why there is none after it.
        return line + (release_ended ? "no answer (not reached: the release ended first)"
                                     : "no answer (not posted yet: due " +
                                           checklist::format_utc(c.due_at) + ")");
    }
    line += checklist::answer_word(c.answer);
    if (c.answer != checklist::checkpoint_answer::none && c.answered_at) {
        line += " (" + who + ", " + checklist::format_utc(*c.answered_at) + ")";
    }
    return line;
}

std::optional<checklist::epoch_seconds> snooze_until(controls::snooze_for how,
                                                     checklist::epoch_seconds now,
                                                     int tz_offset_s) {
    switch (how) {
        case controls::snooze_for::none:
            return std::nullopt;
        case controls::snooze_for::one_hour:
            return checklist::snooze_until(checklist::snooze_length::one_hour, now, tz_offset_s);
        case controls::snooze_for::four_hours:
            return checklist::snooze_until(checklist::snooze_length::four_hours, now, tz_offset_s);
        case controls::snooze_for::tomorrow_morning:
            return checklist::snooze_until(checklist::snooze_length::tomorrow_morning, now,
                                           tz_offset_s);
    }
    return std::nullopt;
}

}  // namespace relbot::commands
