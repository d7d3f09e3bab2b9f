// Modal submissions: the inputs checked first (an error goes back into the modal, next to its
// field), then the equivalent command decided against the release the modal is about; a
// refusal also goes back into the modal, so nothing is ever half done.
#include <cstdlib>

#include "checklist/duration.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/clicks.hpp"
#include "commands/decide.hpp"
#include "commands/parse.hpp"
#include "commands/router.hpp"
#include "slack/block_kit.hpp"

namespace relbot::commands {
namespace {

using controls::modal;
using namespace decisions;

// The block a modal's errors are shown next to when the rules say no.
std::string_view main_block(modal kind) {
    switch (kind) {
        case modal::note:
        case modal::check:
            return controls::block_note;
        case modal::assign:
            return controls::block_owner;
        case modal::start:
            return controls::block_version;
        default:
            break;
    }
    return controls::block_reason;
}

// mrkdwn made readable as the plain text a modal's error shows.
std::string plain(std::string text) {
    std::string out;
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '*' || text[i] == '`') {
            continue;
        }
        if (text.compare(i, 2, "<@") == 0) {
            auto end = text.find('>', i);
            if (end != std::string::npos) {
                out += "@" + text.substr(i + 2, end - i - 2);
                i = end;
                continue;
            }
        }
        out += text[i];
    }
    for (auto [from, to] : {std::pair{"&lt;", "<"}, {"&gt;", ">"}, {"&amp;", "&"}}) {
        for (auto at = out.find(from); at != std::string::npos; at = out.find(from, at + 1)) {
            out.replace(at, std::string_view(from).size(), to);
        }
    }
    return checklist::truncate_utf8(out, 1900);
}

decision errors(std::map<std::string, std::string> by_block, std::string name) {
    auto d = refuse(std::move(name), "");
    d.answer.ack_json =
        dump_json({{"response_action", "errors"}, {"errors", nlohmann::json(by_block)}});
    return d;
}

// The command a modal stands for, with what was typed in it.
command command_of(const submission& sub, const checklist::item* it) {
    auto ref = it ? it->ref() : std::string();
    auto reason = sub.value(controls::block_reason);
    switch (sub.kind) {
        case modal::skip:
            return skip_command{ref, reason};
        case modal::block:
            return block_command{ref, reason};
        case modal::note:
            return note_command{ref, sub.value(controls::block_note)};
        case modal::check:
            return check_command{ref, sub.value(controls::block_note)};
        case modal::assign: {
            assign_command a{ref, sub.value(controls::block_owner), std::nullopt};
            if (auto due = sub.value(controls::block_due); !due.empty()) {
                a.due = due_spec{false, std::stoll(due)};
            }
            return a;
        }
        case modal::rollback:
            return rollback_command{reason};
        case modal::next_force:
            if (sub.origin.what == "finish") {
                return finish_command{reason};
            }
            return next_command{reason};
        case modal::start:
            break;
    }
    auto tpl = sub.value(controls::block_template);
    return start_command{sub.value(controls::block_version), tpl.empty() ? "standard" : tpl,
                         sub.value(controls::block_owners_from)};
}

// The action a modal completes (for the line the clicked DM becomes).
controls::action action_of(modal kind) {
    switch (kind) {
        case modal::skip:
            return controls::action::item_skip;
        case modal::block:
            return controls::action::item_block;
        case modal::assign:
            return controls::action::item_assign;
        case modal::note:
            return controls::action::item_note;
        case modal::check:
            return controls::action::item_done;
        default:
            break;
    }
    return controls::action::phase_next;
}

}  // namespace

std::map<std::string, std::string> validate(const submission& sub,
                                            const checklist::template_library& templates,
                                            checklist::epoch_seconds now,
                                            std::optional<checklist::epoch_seconds> kept_due) {
    std::map<std::string, std::string> out;
    auto require = [&](std::string_view block, std::string_view what) {
        auto v = sub.value(block);
        if (v.empty()) {
            out[std::string(block)] = "Please give " + std::string(what) + ".";
        } else if (slack::code_points(v) > max_text_chars) {
            out[std::string(block)] = "That is " + std::to_string(slack::code_points(v)) +
                                      " characters long; the limit is 3,000.";
        }
    };
    switch (sub.kind) {
        case modal::skip:
        case modal::block:
        case modal::rollback:
        case modal::next_force:
            require(controls::block_reason, "a reason");
            break;
        case modal::note:
            require(controls::block_note, "the note's text");
            break;
        case modal::check:
            require(controls::block_note, "the link or the note that shows it is done");
            break;
        case modal::assign: {
            require(controls::block_owner, "the person who owns the item");
            auto due = sub.value(controls::block_due);
            if (!due.empty() &&
                (due.size() > 12 || due.find_first_not_of("0123456789") != std::string::npos)) {
                out[std::string(controls::block_due)] = "That is not a date and time.";
            } else if (!due.empty() && std::stoll(due) <= now &&
                       !(kept_due && std::abs(*kept_due - std::stoll(due)) < 60)) {
                out[std::string(controls::block_due)] =
                    "That time, " + checklist::format_utc(std::stoll(due)) +
                    ", has already passed. Pick a time in the future, or leave it empty.";
            }
            break;
        }
        case modal::start: {
            require(controls::block_channel, "the channel the release runs in");
            require(controls::block_version, "the version");
            auto v = sub.value(controls::block_version);
            if (!v.empty() && !valid_version(v)) {
                out[std::string(controls::block_version)] =
                    "A version is up to 64 letters, digits and . - _ + / (no spaces), such as "
                    "2.4.0.";
            }
            auto tpl = sub.value(controls::block_template);
            if (!tpl.empty() && !templates.find(tpl)) {
                out[std::string(controls::block_template)] =
                    "There is no template named " + tpl + ".";
            }
            break;
        }
    }
    return out;
}

decision decide_submission(const submission& sub, const situation& s, std::string_view key) {
    auto name = std::string(to_string(sub.kind));
    // The Assign… form shows the item's due time: given back unchanged, it is kept even if it
    // has passed (an overdue item given to someone else).
    std::optional<checklist::epoch_seconds> kept_due;
    if (sub.kind == modal::assign && s.active) {
        if (const auto* now_owned = item_named(*s.active, sub.origin.target.item_id)) {
            kept_due = now_owned->due_at;
        }
    }
    if (auto bad = validate(sub, s.look.templates(), s.req.now, kept_due); !bad.empty()) {
        return errors(std::move(bad), name);
    }
    const checklist::item* it = nullptr;
    if (sub.kind != modal::start) {
        if (auto why = stale_or_forged(sub.origin, s)) {
            return errors({{std::string(main_block(sub.kind)), plain(*why)}}, name);
        }
        it = item_named(*s.active, sub.origin.target.item_id);
        if (sub.origin.target.item_id != 0 && !it) {
            return errors({{std::string(main_block(sub.kind)),
                            "That item is not part of this release; nothing changed."}},
                          name);
        }
    }
    if (sub.kind == modal::rollback && sub.origin.target.checkpoint != 0) {
        click from;  // the click that opened the modal, as far as the modal remembers it
        from.user = sub.user;
        from.target = sub.origin.target;
        from.channel = sub.origin.channel;
        from.message_ts = sub.origin.message_ts;
        from.response_url = sub.origin.response_url;
        from.where = sub.origin.where;
        auto d = decide_checkpoint_answer(from, s, checklist::checkpoint_answer::rolled_back, key,
                                          sub.value(controls::block_reason));
        if (d.answer.refused) {
            return errors({{std::string(controls::block_reason), plain(d.answer.reply.text)}},
                          name);
        }
        return d;
    }
    auto d = commands::decide(command_of(sub, it), s);
    if (d.answer.refused) {
        return errors({{std::string(main_block(sub.kind)), plain(d.answer.reply.text)}}, name);
    }
    if (sub.kind != modal::start) {
        auto before = d.messages.size();
        update_clicked(d, action_of(sub.kind), sub.origin, nlohmann::json::array(), "", s, key);
        bool in_channel = !sub.origin.channel.empty() && !is_dm(sub.origin.channel);
        if (d.messages.size() == before && (in_channel || is_dm(sub.origin.channel))) {
            d.messages.push_back(to_clicker(s.req.user, sub.origin.response_url, d.answer.reply,
                                            "click:" + std::string(key) + ":reply"));
        }
    }
    d.answer.ack_json = "{}";
    return d;
}

}  // namespace relbot::commands
