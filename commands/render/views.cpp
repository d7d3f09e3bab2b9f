// The modals a click opens and the App Home tab.
#include "commands/render/views.hpp"

#include <algorithm>
#include <tuple>

#include "checklist/mrkdwn.hpp"
#include "commands/controls.hpp"
#include "commands/render/blocks.hpp"
#include "commands/render/controls.hpp"
#include "commands/render/wording.hpp"
#include "slack/block_kit.hpp"

namespace relbot::commands {
namespace {

using checklist::escape_mrkdwn;
using controls::modal;
using nlohmann::json;

constexpr std::size_t max_reason = 3000;  // a reason's or a note's characters
constexpr std::size_t max_modal_title = 24;
constexpr std::size_t home_list_text = 2800;  // a Home list's section, with room for "…and N more"

json plain(std::string_view text, std::size_t max = max_section_text) {
    return {{"type", "plain_text"}, {"text", checklist::truncate_utf8(text, max)}, {"emoji", true}};
}

json modal_view(modal kind,
                std::string_view title,
                std::string_view submit,
                json blocks,
                std::string_view metadata) {
    return {{"type", "modal"},
            {"callback_id", std::string(controls::to_string(kind))},
            {"title", plain(title, max_modal_title)},
            {"submit", plain(submit, max_modal_title)},
            {"close", plain("Cancel")},
            {"private_metadata", std::string(metadata)},
            {"blocks", std::move(blocks)}};
}

json input_block(std::string_view block_id, std::string_view label, json element, bool optional) {
    element["action_id"] = std::string(controls::element_value);
    json b = {{"type", "input"},
              {"block_id", std::string(block_id)},
              {"label", plain(label, 2000)},
              {"element", std::move(element)}};
    if (optional) {
        b["optional"] = true;
    }
    return b;
}

// A required multiline text (a reason or a note) under `block_id`.
json text_input(std::string_view block_id, std::string_view label, std::string_view placeholder) {
    return input_block(block_id, label,
                       {{"type", "plain_text_input"},
                        {"multiline", true},
                        {"max_length", max_reason},
                        {"placeholder", plain(placeholder, 150)}},
                       false);
}

// What a modal about an item is about: the release, its channel, and the item's line.
json about_item(const checklist::item& it, const checklist::release& r) {
    return section_block("Release *" + escape_mrkdwn(r.version) + "* in <#" + r.channel + ">\n" +
                         item_line(it));
}

json item_reason_modal(modal kind,
                       std::string_view title,
                       std::string_view submit,
                       const checklist::item& it,
                       const checklist::release& r,
                       std::string_view metadata,
                       json input) {
    return modal_view(kind, title, submit, json::array({about_item(it, r), std::move(input)}),
                      metadata);
}

// "`1.2` *Title*  <@U1>" lines of the current phase's open and blocked items, within one section.
std::string still_open(const checklist::release& r) {
    std::vector<std::string> lines;
    for (const auto& i : r.current().items) {
        if (is_unsettled(i)) {
            lines.push_back(item_line(i));
        }
    }
    if (lines.empty()) {
        return "Every item of this phase is done or skipped.";
    }
    std::string out = "*Still open:*";
    std::size_t shown = 0;
    for (const auto& l : lines) {
        if (out.size() + 1 + l.size() > max_section_text - 100) {
            break;
        }
        out += "\n" + l;
        ++shown;
    }
    if (shown < lines.size()) {
        out += "\n…and " + std::to_string(lines.size() - shown) + " more";
    }
    return out;
}

// The due time of a Home item: overdue, due at, or no due time.
std::string due_words(const home_item& i, checklist::epoch_seconds now) {
    if (!i.due_at) {
        return "no due time";
    }
    if (*i.due_at < now) {
        return ":warning: *overdue* since " + checklist::date_token(*i.due_at);
    }
    return "due " + checklist::date_token(*i.due_at);
}

std::string home_item_line(const home_item& i, checklist::epoch_seconds now) {
    std::string icon =
        i.state == checklist::item_state::blocked ? ":no_entry: " : ":white_large_square: ";
    return icon + "`" + escape_mrkdwn(i.ref) + "` *" + escape_mrkdwn(i.title) + "*\nRelease *" +
           escape_mrkdwn(i.version) + "* in <#" + i.channel + "> · " +
           escape_mrkdwn(i.phase_title) + " · " + due_words(i, now);
}

std::string home_release_line(const home_release& r) {
    return "• *" + escape_mrkdwn(r.version) + "* in <#" + r.channel + "> — phase " +
           std::to_string(r.current_phase) + " of " + std::to_string(r.phase_count) + " (" +
           escape_mrkdwn(r.phase_title) + ") · manager " + mention(r.manager, "_unowned_");
}

// One section listing `releases`, or `empty` when there are none; cut with "…and N more".
json release_list(const std::vector<home_release>& releases, std::string_view empty) {
    if (releases.empty()) {
        return section_block(empty);
    }
    std::string text;
    std::size_t shown = 0;
    for (const auto& r : releases) {
        auto line = home_release_line(r);
        if (!text.empty() && text.size() + 1 + line.size() > home_list_text) {
            break;
        }
        text += (text.empty() ? "" : "\n") + line;
        ++shown;
    }
    if (shown < releases.size()) {
        text += "\n…and " + std::to_string(releases.size() - shown) + " more";
    }
    return section_block(text);
}

// Overdue first, then by due time (none last), then by release and ref.
std::vector<home_item> sorted_items(std::vector<home_item> items, checklist::epoch_seconds now) {
    auto key = [now](const home_item& i) {
        bool overdue = i.due_at && *i.due_at < now;
        return std::tuple(!overdue, !i.due_at.has_value(), i.due_at.value_or(0), i.release_id,
                          i.item_id);
    };
    std::stable_sort(items.begin(), items.end(),
                     [&](const home_item& a, const home_item& b) { return key(a) < key(b); });
    return items;
}

// The viewer's open items: a section and a Done button each, as many as `room` blocks hold.
void append_home_items(json& blocks, const home_data& d, std::size_t room) {
    if (d.open_items.empty()) {
        blocks.push_back(section_block("Nothing is waiting for you."));
        return;
    }
    auto items = sorted_items(d.open_items, d.now);
    std::size_t shown = 0;
    for (const auto& i : items) {
        bool controlled = i.release_id != 0 && i.item_id != 0;
        auto need = controlled ? 2u : 1u;
        bool last = shown + 1 == items.size();
        if (blocks.size() + need + (last ? 0 : 1) > room) {
            break;
        }
        blocks.push_back(section_block(home_item_line(i, d.now)));
        if (controlled) {
            controls::target t{i.release_id, i.item_id, 0, controls::snooze_for::none};
            blocks.push_back(item_actions_block(
                i.item_id, {{controls::action::item_done, controls::label_done, t}}));
        }
        ++shown;
    }
    if (shown < items.size()) {
        blocks.push_back(
            context_block("…and " + std::to_string(items.size() - shown) + " more open items"));
    }
}

}  // namespace

json skip_modal(const checklist::item& it, const checklist::release& r, std::string_view metadata) {
    return item_reason_modal(
        modal::skip, "Skip item", "Skip", it, r, metadata,
        text_input(controls::block_reason, "Why skip it?", "The reason goes into the timeline"));
}

json block_modal(const checklist::item& it,
                 const checklist::release& r,
                 std::string_view metadata) {
    return item_reason_modal(
        modal::block, "Block item", "Block", it, r, metadata,
        text_input(controls::block_reason, "What blocks it?", "The reason is announced"));
}

json note_modal(const checklist::item& it, const checklist::release& r, std::string_view metadata) {
    return item_reason_modal(modal::note, "Add a note", "Save note", it, r, metadata,
                             text_input(controls::block_note, "Note", "A note or a link"));
}

json check_modal(const checklist::item& it,
                 const checklist::release& r,
                 std::string_view metadata) {
    bool link = it.policy.evidence == checklist::evidence_kind::link;
    return modal_view(
        modal::check, "Mark done", "Done",
        json::array({about_item(it, r),
                     context_block(link ? "This item is checked with a link that shows it is "
                                          "done (a build, a scan, a dashboard)."
                                        : "This item is checked with a note that says how it "
                                          "was done."),
                     text_input(controls::block_note, link ? "Link" : "Note",
                                link ? "https://…" : "What was done, and where to see it")}),
        metadata);
}

json assign_modal(const checklist::item& it,
                  const checklist::release& r,
                  std::string_view metadata) {
    json owner = {{"type", "users_select"}, {"placeholder", plain("Choose a person")}};
    if (!it.owner.empty()) {
        owner["initial_user"] = it.owner;
    }
    json due = {{"type", "datetimepicker"}};
    if (it.due_at) {
        due["initial_date_time"] = *it.due_at;
    }
    json blocks = json::array({about_item(it, r),
                               input_block(controls::block_owner, "Owner", std::move(owner), false),
                               input_block(controls::block_due, "Due", std::move(due), true)});
    return modal_view(modal::assign, "Assign item", "Assign", std::move(blocks), metadata);
}

json rollback_modal(const checklist::release& r, int checkpoint, std::string_view metadata) {
    std::string about = ":rewind: Record a rollback decision for release *" +
                        escape_mrkdwn(r.version) + "* in <#" + r.channel + ">";
    if (checkpoint > 0) {
        about += ", from monitoring checkpoint " + std::to_string(checkpoint);
    }
    about += ". It is announced in the channel, as `/release rollback` does.";
    json blocks =
        json::array({section_block(about), text_input(controls::block_reason, "Why roll back?",
                                                      "What was seen, and what is rolled back")});
    return modal_view(modal::rollback, "Roll back", "Record rollback", std::move(blocks), metadata);
}

json next_force_modal(const checklist::release& r,
                      std::string_view why,
                      std::string_view metadata) {
    const auto& cur = r.current();
    bool last = static_cast<std::size_t>(r.current_phase) >= r.phases.size();
    std::string about = "Phase " + std::to_string(cur.position) + " of " +
                        std::to_string(r.phases.size()) + ", *" + escape_mrkdwn(cur.title) +
                        "*, of release *" + escape_mrkdwn(r.version) + "* is not complete." +
                        (why.empty() ? std::string() : "\n" + std::string(why)) + "\n" +
                        (last ? "Finishing anyway" : "Moving on anyway") +
                        " records the phase as left by force, with your reason.";
    json blocks = json::array({section_block(about)});
    if (why.empty()) {  // else `why` lists what holds the phase
        blocks.push_back(section_block(still_open(r)));
    }
    blocks.push_back(text_input(controls::block_reason,
                                last ? "Why finish anyway?" : "Why move on anyway?",
                                "The reason goes into the timeline and the announcement"));
    return modal_view(modal::next_force, last ? "Finish anyway" : "Next phase anyway",
                      last ? "Finish" : "Move on", std::move(blocks), metadata);
}

json start_modal(const std::vector<std::string>& template_names,
                 std::string_view metadata,
                 std::string_view initial_channel) {
    json channel = {{"type", "conversations_select"},
                    {"default_to_current_conversation", false},
                    {"filter", {{"include", json::array({"public", "private"})}}},
                    {"placeholder", plain("The release's channel")}};
    if (!initial_channel.empty()) {
        channel["initial_conversation"] = std::string(initial_channel);
    }
    json options = json::array();
    json initial;
    for (const auto& name : template_names) {
        if (name.empty() || name.size() > 150 || options.size() == 100) {
            continue;  // Slack takes at most 100 options of values up to 150 characters
        }
        json o = {{"text", plain(name, 75)}, {"value", name}};
        if (name == "standard") {
            initial = o;
        }
        options.push_back(std::move(o));
    }
    if (options.empty()) {
        initial = {{"text", plain("standard")}, {"value", "standard"}};
        options.push_back(initial);
    }
    json templ = {{"type", "static_select"}, {"options", std::move(options)}};
    if (!initial.is_null()) {
        templ["initial_option"] = std::move(initial);
    }
    json version = {{"type", "plain_text_input"}, {"placeholder", plain("e.g. v2.4.0")}};
    json owners = {{"type", "plain_text_input"},
                   {"placeholder", plain("A version, e.g. v2.3.0: its items' owners are copied")}};
    json blocks = json::array(
        {section_block(":rocket: Start a release: relbot posts and pins its checklist in the "
                       "channel."),
         input_block(controls::block_channel, "Channel", std::move(channel), false),
         input_block(controls::block_version, "Version", std::move(version), false),
         input_block(controls::block_template, "Template", std::move(templ), false),
         input_block(controls::block_owners_from, "Copy owners from release", std::move(owners),
                     true)});
    return modal_view(modal::start, "Start a release", "Start", std::move(blocks), metadata);
}

json home_view(const home_data& d) {
    json blocks = json::array();
    blocks.push_back(header_block("Your releases"));
    blocks.push_back(section_block("*Your open items*"));
    // After the items: divider, 2 headings and 2 lists, divider, and the Start button.
    constexpr std::size_t after_items = 7;
    append_home_items(blocks, d, slack::max_view_blocks - after_items);
    blocks.push_back(divider_block());
    blocks.push_back(section_block("*Releases you manage*"));
    blocks.push_back(release_list(d.managed, "You manage no active release."));
    blocks.push_back(section_block("*Active releases*"));
    blocks.push_back(release_list(
        d.active, "No release is running. Start one below, or with `/release start <version>`."));
    blocks.push_back(divider_block());
    blocks.push_back(
        {{"type", "actions"},
         {"block_id", "home"},
         {"elements",
          json::array({{{"type", "button"},
                        {"text", plain(controls::label_start)},
                        {"action_id", controls::action_id(controls::action::start_release)},
                        {"style", "primary"}}})}});
    return {{"type", "home"}, {"blocks", std::move(blocks)}};
}

}  // namespace relbot::commands
