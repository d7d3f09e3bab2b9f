// relbot-sim: the local Slack sandbox.
//   relbot-sim [options]              JSON lines: ops on stdin, events on stdout (tests, tools)
//   relbot-sim --demo <relbot> [...]  runs relbot against the sandbox and lets a person type
//                                     /release commands and read what the bot says
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <thread>

#include "sim/server.hpp"

extern char** environ;

namespace {

using json = nlohmann::json;
namespace net = boost::asio;
namespace fs = std::filesystem;

constexpr const char* usage =
    "usage: relbot-sim [--port N] [--ca-file PATH] [--invalid-token TOKEN]...\n"
    "                  [--cert-host NAME] [--cert-expired]\n"
    "       relbot-sim --demo PATH/TO/relbot [--db PATH] [--log PATH]\n"
    "\n"
    "A stand-in for Slack on 127.0.0.1: the Web API over HTTPS and Socket Mode over WSS,\n"
    "with a test CA generated at start and written to --ca-file (trust it with SSL_CERT_FILE).\n"
    "\n"
    "Control mode (default): reads one JSON op per line on stdin and writes one JSON event per\n"
    "line on stdout, starting with {\"event\":\"ready\",\"api_url\":…,\"ca_file\":…}. Ops:\n"
    "  {\"op\":\"slash_command\",\"text\":\"status\",\"user_id\":\"U1\",\"channel_id\":\"C1\"}\n"
    "  {\"op\":\"send\",\"frame\":{…}}            any frame on the newest connection\n"
    "  {\"op\":\"disconnect\",\"reason\":\"refresh_requested\"}\n"
    "  {\"op\":\"drop\"}                          close TCP without a close frame\n"
    "  {\"op\":\"silence\"}                       stop reading (no pongs) and writing: half-open\n"
    "  {\"op\":\"spread\",\"on\":true}            round-robin envelopes over open connections\n"
    "  {\"op\":\"hello_delay\",\"ms\":2000}        delay hello on new connections\n"
    "  {\"op\":\"delete_message\",\"channel\":\"C1\",\"ts\":\"…\"}\n"
    "  {\"op\":\"set_user\",\"user\":\"U1\",\"tz_offset\":32400}   users.info time zone\n"
    "  {\"op\":\"fail\",\"method\":\"chat.postMessage\",\"status\":429,\"retry_after\":1}\n"
    "  "
    "{\"op\":\"fail\",\"method\":\"chat.postMessage\",\"error\":\"not_in_channel\",\"channel\":"
    "\"C1\",\"times\":3}\n"
    "  {\"op\":\"fail\",\"method\":\"chat.update\",\"delay_ms\":500}   answer late\n"
    "  {\"op\":\"calls\",\"method\":\"chat.postMessage\"}   recorded Web API calls\n"
    "  {\"op\":\"connections\"}\n"
    "Events (each with t_us, the sandbox's monotonic clock): ready, connection_open, hello_sent,\n"
    "envelope_sent, envelope_queued, ack, api_call, response_url_post, disconnect_sent, silenced,\n"
    "ws_closed, ws_rejected, tls_error, error.\n"
    "\n"
    "Demo mode: starts relbot against the sandbox (its log goes to --log, default\n"
    "relbot-demo.log) and reads /release commands typed at the terminal.\n";

struct options {
    relbot::sim::server_options server;
    std::string ca_file;
    std::string demo_bot;
    std::string db = "relbot-demo.db";
    std::string log = "relbot-demo.log";
};

// --- terminal rendering for the demo --------------------------------------------------------

bool color = false;

std::string style(const std::string& s, const char* code) {
    return color ? std::string("\033[") + code + "m" + s + "\033[0m" : s;
}

std::string render_mrkdwn(std::string text) {
    static const std::pair<const char*, const char*> emoji[] = {{":white_check_mark:", "✅"},
                                                                {":white_large_square:", "⬜"},
                                                                {":no_entry:", "⛔"},
                                                                {":fast_forward:", "⏩"},
                                                                {":arrow_forward:", "▶️ "},
                                                                {":rocket:", "🚀"},
                                                                {":warning:", "⚠️ "},
                                                                {":hourglass:", "⏳"},
                                                                {":rotating_light:", "🚨"},
                                                                {":bell:", "🔔"},
                                                                {":checkered_flag:", "🏁"},
                                                                {":handshake:", "🤝"}};
    for (const auto& [code, glyph] : emoji) {
        for (auto pos = text.find(code); pos != std::string::npos; pos = text.find(code, pos)) {
            text.replace(pos, std::strlen(code), glyph);
        }
    }
    text = std::regex_replace(text, std::regex("<!date\\^[0-9]+\\^[^|>]*\\|([^>]*)>"), "$1");
    text = std::regex_replace(text, std::regex("<@U0DEMO(\\|[^>]*)?>"), "@you");
    text = std::regex_replace(text, std::regex("<@([UW][A-Z0-9]+)\\|([^>]*)>"), "@$2");
    text = std::regex_replace(text, std::regex("<@([UW][A-Z0-9]+)>"), "@$1");
    text = std::regex_replace(text, std::regex("<(https?://[^|>]+)\\|([^>]*)>"), "$2 ($1)");
    if (color) {
        text = std::regex_replace(text, std::regex("(^|[\\s(])\\*([^*\\n]+)\\*"),
                                  "$1\033[1m$2\033[0m");
        text = std::regex_replace(text, std::regex("`([^`\\n]+)`"), "\033[36m$1\033[0m");
        text = std::regex_replace(text, std::regex("(^|\\s)_([^_\\n]+)_"), "$1\033[3m$2\033[0m");
    } else {
        text = std::regex_replace(text, std::regex("(^|[\\s(])\\*([^*\\n]+)\\*"), "$1$2");
    }
    for (auto [from, to] :
         {std::pair{"&lt;", "<"}, std::pair{"&gt;", ">"}, std::pair{"&amp;", "&"}}) {
        for (auto pos = text.find(from); pos != std::string::npos; pos = text.find(from, pos)) {
            text.replace(pos, std::strlen(from), to);
            pos += std::strlen(to);
        }
    }
    return text;
}

std::string indent(const std::string& text) {
    std::string out = "  ";
    for (char c : text) {
        out.push_back(c);
        if (c == '\n') {
            out += "  ";
        }
    }
    return out;
}

void print_message(const std::string& heading, const json& body) {
    // On a terminal, draw over the prompt line; the prompt is drawn again afterwards.
    std::string out = (color ? "\r\033[K" : "\n") + style(heading, "2") + "\n";
    auto blocks = body.find("blocks");
    if (blocks == body.end() || !blocks->is_array() || blocks->empty()) {
        out += indent(render_mrkdwn(body.value("text", ""))) + "\n";
    } else {
        for (const auto& b : *blocks) {
            auto type = b.value("type", "");
            if (type == "header") {
                out += indent(style(b["text"].value("text", ""), "1;4")) + "\n";
            } else if (type == "section" && b.contains("text")) {
                out += indent(render_mrkdwn(b["text"].value("text", ""))) + "\n";
            } else if (type == "context") {
                for (const auto& e : b.value("elements", json::array())) {
                    out += indent(style(render_mrkdwn(e.value("text", "")), "2")) + "\n";
                }
            } else if (type == "divider") {
                out += "  " + style("────────────────────────────────────────", "2") + "\n";
            }
        }
    }
    std::cout << out << std::flush;
}

// --- child process for the demo -------------------------------------------------------------

pid_t spawn_bot(const options& opt, const std::string& api_url) {
    std::vector<std::string> env;
    for (char** e = environ; *e != nullptr; ++e) {
        std::string_view v(*e);
        if (!v.starts_with("SLACK_") && !v.starts_with("SSL_CERT_") &&
            !v.starts_with("RELBOT_DB=")) {
            env.emplace_back(v);
        }
    }
    env.push_back("SLACK_APP_TOKEN=xapp-1-A0SIM-1-sandbox");
    env.push_back("SLACK_BOT_TOKEN=xoxb-sandbox-demo");
    env.push_back("SLACK_API_URL=" + api_url);
    env.push_back("SSL_CERT_FILE=" + opt.ca_file);
    env.push_back("RELBOT_DB=" + opt.db);
    std::vector<char*> envp;
    for (auto& e : env) {
        envp.push_back(e.data());
    }
    envp.push_back(nullptr);

    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, 2, opt.log.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                     0644);
    posix_spawn_file_actions_adddup2(&actions, 2, 1);
    std::string bin = opt.demo_bot;
    char* argv[] = {bin.data(), nullptr};
    pid_t pid = 0;
    int rc = posix_spawn(&pid, bin.c_str(), &actions, nullptr, argv, envp.data());
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
        throw std::runtime_error("cannot start " + bin + ": " + std::strerror(rc));
    }
    return pid;
}

// Reads stdin on its own thread (stdin may be a file, a pipe or a terminal) and hands each
// line to the loop. EOF arrives as std::nullopt.
void read_stdin(net::io_context& ioc, std::function<void(std::optional<std::string>)> on_line) {
    std::thread([&ioc, on_line] {
        std::string line;
        while (std::getline(std::cin, line)) {
            net::post(ioc, [on_line, line] { on_line(line); });
        }
        net::post(ioc, [on_line] { on_line(std::nullopt); });
    }).detach();
}

int run_control(net::io_context& ioc, relbot::sim::server& srv, const options& opt) {
    std::cout << json{{"event", "ready"},
                      {"api_url", srv.api_url()},
                      {"port", srv.port()},
                      {"ca_file", opt.ca_file}}
                     .dump()
              << std::endl;
    read_stdin(ioc, [&](std::optional<std::string> line) {
        if (!line) {
            ioc.stop();
            return;
        }
        if (line->empty()) {
            return;
        }
        auto op = json::parse(*line, nullptr, false);
        if (op.is_discarded() || !op.is_object()) {
            std::cout << json{{"event", "error"}, {"error", "not a JSON object"}}.dump()
                      << std::endl;
            return;
        }
        if (op.value("op", "") == "quit") {
            ioc.stop();
            return;
        }
        srv.control(op);
    });
    net::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code&, int) { ioc.stop(); });
    ioc.run();
    return 0;
}

// The interactive sandbox: relbot runs as a child process against the server; what a person
// types becomes a slash command, and what the bot says is drawn in the terminal.
class demo {
public:
    demo(net::io_context& ioc, const options& opt)
        : ioc_(ioc), opt_(opt), child_exit_(ioc, SIGCHLD), interrupt_(ioc, SIGINT, SIGTERM) {}

    void on_event(const json& e) {
        auto type = e.value("event", "");
        if (type == "hello_sent" && !connected_) {
            connected_ = true;
            std::cout << style("relbot connected.", "1;32") << "\n";
        } else if (type == "ack" && e.contains("payload")) {
            print_message("relbot → only you", e["payload"]);
        } else if (type == "api_call" && e.value("method", "") == "chat.postMessage") {
            auto channel = e["args"].value("channel", "");
            print_message(
                "relbot → " + (channel == "C0DEMO" ? std::string("#release-demo") : channel),
                e["args"]);
        } else if (type == "api_call" && e.value("method", "") == "chat.update") {
            // The living status message is edited in place on every change; in a terminal one
            // line says so, with the current phase's progress.
            std::string summary;
            for (const auto& b : e["args"].value("blocks", json::array())) {
                auto text = b.value("text", json::object()).value("text", "");
                if (auto at = text.find("← current"); at != std::string::npos) {
                    auto start = text.rfind('\n', at);
                    summary = text.substr(start == std::string::npos ? 0 : start + 1,
                                          at - (start == std::string::npos ? 0 : start + 1));
                }
            }
            std::cout << (color ? "\r\033[K" : "\n")
                      << style("relbot ✎ status message in #release-demo updated: " +
                                   render_mrkdwn(summary),
                               "2")
                      << "\n";
        } else if (type == "tls_error") {
            std::cout << style("TLS error: " + e.value("error", ""), "1;31") << "\n";
        } else {
            return;
        }
        if (!quitting_) {
            std::cout << style("you › ", "1;32") << std::flush;
        }
    }

    int run(relbot::sim::server& srv) {
        color = isatty(STDOUT_FILENO) != 0;
        std::cout << style("relbot sandbox", "1") << " — a local stand-in for Slack.\n"
                  << "You are @you in #release-demo. Type /release commands as you would in Slack\n"
                  << "(try `/release help`, `/release start v1.0`, `/release status`);\n"
                  << "`quit` or Ctrl-D ends the demo.\n"
                  << style("bot log: " + opt_.log + " · database: " + opt_.db, "2") << "\n"
                  << "Starting relbot…" << std::endl;
        child_ = spawn_bot(opt_, srv.api_url());
        wait_for_child();
        interrupt_.async_wait([this](const boost::system::error_code& ec, int) {
            if (!ec) {
                quit();
            }
        });
        read_stdin(ioc_, [this, &srv](std::optional<std::string> line) { on_line(srv, line); });
        ioc_.run();
        return exit_status_;
    }

private:
    void on_line(relbot::sim::server& srv, const std::optional<std::string>& line) {
        if (!line || *line == "quit" || *line == "exit" || *line == "/release quit") {
            quit();
            return;
        }
        std::string text = *line;
        if (text.starts_with("/release")) {
            text = text.substr(8);
        }
        while (!text.empty() && text.front() == ' ') {
            text.erase(0, 1);
        }
        if (!connected_) {
            std::cout << "(relbot is still connecting; try again in a moment)" << std::endl;
            return;
        }
        srv.control({{"op", "slash_command"}, {"text", text}});
    }

    void quit() {
        if (quitting_) {
            return;
        }
        quitting_ = true;
        std::cout << "\nStopping relbot…" << std::endl;
        kill(child_, SIGTERM);
    }

    void wait_for_child() {
        child_exit_.async_wait([this](const boost::system::error_code& ec, int) {
            if (ec) {
                return;
            }
            int status = 0;
            if (waitpid(child_, &status, WNOHANG) != child_) {
                wait_for_child();
                return;
            }
            int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            if (quitting_ && code == 0) {
                std::cout << "relbot stopped cleanly. Bye." << std::endl;
            } else {
                std::cout << "\n"
                          << style("relbot exited (status " + std::to_string(code) + "); see " +
                                       opt_.log,
                                   "1;31")
                          << std::endl;
                exit_status_ = 1;
            }
            ioc_.stop();
        });
    }

    net::io_context& ioc_;
    const options& opt_;
    net::signal_set child_exit_;
    net::signal_set interrupt_;
    pid_t child_ = 0;
    bool connected_ = false;
    bool quitting_ = false;
    int exit_status_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
    options opt;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "relbot-sim: " << a << " needs a value\n" << usage;
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--help" || a == "-h") {
            std::cout << usage;
            return 0;
        } else if (a == "--port") {
            opt.server.port = static_cast<unsigned short>(std::stoi(value()));
        } else if (a == "--ca-file") {
            opt.ca_file = value();
        } else if (a == "--invalid-token") {
            opt.server.invalid_tokens.push_back(value());
        } else if (a == "--cert-host") {
            opt.server.cert.dns_name = value();
        } else if (a == "--cert-expired") {
            opt.server.cert.valid_from_s = -7 * 86400;
            opt.server.cert.valid_until_s = -86400;
        } else if (a == "--demo") {
            opt.demo_bot = value();
        } else if (a == "--db") {
            opt.db = value();
        } else if (a == "--log") {
            opt.log = value();
        } else {
            std::cerr << "relbot-sim: unknown option " << a << "\n" << usage;
            return 2;
        }
    }
    if (opt.ca_file.empty()) {
        opt.ca_file =
            (fs::temp_directory_path() / ("relbot-sim-ca-" + std::to_string(getpid()) + ".pem"))
                .string();
    }

    net::io_context ioc{1};
    std::optional<demo> demo_ui;
    if (!opt.demo_bot.empty()) {
        demo_ui.emplace(ioc, opt);
    }
    // In demo mode events are drawn for a person; in control mode each is one JSON line.
    auto sink = [&](const json& e) {
        if (demo_ui) {
            demo_ui->on_event(e);
        } else {
            std::cout << e.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
        }
    };
    try {
        relbot::sim::server srv(ioc, opt.server, sink);
        {
            std::ofstream ca(opt.ca_file, std::ios::trunc);
            ca << srv.ca_cert_pem();
            if (!ca) {
                std::cerr << "relbot-sim: cannot write " << opt.ca_file << "\n";
                return 1;
            }
        }
        srv.start();
        return demo_ui ? demo_ui->run(srv) : run_control(ioc, srv, opt);
    } catch (const std::exception& e) {
        std::cerr << "relbot-sim: " << e.what() << "\n";
        return 1;
    }
}
