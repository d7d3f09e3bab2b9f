// relbot's composition root: configuration, templates, the app, signals, the event loop.
// Invariant: one thread, one io_context; all I/O objects belong to `ioc`.
#include <boost/asio/signal_set.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "bot/app.hpp"
#include "bot/config.hpp"
#include "bot/log.hpp"
#include "bot/net.hpp"
#include "checklist/template.hpp"

namespace {

using namespace relbot;
namespace fs = std::filesystem;

constexpr int exit_config = 2;

// Loads every *.md in `dir` into `library`; the first bad template is returned as an error.
std::optional<std::string> load_templates(const std::string& dir,
                                          checklist::template_library& library) {
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        return "RELBOT_TEMPLATES_DIR " + dir + " is not a readable directory";
    }
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        if (entry.is_regular_file() && entry.path().extension() == ".md") {
            files.push_back(entry.path());
        }
    }
    if (ec) {
        return "RELBOT_TEMPLATES_DIR " + dir + " cannot be read: " + ec.message();
    }
    std::sort(files.begin(), files.end());
    for (const auto& path : files) {
        std::ifstream in(path);
        if (!in) {
            return "template " + path.string() + " cannot be read";
        }
        std::stringstream text;
        text << in.rdbuf();
        auto parsed = checklist::parse_template(path.stem().string(), path.string(), text.str());
        if (auto* err = std::get_if<checklist::template_error>(&parsed)) {
            return "template " + err->to_string();
        }
        library.put(std::get<checklist::checklist_template>(std::move(parsed)));
    }
    return std::nullopt;
}

}  // namespace

int main() {
    auto loaded = bot::load_config();
    if (auto* err = std::get_if<bot::config_error>(&loaded)) {
        std::fprintf(stderr, "relbot: configuration error: %s\n", err->to_string().c_str());
        return exit_config;
    }
    const auto& cfg = std::get<bot::config>(loaded);
    bot::set_log_level(cfg.level);

    checklist::template_library templates;
    if (cfg.templates_dir) {
        if (auto err = load_templates(*cfg.templates_dir, templates)) {
            std::fprintf(stderr, "relbot: configuration error: %s\n", err->c_str());
            return exit_config;
        }
    }

    boost::asio::io_context ioc{1};
    std::unique_ptr<bot::app> app;
    try {
        app = std::make_unique<bot::app>(ioc, cfg, templates);
    } catch (const std::exception& e) {
        bot::log_error("startup.failed").kv("db", cfg.db_path).kv("error", e.what());
        return EXIT_FAILURE;
    }
    bot::log_info("startup")
        .kv("db", cfg.db_path)
        .kv("api", cfg.api_url)
        .kv("templates", static_cast<long long>(templates.names().size()));

    int exit_code = 0;
    bool forced = false;
    boost::asio::signal_set signals(ioc, SIGINT, SIGTERM);
    int signals_seen = 0;
    std::function<void(const boost::system::error_code&, int)> on_signal =
        [&](const boost::system::error_code& ec, int sig) {
            if (ec) {
                return;  // cancelled at the end of run
            }
            if (++signals_seen == 1) {
                bot::log_info("signal").kv("signal", sig).kv("action", "graceful shutdown");
                app->request_stop();
                signals.async_wait(on_signal);
            } else {
                bot::log_warn("signal").kv("signal", sig).kv("action", "exit now");
                forced = true;
                ioc.stop();
            }
        };
    signals.async_wait(on_signal);

    boost::asio::co_spawn(ioc, app->run(), [&](std::exception_ptr e, int code) {
        exit_code = code;
        if (e) {
            try {
                std::rethrow_exception(e);
            } catch (const std::exception& ex) {
                bot::log_error("fatal").kv("error", ex.what());
            }
            exit_code = EXIT_FAILURE;
        }
        signals.cancel();
        if (!app->drained()) {
            // The notifier did not finish within its grace period: leave its call behind.
            forced = true;
            ioc.stop();
        }
    });
    ioc.run();

    if (forced) {
        // Exit without unwinding coroutines that are still waiting on the network. Every
        // acknowledged change is already committed; a message caught mid-send is resolved
        // on the next start.
        std::fflush(stderr);
        std::_Exit(exit_code);
    }
    return exit_code;
}
