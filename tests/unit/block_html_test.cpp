// The sandbox web page's Block Kit → HTML (sim/block_html.hpp): relbot's real messages and modals
// as a person sees them in the page, the data attributes the page's script posts back, escaping
// of everything taken from JSON, and odd JSON rendered without throwing.
#include "sim/block_html.hpp"

#include <catch2/catch.hpp>
#include <string>

#include "checklist/release.hpp"
#include "commands/controls.hpp"
#include "commands/render.hpp"
#include "commands/render/controls.hpp"
#include "commands/render/views.hpp"
#include "support/releases.hpp"

namespace unit_block_html_test {

using namespace relbot;
using namespace relbot::sim::web;
using nlohmann::json;

namespace {

const message_place in_channel{"channel", "1795669235.000100", "C0DEMO"};

checklist::release standard_release() {
    return test::numbered_standard_release("C0DEMO", "v9.9", "UPAT", 1795669235);
}

bool has(const std::string& html, const std::string& part) {
    return html.find(part) != std::string::npos;
}

std::size_t count(const std::string& html, const std::string& part) {
    std::size_t n = 0;
    for (auto pos = html.find(part); pos != std::string::npos; pos = html.find(part, pos + 1)) {
        ++n;
    }
    return n;
}

// The opening tag of the element whose visible text is exactly `label` (">label</"), or "".
std::string tag_of(const std::string& html, const std::string& label) {
    auto end = html.find(">" + label + "</");
    if (end == std::string::npos) {
        return {};
    }
    auto start = html.rfind('<', end);
    return html.substr(start, end - start + 1);
}

// Whatever the page shows that was script or markup in the JSON, is text.
void check_inert(const std::string& html) {
    CHECK_FALSE(has(html, "<script"));
    CHECK_FALSE(has(html, "<img"));
}

json plain(const std::string& text) {
    return {{"type", "plain_text"}, {"text", text}};
}

json mrkdwn_text(const std::string& text) {
    return {{"type", "mrkdwn"}, {"text", text}};
}

}  // namespace

TEST_CASE("escape_html escapes the five characters and passes other bytes", "[block_html]") {
    CHECK(escape_html("a & b < c > d \" e ' f") == "a &amp; b &lt; c &gt; d &quot; e &#39; f");
    CHECK(escape_html("caf\xC3\xA9 \xFF\xFE") == "caf\xC3\xA9 \xFF\xFE");
    CHECK(escape_html("") == "");
}

TEST_CASE("mrkdwn styles become tags: bold, italic, strike, code, pre, quote, newlines",
          "[block_html]") {
    CHECK(mrkdwn_to_html("*v9.9* is _ready_ ~late~ with `make deploy`") ==
          "<b>v9.9</b> is <i>ready</i> <s>late</s> with <code>make deploy</code>");
    CHECK(mrkdwn_to_html("snake_case_name and 2*3*4") == "snake_case_name and 2*3*4");
    CHECK(mrkdwn_to_html("`*not bold*`") == "<code>*not bold*</code>");
    CHECK(mrkdwn_to_html("one\ntwo") == "one<br>two");
    CHECK(mrkdwn_to_html("said:\n> first\n>second\nafter") ==
          "said:<blockquote>first<br>second</blockquote>after");
    CHECK(mrkdwn_to_html("log:\n```a <b> & *c*```\ndone") ==
          "log:<pre>a &lt;b&gt; &amp; *c*</pre>done");
    CHECK(mrkdwn_to_html(":rocket: go :white_check_mark:") == "🚀 go ✅");
}

TEST_CASE("mrkdwn links, mentions, channels, specials and dates", "[block_html]") {
    CHECK(mrkdwn_to_html("see <https://ci.example/run?a=1&amp;b=2|the run>") ==
          "see <a href=\"https://ci.example/run?a=1&amp;b=2\" target=\"_blank\" "
          "rel=\"noopener\">the run</a>");
    CHECK(mrkdwn_to_html("<https://x.example>") ==
          "<a href=\"https://x.example\" target=\"_blank\" rel=\"noopener\">https://x.example</a>");
    CHECK(
        has(mrkdwn_to_html("<mailto:ops@example.com|mail us>"), "href=\"mailto:ops@example.com\""));
    // People are shown by their real name in the page (Slack shows display names).
    CHECK(mrkdwn_to_html("owner <@UPAT>") ==
          "owner <span class=\"mention\" data-user-id=\"UPAT\">@Pat Chen</span>");
    CHECK(has(mrkdwn_to_html("<@USAM|sam>"), ">@Sam Novak</span>"));
    CHECK(has(mrkdwn_to_html("<@U999|guest>"), ">@guest</span>"));
    CHECK(has(mrkdwn_to_html("<@U777>"), ">@U777</span>"));
    CHECK(
        mrkdwn_to_html("in <#C0DEMO> and <#C123|ops>") ==
        "in <span class=\"channel\">#release-demo</span> and <span class=\"channel\">#ops</span>");
    CHECK(mrkdwn_to_html("<!here> look") == "<span class=\"mention special\">@here</span> look");
    CHECK(has(mrkdwn_to_html("<!channel>"), ">@channel</span>"));
    CHECK(mrkdwn_to_html("due <!date^1700000000^{date_short}|Nov 14>") == "due Nov 14");
    CHECK(mrkdwn_to_html("*<@UKIM>* owns it") ==
          "<b><span class=\"mention\" data-user-id=\"UKIM\">@Kim Okafor</span></b> owns it");
}

TEST_CASE("Slack's entities are shown once, and markup in text is text", "[block_html]") {
    CHECK(mrkdwn_to_html("a &lt;b&gt; &amp; c &amp;lt;") == "a &lt;b&gt; &amp; c &amp;lt;");
    auto html = mrkdwn_to_html("note: <script>alert(1)</script> \"><img src=x onerror=alert(1)>");
    check_inert(html);
    CHECK(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;"));
    auto link = mrkdwn_to_html("<javascript:alert(1)|click me> <JavaScript:x>");
    CHECK_FALSE(has(link, "href"));
    CHECK(has(link, "&lt;javascript:alert(1)|click me&gt;"));
    CHECK_FALSE(has(mrkdwn_to_html("<https://x.example\"onmouseover=\"a|x>"), "\"onmouseover"));
}

TEST_CASE("text objects: plain text is only escaped, mrkdwn is rendered", "[block_html]") {
    CHECK(text_to_html(plain("*Done* :rocket: <b>")) == "*Done* 🚀 &lt;b&gt;");
    CHECK(text_to_html(mrkdwn_text("*Done*")) == "<b>Done</b>");
    CHECK(text_to_html(json("a string")) == "");
    CHECK(text_to_html(json()) == "");
}

TEST_CASE("the status message: header, context with the manager, divider, item buttons",
          "[block_html]") {
    auto r = standard_release();
    auto html = blocks_to_html(commands::render_status(r).blocks, in_channel);
    CHECK(has(html, "<div class=\"block block-header\""));
    CHECK(has(html, "<h3>Release v9.9</h3>"));
    CHECK(has(html, "<div class=\"block block-context\""));
    CHECK(has(html, "Release manager <span class=\"mention\" data-user-id=\"UPAT\">@Pat Chen"));
    CHECK(has(html, "<hr>"));
    const auto& first = r.phases[0].items[0];
    auto id = std::to_string(first.id);
    auto done = tag_of(html, "Done");  // the first Done is the first item's
    CHECK(has(done, "class=\"control primary\""));
    CHECK(has(done, "data-action-id=\"item.done:" + id + "\""));
    CHECK(has(done, "data-block-id=\"item:" + id + "\""));
    CHECK(has(done, "data-type=\"button\""));
    CHECK(has(done, "data-value=\"" + commands::controls::encode({7, first.id, 0, {}}) + "\""));
    CHECK(has(done, "data-surface=\"channel\""));
    CHECK(has(done, "data-ts=\"1795669235.000100\""));
    CHECK(has(done, "data-channel=\"C0DEMO\""));
    for (const char* label : {"Skip…", "Block…", "Assign…", "Note…", "Next phase"}) {
        INFO(label);
        CHECK(has(tag_of(html, label), "class=\"control"));
    }
    CHECK_FALSE(has(html, "unsupported"));
}

TEST_CASE("an owner's DM: a Snooze select with its three choices", "[block_html]") {
    auto r = standard_release();
    const auto& it = r.phases[0].items[1];
    auto m = commands::render_owner_items(r, {&it}, "*Your items*");
    auto html = blocks_to_html(m.blocks, {"dm", "1795669300.000200", "DPAT"});
    CHECK(has(html, "<b>Your items</b>"));
    auto select = html.substr(html.find("<select"));
    select = select.substr(0, select.find("</select>"));
    CHECK(has(select, "class=\"control\""));
    CHECK(has(select, "data-type=\"static_select\""));
    CHECK(has(select, "data-action-id=\"item.snooze:" + std::to_string(it.id) + "\""));
    CHECK(has(select, "<option value=\"\" disabled selected>Snooze</option>"));
    CHECK(count(select, "<option value=\"") == 4);
    for (const char* label : {"1 hour", "4 hours", "Tomorrow morning"}) {
        CHECK(has(select, ">" + std::string(label) + "</option>"));
    }
    CHECK(has(select, "data-surface=\"dm\""));
    CHECK(has(html, "<span class=\"channel\">#release-demo</span>"));
}

TEST_CASE("an overflow menu: a ⋯ button and a hidden menu of its options", "[block_html]") {
    auto r = standard_release();
    const auto& it = r.phases[0].items[2];
    json section = {
        {"type", "section"},
        {"block_id", "compact:1"},
        {"text", mrkdwn_text("`1.3` the item")},
        {"accessory", commands::item_overflow(it.id, commands::status_item_controls(7, it))}};
    auto html = blocks_to_html(json::array({section}), in_channel);
    CHECK(has(html, "<div class=\"accessory\"><button type=\"button\" class=\"control overflow\""));
    CHECK(has(html, "⋯</button><div class=\"menu\" hidden>"));
    auto skip = tag_of(html, "Skip…");
    CHECK(has(skip, "class=\"control option\""));
    CHECK(has(skip, "data-type=\"overflow\""));
    CHECK(has(skip, "data-block-id=\"compact:1\""));
    CHECK(has(skip, "data-action-id=\"item.menu:" + std::to_string(it.id) + "\""));
    CHECK(has(skip, "data-option-value=\"item.skip|"));
    CHECK(count(html, "class=\"control option\"") == 5);
}

TEST_CASE("the Skip modal: title, reason field, and an error next to it", "[block_html]") {
    auto r = standard_release();
    const auto& it = r.phases[0].items[0];
    auto view = commands::skip_modal(it, r, "meta");
    auto html = modal_to_html(view, json{{"reason", "Say why it is skipped"}}, {});
    CHECK(has(html, "<form class=\"modal\" data-callback-id=\"" +
                        view["callback_id"].get<std::string>()));
    CHECK(has(html, "<div class=\"modal-title\">Skip item</div>"));
    auto field = html.find("name=\"reason\"");
    REQUIRE(field != std::string::npos);
    auto error = html.find("<div class=\"error\">Say why it is skipped</div>");
    REQUIRE(error != std::string::npos);
    CHECK(error > field);
    CHECK(error < html.find("<div class=\"block", field));  // in the reason's block
    CHECK(has(html, "<label class=\"input-label\" for=\"field-reason\">Why skip it?</label>"));
    CHECK(has(html, ">Skip</button>"));
    CHECK(has(html, "class=\"modal-close\">Cancel</button>"));
    CHECK_FALSE(has(modal_to_html(view, json::object(), {}), "class=\"error\""));
}

TEST_CASE("the Assign modal: the cast with the owner preselected, and the due time in UTC",
          "[block_html]") {
    auto r = standard_release();
    auto it = r.phases[0].items[0];
    it.owner = "UKIM";
    it.due_at = 1795669200;  // 2026-11-26T05:00:00Z
    auto html = modal_to_html(commands::assign_modal(it, r, "meta"), json::object(), {});
    auto owner = html.substr(html.find("<select name=\"owner\""));
    owner = owner.substr(0, owner.find("</select>"));
    CHECK(has(owner, "data-type=\"users_select\""));
    CHECK(has(owner, "<option value=\"UKIM\" selected>Kim Okafor</option>"));
    CHECK(has(owner, "<option value=\"UPAT\">Pat Chen</option>"));
    CHECK(has(owner, "<option value=\"\" disabled>Choose a person</option>"));
    CHECK(has(html, "<input type=\"datetime-local\" name=\"due\""));
    CHECK(has(html, "value=\"2026-11-26T05:00\" data-epoch=\"1795669200\""));
    CHECK(has(html, "Due <span class=\"optional\">(optional)</span>"));
}

TEST_CASE("the Start modal: channels, template and version fields", "[block_html]") {
    auto view = commands::start_modal({"standard", "hotfix"}, "meta", "C0DEMO");
    std::map<std::string, std::string> channels{{"C0DEMO", "release-demo"}, {"C0OPS", "ops"}};
    auto html = modal_to_html(view, json{{"version", "Type a version"}}, channels);
    CHECK(has(html, "<option value=\"C0DEMO\" selected>#release-demo</option>"));
    CHECK(has(html, "<option value=\"C0OPS\">#ops</option>"));
    CHECK(has(html, "data-type=\"conversations_select\""));
    CHECK(has(html, "<option value=\"standard\" selected>standard</option>"));
    CHECK(has(html, "<option value=\"hotfix\">hotfix</option>"));
    CHECK(has(html, "<input type=\"text\" name=\"version\" id=\"field-version\""));
    CHECK(has(html, "placeholder=\"e.g. v2.4.0\""));
    auto version_error = html.find("<div class=\"error\">Type a version</div>");
    REQUIRE(version_error != std::string::npos);
    CHECK(version_error > html.find("name=\"version\""));
    CHECK(version_error < html.find("name=\"template\""));
    // Without an initial channel, default_to_current_conversation preselects the demo channel.
    auto view2 = commands::start_modal({"standard"}, "meta", "");
    view2["blocks"][1]["element"]["default_to_current_conversation"] = true;
    CHECK(has(modal_to_html(view2, json::object(), channels),
              "<option value=\"C0DEMO\" selected>#release-demo</option>"));
    CHECK(has(
        modal_to_html(commands::start_modal({"standard"}, "meta", ""), json::object(), channels),
        "<option value=\"\" disabled selected>The release&#39;s channel</option>"));
}

TEST_CASE("a multiline text input is a textarea with its initial value", "[block_html]") {
    json view = {{"type", "modal"},
                 {"title", plain("Note")},
                 {"submit", plain("Save")},
                 {"blocks",
                  {{{"type", "input"},
                    {"block_id", "note"},
                    {"label", plain("Note")},
                    {"hint", plain("A link is fine")},
                    {"element",
                     {{"type", "plain_text_input"},
                      {"action_id", "value"},
                      {"multiline", true},
                      {"initial_value", "a </textarea><script>x</script>"}}}}}}};
    auto html = modal_to_html(view, json::object(), {});
    CHECK(has(html, "<textarea name=\"note\" id=\"field-note\" data-action-id=\"value\""));
    CHECK(has(html, ">a &lt;/textarea&gt;&lt;script&gt;x&lt;/script&gt;</textarea>"));
    CHECK(has(html, "<div class=\"hint\">A link is fine</div>"));
    CHECK(has(html, ">Save</button>"));
    check_inert(html);
}

TEST_CASE("script and markup in labels, options, titles and attribute values stay text",
          "[block_html]") {
    const std::string evil = "<script>alert(1)</script>\"><img src=x onerror=alert(1)>";
    json blocks = json::array(
        {{{"type", "section"}, {"block_id", evil}, {"text", mrkdwn_text("note: " + evil)}},
         {{"type", "header"}, {"text", plain(evil)}},
         {{"type", "actions"},
          {"block_id", "b"},
          {"elements",
           {{{"type", "button"},
             {"text", plain(evil)},
             {"action_id", evil},
             {"value", evil},
             {"style", evil},
             {"confirm", {{"title", plain(evil)}, {"text", plain("Sure?")}}}},
            {{"type", "overflow"},
             {"action_id", "o"},
             {"options", {{{"text", plain(evil)}, {"value", evil}}}}},
            {{"type", "static_select"},
             {"placeholder", plain(evil)},
             {"options", {{{"text", plain(evil)}, {"value", evil}}}}}}}},
         {{"type", evil}}});
    auto html = blocks_to_html(blocks, {evil, evil, evil});
    check_inert(html);
    CHECK(has(html, "&lt;script&gt;alert(1)&lt;/script&gt;&quot;&gt;&lt;img"));
    CHECK(has(html, "data-confirm=\"{&quot;text&quot;:{&quot;text&quot;:&quot;Sure?&quot;"));
    CHECK(has(html, "[unsupported block: &lt;script&gt;"));
    json view = {{"type", "modal"},
                 {"title", plain(evil)},
                 {"callback_id", evil},
                 {"submit", plain(evil)},
                 {"blocks", blocks}};
    auto modal = modal_to_html(view, json{{"b", evil}}, {{evil, evil}});
    check_inert(modal);
    CHECK(has(modal, "<div class=\"modal-title\">&lt;script&gt;"));
    auto row = message_to_html({{"text", evil}, {"ts", evil}}, {"channel", "", ""}, {});
    check_inert(row);
}

TEST_CASE("a confirm object and a danger style are carried for the script", "[block_html]") {
    json confirm = {{"title", plain("Roll back?")},
                    {"text", mrkdwn_text("It is announced")},
                    {"confirm", plain("Roll back")},
                    {"deny", plain("Cancel")}};
    json block = {{"type", "actions"},
                  {"block_id", "checkpoint:7:1"},
                  {"elements",
                   {{{"type", "button"},
                     {"text", plain("Roll back…")},
                     {"action_id", "checkpoint.roll_back:1"},
                     {"style", "danger"},
                     {"confirm", confirm}}}}};
    auto tag = tag_of(blocks_to_html(json::array({block}), in_channel), "Roll back…");
    CHECK(has(tag, "class=\"control danger\""));
    auto at = tag.find("data-confirm=\"");
    REQUIRE(at != std::string::npos);
    auto value = tag.substr(at + 14, tag.find('"', at + 14) - at - 14);
    std::string unescaped = value;
    for (auto pos = unescaped.find("&quot;"); pos != std::string::npos;
         pos = unescaped.find("&quot;")) {
        unescaped.replace(pos, 6, "\"");
    }
    CHECK(json::parse(unescaped) == confirm);
}

TEST_CASE("odd JSON renders without throwing", "[block_html]") {
    const json odd[] = {
        json(),
        json("blocks"),
        json(42),
        json::object(),
        json::array({json(), json("x"), json::array(), json::object(), {{"type", 3}}}),
        json::array({{{"type", "section"}, {"text", "not an object"}, {"fields", "nope"}},
                     {{"type", "section"}, {"fields", {json(), "x", {{"text", 1}}}}},
                     {{"type", "actions"}, {"elements", {json(), {{"type", "button"}}}}},
                     {{"type", "actions"}, {"elements", {{{"type", "overflow"}, {"options", 1}}}}},
                     {{"type", "context"}, {"elements", {{{"type", "image"}}, 5}}},
                     {{"type", "header"}, {"text", json::array()}},
                     {{"type", "image"}, {"alt_text", 5}},
                     {{"type", "input"},
                      {"element", {{"type", "datetimepicker"}, {"initial_date_time", -1e300}}}},
                     {{"type", "input"},
                      {"element",
                       {{"type", "static_select"},
                        {"initial_option", "x"},
                        {"option_groups", {{{"options", 1}}}}}}},
                     {{"type", "section"}, {"text", mrkdwn_text("<@\xFF\xFE> \xC3 ```open")}}}),
    };
    for (const auto& blocks : odd) {
        INFO(blocks.dump(-1, ' ', false, json::error_handler_t::replace));
        CHECK_NOTHROW(blocks_to_html(blocks, in_channel));
        CHECK_NOTHROW(modal_to_html({{"blocks", blocks}, {"title", blocks}}, blocks, {}));
        CHECK_NOTHROW(message_to_html({{"blocks", blocks}, {"ts", blocks}}, {}, {}));
        CHECK_NOTHROW(message_to_html(blocks, in_channel, {true, true, true}));
    }
    CHECK(
        blocks_to_html(json::array({{{"block_id", "x"}}}), in_channel) ==
        "<div class=\"block block-unsupported\" data-block-id=\"x\">[unsupported block: ?]</div>");
    CHECK(has(blocks_to_html(json::array({{{"type", "rich_text"}}}), in_channel),
              "[unsupported block: rich_text]"));
}

TEST_CASE("a message row: relbot, APP, the time, marks, and text when there are no blocks",
          "[block_html]") {
    auto r = standard_release();
    auto status = commands::render_status(r);
    json posted = {{"channel", "C0DEMO"}, {"text", status.text}, {"blocks", status.blocks}};
    auto row = message_to_html(posted, in_channel, {});
    CHECK(has(row, "<span class=\"author\">relbot</span><span class=\"badge\">APP</span>"));
    CHECK(has(row, "<span class=\"time\">05:00</span>"));  // 1795669235 is 05:00:35 UTC
    CHECK(has(row, "<h3>Release v9.9</h3>"));
    CHECK_FALSE(has(row, "Only visible to you"));
    CHECK_FALSE(has(row, "(edited)"));
    CHECK_FALSE(has(row, "Pinned"));
    auto marked = message_to_html(posted, in_channel, {true, true, true});
    CHECK(has(marked, ">Only visible to you</span>"));
    CHECK(has(marked, ">(edited)</span>"));
    CHECK(has(marked, ">📌 Pinned</span>"));
    CHECK(has(marked, "class=\"message ephemeral pinned\""));
    auto plain_row = message_to_html({{"text", "*Done* by <@ULEE>"}, {"ts", "1795669235.1"}},
                                     {"dm", "", "DLEE"}, {});
    CHECK(has(plain_row, "<b>Done</b> by <span class=\"mention\" data-user-id=\"ULEE\">@Lee Park"));
    CHECK(has(plain_row, "data-ts=\"1795669235.1\""));
    // Blocks sent as a JSON string (a form-encoded chat.postMessage) are read too.
    auto encoded = message_to_html({{"blocks", status.blocks.dump()}}, in_channel, {});
    CHECK(has(encoded, "<h3>Release v9.9</h3>"));
}

TEST_CASE("section fields are a two-column grid, and an image is its alt text", "[block_html]") {
    json blocks = json::array(
        {{{"type", "section"},
          {"block_id", "facts"},
          {"fields", {mrkdwn_text("*Owner*\n<@UPAT>"), plain("Due: today")}}},
         {{"type", "image"}, {"image_url", "https://x.example/a.png"}, {"alt_text", "burndown"}}});
    auto html = blocks_to_html(blocks, in_channel);
    CHECK(has(html,
              "<div class=\"fields\"><div class=\"field\"><b>Owner</b><br>"
              "<span class=\"mention\" data-user-id=\"UPAT\">@Pat Chen</span></div>"
              "<div class=\"field\">Due: today</div></div>"));
    CHECK(has(html,
              "<div class=\"block block-image\" data-block-id=\"\">"
              "<div class=\"image-alt\">[image: burndown]</div>"));
    CHECK_FALSE(has(html, "x.example/a.png"));
}

TEST_CASE("a checkpoint's buttons keep their styles, and App Home's controls say home",
          "[block_html]") {
    auto html = blocks_to_html(json::array({commands::checkpoint_actions_block(7, 2)}), in_channel);
    CHECK(has(tag_of(html, "Healthy"), "class=\"control primary\""));
    CHECK(has(tag_of(html, "Investigating"), "class=\"control\""));
    CHECK(has(tag_of(html, "Roll back…"), "class=\"control danger\""));
    CHECK(has(tag_of(html, "Roll back…"), "data-block-id=\"checkpoint:7:2\""));
    commands::home_data home;
    home.viewer = "UPAT";
    auto view = commands::home_view(home);
    auto start = tag_of(blocks_to_html(view["blocks"], {"home", "", ""}), "Start a release…");
    CHECK(has(start, "data-surface=\"home\""));
    CHECK(has(start, "data-ts=\"\""));
}

TEST_CASE("a shared file: a picture inline with its alt text, another file as a download",
          "[block_html]") {
    json message = {
        {"text", "Timeline of release v1"},
        {"ts", "1796000000.000100"},
        {"files",
         json::array(
             {{{"id", "F0SIM1"},
               {"name", "relbot-v1-timeline.png"},
               {"mimetype", "image/png"},
               {"alt_txt", "Timeline of release v1: <6 phases>"}},
              {{"id", "F0SIM2"}, {"name", "relbot-v1-report.md"}, {"mimetype", "text/markdown"}},
              {{"id", "../../etc"}, {"name", "passwd"}, {"mimetype", "text/plain"}}})}};
    auto html = message_to_html(message, {"C0DEMO", "", ""}, {});
    CHECK(html.find("<img src=\"/files/F0SIM1/relbot-v1-timeline.png\" "
                    "alt=\"Timeline of release v1: &lt;6 phases&gt;\">") != std::string::npos);
    CHECK(html.find("<a href=\"/files/F0SIM2/relbot-v1-report.md\" "
                    "download=\"relbot-v1-report.md\">relbot-v1-report.md</a>") !=
          std::string::npos);
    CHECK(html.find("etc") == std::string::npos);  // a path out of /files/ is not linked
}

}  // namespace unit_block_html_test
