// The interactive sandbox (see demo.hpp).
#include "sim/demo.hpp"

#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <thread>
#include <vector>

#include "sim/bot_child.hpp"
#include "sim/net.hpp"
#include "sim/terminal.hpp"

namespace relbot::sim {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

// How long the demo waits, at the end, for relbot to answer and post what it decided to.
constexpr auto drain_limit = 30s;
// How long a piped line waits for what the one before it posted.
constexpr auto settle_limit = 10s;

// The living status message's current phase line ("▶️ 3. Verification — 1/4 ← current"), or
// when the release has ended, its plain-text fallback's first line ("Release v1 finished …").
std::string status_summary(const json& args, bool color) {
    for (const auto& b : args.value("blocks", json::array())) {
        auto text = b.value("text", json::object()).value("text", "");
        if (auto at = text.find("← current"); at != std::string::npos) {
            auto start = text.rfind('\n', at);
            start = start == std::string::npos ? 0 : start + 1;
            return render_mrkdwn(text.substr(start, at - start), color);
        }
    }
    auto fallback = args.value("text", "");
    return render_mrkdwn(fallback.substr(0, fallback.find('\n')), color);
}

// relbot marks each message with its outbox key in the metadata; the status message's key
// starts with "status".
bool is_status_message(const json& args) {
    auto key = args.value("metadata", json::object())
                   .value("event_payload", json::object())
                   .value("key", "");
    return key.starts_with("status");
}

}  // namespace

void read_stdin_lines(net::io_context& ioc,
                      std::function<void(std::optional<std::string>)> on_line) {
    std::thread([&ioc, on_line] {
        std::string line;
        while (std::getline(std::cin, line)) {
            net::post(ioc, [on_line, line] { on_line(line); });
        }
        net::post(ioc, [on_line] { on_line(std::nullopt); });
    }).detach();
}

demo::demo(net::io_context& ioc, demo_options options)
    : ioc_(ioc),
      opt_(std::move(options)),
      child_exit_(ioc, SIGCHLD),
      interrupt_(ioc, SIGINT, SIGTERM) {}

void demo::print(const std::string& text) {
    // On a terminal, draw over the prompt line; the prompt is drawn again afterwards.
    std::cout << (interactive_ ? "\r\033[K" : "") << text << std::flush;
    prompt();
}

void demo::prompt() {
    if (interactive_ && !quitting_ && modal_ && !modal_->submitted && !modal_->to_ask.empty()) {
        const auto& in = modal_->inputs[modal_->to_ask.front()];
        std::cout << ansi("  " + in.label + (in.optional ? " (optional)" : "") + " › ", "1;33",
                          color_)
                  << std::flush;
    } else if (interactive_ && !quitting_) {
        std::cout << ansi(std::string(you_->name) + " › ", "1;32", color_) << std::flush;
    }
}

void demo::on_event(const json& e) {
    if (on_interaction_event(e)) {
        return;
    }
    auto type = e.value("event", "");
    if (type == "hello_sent" && !connected_) {
        connected_ = true;
        print(ansi("relbot connected.", "1;32", color_) + "\n");
        pump();
    } else if (type == "ack") {
        auto it = unanswered_.find(e.value("envelope_id", ""));
        const person* who = it == unanswered_.end() ? you_ : it->second;
        if (it != unanswered_.end()) {
            unanswered_.erase(it);
        }
        // A modal's answer (`response_action`: its errors, or closing it) is drawn with the
        // form, not as a message.
        if (e.contains("payload") && !e["payload"].contains("response_action")) {
            print("\n" + render_message("relbot → only @" + std::string(who->name), e["payload"],
                                        color_, false));
        }
        pump();
    } else if (type == "response_url_post") {
        // The rest of a long reply, posted to the command's response_url (…/<envelope id>).
        auto path = e.value("path", "");
        if (path.starts_with("/hooks/actions/") &&
            e.value("body", json::object()).value("replace_original", false)) {
            return;  // drawn with the message_updated event
        }
        auto it = sent_by_.find(path.substr(path.rfind('/') + 1));
        const person* who = it == sent_by_.end() ? you_ : it->second;
        if (const person* hooked = person_by_id(e.value("user_id", ""))) {
            who = hooked;  // a click's response_url is not named after its envelope
        }
        // A command's response_url carries the rest of its reply; a click's is its reply.
        bool continued = !path.starts_with("/hooks/actions/");
        print("\n" + render_message("relbot → only @" + std::string(who->name) +
                                        (continued ? " (continued)" : ""),
                                    e.value("body", json::object()), color_, false));
    } else if (type == "api_call" && e.value("method", "") == "chat.postMessage" &&
               is_status_message(e["args"])) {
        // The living status message: posted once, then edited in place (chat.update below).
        print(ansi("relbot 📌 posted the living status message in #release-demo (edited in place "
                   "as the release moves; /release status shows it): " +
                       status_summary(e["args"], color_),
                   "2", color_) +
              "\n");
    } else if (type == "api_call" && e.value("method", "") == "chat.postMessage") {
        auto channel = e["args"].value("channel", "");
        bool direct = channel != demo_channel_id && !channel.empty() &&
                      (channel[0] == 'D' || channel[0] == 'U');
        print("\n" +
              render_message("relbot → " + destination_name(channel), e["args"], color_, direct));
    } else if (type == "api_call" && e.value("method", "") == "chat.update" &&
               !e["args"].value("channel", "").starts_with("C")) {
        print("\n" + render_message("relbot ✎ updated its message to " +
                                        destination_name(e["args"].value("channel", "")),
                                    e["args"], color_, true));
    } else if (type == "api_call" && e.value("method", "") == "chat.update") {
        // The living status message is edited in place on every change; in a terminal one
        // line says so, with the current phase's progress.
        print(ansi("relbot ✎ status message in #release-demo updated: " +
                       status_summary(e["args"], color_),
                   "2", color_) +
              "\n");
    } else if (type == "file_shared") {
        show_file(e);
    } else if (type == "tls_error") {
        print(ansi("TLS error: " + e.value("error", ""), "1;31", color_) + "\n");
    }
}

int demo::run(server& srv) {
    srv_ = &srv;
    color_ = isatty(STDOUT_FILENO) != 0;
    interactive_ = isatty(STDIN_FILENO) != 0;
    health_port_ = free_port(ioc_);
    std::cout << ansi("relbot sandbox", "1", color_) << " — a local stand-in for Slack.\n"
              << "You are in #release-demo with:\n"
              << cast_lines(*you_)
              << "Type /release commands as you would in Slack (try `/release help`,\n"
              << "`/release start v1.0`, `/release assign 1.1 @pat due 2h`). `as @sam` makes you\n"
              << "sam from then on; `as @sam /release accept` does one command as sam; `people`\n"
              << "shows who is who; `quit` or Ctrl-D ends the demo (the database is kept).\n"
              << "Buttons show as [Done] [Skip…]: `click Done 2.3` clicks Done on item 2.3 in\n"
              << "the latest message that has it (`click \"Next phase\"`, `click Snooze 2.3 4 "
                 "hours`);\n"
              << "a modal asks for each field in turn (empty line: skip an optional one,\n"
              << "`cancel`: close it). `home` opens your App Home.\n"
              << ansi("bot log: " + opt_.log + " · database: " + opt_.db, "2", color_) << "\n"
              << "Starting relbot…" << std::endl;
    child_ = spawn_bot({opt_.bot, opt_.db, opt_.log, opt_.ca_file}, srv.api_url(), health_port_);
    wait_for_child();
    interrupt_.async_wait([this](const boost::system::error_code& ec, int) {
        if (!ec) {
            quit();
        }
    });
    read_stdin_lines(ioc_, [this](std::optional<std::string> line) {
        lines_.push_back(std::move(line));
        pump();
    });
    ioc_.run();
    return exit_status_;
}

// A file relbot shared: where it went, and where the demo saved it (a folder beside the
// database, `relbot-demo-files/`), so that it can be opened.
void demo::show_file(const json& e) {
    auto file = e.value("file", json::object());
    auto name = file.value("name", std::string("file"));
    if (name.find('/') != std::string::npos || name.starts_with(".")) {
        name = "file";  // never a path out of the folder
    }
    auto dir = std::filesystem::path(opt_.db).parent_path() / "relbot-demo-files";
    std::string saved;
    if (auto shared = srv_ ? srv_->file(file.value("id", "")) : std::nullopt) {
        std::error_code ec;
        std::filesystem::create_directories(dir, ec);
        std::ofstream out(dir / name, std::ios::binary);
        out << shared->bytes;
        if (out) {
            saved = (dir / name).string();
        }
    }
    print("\n" +
          ansi("relbot → " + destination_name(e.value("channel", "")) + ": 📎 " + name + " — " +
                   e.value("initial_comment", "") +
                   (saved.empty() ? "" : " (saved as " + saved + ")"),
               "1", color_) +
          "\n");
}

void demo::pump() {
    while (!lines_.empty() && !quitting_) {
        if (!lines_.front()) {
            lines_.pop_front();
            quit();
            return;
        }
        if (!connected_ || !unanswered_.empty() || holding() || settling_) {
            if (!connected_ && interactive_ && !told_connecting_) {
                told_connecting_ = true;
                print("(relbot is still connecting; your command is sent when it is ready)\n");
            }
            return;  // sent once relbot has connected / answered the one before
        }
        if (unsettled_) {
            // A script reads as a person would see it: what the last command posted comes
            // before the next command (people typing see it as it comes).
            settling_ = true;
            net::co_spawn(ioc_, settle(this), [this](const std::exception_ptr&) {
                settling_ = false;
                unsettled_ = false;
                pump();
            });
            return;
        }
        auto line = std::move(*lines_.front());
        lines_.pop_front();
        on_line(line);
    }
}

void demo::on_line(const std::string& line) {
    unsettled_ = !interactive_;
    if (!interactive_ && !line.empty()) {
        std::cout << "\n" << ansi(std::string(you_->name) + " › ", "1;32", color_) << line << "\n";
    }
    if (modal_ && !modal_->submitted) {
        answer_modal(line);
        return;
    }
    auto typed = read_typed_line(line);
    if (auto* click = std::get_if<typed_click>(&typed)) {
        send_click(click->target);
    } else if (std::holds_alternative<typed_home>(typed)) {
        open_home();
    } else if (auto* command = std::get_if<typed_release>(&typed)) {
        send_command(*you_, command->text);
    } else if (auto* change = std::get_if<typed_switch>(&typed)) {
        if (change->once) {
            send_command(*change->to, *change->once);
            return;
        }
        you_ = change->to;
        print("(you are now @" + std::string(you_->name) + ", " + std::string(you_->part) + ")\n");
    } else if (std::holds_alternative<typed_people>(typed)) {
        print(cast_lines(*you_));
    } else if (std::holds_alternative<typed_quit>(typed)) {
        quit();
    } else if (auto* error = std::get_if<typed_error>(&typed)) {
        print("(sandbox) " + error->message + "\n");
    } else {
        prompt();
    }
}

void demo::send_command(const person& who, const std::string& text) {
    auto id = srv_->new_envelope_id();
    unanswered_[id] = &who;
    sent_by_[id] = &who;
    srv_->control({{"op", "slash_command"},
                   {"envelope_id", id},
                   {"text", text},
                   {"user_id", std::string(who.id)},
                   {"user_name", std::string(who.name)},
                   {"channel_id", std::string(demo_channel_id)},
                   {"channel_name", std::string(demo_channel_name)}});
}

void demo::quit() {
    if (quitting_) {
        return;
    }
    quitting_ = true;
    lines_.clear();  // whatever came after `quit` is not sent
    net::co_spawn(ioc_, drain_then_stop(this), [this](const std::exception_ptr& error) {
        if (error && !stop_sent_) {
            stop_sent_ = true;
            kill(child_, SIGTERM);
        }
    });
}

// Waits (bounded) until relbot has connected, answered every command sent, and posted every
// message it decided to send (its outbox, read from /healthz, is empty), then stops it.
net::awaitable<void> demo::drain_then_stop(demo* self) {
    co_await wait_for_outbox(
        self, drain_limit,
        [self] { return self->connected_ && self->lines_.empty() && self->unanswered_.empty(); },
        [](long pending) { return pending == 0; },
        [self] {
            if (self->interactive_) {
                std::cout << "\nWaiting for relbot to finish what it is sending…" << std::endl;
            }
        });
    if (!self->stop_sent_) {
        std::cout << "\nStopping relbot…" << std::endl;
        self->stop_sent_ = true;
        kill(self->child_, SIGTERM);
    }
}

// Until relbot's outbox is empty (or cannot be read: -1, which does not hold a script up).
net::awaitable<void> demo::settle(demo* self) {
    co_await wait_for_outbox(
        self, settle_limit, [] { return true; }, [](long pending) { return pending <= 0; }, [] {});
}

net::awaitable<void> demo::wait_for_outbox(demo* self,
                                           std::chrono::milliseconds limit,
                                           std::function<bool()> ready,
                                           std::function<bool(long)> done,
                                           std::function<void()> waiting) {
    auto until = std::chrono::steady_clock::now() + limit;
    net::steady_timer tick(self->ioc_);
    bool told = false;
    while (std::chrono::steady_clock::now() < until && !self->stop_sent_) {
        // The outbox is asked only once the rest holds: a relbot still busy is not asked.
        if (ready() && done(co_await outbox_pending(self->ioc_, self->health_port_))) {
            break;
        }
        if (!told) {
            told = true;
            waiting();
        }
        tick.expires_after(50ms);
        co_await tick.async_wait(nothrow);
    }
}

void demo::wait_for_child() {
    child_exit_.async_wait([this](const boost::system::error_code& ec, int) {
        if (ec) {
            return;
        }
        int status = 0;
        if (waitpid(child_, &status, WNOHANG) != child_) {
            wait_for_child();
            return;
        }
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && stop_sent_) {
            std::cout << "relbot stopped cleanly. Bye." << std::endl;
        } else {
            std::string how = exit_words(status);
            auto said = last_line(opt_.log);
            std::cout << "\n"
                      << ansi("relbot " + how + (said.empty() ? "" : ": " + said) +
                                  " (log: " + opt_.log + ")",
                              "1;31", color_)
                      << std::endl;
            exit_status_ = 1;
        }
        ioc_.stop();
    });
}

}  // namespace relbot::sim
