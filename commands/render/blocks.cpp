// Block Kit building blocks. User text is escaped by the renderers, at the one place it enters
// a message; here it is only cut to Block Kit's limits.
#include "commands/render/blocks.hpp"

#include "checklist/mrkdwn.hpp"
#include "slack/block_kit.hpp"
#include "slack/json_write.hpp"

namespace relbot::commands {
namespace {

using nlohmann::json;

// A mrkdwn text object, as sections and context elements hold one.
json mrkdwn_text(std::string_view mrkdwn) {
    return json_object("type", "mrkdwn", "text",
                       checklist::truncate_utf8(mrkdwn, max_section_text));
}

// Adds whole lines from `lines[next]` on to `m` as sections, until the page's blocks or text
// are full; returns the index of the first line left for the next page.
std::size_t fill_page(message& m, const std::vector<std::string>& lines, std::size_t next) {
    std::string current;
    std::size_t used = block_text_size(m.blocks);
    for (; next < lines.size(); ++next) {
        const auto& line = lines[next];
        if (used + current.size() + line.size() + 1 > max_total_block_text - reserved_text) {
            break;
        }
        if (!current.empty() && current.size() + 1 + line.size() > max_section_text) {
            if (m.blocks.size() + 2 >= max_blocks) {
                break;
            }
            used += current.size();
            m.blocks.push_back(section_block(current));
            current.clear();
        }
        current += current.empty() ? checklist::truncate_utf8(line, max_section_text) : "\n" + line;
    }
    if (!current.empty()) {
        m.blocks.push_back(section_block(current));
    }
    return next;
}

}  // namespace

json section_block(std::string_view mrkdwn) {
    return json_object("type", "section", "text", mrkdwn_text(mrkdwn));
}

json header_block(std::string_view plain) {
    return json_object(
        "type", "header", "text",
        json_object("type", "plain_text", "text", checklist::truncate_utf8(plain, max_header_text),
                    "emoji", true));
}

json context_block(std::string_view mrkdwn) {
    return json_object("type", "context", "elements", json::array({mrkdwn_text(mrkdwn)}));
}

json divider_block() {
    return json_object("type", "divider");
}

std::size_t block_text_size(const json& blocks) {
    return slack::blocks_text_size(blocks);
}

void append_lines(json& blocks, const std::vector<std::string>& lines, std::size_t reserve) {
    std::string current;
    std::size_t shown = 0;
    auto used = block_text_size(blocks);
    auto text_left = max_total_block_text > used + reserved_text
                         ? max_total_block_text - used - reserved_text
                         : 0;
    std::size_t taken = 0;
    auto budget = [&] { return max_blocks - reserve - blocks.size(); };
    for (const auto& line : lines) {
        if (taken + line.size() + 1 > text_left) {
            break;
        }
        if (!current.empty() && current.size() + 1 + line.size() > max_section_text) {
            if (budget() <= 1) {
                break;
            }
            blocks.push_back(section_block(current));
            current.clear();
        }
        current += current.empty() ? line : "\n" + line;
        taken += line.size() + 1;
        ++shown;
    }
    if (shown < lines.size()) {
        auto more = "…and " + std::to_string(lines.size() - shown) + " more";
        if (current.size() + 1 + more.size() <= max_section_text) {
            current += "\n" + more;
        }
    }
    if (!current.empty()) {
        blocks.push_back(section_block(current));
    }
}

std::vector<message> paginate(const std::string& fallback,
                              const json& head,
                              const std::vector<std::string>& lines,
                              std::size_t max_pages,
                              const std::string& cut_note) {
    std::vector<message> pages;
    std::size_t next = 0;
    while (next < lines.size() || pages.empty()) {
        if (pages.size() == max_pages) {
            pages.back().blocks.push_back(context_block(cut_note));
            pages.back().cut_short = true;
            break;
        }
        message m;
        m.text = checklist::truncate_utf8(fallback + (pages.empty() ? "" : " (continued)"),
                                          max_fallback_text);
        if (pages.empty()) {
            for (const auto& b : head) {
                m.blocks.push_back(b);
            }
        }
        next = fill_page(m, lines, next);
        pages.push_back(std::move(m));
        if (next >= lines.size()) {
            break;
        }
    }
    return pages;
}

message render_text(std::string_view mrkdwn) {
    message m;
    m.text = checklist::truncate_utf8(mrkdwn, max_fallback_text);
    m.blocks.push_back(section_block(mrkdwn));
    return m;
}

std::string mention(std::string_view user, std::string_view if_empty) {
    if (auto tool = signal_source(user)) {
        return signal_actor_name(*tool);
    }
    return user.empty() ? std::string(if_empty) : "<@" + std::string(user) + ">";
}

std::string signal_actor(std::string_view source) {
    return "ci:" + std::string(source);
}

std::optional<std::string_view> signal_source(std::string_view actor) {
    if (!actor.starts_with("ci:")) {
        return std::nullopt;
    }
    return actor.substr(3);
}

std::string signal_actor_name(std::string_view source) {
    // The source is letters, digits and -_. (bot/signal.cpp): nothing to escape.
    return "CI (" + std::string(source) + ")";
}

std::string user_text(std::string_view text, std::size_t max) {
    return checklist::escape_mrkdwn(checklist::truncate_utf8(text, max));
}

json to_ack_payload(const message& m, bool in_channel) {
    return json_object("response_type", in_channel ? "in_channel" : "ephemeral", "text", m.text,
                       "blocks", m.blocks);
}

json to_post_body(const message& m) {
    return json_object("text", m.text, "blocks", m.blocks);
}

std::string dump_json(const json& j) {
    return slack::json_text_of(j);
}

// The members in the order nlohmann's object (a std::map) would write them.
std::string ack_payload_json(const message& m, bool in_channel) {
    std::string out = R"({"blocks":)";
    slack::append_json(out, m.blocks);
    out += in_channel ? R"(,"response_type":"in_channel","text":)"
                      : R"(,"response_type":"ephemeral","text":)";
    slack::append_json_string(out, m.text);
    out += '}';
    return out;
}

std::string post_body_json(const message& m) {
    std::string out = R"({"blocks":)";
    slack::append_json(out, m.blocks);
    out += R"(,"text":)";
    slack::append_json_string(out, m.text);
    out += '}';
    return out;
}

namespace {

// Whether `blocks` is render_text(text)'s one section, compared member by member (building
// the section to compare with would cost more than the record saves).
bool is_section_of(const json& blocks, const std::string& text) {
    if (blocks.size() != 1 || !blocks[0].is_object() || blocks[0].size() != 2) {
        return false;
    }
    const auto& section = blocks[0];
    auto type = section.find("type");
    auto body = section.find("text");
    if (type == section.end() || *type != "section" || body == section.end() ||
        !body->is_object() || body->size() != 2) {
        return false;
    }
    auto body_type = body->find("type");
    auto body_text = body->find("text");
    if (body_type == body->end() || *body_type != "mrkdwn" || body_text == body->end() ||
        !body_text->is_string()) {
        return false;
    }
    const auto& shown = body_text->get_ref<const std::string&>();
    return text.size() <= max_section_text
               ? shown == text
               : shown == checklist::truncate_utf8(text, max_section_text);
}

}  // namespace

std::optional<std::string> plain_reply_record(const message& m, bool in_channel) {
    // render_text(m.text) is `m` again when its text is within the fallback's limit and its
    // section is the one `m` has, and the record reads back as m.text: text that is not UTF-8
    // is not recorded this way (sent with U+FFFD for its bad bytes, 1 byte becoming 3, which
    // may move where a cut falls).
    if (in_channel || m.text.size() > max_fallback_text || !is_section_of(m.blocks, m.text)) {
        return std::nullopt;
    }
    std::string record;
    if (!slack::append_json_string_if_utf8(record, m.text)) {
        return std::nullopt;
    }
    return record;
}

std::string payload_of_record(std::string record) {
    if (!record.starts_with('"')) {
        return record;
    }
    auto text = json::parse(record, nullptr, false);
    if (!text.is_string()) {
        return record;
    }
    return ack_payload_json(render_text(text.get_ref<const std::string&>()));
}

}  // namespace relbot::commands
