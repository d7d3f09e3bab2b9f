// A scripted Slack for the notifier and scheduler tests: records every call with its virtual
// time and answers from a script (per method, in order), then from a rule the test sets, then
// as Slack would when all is well. Also a fresh SQLite file per test, and its outbox as the
// tests read it. Tests only.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "bot/slack_port.hpp"
#include "storage/ports.hpp"
#include "support/virtual_time.hpp"

namespace relbot::test {

struct recorded_call {
    double at = 0;  // virtual seconds since the clock was made
    std::string method;
    nlohmann::json args;  // the JSON body, or the form fields as an object
    std::string channel() const { return args.value("channel", std::string()); }
    std::string text() const { return args.value("text", std::string()); }
};

// Answers to script.
bot::api_result answer_ok(nlohmann::json fields = nlohmann::json::object());
bot::api_result answer_error(std::string code);  // HTTP 200, ok:false
bot::api_result answer_rate_limited(int retry_after_s);
bot::api_result answer_server_error(unsigned status = 500);
bot::api_result answer_network_error();
// A network error after the request was sent: Slack may have acted on it.
bot::api_result answer_lost();

class scripted_slack final : public bot::slack_api {
public:
    explicit scripted_slack(virtual_clock& clock) : clock_(clock) {}

    net::awaitable<bot::api_result> call(std::string method,
                                         nlohmann::json args,
                                         bot::token_kind token) override;
    net::awaitable<bot::api_result> call_form(std::string method,
                                              std::map<std::string, std::string> args,
                                              bot::token_kind token) override;
    net::awaitable<bot::api_result> post_response_url(std::string url,
                                                      nlohmann::json body) override;
    // Recorded as the method "upload_url" with {"url", "size"}.
    net::awaitable<bot::api_result> upload_bytes(std::string url, std::string bytes) override;

    // The next calls of `method` get these answers, in order.
    void script(const std::string& method, std::vector<bot::api_result> answers);
    // Looked at when the script for the method is used up; nullopt: the default answer.
    std::function<std::optional<bot::api_result>(const recorded_call&)> rule;
    // What conversations.history lists, in any channel.
    nlohmann::json history = nlohmann::json::array();
    // users.info: tz_offset per user (0 if not listed).
    std::map<std::string, int> tz_offsets;

    const std::vector<recorded_call>& calls() const { return calls_; }
    std::vector<recorded_call> calls_of(const std::string& method) const;
    std::vector<recorded_call> posts_to(const std::string& channel) const;

private:
    bot::api_result answer(const recorded_call& c);
    bot::api_result default_answer(const recorded_call& c);

    virtual_clock& clock_;
    std::vector<recorded_call> calls_;
    std::map<std::string, std::deque<bot::api_result>> script_;
    long next_ts_ = 1;
};

// A fresh database file path, removed with its -wal and -shm files at the end.
class temp_db {
public:
    temp_db();
    ~temp_db();
    temp_db(const temp_db&) = delete;
    temp_db& operator=(const temp_db&) = delete;
    const std::string& path() const { return path_; }

private:
    std::string path_;
};

// Every outbox row of the database at `path`, by id, read on a connection of its own (the
// ports have no such read: only tests want it). The claim-only `unfinished` stays false.
std::vector<storage::outbox_row> read_outbox(const std::string& path);

}  // namespace relbot::test
