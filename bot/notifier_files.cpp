// Files through Slack's upload flow (contract: "Pictures and files"): the file is made when the
// row is sent, from the release and its timeline as they are then; three calls, each of whose
// failures is classified like any other (429 waits, 5xx and network trouble retry, the rest is
// final). The title carries the outbox key, which is how an upload whose outcome is unknown
// is found again (files.list) instead of uploaded twice.
#include "bot/log.hpp"
#include "bot/notifier.hpp"
#include "bot/slack_answers.hpp"
#include "checklist/mrkdwn.hpp"
#include "commands/render/files.hpp"
#include "commands/render/picture.hpp"

namespace relbot::bot {

net::awaitable<api_result> notifier::upload(const storage::outbox_row& row, nlohmann::json args) {
    auto channel = text_at(args, "channel");
    auto kind = text_at(args, "file");
    api_result result;
    std::optional<commands::upload_file> file;
    try {
        file = make_file_ ? make_file_(row) : std::nullopt;
    } catch (const commands::picture_error& e) {
        result.outcome = api_outcome::slack_error;  // final: this machine cannot draw
        result.error = e.what();
        co_return result;
    }
    if (!file) {
        result.outcome = api_outcome::slack_error;  // final: there is nothing to make it from
        result.error = "no such file to make (" + kind + ")";
        co_return result;
    }
    std::map<std::string, std::string> ask = {{"filename", file->name},
                                              {"length", std::to_string(file->bytes.size())}};
    if (!file->alt_text.empty()) {
        ask["alt_txt"] = checklist::truncate_utf8(file->alt_text, 1000);
    }
    auto got = co_await api_.call_form("files.getUploadURLExternal", ask, token_kind::bot);
    if (!got.ok()) {
        got.maybe_delivered = false;  // nothing is shared before the last call
        co_return got;
    }
    auto url = text_at(got.body, "upload_url");
    auto id = text_at(got.body, "file_id");
    if (url.empty() || id.empty()) {
        got.outcome = api_outcome::server_error;
        got.error = "files.getUploadURLExternal gave no upload_url";
        co_return got;
    }
    auto size = file->bytes.size();
    auto put = co_await api_.upload_bytes(url, std::move(file->bytes));
    if (!put.ok()) {
        put.maybe_delivered = false;
        co_return put;
    }
    std::map<std::string, std::string> complete = {
        {"files", nlohmann::json::array({{{"id", id}, {"title", file->title}}}).dump()},
        {"channel_id", channel}};
    if (!file->comment.empty()) {
        complete["initial_comment"] = file->comment;
    }
    // In the thread of an earlier message (the finish summary), once that one is sent: a
    // destination's rows go in order, so it normally is.
    if (auto of = text_at(args, "thread_of"); !of.empty()) {
        if (auto thread = ports_.outbox.sent_ts(of); !thread.empty()) {
            complete["thread_ts"] = thread;
        }
    }
    auto done = co_await api_.call_form("files.completeUploadExternal", complete, token_kind::bot);
    if (done.ok()) {
        log_info("file.uploaded")
            .kv("key", row.dedupe_key)
            .kv("file", file->name)
            .kv("bytes", static_cast<long long>(size))
            .kv("channel", channel);
    }
    co_return done;
}

net::awaitable<notifier::lookup> notifier::already_uploaded(storage::outbox_row row,
                                                            std::string channel) {
    std::map<std::string, std::string> form = {
        {"channel", channel}, {"ts_from", std::to_string(row.created_at - 120)}, {"count", "200"}};
    auto r = co_await api_.call_form("files.list", form, token_kind::bot);
    if (!r.ok()) {
        log_warn("outbox.files_list_failed").kv("channel", channel).kv("error", r.error);
        co_return lookup_failed(r, "files.list");
    }
    auto files = r.body.find("files");
    if (files == r.body.end() || !files->is_array()) {
        co_return lookup{lookup::absent};
    }
    for (const auto& f : *files) {
        if (text_at(f, "title").find("(" + row.dedupe_key + ")") == std::string::npos) {
            continue;
        }
        auto tx = ports_.work.begin();
        if (!ports_.outbox.mark_sent(row.id, who_.owner, "", clock_.epoch_s())) {
            lease_lost(row, "recovered");
            co_return lookup{lookup::found};
        }
        tx->commit();
        ++stats_.recovered;
        log_info("outbox.recovered").kv("key", row.dedupe_key).kv("channel", channel);
        co_return lookup{lookup::found};
    }
    co_return lookup{lookup::absent};
}

}  // namespace relbot::bot
