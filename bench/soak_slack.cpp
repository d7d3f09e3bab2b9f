// relbot-bench-soak's Slack (see soak_slack.hpp).
#include "bench/soak_slack.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <cstdlib>
#include <fstream>

namespace relbot::bench::soak {

namespace net = boost::asio;
using json = nlohmann::json;

soak_slack::soak_slack(const std::string& work_dir) : ca_file_(work_dir + "/sim-ca.pem") {
    server_ = std::make_unique<sim::server>(ioc_, sim::server_options{},
                                            [this](const json& e) { on_event(e); });
    std::ofstream(ca_file_) << server_->ca_cert_pem();
    server_->start();
    thread_ = std::thread([this] {
        auto work = net::make_work_guard(ioc_);
        ioc_.run();
    });
}

soak_slack::~soak_slack() {
    ioc_.stop();
    thread_.join();
    // The server's coroutines are destroyed with the io_context, after the thread is gone.
}

std::map<std::string, std::string> soak_slack::bot_environment() const {
    std::map<std::string, std::string> env;
    env["SLACK_APP_TOKEN"] = "xapp-soak-test-1";
    env["SLACK_BOT_TOKEN"] = "xoxb-soak-test-0";
    env["SLACK_API_URL"] = server_->api_url();
    env["SSL_CERT_FILE"] = ca_file_;
    if (const char* path = std::getenv("PATH")) {
        env["PATH"] = path;
    }
    return env;
}

void soak_slack::send(json op) {
    net::post(ioc_, [this, op = std::move(op)] { server_->control(op); });
}

void soak_slack::take(std::vector<sim_event>& out, clock::time_point until) {
    std::unique_lock lock(mutex_);
    changed_.wait_until(lock, until, [&] { return !queue_.empty(); });
    out.insert(out.end(), std::make_move_iterator(queue_.begin()),
               std::make_move_iterator(queue_.end()));
    queue_.clear();
}

std::unordered_map<std::string, int> soak_slack::posted() const {
    std::lock_guard lock(mutex_);
    return posted_;
}

long soak_slack::posts_ok() const {
    std::lock_guard lock(mutex_);
    return posts_ok_;
}

int soak_slack::posted_without_key() const {
    std::lock_guard lock(mutex_);
    return without_key_;
}

std::map<std::string, long> soak_slack::answers() const {
    std::lock_guard lock(mutex_);
    return answers_;
}

clock::time_point soak_slack::last_call() const {
    std::lock_guard lock(mutex_);
    return last_call_;
}

bool soak_slack::status_posted_since(const std::string& channel, clock::time_point since) const {
    std::lock_guard lock(mutex_);
    auto it = status_posted_.find(channel);
    return it != status_posted_.end() && it->second >= since;
}

void soak_slack::on_event(const json& e) {
    auto name = e.value("event", "");
    if (name == "api_call") {
        return on_call(e);
    }
    sim_event s;
    if (name == "ack") {
        s.what = sim_event::kind::ack;
        s.id = e.value("envelope_id", "");
        if (auto l = e.find("latency_us"); l != e.end() && l->is_number()) {
            s.latency_ms = l->get<double>() / 1000.0;
        }
        if (auto p = e.find("payload"); p != e.end() && p->is_object()) {
            s.text = p->value("text", "").substr(0, 400);
            s.errors = p->value("response_action", "") == "errors";
        }
    } else if (name == "click_sent" && !e.value("redelivery", false)) {
        s.what = sim_event::kind::click_sent;
        s.id = e.value("envelope_id", "");
    } else if (name == "submit_sent") {
        s.what = sim_event::kind::submit_sent;
        s.id = e.value("envelope_id", "");
    } else if (name == "error") {
        s.what = sim_event::kind::op_error;
        s.id = e.value("envelope_id", "");
        s.text = e.value("op", "") + ": " + e.value("error", "");
    } else if (name == "view_opened") {
        s.what = sim_event::kind::view_opened;
        s.user = e.value("user_id", "");
        s.text = e.value("view", json::object()).value("callback_id", "");
    } else if (name == "hello_sent") {
        s.what = sim_event::kind::hello;
    } else {
        return;
    }
    std::lock_guard lock(mutex_);
    queue_.push_back(std::move(s));
    changed_.notify_all();
}

void soak_slack::on_call(const json& e) {
    auto method = e.value("method", "");
    auto status = e.value("status", 0u);
    const auto& response = e.value("response", json::object());
    bool ok = status == 200 && response.value("ok", false);
    std::lock_guard lock(mutex_);
    last_call_ = clock::now();
    ++answers_[method + " " +
               (ok ? "ok" : std::to_string(status) + " " + response.value("error", ""))];
    if (method != "chat.postMessage" || !ok) {
        return;
    }
    ++posts_ok_;
    const auto& args = e.value("args", json::object());
    auto key = args.value("metadata", json::object())
                   .value("event_payload", json::object())
                   .value("key", "");
    if (key.empty()) {
        ++without_key_;
        return;
    }
    ++posted_[key];
    if (key.starts_with("status")) {
        status_posted_[args.value("channel", "")] = clock::now();
    }
}

}  // namespace relbot::bench::soak
