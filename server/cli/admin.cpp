// The admin web page's login: admin password.
#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/cli.h"
#include "usecases/passwords.h"

namespace labcm::cli {
namespace {

// Reads one line from the terminal without echoing it.
std::string readHidden(const char* prompt) {
    std::cerr << prompt << std::flush;
    termios old{};
    bool tty = ::tcgetattr(STDIN_FILENO, &old) == 0;
    if (tty) {
        termios quiet = old;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    }
    std::string line;
    std::getline(std::cin, line);
    if (tty) ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    return line;
}

} // namespace

void addAdminCommands(CLI::App& app, Runner& r) {
    auto* adminCmd = app.add_subcommand("admin", "The admin web page's login: password");
    adminCmd->require_subcommand(1);
    auto& passwordStdin = r.keep<bool>();
    auto* aPass = adminCmd->add_subcommand("password", "Set the admin password (prompted twice, or one line on stdin)");
    aPass->add_flag("--stdin", passwordStdin, "Read the password from the first line of stdin");
    aPass->callback([&r, &passwordStdin] {
        std::string password;
        if (passwordStdin || !::isatty(STDIN_FILENO)) {
            std::getline(std::cin, password);
        } else {
            password = readHidden("New admin password: ");
            if (readHidden("Again: ") != password) throw std::runtime_error("the two passwords differ");
        }
        if (auto problem = usecases::passwordProblem(password); !problem.empty())
            throw std::runtime_error("the password " + problem);
        r.call({{"cmd", "admin.password"}, {"args", {{"hash", usecases::hashPassword(password)}}}},
               printOk("admin password set; every admin session ends"));
    });
}

} // namespace labcm::cli
