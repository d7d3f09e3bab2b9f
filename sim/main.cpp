// relbot-sim: the local Slack sandbox.
//   relbot-sim [options]              JSON lines: ops on stdin, events on stdout (tests, tools)
//   relbot-sim --demo <relbot> [...]  runs relbot against the sandbox and lets a person type
//                                     /release commands and read what the bot says
//   relbot-sim --web <relbot> [...]   the same in a browser: a Slack-like page on 127.0.0.1
#include <unistd.h>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/system/system_error.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "sim/demo.hpp"
#include "sim/server.hpp"
#include "sim/web.hpp"

namespace {

using json = nlohmann::json;
namespace net = boost::asio;
namespace fs = std::filesystem;

constexpr const char* usage =
    "usage: relbot-sim [--port N] [--ca-file PATH] [--invalid-token TOKEN]...\n"
    "                  [--cert-host NAME] [--cert-expired]\n"
    "       relbot-sim --demo PATH/TO/relbot [--db PATH] [--log PATH]\n"
    "       relbot-sim --web PATH/TO/relbot [--web-port N] [--db PATH] [--log PATH]\n"
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
    "  {\"op\":\"trim\",\"keep_s\":600}   forget recorded calls, and messages (not pinned),\n"
    "      clicks, response_urls and triggers older than keep_s: for runs of hours\n"
    "A person's interactions (docs/SLACK.md, \"Interactive payloads\"):\n"
    "  {\"op\":\"click\",\"user_id\":\"U1\",\"label\":\"Done\",\"match\":\"`2.3`\"}\n"
    "      block_actions on the newest message (or view) the user sees with a control of that\n"
    "      visible text: a button, an overflow option, or a select's placeholder with\n"
    "      \"option\":\"4 hours\". \"in\": channel|dm|ephemeral|home|modal (default: channels, "
    "DM,\n"
    "      ephemeral), \"channel_id\"; \"match\": text of the item's section. Fresh trigger_id\n"
    "      and response_url. Event click_sent, or error listing the labels seen.\n"
    "  {\"op\":\"click\",\"envelope_id\":\"…\",\"retry_attempt\":1}   the same click again\n"
    "  "
    "{\"op\":\"click\",\"user_id\":\"U1\",\"in\":\"channel\",\"ts\":\"…\",\"action_id\":\"item."
    "done:7\",\n"
    "   \"block_id\":\"item:7\",\"option_value\":\"…\"}   one control by id, on the message with "
    "ts\n"
    "      (\"\" for a view: \"in\":\"home\"|\"modal\"); a menu's or select's option by value\n"
    "  {\"op\":\"submit\",\"user_id\":\"U1\",\"values\":{\"reason\":\"flaky\",\"owner\":\"U2\"}}\n"
    "      view_submission of the user's open modal, state.values typed per input (event\n"
    "      submit_sent); the ack closes it (view_closed), shows errors (view_errors) or\n"
    "      replaces it (view_updated)\n"
    "  {\"op\":\"home_opened\",\"user_id\":\"U1\"}        app_home_opened (event home_opened)\n"
    "  {\"op\":\"close_view\",\"user_id\":\"U1\"}         the person closes their modal "
    "(view_closed)\n"
    "  {\"op\":\"expire_triggers\"}   every trigger_id so far counts as older than 3 s\n"
    "      (\"from_now\": true: also every trigger_id handed out later)\n"
    "  {\"op\":\"view_of\",\"user_id\":\"U1\",\"kind\":\"modal\"|\"home\"}   event view\n"
    "  "
    "{\"op\":\"messages\",\"user_id\":\"U1\",\"in\":\"dm\"|\"ephemeral\"|\"channel\",\"channel_"
    "id\":\"C1\"}\n"
    "Web API beyond messages: views.open (a trigger the sandbox issued, once, within 3 s),\n"
    "views.update, views.publish, chat.postEphemeral; views and blocks are checked against\n"
    "Slack's limits (slack/block_kit.hpp). A click's response_url takes 5 posts: a new\n"
    "ephemeral message, replace_original or delete_original.\n"
    "Events (each with t_us, the sandbox's monotonic clock): ready, connection_open, hello_sent,\n"
    "envelope_sent, envelope_queued, ack, api_call, response_url_post, disconnect_sent, silenced,\n"
    "ws_closed, ws_rejected, tls_error, error, click_sent, submit_sent, home_opened,\n"
    "view_opened, view_updated, view_closed, view_errors, home_published, ephemeral_posted,\n"
    "message_updated, message_deleted, triggers_expired, view, messages, trimmed.\n"
    "\n"
    "Demo mode: starts relbot against the sandbox (its log goes to --log, default\n"
    "relbot-demo.log) and reads /release commands typed at the terminal, from a cast of seven\n"
    "people (`as @sam` switches who you are); piped input is queued until relbot connects,\n"
    "and at its end relbot is given time to send what it decided to, then stopped.\n"
    "Buttons are drawn as [Done] [Skip…], a select as [Snooze ▾], a menu as [⋯ Done|Skip…];\n"
    "`click Done 2.3`, `click \"Next phase\"`, `click Snooze 2.3 4 hours` click in the newest\n"
    "message that has the control; a modal asks for each field in turn (`cancel` closes it);\n"
    "`home` opens your App Home.\n"
    "\n"
    "Web mode: the same sandbox in a browser. Prints the page's URL (http://127.0.0.1:PORT/,\n"
    "--web-port, default any free port) as the first line of stdout, starts relbot, and\n"
    "serves a Slack-like page: the #release-demo channel, each person's DM with relbot, their\n"
    "App Home, modals; a switcher to be any of the cast; a box for /release commands. Clicks\n"
    "and submissions are sent as the block_actions and view_submission envelopes above.\n"
    "Ctrl-C stops relbot and the sandbox.\n";

struct options {
    relbot::sim::server_options server;
    std::string ca_file;
    std::string demo_bot;
    std::string web_bot;
    unsigned short web_port = 0;
    std::string db = "relbot-demo.db";
    std::string log = "relbot-demo.log";
};

int run_control(net::io_context& ioc, relbot::sim::server& srv, const options& opt) {
    std::cout << json{{"event", "ready"},
                      {"api_url", srv.api_url()},
                      {"port", srv.port()},
                      {"ca_file", opt.ca_file}}
                     .dump()
              << std::endl;
    relbot::sim::read_stdin_lines(ioc, [&](std::optional<std::string> line) {
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

// Reads the command line into `opt`; an exit code when the program ends here (--help, or a
// bad option, said on stderr).
std::optional<int> parse_options(int argc, char** argv, options& opt) {
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
        } else if (a == "--port" || a == "--web-port") {
            auto text = value();
            char* end = nullptr;
            long port = std::strtol(text.c_str(), &end, 10);
            if (text.empty() || *end != '\0' || port < 0 || port > 65535) {
                std::cerr << "relbot-sim: " << a << " takes a port number (0-65535; 0: any free "
                          << "port), not \"" << text << "\"\n";
                return 2;
            }
            (a == "--port" ? opt.server.port : opt.web_port) = static_cast<unsigned short>(port);
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
        } else if (a == "--web") {
            opt.web_bot = value();
        } else if (a == "--db") {
            opt.db = value();
        } else if (a == "--log") {
            opt.log = value();
        } else {
            std::cerr << "relbot-sim: unknown option " << a << "\n" << usage;
            return 2;
        }
    }
    return std::nullopt;
}

// Removes a file when the sandbox ends ("": none).
struct remove_on_exit {
    std::string path;
    ~remove_on_exit() {
        if (!path.empty()) {
            std::error_code ignored;
            fs::remove(path, ignored);
        }
    }
};

// Starts the server, writes its CA to opt.ca_file, and runs control or demo mode.
int run_sandbox(const options& opt) {
    net::io_context ioc{1};
    std::optional<relbot::sim::demo> demo_ui;
    std::optional<relbot::sim::web_sandbox> web_ui;
    if (!opt.demo_bot.empty()) {
        demo_ui.emplace(ioc, relbot::sim::demo_options{opt.demo_bot, opt.db, opt.log, opt.ca_file});
    } else if (!opt.web_bot.empty()) {
        web_ui.emplace(ioc, relbot::sim::web_options{{opt.web_bot, opt.db, opt.log, opt.ca_file},
                                                     opt.web_port});
    }
    // In demo mode events are drawn for a person, in web mode they tell the page to draw
    // again; in control mode each is one JSON line.
    auto sink = [&](const json& e) {
        if (demo_ui) {
            demo_ui->on_event(e);
        } else if (web_ui) {
            web_ui->on_event(e);
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
        if (web_ui) {
            return web_ui->run(srv);
        }
        return demo_ui ? demo_ui->run(srv) : run_control(ioc, srv, opt);
    } catch (const boost::system::system_error& e) {
        if (e.code() == boost::asio::error::address_in_use) {
            std::cerr << "relbot-sim: a port it was asked to listen on is in use"
                      << (opt.web_port != 0 ? " (--web-port " + std::to_string(opt.web_port) + ")"
                                            : std::string())
                      << ": stop what holds it (another sandbox?), or pick another port "
                         "(--web-port N, or RELBOT_SANDBOX_PORT=N for deploy/run.sh; 0: any "
                         "free port)\n";
        } else {
            std::cerr << "relbot-sim: " << e.code().message() << "\n";
        }
        return 1;
    } catch (const std::exception& e) {
        std::cerr << "relbot-sim: " << e.what() << "\n";
        return 1;
    }
}

}  // namespace

int main(int argc, char** argv) {
    options opt;
    if (auto exit_now = parse_options(argc, argv, opt)) {
        return *exit_now;
    }
    // A CA file the sandbox made up for itself is removed when it ends; one named with
    // --ca-file is the caller's.
    bool own_ca_file = opt.ca_file.empty();
    if (own_ca_file) {
        opt.ca_file =
            (fs::temp_directory_path() / ("relbot-sim-ca-" + std::to_string(getpid()) + ".pem"))
                .string();
    }
    remove_on_exit ca_cleanup{own_ca_file ? opt.ca_file : std::string()};
    return run_sandbox(opt);
}
