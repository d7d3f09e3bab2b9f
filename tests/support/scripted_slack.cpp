// The scripted Slack: answers at once (the call takes no virtual time), from the script, the
// rule, or the defaults below.
#include "support/scripted_slack.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <filesystem>
#include <random>

namespace relbot::test {

bot::api_result answer_ok(nlohmann::json fields) {
    bot::api_result r;
    r.outcome = bot::api_outcome::ok;
    r.http_status = 200;
    r.body = std::move(fields);
    r.body["ok"] = true;
    return r;
}

bot::api_result answer_error(std::string code) {
    bot::api_result r;
    r.outcome = bot::api_outcome::slack_error;
    r.http_status = 200;
    r.body = {{"ok", false}, {"error", code}};
    r.error = std::move(code);
    return r;
}

bot::api_result answer_rate_limited(int retry_after_s) {
    bot::api_result r;
    r.outcome = bot::api_outcome::rate_limited;
    r.http_status = 429;
    r.error = "ratelimited";
    r.retry_after = std::chrono::seconds(retry_after_s);
    return r;
}

bot::api_result answer_server_error(unsigned status) {
    bot::api_result r;
    r.outcome = bot::api_outcome::server_error;
    r.http_status = status;
    r.error = "http " + std::to_string(status);
    return r;
}

bot::api_result answer_network_error() {
    bot::api_result r;
    r.outcome = bot::api_outcome::network_error;
    r.error = "connection refused";
    return r;
}

bot::api_result answer_lost() {
    bot::api_result r;
    r.outcome = bot::api_outcome::network_error;
    r.error = "read from slack.test: The socket was closed due to a timeout";
    r.maybe_delivered = true;
    return r;
}

net::awaitable<bot::api_result> scripted_slack::call(std::string method,
                                                     nlohmann::json args,
                                                     bot::token_kind /*token*/) {
    calls_.push_back({clock_.elapsed(), std::move(method), std::move(args)});
    co_return answer(calls_.back());
}

net::awaitable<bot::api_result> scripted_slack::call_form(std::string method,
                                                          std::map<std::string, std::string> args,
                                                          bot::token_kind /*token*/) {
    nlohmann::json fields = nlohmann::json::object();
    for (auto& [k, v] : args) {
        fields[k] = v;
    }
    calls_.push_back({clock_.elapsed(), std::move(method), std::move(fields)});
    co_return answer(calls_.back());
}

net::awaitable<bot::api_result> scripted_slack::post_response_url(std::string url,
                                                                  nlohmann::json body) {
    body["url"] = std::move(url);
    calls_.push_back({clock_.elapsed(), "response_url", std::move(body)});
    co_return answer(calls_.back());
}

net::awaitable<bot::api_result> scripted_slack::upload_bytes(std::string url, std::string bytes) {
    nlohmann::json body = {{"url", std::move(url)}, {"size", bytes.size()}};
    calls_.push_back({clock_.elapsed(), "upload_url", std::move(body)});
    co_return answer(calls_.back());
}

void scripted_slack::script(const std::string& method, std::vector<bot::api_result> answers) {
    for (auto& a : answers) {
        script_[method].push_back(std::move(a));
    }
}

std::vector<recorded_call> scripted_slack::calls_of(const std::string& method) const {
    std::vector<recorded_call> out;
    for (const auto& c : calls_) {
        if (c.method == method) {
            out.push_back(c);
        }
    }
    return out;
}

std::vector<recorded_call> scripted_slack::posts_to(const std::string& channel) const {
    std::vector<recorded_call> out;
    for (const auto& c : calls_of("chat.postMessage")) {
        if (c.channel() == channel) {
            out.push_back(c);
        }
    }
    return out;
}

bot::api_result scripted_slack::answer(const recorded_call& c) {
    if (auto s = script_.find(c.method); s != script_.end() && !s->second.empty()) {
        auto a = std::move(s->second.front());
        s->second.pop_front();
        return a;
    }
    if (rule) {
        if (auto a = rule(c)) {
            return *a;
        }
    }
    return default_answer(c);
}

bot::api_result scripted_slack::default_answer(const recorded_call& c) {
    if (c.method == "chat.postMessage") {
        return answer_ok(
            {{"channel", c.channel()}, {"ts", std::to_string(next_ts_++) + ".000100"}});
    }
    if (c.method == "chat.update") {
        return answer_ok({{"channel", c.channel()}, {"ts", c.args.value("ts", std::string())}});
    }
    if (c.method == "conversations.open") {
        return answer_ok({{"channel", {{"id", "D" + c.args.value("users", std::string())}}}});
    }
    if (c.method == "conversations.history") {
        return answer_ok({{"messages", history}, {"has_more", false}});
    }
    if (c.method == "users.info") {
        auto user = c.args.value("user", std::string());
        auto tz = tz_offsets.contains(user) ? tz_offsets.at(user) : 0;
        return answer_ok(
            {{"user", {{"id", user}, {"tz_offset", tz}, {"real_name", "name-" + user}}}});
    }
    if (c.method == "chat.getPermalink") {
        return answer_ok({{"permalink", "https://slack.test/archives/" + c.channel()}});
    }
    return answer_ok();
}

temp_db::temp_db() {
    std::random_device rd;
    path_ = (std::filesystem::temp_directory_path() /
             ("relbot-unit-" + std::to_string(rd()) + std::to_string(rd()) + ".db"))
                .string();
}

temp_db::~temp_db() {
    for (const char* suffix : {"", "-wal", "-shm"}) {
        std::error_code ec;
        std::filesystem::remove(path_ + suffix, ec);  // best effort cleanup
    }
}

std::vector<storage::outbox_row> read_outbox(const std::string& path) {
    SQLite::Database db(path, SQLite::OPEN_READONLY);
    SQLite::Statement q(db,
                        "SELECT id, dedupe_key, release_id, channel_id, method, body, state, "
                        "attempts, not_before, created_at, ts, error, kind, lease_until, "
                        "claimed_by FROM outbox ORDER BY id");
    std::vector<storage::outbox_row> out;
    while (q.executeStep()) {
        storage::outbox_row r;
        r.id = q.getColumn(0).getInt64();
        r.dedupe_key = q.getColumn(1).getString();
        if (!q.getColumn(2).isNull()) {
            r.release_id = q.getColumn(2).getInt64();
        }
        r.to = checklist::parse_destination(q.getColumn(3).getString());
        r.method = q.getColumn(4).getString();
        r.body = q.getColumn(5).getString();
        auto state = q.getColumn(6).getString();
        r.state = state == "sent"      ? storage::outbox_state::sent
                  : state == "failed"  ? storage::outbox_state::failed
                  : state == "sending" ? storage::outbox_state::sending
                                       : storage::outbox_state::pending;
        r.attempts = q.getColumn(7).getInt();
        r.not_before = q.getColumn(8).getInt64();
        r.created_at = q.getColumn(9).getInt64();
        r.ts = q.getColumn(10).isNull() ? std::string() : q.getColumn(10).getString();
        r.error = q.getColumn(11).getString();
        r.kind = checklist::parse_message_kind(q.getColumn(12).getString());
        if (!q.getColumn(13).isNull()) {
            r.lease_until = q.getColumn(13).getInt64();
        }
        r.claimed_by = q.getColumn(14).getString();
        out.push_back(std::move(r));
    }
    return out;
}

}  // namespace relbot::test
