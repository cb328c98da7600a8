// Shell completion for `cairn`, generated from the CLI's own command tree (the CLI11 app main.cpp
// builds), so a new command or option is completed the moment it exists: `cairn completion bash` and
// `cairn completion zsh` print the scripts, the build writes them with the same code and `cmake
// --install` puts them where bash-completion and zsh look (docs/cli.md, "Shell completion").
//
// What is completed: command names (after any global options and their values), the options of the
// root and of the command typed, and file or directory names after an option whose name ends in
// "-file" or "-dir". Keys and values are not completed: they live in the peer.
#pragma once

#include <string>
#include <string_view>

namespace CLI {
class App;
}

namespace cairn::cli {

// The completion script of `shell` ("bash" or "zsh") for `app`, the root of the cairn command tree.
// Empty for another shell.
std::string completion_script(const CLI::App& app, std::string_view shell);

// `cairn completion SHELL [-o FILE]`: prints the script, or writes it to `output_file` when that is not
// empty. Returns the exit code (kExitUsage when the file cannot be written).
int completion_command(const CLI::App& app, std::string_view shell, const std::string& output_file);

}  // namespace cairn::cli
